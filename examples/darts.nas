# DARTS (Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search",
# ICLR 2019). Official code: quark0/darts, cnn/ (model.py, operations.py,
# genotypes.py).
#
# A cell has two inputs (the outputs of the two previous cells, after a
# ReLU-Conv1x1-BN, or a FactorizedReduce after a reduction cell) and `nodes`
# intermediate nodes. Each node sums two edges op(input); in a reduction cell
# the edges that read the cell inputs have stride 2. The normal and the
# reduction cell are one genotype each, used by every cell of that kind.
#
# Reproduces (tests/examples/test_darts.py, tests/ir/test_reference_counts.py):
# - one cell of the DARTS space (4 nodes, 7 ops, 2 distinct inputs per node):
#   prod_{k=1..4} C(k+1, 2) * 7^2 = 180 * 7^8 = 1,037,664,180; normal plus
#   reduction is its square;
# - the evaluation network (-D C=36 -D layers=20) of the official genotypes:
#   DARTS_V2 3,349,342 parameters and DARTS_V1 3,169,414, both without the
#   auxiliary head (official counts); `auxiliary=true` adds the official
#   CIFAR auxiliary head after cell 2*layers//3: 476,426 more.
#
# The same file holds genotypes of other papers in DARTS format
# (quark0/darts' NASNet and AmoebaNet): -D nodes=5, ops with sep_conv_7x7 and
# conv_7x1_1x7, distinct=false (a node may read one input twice, and the two
# picks are ordered, as a controller samples them) and concat="loose" (the
# output concatenates the nodes no other node reads: NASNet's reduce_concat
# [4, 5, 6]). That space has prod_{j=2..6} j^2 * 9^2 = 720^2 * 9^10
# = 1,807,549,033,478,400 cells of each kind. In the DARTS evaluation network
# (C=36, 20 layers) NASNet has 3,830,950 parameters and AmoebaNet 3,145,078;
# no official count exists for these (the papers' 3.3M and 3.2M are their own
# networks), so both are checked against an independent hand-written PyTorch
# build of quark0/darts' NetworkCIFAR (tests/examples/darts_reference.py),
# which also reproduces the official DARTS_V1 and DARTS_V2 counts.
# [verify] conv_7x1_1x7: as in operations.py the first conv keeps the input
# channels; in the DARTS cells input and output channels are equal, so this
# is exact there.
# Defaults are the search setting (C=16, 8 layers); the evaluation network is
# -D C=36 -D layers=20. Presets: examples/darts.presets.json.
#
# `imagenet=true` is the official ImageNet evaluation network (model.py's
# NetworkImageNet) on 3x224x224 inputs: stem0 conv3x3 stride 2 (C/2) - BN -
# ReLU - conv3x3 stride 2 (C) - BN, stem1 ReLU - conv3x3 stride 2 (C) - BN,
# the cells (the first one's s0 is reduced, as after a reduction cell), a
# 7x7 average pool and the classifier; the setting is C=48, 14 layers, 1000
# classes. The preset PC_DARTS_image (yuhuixu1993/PC-DARTS genotypes.py) has
# 5,342,464 parameters there, without the auxiliary head (the ImageNet
# auxiliary head is not written here).

param C = 16
param layers = 8
param nodes = 4
param classes = 10
param ops = ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
             "dil_conv_3x3", "dil_conv_5x5"]
param distinct = true          # each node reads 2 distinct inputs (DARTS); false: 2 independent picks
param concat = "all"           # "all": concatenate every intermediate node; "loose": the unread ones
param auxiliary = false        # the auxiliary classifier after cell 2*layers//3
param imagenet = false         # the ImageNet evaluation network (NetworkImageNet) instead of the CIFAR one
let resolution = imagenet ? 224 : 32
input x: [3, resolution, resolution]

# every op the DARTS genotype format names (operations.py's OPS)
let KNOWN_OPS = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                 "sep_conv_7x7", "dil_conv_3x3", "dil_conv_5x5", "conv_7x1_1x7"]

def darts_op(name, c, stride) =
    name == "none" ? zero(stride=stride) :
    name == "max_pool_3x3" ? max_pool(k=3, stride=stride, padding=1) :
    name == "avg_pool_3x3" ? avg_pool(k=3, stride=stride, padding=1) :
    name == "skip_connect" ? (stride == 1 ? identity : factorized_reduce(c)) :
    name == "sep_conv_3x3" ? sep_conv(c, k=3, stride=stride) :
    name == "sep_conv_5x5" ? sep_conv(c, k=5, stride=stride) :
    name == "sep_conv_7x7" ? sep_conv(c, k=7, stride=stride) :
    name == "dil_conv_3x3" ? dil_conv(c, k=3, stride=stride) :
    name == "dil_conv_5x5" ? dil_conv(c, k=5, stride=stride) :
    conv_7x1_1x7(c, stride=stride)

def darts_cell(c, reduce) = dag(inputs=2, nodes=nodes + 2, output=concat == "loose" ? "loose" : "concat") {
    node j: inputs = pick(2, ordered=not distinct, replace=not distinct),
            edge = darts_op(choice(ops), c, reduce and src < 2 ? 2 : 1)
}
genotype normal = darts_cell(reduce=false)
genotype reduction = darts_cell(reduce=true)

def preprocess(c, after_reduction)(h) {
    return after_reduction ? h >> factorized_reduce(c) : h >> relu_conv_bn(c, k=1)
}

# NetworkImageNet's stems: 224 -> 56 (stem0) -> 28 (stem1)
def imagenet_stem0(c)(h) {
    return h >> conv(c // 2, k=3, stride=2) >> bn >> relu >> conv(c, k=3, stride=2) >> bn
}
def imagenet_stem1(c)(h) {
    return h >> relu >> conv(c, k=3, stride=2) >> bn
}

# AuxiliaryHeadCIFAR: on the 8x8 map after cell 2*layers//3
def aux_head(n)(h) {
    return h >> relu >> avg_pool(k=5, stride=3, padding=0) >> conv_bn_relu(128, k=1)
             >> conv_bn_relu(768, k=2) >> flatten >> linear(n)
}

network {
    for name in ops {
        require name in KNOWN_OPS else "every name in ops must be one of KNOWN_OPS, the DARTS-format ops"
    }
    require concat == "all" or concat == "loose" else "concat is \"all\" or \"loose\""
    require not (imagenet and auxiliary) else "the ImageNet network has no auxiliary head here"
    s0 = imagenet ? imagenet_stem0(C)(x) : x >> conv(3 * C, k=3) >> bn
    s1 = imagenet ? imagenet_stem1(C)(s0) : s0
    c = C
    prev_reduced = imagenet        # stem1 halves the resolution of stem0's output
    for i in range(layers) {
        red = i == layers // 3 or i == 2 * layers // 3
        c = red ? 2 * c : c
        a = preprocess(c, prev_reduced)(s0) as pre0
        b = preprocess(c, false)(s1) as pre1
        out = red ? reduction(c)(a, b) : normal(c)(a, b)
        s0, s1 = s1, out
        prev_reduced = red
        if auxiliary and i == 2 * layers // 3 { logits_aux = aux_head(classes)(s1) }
    }
    logits = s1 >> global_avg_pool >> linear(classes)
    if auxiliary { return logits, logits_aux }
    return logits
}
