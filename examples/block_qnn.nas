# BlockQNN search space (Zhong, Yan, Wu, Shao & Liu, "Practical Block-wise
# Neural Network Architecture Generation", CVPR 2018).
#
# A block is a sequence of layers, each described by its Network Structure
# Code (NSC, the paper's Table 1): a layer index, a type, a kernel size and
# two predecessors (earlier layers of the block; 0 is the block input). The
# seven types: convolution (kernel 1, 3 or 5; one predecessor), max pooling
# and average pooling (kernel 1 or 3; one predecessor), identity (one
# predecessor), elemental add and concat (two predecessors) and terminal,
# which ends the block. The types with one predecessor have no second one
# (its code is 0), so here the second predecessor is a choice that exists
# only under add and concat, and the kernel one that exists only under conv
# and the pools. The terminal is the block's depth: `layers` counts the
# layers before it, 1..max_layers. The block's output concatenates its
# layers that no later layer reads (the paper: layers without a successor
# are concatenated). The block found is stacked: one block (a genotype)
# for every position of the network.
#
# Size, derived (the paper gives no closed number). Layer i (i = 1..d)
# reads among i earlier states: conv 3 kernels * i + max pool 2 * i + avg
# pool 2 * i + identity i + add i^2 + concat i^2 = 8i + 2i^2 codes (the two
# predecessors are two fields, so ordered, and may be equal). A block of d
# layers has prod_{i=1..d} (8i + 2i^2) codes; the space is the sum over
# d = 1..max_layers. With max_layers = 3: 10 + 10 * 24 + 10 * 24 * 42 =
# 10,330; checked by enumeration in tests/examples/test_seed_spaces.py, and
# the default, 23 layers, against the formula there.
#
# Sources. The paper's text available to us (ar5iv 1708.05552, in the
# `pages` corpus) covers the abstract and introduction. The NSC itself (the
# seven types, conv kernels 1/3/5, pool kernels 1/3, "Index_Type_Kernel
# size_Pred1_Pred2" codes, unread layers concatenated into the block output)
# and the CIFAR skeleton below (3x3 conv stem of 32 filters, N blocks per
# stage, max pooling between stages, 32/64/128 filters) agree with the one
# public re-implementation we found in the `code` corpus (Elenath Feng's
# Keras BlockQNN, BlockQNN_agents.py), which is not the authors' code.
# Assumptions, stated because no available source confirms them:
#   - the limit on a block's layer index: 23 here (-D max_layers=N sets
#     it), kept from this file's first version, which took it from the
#     paper as then read; the re-implementation makes it a parameter T
#     (default 10, "can be infinite") and gives no paper value;
#   - the agent may not terminate at once (no empty block), as there;
#   - add and concat may read one state twice (the two predecessor fields
#     are independent); the re-implementation requires two distinct ones,
#     and from layer 2 on, which would shrink the count above;
#   - N = 2 (the re-implementation's default is 4).

# Modelling choices (ours): a conv layer is the paper's pre-activation
# convolutional cell, ReLU-Conv-BN, with c filters; pools have stride 1 and
# keep the shape; add zero-pads the narrower of its inputs to the wider one's
# channels (a concat makes its state wider than c); every block starts from
# its input brought to c channels by ReLU-conv1x1-BN. The network is the
# paper's CIFAR skeleton: a 3x3 conv stem, N stacked blocks per stage, three
# stages with a stride-2 max pooling between them, C, 2C, 4C filters, then
# global average pooling and the classifier (C = 32 as in the
# re-implementation; N is an assumption, above).

param C = 32
param N = 2
param max_layers = 23
param classes = 10
input x: [3, 32, 32]

# the layer types; the seventh, terminal, is the block's depth choice
let TYPES = ["conv", "max_pool", "avg_pool", "identity", "add", "concat"]

def nsc_block(c)(h) {
    # states 0..max_layers, their widths and whether a later layer reads them,
    # full length from the start: the layers that exist depend on the depth
    inp = h >> relu_conv_bn(c, k=1) as input
    states = []
    widths = []
    read_by = []
    for k in range(max_layers + 1) {
        states = states + [inp]
        widths = widths + [c]
        read_by = read_by + [false]
    }
    depth = int_range(1, max_layers) as layers
    repeat depth as i {
        n = i + 1               # states 0..i are readable: the input and the layers before
        t = choice(TYPES) as type
        p1 = choice(range(n)) as pred1
        # states[p1]: p1 is a choice, so one `if` per state it may be
        a = inp
        wa = c
        for k in range(n) {
            if p1 == k {
                a = states[k]
                wa = widths[k]
            }
        }
        y = a
        w = wa
        p2 = -1
        if t == "conv" {
            y = a >> relu_conv_bn(c, k=choice(1, 3, 5) as conv_kernel)
            w = c
        }
        if t == "max_pool" { y = a >> max_pool(k=choice(1, 3) as max_pool_kernel) }
        if t == "avg_pool" { y = a >> avg_pool(k=choice(1, 3) as avg_pool_kernel) }
        if t == "add" or t == "concat" {
            q = choice(range(n)) as pred2
            p2 = q
            b = inp
            wb = c
            for k in range(n) {
                if q == k {
                    b = states[k]
                    wb = widths[k]
                }
            }
            wide = max(wa, wb)
            y = t == "add" ? add(a >> pad_channels(wide), b >> pad_channels(wide)) : concat(a, b)
            w = t == "add" ? wide : wa + wb
        }
        marks = []
        new_states = []
        new_widths = []
        for k in range(max_layers + 1) {
            marks = marks + [read_by[k] or p1 == k or p2 == k]
            new_states = new_states + [k == n ? y : states[k]]
            new_widths = new_widths + [k == n ? w : widths[k]]
        }
        read_by = marks
        states = new_states
        widths = new_widths
    }
    # the last layer is never read; the others join it where no later layer reads them
    last = inp
    for k in range(1, max_layers + 1) {
        if k == depth { last = states[k] }
    }
    outs = [last]
    for k in range(1, max_layers) {
        if k < depth and not read_by[k] { outs = outs + [states[k]] }
    }
    return concat(outs)
}
genotype block = nsc_block

network {
    h = x >> conv(C, k=3) >> bn
    c = C
    for stage in range(3) {
        if stage > 0 {
            h = h >> max_pool(k=2, stride=2, padding=0)
            c = 2 * c
        }
        for j in range(N) { h = block(c)(h) }
    }
    return h >> relu >> global_avg_pool >> linear(classes)
}
