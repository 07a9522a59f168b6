# MetaQNN (Baker, Gupta, Naik & Raskar, "Designing Neural Network
# Architectures using Reinforcement Learning", ICLR 2017). Official code:
# bowenbaker/metaqnn (libs/grammar/state_enumerator.py,
# models/cifar10/state_space_parameters.py).
#
# A chain of layers, each chosen given the state so far (layer type,
# representation size R, depth), as the Q-learning agent's transitions are:
# - conv: receptive field f in {1, 3, 5} with f < R, depth in {64, 128, 256,
#   512}, stride 1, 'same' padding (R unchanged); then ReLU;
# - pool (max): (f, s) in {(5, 3), (3, 2), (2, 2)} with f < R, only right
#   after a conv (pooling may not start the net or follow a pooling layer);
#   R becomes (R - f) // s + 1;
# - fc: width in {512, 256, 128}; from the image side only when R <= 8,
#   after an fc only when fewer than 2 fc layers are in a row, and never
#   wider than the fc before it; after an fc only fc or termination follow;
# - gap (global average pooling), after which only termination follows;
# - termination (softmax): a linear layer to the classes, always allowed.
# The rules are written as the set of layers on offer in each state, which
# is what the agent sees; as `require` statements over a free chain they
# would force counting by enumeration, hopeless at 6.7e13 networks.
# At most `max_layers` conv, pool, fc and gap layers (12, the paper's
# Table 1). The start state may terminate at once (a linear classifier), as
# in the official enumerator.
#
# Size: counted exactly by the space (a product of sums over the decision
# tree, with equal sub-trees shared) and checked against an independent
# dynamic program over the same rules in tests/examples/test_metaqnn.py:
# 2,978 for max_layers=3 and 66,846,530,410,802 (about 6.7e13) for the
# default 12; the official CIFAR-10 settings below give
# 350,688,185,105,644,444,130 (about 3.5e20). A conv's kernel and filters and
# each pool and fc setting count as distinct architectures, as distinct
# actions of the agent.
# [verify] The official CIFAR-10 parameter file differs from the paper's
# Table 1: layer_limit 18 and fc only when R <= 4 (-D max_layers=18
# -D fc_max_size=4 gives that space). Convs and fcs are followed by ReLU,
# with no batch norm (batch_norm = False there) and no dropout here.

param max_layers = 12
param fc_max_size = 8
param classes = 10
input x: [3, 32, 32]

let CONV_DEPTHS = [64, 128, 256, 512]

# The layers after a state: `kind` of the last layer, representation size r, depth d,
# fc layers in a row n_fc and the last fc's width w. Like the agent's actions, the
# next layer is one flat choice among the allowed next states (a pool and an fc
# carry their settings in the label), so that every branch continues from a known
# state; a conv's kernel and filters are choices inside its branch.
def layers(kind, r, d, n_fc, w)(h) {
    grow = d < max_layers
    image = kind == "start" or kind == "conv" or kind == "pool"
    types = ["softmax"]
    if grow and image and r > 1 { types = types + ["conv"] }
    if grow and image { types = types + ["gap"] }
    if grow and kind == "conv" {
        types = types + (r > 5 ? ["pool_5x3"] : []) + (r > 3 ? ["pool_3x2"] : []) + (r > 2 ? ["pool_2x2"] : [])
    }
    if grow and ((image and r <= fc_max_size) or (kind == "fc" and n_fc < 2)) {
        types = types + (kind != "fc" or w >= 512 ? ["fc_512"] : []) + (kind != "fc" or w >= 256 ? ["fc_256"] : [])
                      + ["fc_128"]
    }
    row = kind == "fc" ? n_fc + 1 : 1
    t = choice(types) as layer
    # Each continuation is labelled with the layer that leads to it, so a path reads
    # as the history: net.layer, net.conv.layer, net.conv.pool_5x3.layer, ...
    # One 'if' per layer, each entered only when its layer is on offer: in spec mode
    # every branch of a choice-dependent 'if' is elaborated, and this keeps the
    # recursion finite. Separate ifs (not an elif chain) keep every branch a direct
    # child of the choice, so counting shares equal sub-trees.
    out = h
    if t == "softmax" { out = h >> flatten >> linear(classes) }
    if "gap" in types and t == "gap" { out = h >> global_avg_pool >> linear(classes) }
    if "conv" in types and t == "conv" {
        f = choice(kind == "start" or r > 5 ? [1, 3, 5] : r > 3 ? [1, 3] : [1]) as kernel
        c = choice(CONV_DEPTHS) as filters
        out = layers("conv", r, d + 1, 0, 0)(h >> conv(c, k=f, bias=true) >> relu) as conv
    }
    if "pool_5x3" in types and t == "pool_5x3" {
        out = layers("pool", (r - 5) // 3 + 1, d + 1, 0, 0)(h >> max_pool(k=5, stride=3, padding=0)) as pool_5x3
    }
    if "pool_3x2" in types and t == "pool_3x2" {
        out = layers("pool", (r - 3) // 2 + 1, d + 1, 0, 0)(h >> max_pool(k=3, stride=2, padding=0)) as pool_3x2
    }
    if "pool_2x2" in types and t == "pool_2x2" {
        out = layers("pool", (r - 2) // 2 + 1, d + 1, 0, 0)(h >> max_pool(k=2, stride=2, padding=0)) as pool_2x2
    }
    if "fc_512" in types and t == "fc_512" {
        out = layers("fc", r, d + 1, row, 512)(h >> flatten >> linear(512) >> relu) as fc_512
    }
    if "fc_256" in types and t == "fc_256" {
        out = layers("fc", r, d + 1, row, 256)(h >> flatten >> linear(256) >> relu) as fc_256
    }
    if "fc_128" in types and t == "fc_128" {
        out = layers("fc", r, d + 1, row, 128)(h >> flatten >> linear(128) >> relu) as fc_128
    }
    return out
}

network {
    return layers("start", 32, 0, 0, 0)(x) as net
}
