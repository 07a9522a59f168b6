# DPP-Net search space (Dong, Cheng, Juan, Wei & Sun, "DPP-Net: Device-aware
# Progressive Search for Pareto-optimal Neural Architectures", ECCV 2018),
# as far as the paper's text we could read supports it.
#
# Confirmed from the paper's abstract and summaries: a compact search space
# inspired by mobile CNNs (depthwise and group convolutions), searched
# progressively as PNAS does (cells grown one block at a time, Liu et al.
# 2018), in a network compared with and modelled on CondenseNet (dense
# connections between cells), on CIFAR-10.
# [unconfirmed] Everything below that is more specific: we could not read
# the paper's search-space section, so the op set, the block count and the
# wiring are a PNAS cell with mobile ops in a DenseNet skeleton, written to
# be changed (-D B=..., the OPS list).
#
# The cell (one genotype for every cell, as PNAS shares one): B blocks, each
# adding two ops, each on the cell input or an earlier block (sampled
# independently, so ordered and possibly equal, as in examples/pnas.nas);
# the cell concatenates its B blocks and a ReLU-conv1x1-BN brings them to
# the growth rate. Dense connections between cells: as in DenseNet and
# CondenseNet, a cell reads the concatenation of the stage's input and of
# every earlier cell's output in its stage (through ReLU-conv1x1-BN to the
# cell width), and its output joins that concatenation. Three stages of N
# cells, growth rates g, 2g, 4g (CondenseNet's doubling), DenseNet's
# transition between stages (ReLU-conv1x1-BN, 2x2 average pooling), a 3x3
# conv stem of 2g channels, global average pooling and the classifier.
# The 8 ops [unconfirmed]: 3x3 depthwise-separable conv, 3x3 conv, 1x1 conv,
# 1x1 and 3x3 group conv (4 groups), 3x3 max and average pooling, identity.
#
# Size, derived: block b (b = 1..B) reads among b states (the cell input and
# b - 1 earlier blocks), b^2 ordered pairs x 8^2 op pairs; one cell, and so
# the space, is prod_{b=1..B} b^2 * 8^2 = (B!)^2 * 8^(2B). For the default
# B = 3: 36 * 8^6 = 9,437,184; for B = 5 (PNAS's): 14,400 * 8^10
# = 15,461,882,265,600. Checked in tests/examples/test_seed_spaces.py, which
# enumerates B = 2 (4 * 8^4 = 16,384).

param g = 16
param N = 4
param B = 3
param groups = 4
param classes = 10
input x: [3, 32, 32]

def sep_conv_3x3(c) = sep_conv(c, k=3)
def conv_3x3(c) = relu_conv_bn(c, k=3)
def conv_1x1(c) = relu_conv_bn(c, k=1)
def group_conv_1x1(c) = relu >> conv(c, k=1, groups=groups) >> bn
def group_conv_3x3(c) = relu >> conv(c, k=3, groups=groups) >> bn
def max_pool_3x3(c) = max_pool(k=3, padding=1)
def avg_pool_3x3(c) = avg_pool(k=3, padding=1)
def identity_op(c) = identity
let OPS = [sep_conv_3x3, conv_3x3, conv_1x1, group_conv_1x1, group_conv_3x3, max_pool_3x3, avg_pool_3x3,
           identity_op]

def dpp_cell(c) = dag(inputs=1, nodes=B + 1, output="concat") {
    node j: inputs = pick(2, ordered=true, replace=true), edge = choice(OPS)(c)
}
genotype cell = dpp_cell

network {
    require g % groups == 0 else "the growth rate g must be a multiple of groups"
    h = x >> conv(2 * g, k=3) >> bn
    w = g
    for stage in range(3) {
        if stage > 0 {
            h = h >> relu_conv_bn(w, k=1) >> avg_pool(k=2, stride=2, padding=0)
            w = 2 * w
        }
        features = [h]
        for i in range(N) {
            inp = concat(features) >> relu_conv_bn(w, k=1)
            out = cell(w)(inp) >> relu_conv_bn(w, k=1)
            features = features + [out]
        }
        h = concat(features)
    }
    return h >> relu >> global_avg_pool >> linear(classes)
}
