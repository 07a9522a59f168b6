# Path-level tree cells (Cai et al., "Path-Level Network Transformation for
# Efficient Architecture Search", ICML 2018). Official code: han-cai/PathLevel-EAS.
#
# A tree cell: each node allocates its input to its branches (replicate: a
# copy each; split: near-equal channel groups) and merges them (add, which
# averages, or concat). Branch count is 2 or 3 for add and 2 for concat. Each
# branch is an edge op that may lead to a child node, down to `max_depth`.
# The cell replaces the 3x3 conv of a bottleneck block.

param C = 48
param max_depth = 3
input x: [48, 32, 32]

def sep3(c) = sep_conv(c, k=3)
def sep5(c) = sep_conv(c, k=5)
def sep7(c) = sep_conv(c, k=7)
def conv1x1(c) = conv(c, k=1)
def skip(c) = identity
def maxpool(c) = max_pool(k=3, padding=1)
def avgpool(c) = avg_pool(k=3, padding=1)
let EDGES = [sep3, sep5, sep7, conv1x1, skip, maxpool, avgpool]

def tree(c, d)(x) {
    shape = choice("add2", "add3", "concat2")        # merge scheme and branch count
    alloc = choice("replicate", "split")
    n = shape == "add3" ? 3 : 2
    outs = []
    for b in range(3) {
        if b < n {
            width = alloc == "split" ? c // n + (b < c % n ? 1 : 0) : c
            part = alloc == "split" ? x >> split(n, b) : x
            y = part >> choice(EDGES)(width) as edge
            if d > 1 {
                if boolean() as deeper { y = tree(width, d - 1)(y) }
            }
            outs = outs + [y]
        }
    }
    return shape == "concat2" ? concat(outs) : mean(outs)
}

network {
    h = x >> conv_bn_relu(C, k=1)
    h = tree(C, max_depth)(h)
    return h >> conv_bn_relu(C, k=1)
}
