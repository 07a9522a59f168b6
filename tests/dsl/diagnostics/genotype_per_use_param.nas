# A tied genotype whose choice depends on a parameter that differs per use.
input x: [3, 32, 32]

def cell(c)(h) {
    return h >> conv(c, k=int_range(1, c))
}
genotype g = cell

network {
    return g(16)(x)
}
