# NASNet search space (Zoph, Vasudevan, Shlens & Le, "Learning Transferable
# Architectures for Scalable Image Recognition", CVPR 2018).
#
# A cell has hidden states 0 and 1 (the two previous cells' outputs, each
# brought to C channels) and B blocks. The controller makes five decisions
# per block: a first hidden state, a second one (each among states 0, 1 and
# the earlier blocks' outputs, sampled independently, so one state may be
# taken twice), an op for each, and a combine: element-wise add or
# concatenation. The hidden states that no block reads ("loose ends") are
# concatenated into the cell output. A normal and a reduction cell are
# searched (one genotype each); in the reduction cell the ops that read the
# cell inputs have stride 2.
#
# Size, derived: block b (b = 0..B-1) has b+2 states to read, so
# (b+2)^2 input pairs x 13^2 op pairs x 2 combines; one cell is
# prod_{b=0..4} (b+2)^2 * 13^2 * 2 = 720^2 * 13^10 * 2^5
#   = 2,286,906,949,584,691,200 (about 2.3e18),
# and the space (normal and reduction cell) is its square, about 5.23e36.
# Checked in tests/examples/test_nasnet.py, which also enumerates B=1
# (4 * 13^2 * 2 = 1,352 per cell, 1,827,904 in all).
#
# [verify] recalled from the paper, not checked against code: the 13 ops
# (identity; 1x3 then 3x1 conv; 1x7 then 7x1 conv; 3x3 dilated conv; 3x3
# avg pool; 3x3, 5x5, 7x7 max pool; 1x1 conv; 3x3 conv; 3x3, 5x5, 7x7
# depthwise-separable conv). Modelling choices: convs are ReLU-conv-BN,
# separable convs are applied twice (as in NASNet-A and DARTS), an identity
# with stride 2 is a factorized reduction, and concatenation is followed by
# a 1x1 conv back to C channels so that every hidden state has C channels;
# the loose ends are the unread blocks (the cell inputs are not concatenated),
# so a cell that never reads an input cuts that earlier cell off.
# The skeleton is the CIFAR one: stem conv 3x3 (3C) + BN, N normal cells,
# a reduction cell, N normal cells, a reduction cell, N normal cells,
# channels doubling at each reduction; NASNet-A CIFAR is N=6, C=32.

param C = 32
param N = 6
param B = 5
param classes = 10
input x: [3, 32, 32]

def identity_op(c, stride) = stride == 1 ? identity : factorized_reduce(c)
def conv_1x3_3x1(c, stride) = conv_1xk_kx1(c, k=3, stride=stride)
def conv_1x7_7x1(c, stride) = conv_1xk_kx1(c, k=7, stride=stride)
def dil_conv_3x3(c, stride) = relu_conv_bn(c, k=3, stride=stride, dilation=2)
def avg_pool_3x3(c, stride) = avg_pool(k=3, stride=stride, padding=1)
def max_pool_3x3(c, stride) = max_pool(k=3, stride=stride, padding=1)
def max_pool_5x5(c, stride) = max_pool(k=5, stride=stride, padding=2)
def max_pool_7x7(c, stride) = max_pool(k=7, stride=stride, padding=3)
def conv_1x1(c, stride) = relu_conv_bn(c, k=1, stride=stride)
def conv_3x3(c, stride) = relu_conv_bn(c, k=3, stride=stride)
def sep_conv_3x3(c, stride) = sep_conv(c, k=3, stride=stride)
def sep_conv_5x5(c, stride) = sep_conv(c, k=5, stride=stride)
def sep_conv_7x7(c, stride) = sep_conv(c, k=7, stride=stride)
let OPS = [identity_op, conv_1x3_3x1, conv_1x7_7x1, dil_conv_3x3, avg_pool_3x3, max_pool_3x3, max_pool_5x5,
           max_pool_7x7, conv_1x1, conv_3x3, sep_conv_3x3, sep_conv_5x5, sep_conv_7x7]

def nasnet_cell(c, reduce) = dag(inputs=2, nodes=B + 2, output="loose") {
    node j: inputs = pick(2, ordered=true, replace=true),
            edge = choice(OPS)(c, reduce and src < 2 ? 2 : 1),
            merge = choice(add, concat_conv(c)) as combine
}
genotype normal = nasnet_cell(reduce=false)
genotype reduction = nasnet_cell(reduce=true)

def preprocess(c, after_reduction)(h) {
    return after_reduction ? h >> factorized_reduce(c) : h >> relu_conv_bn(c, k=1)
}

network {
    s0 = x >> conv(3 * C, k=3) >> bn
    s1 = s0
    c = C
    prev_reduced = false
    for i in range(3 * N + 2) {
        red = i == N or i == 2 * N + 1
        c = red ? 2 * c : c
        a = preprocess(c, prev_reduced)(s0) as pre0
        b = preprocess(c, false)(s1) as pre1
        out = red ? reduction(c)(a, b) : normal(c)(a, b)
        s0, s1 = s1, out
        prev_reduced = red
    }
    return s1 >> relu >> global_avg_pool >> linear(classes)
}
