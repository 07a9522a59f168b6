# digits: nasl's bundled default space, for scikit-learn's handwritten digits
# (1x8x8 grey-scale images, 10 classes). It is what `nasl search` trains when
# no space file is given, so it is small enough that one trial (5 epochs on
# the 1,437 training images) takes about a second on one CPU core.
#
# Cell: a NAS-Bench-201-style DAG of 4 nodes; node 0 is the cell input and
# node 3 its output; every edge i<j carries one of 5 ops and each node sums
# its incoming edges. One genotype is shared by all cells (separate weights).
# Skeleton: a 3x3 conv stem and BN to `width` channels, `depth` cells at 8x8,
# then BN, ReLU, global average pooling and a linear classifier.
# Size: 5^6 cells x 3 widths x 3 depths = 140,625 architectures. An all-`none`
# cell cuts the input off (chance accuracy), cells of only skips and pools
# leave a linear model on pooled stem features (about 50%), and cells with
# 3x3 convs reach about 99% validation accuracy: the space has a real spread.

param classes = 10
input x: [1, 8, 8]

# the five ops, named as in NAS-Bench-201 architecture strings
def none(c) = zero
def skip_connect(c) = identity
def nor_conv_1x1(c) = relu_conv_bn(c, k=1)
def nor_conv_3x3(c) = relu_conv_bn(c, k=3)
def avg_pool_3x3(c) = avg_pool(k=3, padding=1)
let OPS = [none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3]

def digits_cell(c) = dag(nodes=4) {
    edge i -> j: choice(OPS)(c)
}
genotype cell = digits_cell          # one genotype for every cell

network {
    width = choice(8, 16, 24)
    depth = choice(1, 2, 3)
    h = x >> conv(width, k=3) >> bn
    repeat depth { h = cell(width)(h) }
    return h >> bn >> relu >> global_avg_pool >> linear(classes)
}
