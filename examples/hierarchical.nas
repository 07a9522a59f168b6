# Hierarchical representations (Liu, Simonyan, Vinyals, Fernando & Kavukcuoglu,
# "Hierarchical Representations for Efficient Architecture Search", ICLR 2018).
#
# Three levels of motifs:
# - level 1: the 6 primitives below (convs followed by BN and ReLU, all at
#   C channels, stride 1), plus `none`, an absent edge;
# - level 2: 6 motifs, each a 4-node DAG (node 0 its input, node 3 its
#   output) whose 6 edges each hold a primitive or none;
# - level 3: one 5-node DAG whose 10 edges each hold a level-2 motif or none.
# Every non-input node concatenates its incoming tensors depthwise and maps
# them back to C channels with a 1x1 conv (`concat_conv`; a node with one
# input still gets the 1x1 conv, a node with none outputs zeros).
# The tie rule: each level-2 motif is a `genotype`, made once and reused
# (with its own weights) on every level-3 edge that chooses it, and the
# level-3 cell is one genotype used at every position of the skeleton.
#
# Size. An architecture assigns every edge of every motif, used or not, as the
# paper's genotype does, counting `none` edges and disconnected motifs:
#   level 2: 6 motifs x 6 edges, 7 values each  -> 7^36
#   level 3: 10 edges, 7 values each (6 motifs + none) -> 7^10
#   total 7^46 = 749,048,330,965,186,233,494,494,102,694,564,493,649 (~7.5e38).
# No unique count is defined: the paper counts no equivalence.
#
# Skeleton of the search (the paper's small CIFAR-10 model): conv 3x3 (C),
# cell, separable conv 3x3 stride 2 (2C), cell, separable conv 3x3 stride 2
# (4C), cell, global average pool, linear. `N` cells per stage (1 in search).
# The flat variant (one 11-node DAG over the primitives) is hierarchical_flat.nas.

param C = 16
param N = 1
param classes = 10
input x: [3, 32, 32]

# level 1 and 2: a 4-node motif whose edges hold a primitive (at c channels)
# or none; the labels are what architectures record. Six tied genotypes of it.
def level2(c) = dag(nodes=4, merge=concat_conv(c)) {
    edge i -> j: choice(
        zero as none,
        conv_bn_relu(c, k=1) as conv_1x1,
        (dw_conv(k=3) >> bn >> relu) as dw_conv_3x3,
        (dw_conv(k=3) >> conv(c, k=1) >> bn >> relu) as sep_conv_3x3,
        max_pool(k=3, padding=1) as max_pool_3x3,
        avg_pool(k=3, padding=1) as avg_pool_3x3,
        identity)
}
genotype motif1 = level2
genotype motif2 = level2
genotype motif3 = level2
genotype motif4 = level2
genotype motif5 = level2
genotype motif6 = level2

# level 3: a 5-node motif over the level-2 motifs: the cell
def level3(c) = dag(nodes=5, merge=concat_conv(c)) {
    edge i -> j: choice(zero as none, motif1(c), motif2(c), motif3(c), motif4(c), motif5(c), motif6(c))
}
genotype cell = level3

def sep_conv_3x3(c, stride) = dw_conv(k=3, stride=stride) >> conv(c, k=1) >> bn >> relu

network {
    h = x >> conv(C, k=3) >> bn >> relu
    for s, c in enumerate([C, 2 * C, 4 * C]) {
        if s > 0 { h = h >> sep_conv_3x3(c, 2) }
        repeat N { h = cell(c)(h) }
    }
    return h >> global_avg_pool >> linear(classes)
}
