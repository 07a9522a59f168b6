# ProxylessNAS search space (Cai, Zhu & Han, "ProxylessNAS: Direct Neural
# Architecture Search on Target Task and Hardware", ICLR 2019). Official
# code: mit-han-lab/proxylessnas (search/imagenet_arch_search.py,
# search/models/super_nets/super_proxyless.py); the four searched networks
# are the official net configs proxyless_{cpu,gpu,mobile,mobile_14}.config
# (han-cai/files), given here as presets.
#
# The backbone is MobileNetV2-like: conv 3x3 stride 2 - BN - ReLU6 (`stem`
# channels), a fixed MBConv with expand 1 and kernel 3 (`first` channels),
# then 6 stages of `depths` = 4, 4, 4, 4, 4, 1 searched layers (widths
# `widths`, strides 2, 2, 2, 1, 2, 1 on each stage's first layer), a 1x1
# conv-BN-ReLU6 "feature mix" layer (`feature` channels), global average
# pool and a linear classifier with bias.
#
# Each searched layer picks one of 6 MBConv candidates, kernel 3, 5 or 7
# with expand ratio 3 or 6 (1x1 expand - BN - ReLU6, depthwise kxk - BN -
# ReLU6, 1x1 project - BN), and, where the layer keeps its input's shape
# (stride 1, same width: every layer but a stage's first), also "zero": the
# layer is dropped and its residual passes the input on. Such a layer has a
# residual around its MBConv, as the official MobileInvertedResidualBlock.
#
# Size, derived: the 6 first layers of the stages have 6 candidates and the
# other 15 layers 7, so 6^6 * 7^15 = 46,656 * 4,747,561,509,943
# = 221,502,229,807,900,608 (~2.2e17) networks (at fixed widths).
# Checked in tests/examples/test_mobile_spaces.py.
#
# The official networks differ in their widths as well as their blocks (the
# search ran per platform with different width_stages), so each preset sets
# stem, first, widths and feature through `params`. With 1000 classes the
# presets have exactly the parameters of the official networks as
# mit-han-lab/proxylessnas builds them: proxyless_cpu 4,361,648,
# proxyless_gpu 7,119,848, proxyless_mobile 4,080,512, proxyless_mobile_14
# 6,857,568 (tests/examples/test_mobile_spaces.py). The defaults are
# proxyless_mobile's widths. Departures: the feature-mix layer's ReLU (nasl's
# conv_bn_relu) where the official network has ReLU6 (no parameters either
# way); BN eps (the official 1e-3) is nasl's default.

param stem = 32
param first = 16
param widths = [32, 40, 80, 96, 192, 320]
param depths = [4, 4, 4, 4, 4, 1]
param strides = [2, 2, 2, 1, 2, 1]
param feature = 1280
param classes = 1000
input x: [3, 224, 224]

def mb3x3_e3(c, stride) = mbconv(c, k=3, expand=3, stride=stride)
def mb3x3_e6(c, stride) = mbconv(c, k=3, expand=6, stride=stride)
def mb5x5_e3(c, stride) = mbconv(c, k=5, expand=3, stride=stride)
def mb5x5_e6(c, stride) = mbconv(c, k=5, expand=6, stride=stride)
def mb7x7_e3(c, stride) = mbconv(c, k=7, expand=3, stride=stride)
def mb7x7_e6(c, stride) = mbconv(c, k=7, expand=6, stride=stride)
def zero_op(c, stride) = identity        # the layer is dropped: its residual alone remains
let MBCONVS = [mb3x3_e3, mb3x3_e6, mb5x5_e3, mb5x5_e6, mb7x7_e3, mb7x7_e6]

network {
    require len(widths) == len(depths) and len(widths) == len(strides) else
        "widths, depths and strides give one value per stage"
    h = x >> conv(stem, k=3, stride=2) >> bn >> relu
    h = h >> mbconv(first, k=3, expand=1)
    c_in = first
    for s, c in enumerate(widths) {
        for i in range(depths[s]) {
            stride = i == 0 ? strides[s] : 1
            keeps_shape = stride == 1 and c_in == c
            h = h >> choice(keeps_shape ? MBCONVS + [zero_op] : MBCONVS)(c, stride) as block
            c_in = c
        }
    }
    h = h >> conv_bn_relu(feature, k=1) >> global_avg_pool
    return h >> linear(classes)
}
