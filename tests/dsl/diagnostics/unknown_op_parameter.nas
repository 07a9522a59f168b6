# An op called with a keyword it does not take.
input x: [3, 32, 32]

network {
    return x >> conv(16, kernel=3)
}
