# NAS-Bench-101 (Ying et al., "NAS-Bench-101: Towards Reproducible Neural
# Architecture Search", ICML 2019). Official code: google-research/nasbench.
#
# A cell is a DAG of V vertices (input, V-2 interior ops, output) with at most
# 9 edges; vertices not on an input-to-output path are pruned. Up to
# isomorphism there are 1, 7, 91, 2,532, 64,542 and 423,624 cells for
# V = 2..7 (`nasl count --unique graph`).
# Skeleton: stem conv3x3-BN-ReLU (128), 3 stacks of 3 cells with max-pooling
# and channel doubling between stacks, global average pool, dense head.
# channels="nasbench101" applies the official channel rule when a cell is
# realized: the output's width=c is split over the vertices feeding it,
# other vertices take their widest successor's width (the `c` of their ops
# is replaced by it), each input edge gets a 1x1 conv-BN-ReLU projection,
# wider interior edges are sliced. The README spec has 2,694,282 parameters.

param V = 7
param max_edges = 9
param C = 128
param classes = 10
input x: [3, 32, 32]

def conv3x3_bn_relu(c) = conv_bn_relu(c, k=3)
def conv1x1_bn_relu(c) = conv_bn_relu(c, k=1)
def maxpool3x3(c) = max_pool(k=3)
let OPS = [conv3x3_bn_relu, conv1x1_bn_relu, maxpool3x3]

def nb101_cell(c) = dag(nodes=V, prune=true, channels="nasbench101", width=c) {
    edge i -> j: optional
    node j where j < V - 1: op = choice(OPS)(c)
    node j where j == V - 1: merge = "concat"
    require edges() <= max_edges
    require connected()
}
genotype cell = nb101_cell

network {
    h = x >> conv_bn_relu(C, k=3)
    for s, c in enumerate([C, 2 * C, 4 * C]) {
        if s > 0 { h = h >> max_pool(k=2, stride=2) }
        repeat 3 { h = cell(c)(h) }
    }
    return h >> global_avg_pool >> linear(classes)
}
