# RobNet search space (Guo, Yang, Xu, Liu & Lin, "When NAS Meets Robustness:
# In Search of Robust Architectures against Adversarial Attacks", CVPR
# 2020). Official code: gmh14/RobNets (models/basic_model.py).
#
# A DARTS-like cell: inputs s0 and s1 (the two previous cells, through
# ReLU-conv1x1-BN, or a factorized reduction of s0 after a reduction cell)
# and 4 intermediate nodes, each the sum over ALL its predecessors (2 + its
# index) of an edge op, so a cell has 2 + 3 + 4 + 5 = 14 edges. The cell
# output concatenates the 4 nodes. An edge op is one of 4 (the official
# two-bit codes): 00 zero, 01 3x3 separable conv (DARTS' two stacked
# ReLU-depthwise-pointwise-BN), 10 identity, 11 separable conv plus identity
# (a residual separable conv). In a reduction cell the edges that read s0
# and s1 have stride 2, and the identity there is a factorized reduction.
#
# This file is the paper's cell-based space: one cell for all 20 layers,
# 4^14 = 268,435,456 architectures; robnet_free.nas is the cell-free one
# (every layer its own cell). Checked in tests/examples/test_cell_spaces.py.
#
# The skeleton is the DARTS CIFAR one with the official defaults: stem conv
# 3x3 (3C) + BN, 20 layers at C=36, reduction cells at layers 20//3 and
# 2*20//3 (channels doubling), global average pool, linear. Departure: the
# official network uses BN without affine parameters everywhere (nasl's BN
# is affine), so parameter counts differ. The one shared cell serves normal
# and reduction layers alike, as in the official code: a reduction layer
# uses it with a stride of 2 on the edges that read s0 and s1 (robnet_free.nas
# has the same cell and strides, one cell per layer).
# Preset (examples/robnet.presets.json): RobNet-large-v1, from the official
# model code (code_robnet_large_v1).

param C = 36
param layers = 20
param classes = 10
input x: [3, 32, 32]

def zero_op(c, stride) = zero(stride=stride)
def sep_conv_3x3(c, stride) = sep_conv(c, k=3, stride=stride)
def identity_op(c, stride) = stride == 1 ? identity : factorized_reduce(c)
def res_sep_conv(c, stride)(h) {
    return add(h >> sep_conv(c, k=3, stride=stride), h >> identity_op(c, stride))
}
let OPS = [zero_op, sep_conv_3x3, identity_op, res_sep_conv]

# one definition for normal and reduction layers: only the ops' strides depend on `reduce`
def shared_cell(c, reduce) = dag(inputs=2, nodes=6, output="concat") {
    edge i -> j: choice(OPS)(c, reduce and i < 2 ? 2 : 1)
}
genotype cell = shared_cell

def preprocess(c, after_reduction)(h) {
    return after_reduction ? h >> factorized_reduce(c) : h >> relu_conv_bn(c, k=1)
}

network {
    s0 = x >> conv(3 * C, k=3) >> bn
    s1 = s0
    c = C
    prev_reduced = false
    for i in range(layers) {
        red = i == layers // 3 or i == 2 * layers // 3
        c = red ? 2 * c : c
        a = preprocess(c, prev_reduced)(s0) as pre0
        b = preprocess(c, false)(s1) as pre1
        out = cell(c, red)(a, b)
        s0, s1 = s1, out
        prev_reduced = red
    }
    return s1 >> global_avg_pool >> linear(classes)
}
