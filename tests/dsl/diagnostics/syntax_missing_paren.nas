# A call whose closing parenthesis is missing.
input x: [3, 32, 32]

network {
    h = x >> conv(16, k=3
    return h >> relu
}
