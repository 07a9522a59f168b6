# MnasNet factorized hierarchical search space (Tan, Chen, Pang, Vasudevan,
# Sandler, Howard & Le, "MnasNet: Platform-Aware Neural Architecture Search
# for Mobile", CVPR 2019; Section 4.1 and Fig. 4).
#
# The network is a sequence of 7 blocks over a base network, MobileNetV2
# (base widths 16, 24, 32, 64, 96, 160, 320; base layer counts 1, 2, 3, 4,
# 3, 3, 1; strides 1, 2, 2, 2, 1, 2, 1 on each block's first layer), after a
# conv 3x3 stride 2 (32) - BN - ReLU stem and before a conv 1x1 (1280) - BN -
# ReLU, global average pool and fc (1000). Each block searches, once for all
# its layers:
#   - the conv op: regular conv, depthwise-separable conv (dconv), or MBConv
#     with expand ratio 3 or 6;
#   - the kernel size: 3 or 5;
#   - squeeze-excite: ratio 0 or 0.25 (the architecture records 0 or 0.25);
#   - the skip op: none, identity residual, or pooling;
#   - the filter size: 75, 100 or 125 percent of the base width;
#   - the layer count: -1, 0 or +1 relative to the base.
# So a block has S = 4 * 2 * 2 * 3 * 3 * 3 = 432 settings (the paper's S =
# 432) and the space S^7 = 432^7 = 2,807,929,681,968,365,568 (~2.8e18);
# tests/examples/test_mobile_spaces.py checks it. As in the
# paper's S^B, a block whose layer count is 0 (base 1, -1) still counts its
# other choices, which then shape nothing.
#
# Modelling choices, from the official code (tensorflow/tpu
# models/official/mnasnet, mnasnet_model.py MnasBlock and mnasnet_models.py):
# MBConv is 1x1 expand - BN - ReLU, depthwise kxk - BN - ReLU, 1x1 project -
# BN, and dconv is the same block with expand 1 (no expansion conv); conv is
# conv-BN-ReLU. Squeeze-excite (ratio 0.25) is MnasNet's rule, mbconv's
# se=0.25: it squeezes the block's widest map (after the depthwise conv) to
# max(1, int(c_in * 0.25)) channels of the LAYER'S INPUT, ReLU, expands back,
# sigmoid gate, both 1x1 convs with bias. The official code has no plain-conv
# block, so the conv op's squeeze-excite is assumed the same rule on its
# output map. The skip ops apply only where a layer keeps its input's shape
# (stride 1, same width: not a block's first layer unless the widths match),
# as MnasBlock's id_skip: "identity" adds the input, "pool" adds a 3x3
# average pool of it.
#
# Preset (examples/mnasnet.presets.json): mnasnet_a1, the searched
# MnasNet-A1 (the paper's Fig. 7; mnasnet_models.py mnasnet_a1). Its 5th
# block has 112 filters, not 75/100/125 percent of MobileNetV2's 96, so the
# preset loads the space with base_widths[4] = 112 (a space parameter); all
# its other blocks are choices of the MobileNetV2-based space (40 = 125% of
# 32, 80 = 125% of 64, the 5th block's 2 layers = 3 - 1). At 224x224 and
# 1000 classes it has exactly 3,887,038 params, the paper's 3.9M and the
# count osmr/imgclsmob's port of the official model asserts
# (tests/examples/test_mobile_spaces.py).

param stem = 32
param base_widths = [16, 24, 32, 64, 96, 160, 320]
param base_layers = [1, 2, 3, 4, 3, 3, 1]
param strides = [1, 2, 2, 2, 1, 2, 1]
param final = 1280
param classes = 1000
input x: [3, 224, 224]

# MnasNet's squeeze-excite on a plain conv's output: a quarter of the layer's input channels
def gate(se, c_in)(h) {
    return se > 0 ? h >> squeeze_excite(width=max(1, int(c_in * se))) : h
}

def conv_op(op, c_in, c, k, se, stride)(h) {
    if op == "conv" {
        y = h >> conv(c, k=k, stride=stride) >> bn >> relu >> gate(se, c_in)
    } else {
        e = op == "dconv" ? 1 : op == "mbconv3" ? 3 : 6
        y = h >> mbconv(c, k=k, expand=e, stride=stride, se=se, residual=false, act="relu")
    }
    return y
}

def layer(op, c_in, c, k, se, skip, stride)(h) {
    y = conv_op(op, c_in, c, k, se, stride)(h)
    keeps = stride == 1 and c_in == c
    if keeps and skip == "identity" {
        out = add(h, y)
    } elif keeps and skip == "pool" {
        out = add(h >> avg_pool(k=3, padding=1), y)
    } else {
        out = y
    }
    return out
}

network {
    require len(base_widths) == len(base_layers) and len(base_widths) == len(strides) else
        "base_widths, base_layers and strides give one value per block"
    h = x >> conv(stem, k=3, stride=2) >> bn >> relu
    c_in = stem
    for b, base in enumerate(base_widths) {
        op = choice("conv", "dconv", "mbconv3", "mbconv6") as conv_op
        k = choice(3, 5) as kernel
        se = choice(0, 0.25) as se
        skip = choice("none", "identity", "pool") as skip_op
        pct = choice(75, 100, 125) as filters
        delta = choice(-1, 0, 1) as layers
        c = base * pct // 100
        repeat base_layers[b] + delta as i {
            h = layer(op, c_in, c, k, se, skip, i == 0 ? strides[b] : 1)(h)
            c_in = c
        }
    }
    h = h >> conv_bn_relu(final, k=1) >> global_avg_pool
    return h >> linear(classes)
}
