# 'Mult' multiplies two tensors; it is given one.
input x: [32]

network {
    return x >> Mult
}
