# FBNet search space (Wu, Dai, Zhang, Wang, Sun, Wu, Tian, Vajda, Jia &
# Keutzer, "FBNet: Hardware-Aware Efficient ConvNet Design via
# Differentiable Neural Architecture Search", CVPR 2019), the layer-wise
# space of Tables 1 and 2.
#
# Macro-architecture (Table 1), on 3x224x224: conv 3x3 stride 2 (16) - BN -
# ReLU; 22 searched layers ("TBS") in 7 stages of widths 16, 24, 32, 64,
# 112, 184, 352 with 1, 4, 4, 4, 4, 4, 1 layers and strides 1, 2, 2, 2, 1,
# 2, 1 on each stage's first layer; conv 1x1 (1984) - BN - ReLU; global
# average pool; fc (1000).
#
# Each searched layer picks one of 9 candidate blocks (Table 2): kernel 3
# or 5 with expansion 1, 3 or 6 (k3_e1, k3_e3, k3_e6, k5_e1, k5_e3, k5_e6),
# kernel 3 or 5 with expansion 1 and group 2 (k3_e1_g2, k5_e1_g2), and skip.
# A block is the paper's Fig. 3: 1x1 (group) conv - BN - ReLU, kxk depthwise
# conv (the layer's stride) - BN - ReLU, 1x1 (group) conv - BN, plus the
# input where the block keeps its shape. "skip" is the identity, or, where
# the layer changes the shape (a stage's first layer), a 1x1 conv-BN-ReLU
# with the layer's stride (as maskrcnn-benchmark's FBNet builder does).
#
# Size: every layer has 9 candidates, so 9^22 = 984,770,902,183,611,232,881
# (~9.8e20); checked in tests/examples/test_mobile_spaces.py.
#
# Departures: the group-2 blocks shuffle channels after their first 1x1
# conv in the paper; nasl has no channel-shuffle op yet, so here they do not
# (no parameters are involved, so counts are unaffected). The presets FBNet-A,
# -B, -C (examples/fbnet.presets.json) are the searched networks' blocks as
# maskrcnn-benchmark's fbnet_modeldef.py lists them; their parameter counts
# here are ours (the paper: 4.3M, 4.5M, 5.5M), not asserted exactly.

param stem = 16
param widths = [16, 24, 32, 64, 112, 184, 352]
param depths = [1, 4, 4, 4, 4, 4, 1]
param strides = [1, 2, 2, 2, 1, 2, 1]
param final = 1984
param classes = 1000
input x: [3, 224, 224]

# the inverted-residual block of Fig. 3
def fbnet_block(c_in, c, k, e, g, stride)(h) {
    y = h >> conv(c_in * e, k=1, groups=g) >> bn >> relu >> dw_conv(k=k, stride=stride) >> bn >> relu
          >> conv(c, k=1, groups=g) >> bn
    return stride == 1 and c_in == c ? add(h, y) : y
}
def skip_block(c_in, c, stride)(h) {
    return stride == 1 and c_in == c ? h : h >> conv_bn_relu(c, k=1, stride=stride)
}

def k3_e1(c_in, c, stride) = fbnet_block(c_in, c, 3, 1, 1, stride)
def k3_e1_g2(c_in, c, stride) = fbnet_block(c_in, c, 3, 1, 2, stride)
def k3_e3(c_in, c, stride) = fbnet_block(c_in, c, 3, 3, 1, stride)
def k3_e6(c_in, c, stride) = fbnet_block(c_in, c, 3, 6, 1, stride)
def k5_e1(c_in, c, stride) = fbnet_block(c_in, c, 5, 1, 1, stride)
def k5_e1_g2(c_in, c, stride) = fbnet_block(c_in, c, 5, 1, 2, stride)
def k5_e3(c_in, c, stride) = fbnet_block(c_in, c, 5, 3, 1, stride)
def k5_e6(c_in, c, stride) = fbnet_block(c_in, c, 5, 6, 1, stride)
def skip(c_in, c, stride) = skip_block(c_in, c, stride)
let BLOCKS = [k3_e1, k3_e1_g2, k3_e3, k3_e6, k5_e1, k5_e1_g2, k5_e3, k5_e6, skip]

network {
    require len(widths) == len(depths) and len(widths) == len(strides) else
        "widths, depths and strides give one value per stage"
    h = x >> conv(stem, k=3, stride=2) >> bn >> relu
    c_in = stem
    for s, c in enumerate(widths) {
        for i in range(depths[s]) {
            stride = i == 0 ? strides[s] : 1
            h = choice(BLOCKS)(c_in, c, stride)(h) as block
            c_in = c
        }
    }
    h = h >> conv_bn_relu(final, k=1) >> global_avg_pool
    return h >> linear(classes)
}
