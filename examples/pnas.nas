# PNAS search space (Liu, Zoph, Neumann, Shlens, Hua, Li, Fei-Fei, Yuille,
# Huang & Murphy, "Progressive Neural Architecture Search", ECCV 2018).
#
# One cell of B = 5 blocks serves every layer, normal and reduction alike
# (PNAS searches a single cell, unlike NASNet's pair). A block reads two
# hidden states, each among the two previous cells' outputs and the earlier
# blocks of this cell (sampled independently, so order matters and one
# state may be read twice), applies an op to each and adds the two. The cell
# output concatenates all B blocks (PNASNet-5 concatenates blocks 2..6 in
# DARTS format; the TF-slim pnasnet's used_hiddenstates marks only the two
# cell inputs as used).
#
# The 8 ops: identity; 3x3, 5x5, 7x7 depthwise-separable conv; 1x7 then 7x1
# conv; 3x3 average pool; 3x3 max pool; 3x3 dilated conv.
#
# Size, derived: block b (b = 1..5) reads among b + 1 states, so
# (b+1)^2 input pairs x 8^2 op pairs; one cell (and so the space) is
# prod_{b=1..5} (b+1)^2 * 8^2 = 720^2 * 8^10 = 556,627,761,561,600 (~5.6e14).
# The combine is always add (PNAS dropped NASNet's concat combine).
# Checked in tests/examples/test_cell_spaces.py, which also enumerates B=1
# (2^2 * 8^2 = 256 cells, the paper's |B_1| = 256).
#
# Reduction: one cell, two uses. A reduction layer runs the same cell with a
# use-given stride s = 2 on the ops that read the two cell inputs (blocks
# reading earlier blocks run at stride 1), as TF-slim's NasNetABaseCell
# does for PNASNet; the identity at stride 2 is ReLU-conv1x1(stride 2)-BN
# (TF-slim's 'none' op with a stride), pools stride themselves. Only the
# ops' arguments depend on s, never a choice's domain, so the cell is one
# genotype and the space one cell's size.
# Modelling choices, as in nasnet.nas: separable convs are applied twice
# (ReLU-depthwise-pointwise-BN, twice), the dilated conv is ReLU-conv-BN with
# dilation 2, each cell input is brought to C channels by ReLU-conv1x1-BN,
# or by a factorized reduction when it is at twice the resolution.
# The skeleton: stem conv 3x3 (3C) + BN, then 3N cells, the ones at N and 2N
# at stride 2, channels doubling there. PNAS has no separate reduction cell,
# so the stride-2 cells count among the 3N (TF-slim pnasnet.py: num_cells 9
# for the mobile N=3 and 12 for the large N=4, with
# calc_reduction_layers(num_cells, 2) = [N, 2N]; TF-Hub's pnasnet_large:
# "12 cells (plus 2 for the ImageNet stem)"). The head is ReLU, global average
# pool, linear; no auxiliary head. PNASNet-5 on CIFAR-10 is N=3, F=48 (the
# paper's Table 1, 3.2M params; the defaults here): this file builds it with
# 3,176,602 params (tests/examples/test_cell_spaces.py).
# Presets (examples/pnas.presets.json): pnasnet5, the cell the paper found.

param C = 48
param N = 3
param B = 5
param classes = 10
input x: [3, 32, 32]

# every op takes the channels c and a stride s (2 only on a reduction
# layer's edges from the cell inputs)
def sep_conv_3x3(c, s) = sep_conv(c, k=3, stride=s)
def sep_conv_5x5(c, s) = sep_conv(c, k=5, stride=s)
def sep_conv_7x7(c, s) = sep_conv(c, k=7, stride=s)
def conv_1x7_7x1(c, s) = conv_1xk_kx1(c, k=7, stride=s)
def avg_pool_3x3(c, s) = avg_pool(k=3, stride=s, padding=1)
def max_pool_3x3(c, s) = max_pool(k=3, stride=s, padding=1)
def dil_conv_3x3(c, s) = relu_conv_bn(c, k=3, stride=s, dilation=2)
def identity_op(c, s) = s == 1 ? identity : relu_conv_bn(c, k=1, stride=s)
let OPS = [identity_op, sep_conv_3x3, sep_conv_5x5, sep_conv_7x7, conv_1x7_7x1, avg_pool_3x3, max_pool_3x3,
           dil_conv_3x3]

# one definition for normal (s = 1) and reduction (s = 2) layers
def pnas_cell(c, s) = dag(inputs=2, nodes=B + 2, output="concat") {
    node j: inputs = pick(2, ordered=true, replace=true), edge = choice(OPS)(c, src < 2 ? s : 1)
}
genotype cell = pnas_cell

def preprocess(c, after_reduction)(h) {
    return after_reduction ? h >> factorized_reduce(c) : h >> relu_conv_bn(c, k=1)
}

network {
    s0 = x >> conv(3 * C, k=3) >> bn
    s1 = s0
    c = C
    prev_reduced = false
    for i in range(3 * N) {
        red = i == N or i == 2 * N
        c = red ? 2 * c : c
        a = preprocess(c, prev_reduced)(s0) as pre0
        b = preprocess(c, false)(s1) as pre1
        out = cell(c, red ? 2 : 1)(a, b)
        s0, s1 = s1, out
        prev_reduced = red
    }
    return s1 >> relu >> global_avg_pool >> linear(classes)
}
