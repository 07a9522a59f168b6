# Three unrelated mistakes: all are reported at once.
param classes = 10
input x: [3, 32, 32]

def block(c)(h) {
    return h >> conv(c) >> batchnorm
}

network {
    h = block(16)(x)
    h = h >> max_pol(k=2)
    return h >> linear(clases)
}
