# Hierarchical representations, the flat variant (Liu, Simonyan, Vinyals,
# Fernando & Kavukcuoglu, "Hierarchical Representations for Efficient
# Architecture Search", ICLR 2018): the baseline whose cell is one 11-node DAG
# over the level-1 primitives, with no motifs in between.
#
# Node 0 is the cell input and node 10 its output. Every edge i -> j (i < j)
# holds one of the 6 primitives (convs followed by BN and ReLU, at C channels,
# stride 1) or none, an absent edge. Every non-input node concatenates its
# inputs depthwise and maps them back to C channels with a 1x1 conv, as in
# hierarchical.nas. The cell is one genotype used at every position.
#
# Size: 55 edges, 7 values each, counting `none` edges and disconnected cells:
#   7^55 = 30,226,801,971,775,055,948,247,051,683,954,096,612,865,741,943 (~3.0e46).
#
# Skeleton as in hierarchical.nas: conv 3x3 (C), cell, separable conv 3x3
# stride 2 (2C), cell, separable conv 3x3 stride 2 (4C), cell, global average
# pool, linear.

param C = 16
param N = 1
param nodes = 11
param classes = 10
input x: [3, 32, 32]

def flat(c) = dag(nodes=nodes, merge=concat_conv(c)) {
    edge i -> j: choice(
        zero as none,
        conv_bn_relu(c, k=1) as conv_1x1,
        (dw_conv(k=3) >> bn >> relu) as dw_conv_3x3,
        (dw_conv(k=3) >> conv(c, k=1) >> bn >> relu) as sep_conv_3x3,
        max_pool(k=3, padding=1) as max_pool_3x3,
        avg_pool(k=3, padding=1) as avg_pool_3x3,
        identity)
}
genotype cell = flat

def sep_conv_3x3(c, stride) = dw_conv(k=3, stride=stride) >> conv(c, k=1) >> bn >> relu

network {
    h = x >> conv(C, k=3) >> bn >> relu
    for s, c in enumerate([C, 2 * C, 4 * C]) {
        if s > 0 { h = h >> sep_conv_3x3(c, 2) }
        repeat N { h = cell(c)(h) }
    }
    return h >> global_avg_pool >> linear(classes)
}
