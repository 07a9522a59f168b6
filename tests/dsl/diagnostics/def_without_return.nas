# A block-bodied definition that never returns.
input x: [3, 32, 32]

def stem(c)(h) {
    y = h >> conv(c) >> bn
}

network {
    return stem(16)(x)
}
