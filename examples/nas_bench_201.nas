# NAS-Bench-201 (Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible
# Neural Architecture Search", ICLR 2020). Official code: D-X-Y/AutoDL-Projects.
#
# Cell: 4 nodes, node 0 the input and node 3 the output; every edge i<j carries
# one of 5 ops and node j sums its incoming edges. 5^6 = 15,625 architectures,
# 6,466 unique under the paper's expression equivalence.
# Skeleton: stem conv3x3+BN, 3 stages of N cells (C, 2C, 4C) joined by
# residual blocks, then BN, ReLU, global average pool and a linear head.

param C = 16
param N = 5
param classes = 10
input x: [3, 32, 32]

# The five ops, under the names of the official architecture strings.
def none(c) = zero
def skip_connect(c) = identity
def nor_conv_1x1(c) = relu_conv_bn(c, k=1)
def nor_conv_3x3(c) = relu_conv_bn(c, k=3)
def avg_pool_3x3(c) = avg_pool(k=3, padding=1)
let OPS = [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]

def nb201_cell(c) = dag(nodes=4) {
    edge i -> j: choice(OPS)(c)
}
genotype cell = nb201_cell          # one genotype for all 15 cells, separate weights

def resblock(c)(h) {
    main = h >> relu_conv_bn(c, k=3, stride=2) >> relu_conv_bn(c, k=3)
    short = h >> avg_pool(k=2, stride=2) >> conv(c, k=1)
    return add(short, main)
}

network {
    h = x >> conv(C, k=3) >> bn
    for s, c in enumerate([C, 2 * C, 4 * C]) {
        if s > 0 { h = resblock(c)(h) }
        repeat N { h = cell(c)(h) }
    }
    return h >> bn >> relu >> global_avg_pool >> linear(classes)
}
