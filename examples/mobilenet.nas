# Mobile inverted-bottleneck space of Once-for-All (Cai, Gan, Wang, Zhang &
# Han, "Once-for-All: Train One Network and Specialize it for Efficient
# Deployment", ICLR 2020), the MobileNetV3-based space (OFA-MBv3); the
# per-layer kernel and expand choices follow ProxylessNAS (Cai, Zhu & Han,
# ICLR 2019). Official code: mit-han-lab/once-for-all.
#
# 5 searched stages of MBConv layers (1x1 expand, kxk depthwise, optional
# squeeze-excite, 1x1 project; a residual where the shape is kept). Each
# stage chooses its depth in {2, 3, 4}; each active layer chooses its kernel
# in {3, 5, 7} and its expand ratio in {3, 4, 6}. The first layer of a stage
# has the stage's stride. Squeeze-excite is fixed per stage (`se`), as in
# OFA-MBv3 (on in the 40-, 112- and 160-channel stages).
#
# Size. A stage of depth d has 9^d layer settings, and the layers beyond the
# chosen depth have no choices (they do not exist), so a stage has
# 9^2 + 9^3 + 9^4 = 81 + 729 + 6,561 = 7,371 settings, and the network
# 7,371^5 = 21,758,655,492,572,485,851 (~2.2e19; the OFA paper: "about 2 x 10^19"
# sub-networks at one input resolution).
#
# The skeleton is OFA-MBv3's (ofa_mbv3.py in the official code): conv3x3
# stride 2 (16), an MBConv with expand 1 (16), the 5 stages (widths 24, 40,
# 80, 112, 160; strides 2, 2, 2, 1, 2), a 1x1 conv-BN to 960 channels, global
# average pool, a bias-free 1280-unit "feature mix" layer (a 1x1 conv on the
# pooled features, i.e. a linear map) and the classifier.
# Departures from the official network: nasl's mbconv uses ReLU6 and ReLU
# where OFA-MBv3 uses ReLU and h-swish (no parameters either way), and its
# squeeze-excite reduces to c/4 channels where OFA rounds c/4 to a multiple
# of 8 (make_divisible), so the parameter counts of the stages with
# squeeze-excite differ slightly from OFA's.

param stem = 16
param widths = [24, 40, 80, 112, 160]
param strides = [2, 2, 2, 1, 2]
param se = [false, true, false, true, true]
param final = 960
param feature = 1280
param classes = 1000
input x: [3, 224, 224]

network {
    h = x >> conv(stem, k=3, stride=2) >> bn >> relu
    h = h >> mbconv(stem, k=3, expand=1)
    for s, c in enumerate(widths) {
        depth = choice(2, 3, 4)
        repeat depth as i {
            stride = i == 0 ? strides[s] : 1
            h = h >> mbconv(c, k=choice(3, 5, 7) as kernel, expand=choice(3, 4, 6) as expand,
                            stride=stride, se=se[s])
        }
    }
    h = h >> conv_bn_relu(final, k=1) >> global_avg_pool
    return h >> linear(feature, bias=false) >> relu >> linear(classes)
}
