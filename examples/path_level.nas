# Path-level tree cells (Cai, Yang, Zhang, Han & Yu, "Path-Level Network
# Transformation for Efficient Architecture Search", ICML 2018), in the
# PyramidNet bottleneck block the paper searches in. Official code:
# han-cai/PathLevel-EAS (code/CIFAR: models/tree_node.py, models/pyramidnet.py,
# arch_search/arch_search_tree_cell.py); the space below follows that code.
#
# The cell replaces the 3x3 conv of the bottleneck. Its root node keeps that
# conv (BN-ReLU-conv3x3, with the block's stride) on every branch. A node
# chooses its merge scheme and branch count: "none" (one branch), "add2",
# "add3" (add, which averages, over copies of its input: replication) or
# "concat2" (concat; at the root the conv's output channels are divided among
# the branches, below it the input channels are split, near-equal with the
# remainder to the first branches: split allocation). The code's search pairs
# allocation with merge this way (node types add-copy and concat-split; a
# root conv split under concat is concat-copy), so every edge keeps the width
# of its branch. Each branch may lead to a child node (`deeper`), down to
# `max_depth` node levels (3: the root and two levels below). The edges of
# child nodes are chosen among 7 layers: 3x3, 5x5, 7x7 depthwise-separable
# convs, 1x1 conv, identity, 3x3 max and avg pool (pre-activation order,
# BN-ReLU-weight, as the PyramidNet code builds them).
#
# Size. With E = 7 edge layers, a child node at level l (1 .. max_depth-1)
# has N(l) = b + b^2 + b^3 + b^2 settings (none, add2, add3, concat2) where a
# branch has b = E * (1 + N(l+1)) settings (b = E at the last level); the
# root has R = r + 2 r^2 + r^3 with r = 1 + N(1) (its edge is fixed). One
# genotype is shared by every block, so the space has R settings:
#   max_depth=1: 4 (the root's 4 shapes, no child nodes)
#   max_depth=2: r = 449, R = 90,922,500
#   max_depth=3: N(2) = 448, N(1) = 31,067,725,248,
#                R = 29,986,678,769,403,186,482,832,715,562,500 (~3.0e31).
# Counted as assignments: every distinct tree is one cell (the code's search
# also rejects cells of height 1, which this count keeps).
#
# Skeleton: PyramidNet with bottlenecks (Han et al. 2017) as built by the
# official code: conv3x3 (16) + BN; 3 groups of N blocks whose width grows
# by alpha/(3N) per block (rounded; 4x at the bottleneck output), the first
# block of groups 2 and 3 with stride 2 (avg-pool shortcut); each block is
# BN-conv1x1, the cell, BN-ReLU-conv1x1 (4x), BN, plus the shortcut
# zero-padded to the new width; then BN-ReLU, global average pool, linear.
# Defaults are the paper's PyramidNet (N=18, alpha=84).
# `skeleton="densenet"` puts the cell in DenseNet-BC instead (Huang et al.
# 2017; L=100, k=12 by default): conv3x3 (2k), 3 dense blocks of
# BN-ReLU-conv1x1 (4k) then the cell (to k channels), each concatenated to
# its input, transitions BN-ReLU-conv1x1 (half the channels)-avg-pool 2x2,
# then the same head. The cell's root edge is then the dense layer's
# BN-ReLU-conv3x3 from 4k to k channels.

param skeleton = "pyramidnet"        # or "densenet"
param N = 18                         # PyramidNet: bottleneck blocks per group
param alpha = 84                     # PyramidNet: total widening
param growth = 12                    # DenseNet-BC: growth rate k
param dense_layers = 16              # DenseNet-BC: bottleneck layers per block (L = 6 * 16 + 4 = 100)
param max_depth = 3
param classes = 10
input x: [3, 32, 32]

def child(c, level)(x) {
    node = choice("none", "add2", "add3", "concat2")
    n = node == "add3" ? 3 : node == "none" ? 1 : 2
    outs = []
    for b in range(3) {
        if b < n {
            w = node == "concat2" ? (c + 1 - b) // 2 : c        # near-equal halves, the larger first
            part = node == "concat2" ? x >> split(2, b) : x
            y = part >> choice(
                (bn >> relu >> dw_conv(k=3) >> conv(w, k=1)) as sep_conv_3x3,
                (bn >> relu >> dw_conv(k=5) >> conv(w, k=1)) as sep_conv_5x5,
                (bn >> relu >> dw_conv(k=7) >> conv(w, k=1)) as sep_conv_7x7,
                (bn >> relu >> conv(w, k=1)) as conv_1x1,
                identity,
                max_pool(k=3, padding=1) as max_pool_3x3,
                avg_pool(k=3, padding=1) as avg_pool_3x3) as edge
            if level + 1 < max_depth {
                if boolean() as deeper { y = child(w, level + 1)(y) }
            }
            outs = outs + [y]
        }
    }
    return node == "concat2" ? concat(outs) : node == "none" ? outs[0] : mean(outs)
}

def tree_cell(c, stride)(x) {
    node = choice("none", "add2", "add3", "concat2")
    n = node == "add3" ? 3 : node == "none" ? 1 : 2
    outs = []
    for b in range(3) {
        if b < n {
            w = node == "concat2" ? (c + 1 - b) // 2 : c        # near-equal halves, the larger first
            y = x >> bn >> relu >> conv(w, k=3, stride=stride)
            if max_depth > 1 {
                if boolean() as deeper { y = child(w, 1)(y) }
            }
            outs = outs + [y]
        }
    }
    return node == "concat2" ? concat(outs) : node == "none" ? outs[0] : mean(outs)
}
genotype cell = tree_cell

def pyramidnet()(x) {
    h = x >> conv(16, k=3) >> bn
    k = 0
    for g in range(3) {
        for i in range(N) {
            k = k + 1
            stride = g > 0 and i == 0 ? 2 : 1
            w = (2 * 16 * 3 * N + 2 * alpha * k + 3 * N) // (6 * N)     # round(16 + alpha*k/(3N))
            short = stride == 2 ? h >> avg_pool(k=2, stride=2, padding=0) : h
            y = h >> bn >> conv(w, k=1)
            y = cell(w, stride)(y)
            y = y >> bn >> relu >> conv(4 * w, k=1) >> bn
            h = add(short >> pad_channels(4 * w), y)
        }
    }
    return h
}

def densenet()(x) {
    c = 2 * growth
    h = x >> conv(c, k=3)
    for b in range(3) {
        if b > 0 {
            c = c // 2
            h = h >> bn >> relu >> conv(c, k=1) >> avg_pool(k=2, stride=2, padding=0)
        }
        for i in range(dense_layers) {
            y = h >> bn >> relu >> conv(4 * growth, k=1)
            h = concat(h, cell(growth, 1)(y))
            c = c + growth
        }
    }
    return h
}

network {
    h = skeleton == "densenet" ? densenet()(x) : pyramidnet()(x)
    return h >> bn >> relu >> global_avg_pool >> linear(classes)
}
