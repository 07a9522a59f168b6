# RNN cells as expressions (Schrimpf, Merity, Bradbury & Socher, "A Flexible
# Approach to Automated RNN Architecture Generation", ICLR 2018 workshop).
#
# A cell is an expression tree over the sources x_t, x_prev (x_{t-1}), h_prev
# (h_{t-1}) and c_prev (c_{t-1}). h_t is the value of the `output` tree. c_t is
# the labelled internal node `memory` (`tap("c_t")`), a tree over the same
# sources; the output tree may read it as a fifth source, c_t. A cell that
# does not need a memory takes memory = c_prev (a pass-through).
# Operators, core set: MM (a linear map with fresh weights at every
# occurrence), Tanh, Sigmoid, ReLU; Add, Mult; Gate3(x, y, f) =
# sigmoid(f)*x + (1 - sigmoid(f))*y. `extended=true` adds the extended set:
# Sin, Cos, PosEnc, LayerNorm, SeLU; Sub, Div. Identical subtrees stay
# separate computations (each MM has its own weights). `depth` limits the
# nesting of operators in each tree (a source alone has depth 0).
#
# Size. With S sources, U unary, B binary and one ternary operator, the
# number of trees of depth at most d is T(0) = S and
#   T(d) = S + U*T(d-1) + B*T(d-1)^2 + T(d-1)^3,
# and the space is T_memory(depth) * T_output(depth), with S = 4 for the
# memory and 5 for the output. Core (U=4, B=2), depth 1: T = 4+16+32+64 = 116
# and 5+20+50+125 = 200, so 23,200 cells; depth 2 (the default):
# 1,588,276 * 8,080,805 = 12,834,548,642,180. Extended (U=9, B=4), depth 1:
# 4+36+64+64 = 168 and 5+45+100+125 = 275, so 46,200 cells; depth 2:
# 4,856,044 * 21,101,855 = 102,471,536,361,620.
# Counted as trees: every assignment of operators and sources is one cell,
# equal subtrees included (the paper does not merge them).
#
# Presets (rnn_cell.presets.json): the tanh RNN (depth 3), LSTM (depth 5) and
# GRU (depth 7) as fixed architectures; each compiles to the same function as
# torch's RNNCell / LSTMCell / GRUCell given the same weights.

param depth = 2
param hidden = 32
param extended = false
input x_t: [hidden]
input x_prev: [hidden]
input h_prev: [hidden]
input c_prev: [hidden]

# the memory tree: over x_t, x_prev, h_prev and c_prev
def mem(d) = d == 0 ? choice(x_t, x_prev, h_prev, c_prev) : extended ? choice(
    x_t, x_prev, h_prev, c_prev,
    MM(hidden)(mem(d - 1)), Tanh(mem(d - 1)), Sigmoid(mem(d - 1)), ReLU(mem(d - 1)),
    Sin(mem(d - 1)), Cos(mem(d - 1)), PosEnc(mem(d - 1)), LayerNorm(mem(d - 1)), SeLU(mem(d - 1)),
    Add(mem(d - 1), mem(d - 1)), Mult(mem(d - 1), mem(d - 1)),
    Sub(mem(d - 1), mem(d - 1)), Div(mem(d - 1), mem(d - 1)),
    Gate3(mem(d - 1), mem(d - 1), mem(d - 1))) : choice(
    x_t, x_prev, h_prev, c_prev,
    MM(hidden)(mem(d - 1)), Tanh(mem(d - 1)), Sigmoid(mem(d - 1)), ReLU(mem(d - 1)),
    Add(mem(d - 1), mem(d - 1)), Mult(mem(d - 1), mem(d - 1)),
    Gate3(mem(d - 1), mem(d - 1), mem(d - 1)))

# the output tree: the same grammar with c_t, the memory node, as a fifth source
def out(d, c_t) = d == 0 ? choice(x_t, x_prev, h_prev, c_prev, c_t) : extended ? choice(
    x_t, x_prev, h_prev, c_prev, c_t,
    MM(hidden)(out(d - 1, c_t)), Tanh(out(d - 1, c_t)), Sigmoid(out(d - 1, c_t)), ReLU(out(d - 1, c_t)),
    Sin(out(d - 1, c_t)), Cos(out(d - 1, c_t)), PosEnc(out(d - 1, c_t)), LayerNorm(out(d - 1, c_t)),
    SeLU(out(d - 1, c_t)),
    Add(out(d - 1, c_t), out(d - 1, c_t)), Mult(out(d - 1, c_t), out(d - 1, c_t)),
    Sub(out(d - 1, c_t), out(d - 1, c_t)), Div(out(d - 1, c_t), out(d - 1, c_t)),
    Gate3(out(d - 1, c_t), out(d - 1, c_t), out(d - 1, c_t))) : choice(
    x_t, x_prev, h_prev, c_prev, c_t,
    MM(hidden)(out(d - 1, c_t)), Tanh(out(d - 1, c_t)), Sigmoid(out(d - 1, c_t)), ReLU(out(d - 1, c_t)),
    Add(out(d - 1, c_t), out(d - 1, c_t)), Mult(out(d - 1, c_t), out(d - 1, c_t)),
    Gate3(out(d - 1, c_t), out(d - 1, c_t), out(d - 1, c_t)))

network {
    c_t = (mem(depth) as memory) >> tap("c_t")
    return out(depth, c_t) as output
}
