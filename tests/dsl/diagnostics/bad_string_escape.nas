# A string with a malformed escape sequence.
input x: [3, 32, 32]

network {
    return x >> conv(16) >> tap("features\x4")
}
