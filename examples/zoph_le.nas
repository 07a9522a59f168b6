# NAS-RL (Zoph & Le, "Neural Architecture Search with Reinforcement
# Learning", ICLR 2017), the CIFAR-10 convolutional space.
#
# A chain of N conv layers (15 in the CIFAR experiments). For each layer the
# controller picks a filter height and a filter width in {1, 3, 5, 7}, a
# number of filters in {24, 36, 48, 64} and, in one variant, a stride in
# {1, 2, 3}. Skip connections come from "anchor points": layer j has j
# sigmoids, one per earlier layer, so it reads any subset of the earlier
# layers (the bits edge[i->j], i < j). The paper's three rules make every
# subset a network: a layer that reads no layer reads the image; the layer
# outputs that no layer reads are concatenated before the classifier; inputs
# of different sizes are zero-padded to the largest before they are
# concatenated along the depth. That is a dag with implicit input and output
# nodes that keeps isolated layers, merged by `concat_pad`.
#
# Size, derived: layer j (0-based) has 4 * 4 * 4 = 64 settings (times the
# number of strides) and 2^j skip subsets, so N layers give
# 64^N * 2^(N(N-1)/2); N = 15: 64^15 * 2^105 = 2^195, about 5.0e58
# (with strides: 192^15 * 2^105). Checked in tests/examples/test_zoph_le.py.
# [verify] recalled, not checked against code (none is public): each layer
# is conv-BN-ReLU with 'same' padding; the head is global average pooling
# and a linear layer (the paper says only "the classifier"); default strides
# [1] (the paper's best CIFAR model fixed the stride at 1); `-D strides=[1,2,3]`
# gives the stride variant.

param N = 15
param strides = [1]
param classes = 10
input x: [3, 32, 32]

let SIZES = [1, 3, 5, 7]
let FILTERS = [24, 36, 48, 64]

# one layer: its choices live under chain.node[j].op (filter_height, filter_width, filters, stride)
def layer(c, kh, kw, s) = rect_conv_bn_relu(c, kh=kh, kw=kw, stride=s)

def chain = dag(nodes=N, implicit_io=true, merge="concat_pad") {
    edge i -> j: optional                  # the anchor point of layer j: does it read layer i?
    node j: op = layer(choice(FILTERS) as filters, choice(SIZES) as filter_height, choice(SIZES) as filter_width,
                       len(strides) > 1 ? (choice(strides) as stride) : strides[0])
}

network {
    return chain(x) >> global_avg_pool >> linear(classes)
}
