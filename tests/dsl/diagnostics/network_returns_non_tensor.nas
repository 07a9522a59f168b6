# The network returns an op instead of applying it.
input x: [3, 32, 32]

network {
    h = x >> conv(16)
    return relu
}
