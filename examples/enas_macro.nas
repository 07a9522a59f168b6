# ENAS macro search space (Pham et al., "Efficient Neural Architecture Search
# via Parameter Sharing", ICML 2018). Official code: melodyguan/enas.
#
# L layers; each picks one of 6 ops and any subset of the earlier layers as
# skip inputs (summed, as in the search). For L = 12: 6^12 * 2^66 ~ 1.6e29.

param L = 12
param C = 36
param classes = 10
input x: [3, 32, 32]

def conv3x3(c) = conv_bn_relu(c, k=3)
def conv5x5(c) = conv_bn_relu(c, k=5)
def sepconv3x3(c) = sep_conv(c, k=3)
def sepconv5x5(c) = sep_conv(c, k=5)
def avgpool3x3(c) = avg_pool(k=3, padding=1)
def maxpool3x3(c) = max_pool(k=3, padding=1)
let OPS = [conv3x3, sepconv3x3, conv5x5, sepconv5x5, avgpool3x3, maxpool3x3]

network {
    h = x >> conv(C, k=3) >> bn
    layers = []
    for i in range(L) {
        op = choice(OPS)
        skips = subset(range(i))
        h = sum([h >> op(C)] + select(layers, skips))
        layers = layers + [h]
    }
    return h >> global_avg_pool >> linear(classes)
}
