# ENAS micro search space (Pham, Guan, Zoph, Le & Dean, "Efficient Neural
# Architecture Search via Parameter Sharing", ICML 2018). Official code:
# melodyguan/enas, src/cifar10/micro_controller.py and micro_child.py.
#
# NASNet-style cells with two inputs (the two previous cells) and B nodes.
# For each node the controller samples, in this order, an input index, an op,
# a second input index and a second op (the arc is 4 numbers per node). Each
# index is drawn on its own from all earlier states (both cell inputs and the
# earlier nodes), so a node may read one state twice, and the two picks are
# ordered: pick(2, ordered=true, replace=true). Ops, in the controller's
# order: sep_conv 3x3, sep_conv 5x5, avg pool 3x3, max pool 3x3, identity.
# A node adds its two terms; the states no node reads are concatenated into
# the cell output. A normal and a reduction cell are sampled.
#
# Size, derived: node b (b = 0..B-1) reads from b+2 states, so it has
# (b+2)^2 * 5^2 arcs; one cell is prod_{b=0..4} (b+2)^2 * 5^2 = 720^2 * 5^10
#   = 5,062,500,000,000 (about 5.1e12),
# and the space (normal and reduction cell) is its square, about 2.6e25.
# (The paper's "(5 x (B-2)!)^4" is a different count; this one is the
# official controller's number of distinct arcs.)
#
# Network (micro_child.py, fixed arc): stem conv 3x3 (3C) + BN, L+2 cells
# with reduction cells at L//3 and 2*(L//3)+1 doubling the channels, then
# ReLU, global average pool and a linear layer without bias. Final network
# L=15, C=36; search network L=6, C=20. The official final arc is the preset
# ENAS (examples/enas_micro.presets.json).
# Cell inputs as in _fixed_layer: the older input gets a ReLU-conv1x1-BN
# (a factorized reduction after a reduction cell), the newer one a
# ReLU-conv1x1-BN to C channels and then the unconditional "layer_base"
# ReLU-conv1x1-BN. One deviation, kept on purpose: the official code skips
# a calibrating 1x1 when a cell output already has C channels (a cell with
# one loose end); it changes neither the choices, nor the count, nor the
# official arc. No auxiliary head, no drop path. The paper's 4.6M
# parameters are not asserted: this file's build of the official arc has
# 3,894,372 (tests/examples/test_cell_spaces.py).

param C = 36
param L = 15
param B = 5
param classes = 10
input x: [3, 32, 32]

def sep_conv_3x3(c, stride) = sep_conv(c, k=3, stride=stride)
def sep_conv_5x5(c, stride) = sep_conv(c, k=5, stride=stride)
def avg_pool_3x3(c, stride) = avg_pool(k=3, stride=stride, padding=1)
def max_pool_3x3(c, stride) = max_pool(k=3, stride=stride, padding=1)
def identity_op(c, stride) = stride == 1 ? identity : factorized_reduce(c)
let OPS = [sep_conv_3x3, sep_conv_5x5, avg_pool_3x3, max_pool_3x3, identity_op]

# the states no node reads, cell inputs included, are concatenated; an unread input
# of a reduction cell is brought to size by a factorized reduction (_fixed_combine)
def enas_cell(c, reduce) = dag(inputs=2, nodes=B + 2, output="loose", loose_inputs=identity_op(c, reduce ? 2 : 1)) {
    node j: inputs = pick(2, ordered=true, replace=true), edge = choice(OPS)(c, reduce and src < 2 ? 2 : 1)
}
genotype normal = enas_cell(reduce=false)
genotype reduction = enas_cell(reduce=true)

def preprocess(c, after_reduction)(h) {
    return after_reduction ? h >> factorized_reduce(c) : h >> relu_conv_bn(c, k=1)
}

network {
    s0 = x >> conv(3 * C, k=3) >> bn
    s1 = s0
    c = C
    prev_reduced = false
    for i in range(L + 2) {
        red = i == L // 3 or i == 2 * (L // 3) + 1
        c = red ? 2 * c : c
        a = preprocess(c, prev_reduced)(s0) as pre0
        b = s1 >> relu_conv_bn(c, k=1) >> relu_conv_bn(c, k=1) as pre1
        out = red ? reduction(c)(a, b) : normal(c)(a, b)
        s0, s1 = s1, out
        prev_reduced = red
    }
    return s1 >> relu >> global_avg_pool >> linear(classes, bias=false)
}
