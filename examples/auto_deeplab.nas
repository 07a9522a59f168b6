# Auto-DeepLab search space (Liu, Chen, Schroff, Adam, Hua, Yuille & Fei-Fei,
# "Auto-DeepLab: Hierarchical Neural Architecture Search for Semantic Image
# Segmentation", CVPR 2019), as a discrete space: one path through the
# network-level trellis and one cell, shared by every layer.
#
# Network level (the paper's Sec. 3.2 and Fig. 1). A two-stride stem brings
# the image to 1/4 resolution; then L = 12 layers follow, each at a
# downsampling rate s in {4, 8, 16, 32}, and from one layer to the next the
# rate doubles, halves or stays ("at each layer the resolution can change by
# at most a factor of 2"). The first layer reads the stem, so it is at 4 or
# 8. Each layer runs the cell on the two previous layers' outputs, both
# resampled to its own rate.
# Cell level (Sec. 3.1): B = 5 blocks; a block adds two ops, each on one of
# the two previous layers' outputs or an earlier block of this cell; the
# cell concatenates its 5 blocks. The 8 ops are the paper's set: 3x3 and 5x5
# depthwise-separable conv, 3x3 and 5x5 atrous conv with rate 2, 3x3 average
# and max pooling, skip connection and no connection (zero). As in DARTS's
# (and the paper's) decoding, a block keeps two distinct inputs.
#
# Size, derived. Trellis: the paths of 12 steps on the levels 4, 8, 16, 32
# that start at 4 and move by at most one level per step. With a_n(l) the
# paths of n steps ending at level l, a_n(l) = a_{n-1}(l-1) + a_{n-1}(l) +
# a_{n-1}(l+1) inside the bounds; from level 4 the totals for n = 1..12 are
# 2, 5, 13, 34, 89, 233, 610, 1597, 4181, 10946, 28657, 75025 (every other
# Fibonacci number: 75,025 = F_25). Cell: block b (b = 1..5) picks 2 distinct
# inputs among b + 1 states, C(b+1, 2), and an op for each, 8^2:
# prod_{b=1..5} C(b+1, 2) * 8^2 = 1 * 3 * 6 * 10 * 15 * 8^10 = 2,700 * 8^10
# = 2,899,102,924,800. The space: 75,025 * 2,899,102,924,800
# = 217,505,196,933,120,000 (about 2.2e17). Checked in
# tests/examples/test_seed_spaces.py, which also enumerates a short trellis.
#
# The trellis is written as a recursion over (layer, rate of the previous
# layer, rate of this one), as examples/metaqnn.nas writes its agent's
# states: each layer offers only the rates reachable from its own, so the
# count is a product of sums with equal sub-trees shared, not an enumeration
# under a constraint. A path reads as the nested labels of its rates:
# net.rate, net.s8.rate, net.s8.s8.rate, ...
#
# Modelling choices (ours; the paper leaves them to its code): a block's
# width is F * s / 4 at rate s (the paper's "filter multiplier" F, doubling
# with the rate), so a cell outputs B * F * s / 4 channels; each cell input
# goes through ReLU-conv1x1-BN to the block width and is then resized
# (bilinear) to the layer's resolution; the separable and atrous convs are
# DARTS's sep_conv and dil_conv. The head is a small ASPP at the last
# layer's rate (a 1x1 conv and a 3x3 conv at atrous rate 96 / s, the
# paper's search-time rate, concatenated and fused by a 1x1 conv), a 1x1
# classifier and a bilinear resize to the input resolution. The stem
# (3x3 convs: stride 2, stride 1, stride 2, as in the paper's final network)
# has `stem` and 2 * `stem` channels. Defaults: F = 8 (the search setting;
# the paper's Auto-DeepLab-S/M/L use F = 20, 32, 48), 19 classes
# (Cityscapes), a 128x128 input (any multiple of 32).

param F = 8
param B = 5
param layers = 12
param stem = 32
param aspp = 64
param classes = 19
param image = 128
input x: [3, image, image]

def sep_conv_3x3(c) = sep_conv(c, k=3)
def sep_conv_5x5(c) = sep_conv(c, k=5)
def atrous_conv_3x3(c) = dil_conv(c, k=3, dilation=2)
def atrous_conv_5x5(c) = dil_conv(c, k=5, dilation=2)
def avg_pool_3x3(c) = avg_pool(k=3, padding=1)
def max_pool_3x3(c) = max_pool(k=3, padding=1)
def skip_connect(c) = identity
def no_connection(c) = zero
let OPS = [sep_conv_3x3, sep_conv_5x5, atrous_conv_3x3, atrous_conv_5x5, avg_pool_3x3, max_pool_3x3,
           skip_connect, no_connection]

def adl_cell(c) = dag(inputs=2, nodes=B + 2, output="concat") {
    node j: inputs = pick(2), edge = choice(OPS)(c)
}
genotype cell = adl_cell

# a cell input brought to width c and to the resolution of rate s
def pre(c, s)(h) {
    return h >> relu_conv_bn(c, k=1) >> resize(image // s, mode="bilinear")
}

# layer l's cell at rate s, on h0 (the output of layer l - 2) and h1 (layer l - 1)
def layer(s)(h0, h1) {
    c = F * s // 4
    return cell(c)(pre(c, s)(h0) as pre0, pre(c, s)(h1) as pre1)
}

def head(s)(h) {
    a = h >> relu_conv_bn(aspp, k=1)
    b = h >> relu >> conv(aspp, k=3, dilation=96 // s) >> bn
    return concat(a, b) >> relu_conv_bn(aspp, k=1) >> relu >> conv(classes, k=1, bias=true)
             >> resize(image, mode="bilinear")
}

# the layers after layer l, whose output h1 is at rate s (h0, the one before, at any rate)
def trellis(l, s)(h0, h1) {
    if l == layers { return head(s)(h1) as head }
    rates = (s > 4 ? [s // 2] : []) + [s] + (s < 32 ? [2 * s] : [])
    r = choice(rates) as rate
    out = h1
    # one `if` per rate, entered only when it is on offer (see examples/metaqnn.nas)
    if 4 in rates and r == 4 { out = trellis(l + 1, 4)(h1, layer(4)(h0, h1)) as s4 }
    if 8 in rates and r == 8 { out = trellis(l + 1, 8)(h1, layer(8)(h0, h1)) as s8 }
    if 16 in rates and r == 16 { out = trellis(l + 1, 16)(h1, layer(16)(h0, h1)) as s16 }
    if 32 in rates and r == 32 { out = trellis(l + 1, 32)(h1, layer(32)(h0, h1)) as s32 }
    return out
}

network {
    require image % 32 == 0 else "image must be a multiple of 32 (the deepest rate)"
    h = x >> conv(stem, k=3, stride=2) >> bn >> relu >> conv(stem, k=3) >> bn >> relu
    h = h >> conv(2 * stem, k=3, stride=2) >> bn >> relu
    return trellis(0, 4)(h, h) as net
}
