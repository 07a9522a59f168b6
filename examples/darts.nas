# DARTS (Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search",
# ICLR 2019). Official code: quark0/darts, cnn/.
#
# A cell has two inputs (the two previous cells' outputs) and `nodes`
# intermediate nodes; each node picks 2 distinct predecessors and an op for
# each, and the output concatenates the intermediate nodes. In a reduction
# cell, edges that read the cell inputs have stride 2.
# One cell: prod_{k=1..4} C(k+1, 2) * 7^2 = 1,037,664,180; normal + reduction
# is its square. Defaults are the search network (C=16, 8 layers); the
# evaluation network is -D C=36 -D layers=20.

param C = 16
param layers = 8
param nodes = 4
param classes = 10
input x: [3, 32, 32]

def max_pool_3x3(c, stride) = max_pool(k=3, stride=stride, padding=1)
def avg_pool_3x3(c, stride) = avg_pool(k=3, stride=stride, padding=1)
def skip_connect(c, stride) = stride == 1 ? identity : factorized_reduce(c)
def sep_conv_3x3(c, stride) = sep_conv(c, k=3, stride=stride)
def sep_conv_5x5(c, stride) = sep_conv(c, k=5, stride=stride)
def dil_conv_3x3(c, stride) = dil_conv(c, k=3, stride=stride)
def dil_conv_5x5(c, stride) = dil_conv(c, k=5, stride=stride)
let OPS = [max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5]

def darts_cell(c, reduce) = dag(inputs=2, nodes=nodes + 2, output="concat") {
    node j: inputs = pick(2), edge = choice(OPS)(c, reduce and src < 2 ? 2 : 1)
}
genotype normal = darts_cell(reduce=false)
genotype reduction = darts_cell(reduce=true)

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
        out = red ? reduction(c)(a, b) : normal(c)(a, b)
        s0, s1 = s1, out
        prev_reduced = red
    }
    return s1 >> global_avg_pool >> linear(classes)
}
