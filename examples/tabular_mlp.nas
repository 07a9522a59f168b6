# The fully connected network of the tabular benchmarks FC-Net / HPO-Bench
# (Klein & Hutter, "Tabular Benchmarks for Joint Architecture and
# Hyperparameter Optimization", arXiv:1905.04970, 2019; official code:
# automl/nas_benchmarks). A search space outside images: two hidden layers
# on a table's feature vector, for regression on the UCI data sets protein
# structure (9 features, the default), slice localization (385), naval
# propulsion (15) and Parkinson's telemonitoring (20).
#
# The network is the official Keras model (train_fcnet.py): Dense(n_units_1,
# activation_fn_1), Dropout(dropout_1), Dense(n_units_2, activation_fn_2),
# Dropout(dropout_2), Dense(1). Every layer has a bias.
#
# Choices, as the benchmark's configuration space names them:
#   n_units_1, n_units_2        16, 32, 64, 128, 256, 512
#   dropout_1, dropout_2        0.0, 0.3, 0.6
#   activation_fn_1, _2         tanh, relu
# and, with `training=true` (the default), the training hyperparameters the
# benchmark tabulates with them, which change no layer:
#   init_lr                     5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1
#   lr_schedule                 cosine, const
#   batch_size                  8, 16, 32, 64
#
# Size. The architecture alone: 6^2 * 3^2 * 2^2 = 1,296. With the training
# hyperparameters, 1,296 * 6 * 2 * 4 = 62,208: the benchmark's table, one
# row per configuration.
#
# Parameters (Keras' count_params convention, weights and biases): with f
# features, f*n1 + n1 + n1*n2 + n2 + n2 + 1; on protein structure at
# 512/512, 268,289.

param features = 9
param units = [16, 32, 64, 128, 256, 512]
param rates = [0.0, 0.3, 0.6]
param training = true
input x: [features]

# the choices are named as the benchmark's configuration space names them, so an
# architecture's values are a key of its table
network {
    h = x >> linear(choice(units) as n_units_1) >> (choice(tanh, relu) as activation_fn_1)
    h = h >> dropout(choice(rates) as dropout_1)
    h = h >> linear(choice(units) as n_units_2) >> (choice(tanh, relu) as activation_fn_2)
    h = h >> dropout(choice(rates) as dropout_2)
    if training {
        init_lr = choice(5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1) as init_lr
        lr_schedule = choice("cosine", "const") as lr_schedule
        batch_size = choice(8, 16, 32, 64) as batch_size
    }
    return h >> linear(1)
}
