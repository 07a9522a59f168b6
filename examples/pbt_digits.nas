# pbt_digits: a small network for the 8x8 digits with two hyperparameters
# for population-based training (`nasl search --scheduler pbt`): the
# learning rate (the trainer reads a float choice named `lr`) and a dropout
# rate (compiled into the network, which keeps its weights when it changes).
# The width is fixed per member: PBT copies it with the weights, never
# perturbs it.

param classes = 10
input x: [1, 8, 8]

network {
    lr = float_range(0.0001, 0.5, log=true)
    p = float_range(0.0, 0.3)
    width = choice(16, 24)
    h = x >> conv(width, k=3) >> bn >> relu >> conv(width, k=3) >> bn >> relu
    return h >> dropout(p) >> global_avg_pool >> linear(classes)
}
