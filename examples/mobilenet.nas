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
# stride 2 (16) with h-swish, an MBConv with expand 1 (16, ReLU), the 5
# stages (widths 24, 40, 80, 112, 160; strides 2, 2, 2, 1, 2; ReLU in the
# first two, h-swish in the others), a 1x1 conv-BN-h-swish to 960 channels,
# global average pool, a bias-free 1280-unit "feature mix" layer (a 1x1 conv
# on the pooled features, i.e. a linear map) with h-swish, dropout and the
# classifier. nasl's mbconv has OFA's squeeze-excite: make_divisible(mid // 4,
# 8) channels with a hard-sigmoid gate. The parameter counts are OFA's: the
# largest sub-network (kernel 7, expand 6, depth 4) has 7,664,760 and the
# smallest (3, 3, 2) 3,410,792 at 1000 classes (presets largest, smallest).

param stem = 16
param widths = [24, 40, 80, 112, 160]
param strides = [2, 2, 2, 1, 2]
param se = [false, true, false, true, true]
param acts = ["relu", "relu", "hswish", "hswish", "hswish"]
param final = 960
param feature = 1280
param classes = 1000
input x: [3, 224, 224]

network {
    h = x >> conv(stem, k=3, stride=2) >> bn >> hswish
    h = h >> mbconv(stem, k=3, expand=1, act="relu")
    for s, c in enumerate(widths) {
        depth = choice(2, 3, 4)
        repeat depth as i {
            stride = i == 0 ? strides[s] : 1
            h = h >> mbconv(c, k=choice(3, 5, 7) as kernel, expand=choice(3, 4, 6) as expand,
                            stride=stride, se=se[s], act=acts[s])
        }
    }
    h = h >> conv(final, k=1) >> bn >> hswish >> global_avg_pool
    return h >> linear(feature, bias=false) >> hswish >> dropout(0.1) >> linear(classes)
}
