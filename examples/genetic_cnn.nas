# Genetic CNN (Xie & Yuille, "Genetic CNN", ICCV 2017).
#
# S stages; stage s has K_s encoded nodes and K_s(K_s-1)/2 bits, bit (i,j)
# (i < j) linking node i to node j. Two default nodes are not encoded: a node
# with no encoded input reads the stage's input node, a node with no encoded
# output feeds the stage's output node, and isolated nodes are removed
# (dag implicit_io=true, prune=true). A node sums its inputs and applies
# conv-BN-ReLU.
# Pooling sits between stages.
#
# Reproduces: K = (3, 4, 5), the CIFAR setting: 3 + 6 + 10 = 19 bits, so
# 2^19 = 524,288 networks (every bit string is a distinct architecture).
# The bit strings of the paper convert both ways with nasl.formats.genetic.
# [verify] recalled, not checked against code (none is public): the default
# input and output nodes apply a conv-BN-ReLU too (so a stage whose nodes are
# all isolated is two convs); 3x3 convs with 8, 16, 32 filters per stage;
# 2x2 max pooling after every stage; a head of fc(128)-ReLU-dropout(0.5)-fc.

param K = [3, 4, 5]
param widths = [8, 16, 32]
param hidden = 128
param classes = 10
input x: [3, 32, 32]

def stage_nodes(c, k) = dag(nodes=k, implicit_io=true, prune=true) {
    edge i -> j: optional
    node j: op = conv_bn_relu(c, k=3)
}

def stage(c, k)(h) {
    h = h >> conv_bn_relu(c, k=3) as input_node
    h = stage_nodes(c, k)(h) as nodes
    return h >> conv_bn_relu(c, k=3) as output_node
}

network {
    require len(K) == len(widths) else "K and widths need one entry per stage"
    h = x
    for s, k in enumerate(K) {
        h = stage(widths[s], k)(h) >> max_pool(k=2, stride=2)
    }
    return h >> flatten >> linear(hidden) >> relu >> dropout(0.5) >> linear(classes)
}
