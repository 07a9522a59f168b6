# DPP-Net search space (Dong, Cheng, Juan, Wei & Sun, "DPP-Net: Device-aware
# Progressive Search for Pareto-optimal Neural Architectures", ECCV 2018,
# arXiv:1806.08198).
#
# Sources. The abstract: a compact search space inspired by mobile CNNs,
# searched progressively as PNAS does (Liu et al. 2018), on CIFAR-10, against
# CondenseNet and NASNet-Mobile. The search space itself we read in a
# third-party summary of the paper's Section 3 found in the `code` corpus
# (a markdown paper note, "Device-Aware Progressive Search for Pareto-Optimal
# Neural Architectures"; no official code is public): the network's
# connecting rules follow CondenseNet (dense connections), and a cell is a
# sequence of layers of two kinds, each layer added by the progressive
# search's mutation ("conv or norm, depending on the last layer", so the two
# kinds alternate), with
#   - 3 normalization layers: BN + ReLU, BN, no op (identity);
#   - 6 convolutional layers: 1x1 conv, 3x3 conv, 1x1 group conv, 3x3 group
#     conv, 1x1 learned group conv (CondenseNet's), 3x3 depthwise conv.
# The earlier version of this file (a PNAS two-input block cell with
# pooling ops) did not match that, and was rewritten.
#
# Assumptions, stated because no source we could read gives them:
#   - a cell starts with a normalization layer, so that the cell of L = 4
#     layers holds DenseNet-BC's layer (BN-ReLU, 1x1 conv, BN-ReLU, 3x3 conv)
#     and CondenseNet's (BN-ReLU, 1x1 learned group conv, BN-ReLU, 3x3 group
#     conv), the blocks the paper compares its space with; L (default 4) is
#     the searched length, which the progressive search grows one layer at a
#     time (-D L=... sets it);
#   - one cell structure serves every cell, as in PNAS;
#   - group convs use 4 groups (CondenseNet's G = 4); the learned group conv
#     is its test-time form, a channel permutation then a group conv (the
#     permutation here a fixed channel shuffle: the condensation that learns
#     it during training is not modelled); convs have no activation of their
#     own (the normalization layers give it);
#   - every conv keeps the cell width; a cell reads, as in DenseNet and
#     CondenseNet, the concatenation of its stage's input and of every
#     earlier cell's output in the stage, brought to the growth rate by
#     ReLU-conv1x1-BN (ours, so any cell works at that width), and its output
#     joins that concatenation. Three stages of N cells, growth rates g, 2g,
#     4g (CondenseNet's doubling), a transition between stages
#     (ReLU-conv1x1-BN, 2x2 average pooling), a 3x3 conv stem of 2g
#     channels, global average pooling and the classifier.
#
# Size, derived: ceil(L/2) normalization layers of 3 and floor(L/2)
# convolutional layers of 6, so 3^ceil(L/2) * 6^floor(L/2); at L = 4,
# 9 * 36 = 324; at L = 8, 81 * 1,296 = 104,976. Checked by enumeration in
# tests/examples/test_seed_spaces.py.

param g = 16
param N = 4
param L = 4
param groups = 4
param classes = 10
input x: [3, 32, 32]

# the normalization layers
def bn_relu(c) = bn >> relu
def bn_only(c) = bn
def no_norm(c) = identity
let NORMS = [bn_relu, bn_only, no_norm]

# the convolutional layers
def conv_1x1(c) = conv(c, k=1)
def conv_3x3(c) = conv(c, k=3)
def group_conv_1x1(c) = conv(c, k=1, groups=groups)
def group_conv_3x3(c) = conv(c, k=3, groups=groups)
def learned_group_conv_1x1(c) = channel_shuffle(groups) >> conv(c, k=1, groups=groups)
def dw_conv_3x3(c) = dw_conv(k=3)
let CONVS = [conv_1x1, conv_3x3, group_conv_1x1, group_conv_3x3, learned_group_conv_1x1, dw_conv_3x3]

# L layers, normalization and convolutional in turn
def dpp_cell(c)(h) {
    y = h
    for l in range(L) {
        if l % 2 == 0 {
            y = y >> choice(NORMS)(c) as norm_layer
        } else {
            y = y >> choice(CONVS)(c) as conv_layer
        }
    }
    return y
}
genotype cell = dpp_cell

network {
    require g % groups == 0 else "the growth rate g must be a multiple of groups"
    require L >= 1 else "a cell has at least one layer (L >= 1)"
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
            features = features + [cell(w)(inp)]
        }
        h = concat(features)
    }
    return h >> relu >> global_avg_pool >> linear(classes)
}
