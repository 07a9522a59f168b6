# A choice with nothing to choose from.
input x: [3, 32, 32]

network {
    op = choice()
    return x >> conv(16)
}
