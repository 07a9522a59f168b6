# RNN cells as expressions (Schrimpf et al., "A Flexible Approach to Automated
# RNN Architecture Generation", 2018).
#
# A recursive expression grammar over the sources x_t, h_prev and c_prev with
# the core operators: MM (a linear map, fresh weights at every occurrence),
# Tanh, Sigmoid, ReLU, Add, Mult and Gate3. `depth` limits the recursion.
# h_t is the cell's value; c_t is taken from a labelled internal node
# (`tap("c_t")`): here the memory term under the output gate, as in an LSTM.
# Identical subtrees stay separate computations (each MM has its own weights).

param depth = 2
param hidden = 32
input x_t: [32]
input h_prev: [32]
input c_prev: [32]

def expr(d) = d == 0 ? choice(x_t, h_prev, c_prev) : choice(
    x_t, h_prev, c_prev,
    MM(hidden)(expr(d - 1)),
    Tanh(expr(d - 1)), Sigmoid(expr(d - 1)), ReLU(expr(d - 1)),
    Add(expr(d - 1), expr(d - 1)),
    Mult(expr(d - 1), expr(d - 1)),
    Gate3(expr(d - 1), expr(d - 1), expr(d - 1)))

network {
    memory = expr(depth) as memory
    c_t = memory >> tap("c_t")
    gate = expr(depth) as gate
    return Mult(Tanh(c_t), Sigmoid(gate))
}
