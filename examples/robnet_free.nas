# RobNet cell-free search space (Guo, Yang, Xu, Liu & Lin, "When NAS Meets
# Robustness: In Search of Robust Architectures against Adversarial
# Attacks", CVPR 2020). Official code: gmh14/RobNets (models/basic_model.py).
#
# The cell, its 4 edge ops and the skeleton are those of robnet.nas (read its
# header); here every one of the 20 layers has its own cell, with the
# official strides (a reduction cell's edges from s0 and s1 have stride 2,
# its identity is a factorized reduction). Size: (4^14)^20 = 4^280 = 2^560
# (about 3.77e168); checked in tests/examples/test_cell_spaces.py.
# Departure, as in robnet.nas: nasl's BN is affine (the official one is not).
# Preset (examples/robnet_free.presets.json): RobNet-free, from the official
# model code (code_robnet_free).

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

def robnet_cell(c, reduce) = dag(inputs=2, nodes=6, output="concat") {
    edge i -> j: choice(OPS)(c, reduce and i < 2 ? 2 : 1)
}

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
        out = robnet_cell(c, red)(a, b) as cell
        s0, s1 = s1, out
        prev_reduced = red
    }
    return s1 >> global_avg_pool >> linear(classes)
}
