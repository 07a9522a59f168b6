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
# Reduction. The paper's reduction layers run the same cell with stride 2 on
# the ops that read the cell inputs. A genotype whose op choice sits under a
# stride that each use gives is refused today (the tie rule; being fixed),
# so here the reduction is done outside the choices: in a reduction layer
# both cell inputs are brought to half resolution by a factorized reduction
# (as DARTS does for s0 after a reduction cell; s0 twice when the layer
# before was a reduction too) and the cell runs at stride 1.
# The space and its size are the same; the reduction layers' parameters and
# FLOPs differ from the paper's (a 1x1 factorized reduction before the op
# instead of a stride-2 op).
# Modelling choices, as in nasnet.nas: separable convs are applied twice
# (ReLU-depthwise-pointwise-BN, twice), the dilated conv is ReLU-conv-BN with
# dilation 2, each cell input is brought to C channels by ReLU-conv1x1-BN.
# The skeleton is the CIFAR one: stem conv 3x3 (3C) + BN, N cells, a
# reduction cell, N cells, a reduction cell, N cells, channels doubling at
# each reduction; PNASNet-5 on CIFAR is N=3, F=48 (the defaults).
# Presets (examples/pnas.presets.json): PNASNet-5, the cell the paper found.

param C = 48
param N = 3
param B = 5
param classes = 10
input x: [3, 32, 32]

def sep_conv_3x3(c) = sep_conv(c, k=3)
def sep_conv_5x5(c) = sep_conv(c, k=5)
def sep_conv_7x7(c) = sep_conv(c, k=7)
def conv_1x7_7x1(c) = conv_1xk_kx1(c, k=7)
def avg_pool_3x3(c) = avg_pool(k=3, padding=1)
def max_pool_3x3(c) = max_pool(k=3, padding=1)
def dil_conv_3x3(c) = relu_conv_bn(c, k=3, dilation=2)
def identity_op(c) = identity
let OPS = [identity_op, sep_conv_3x3, sep_conv_5x5, sep_conv_7x7, conv_1x7_7x1, avg_pool_3x3, max_pool_3x3,
           dil_conv_3x3]

def pnas_cell(c) = dag(inputs=2, nodes=B + 2, output="concat") {
    node j: inputs = pick(2, ordered=true, replace=true), edge = choice(OPS)(c)
}
genotype cell = pnas_cell

# a cell input at C channels, halved in resolution `halvings` times (0, 1, or
# 2 for s0 of a reduction layer right after another) by factorized reductions
def preprocess(c, halvings)(h) {
    return halvings == 0 ? h >> relu_conv_bn(c, k=1) :
           halvings == 1 ? h >> factorized_reduce(c) : h >> factorized_reduce(c) >> factorized_reduce(c)
}

network {
    s0 = x >> conv(3 * C, k=3) >> bn
    s1 = s0
    c = C
    prev_reduced = false
    for i in range(3 * N + 2) {
        red = i == N or i == 2 * N + 1
        c = red ? 2 * c : c
        a = preprocess(c, (red ? 1 : 0) + (prev_reduced ? 1 : 0))(s0) as pre0
        b = preprocess(c, red ? 1 : 0)(s1) as pre1
        out = cell(c)(a, b)
        s0, s1 = s1, out
        prev_reduced = red
    }
    return s1 >> relu >> global_avg_pool >> linear(classes)
}
