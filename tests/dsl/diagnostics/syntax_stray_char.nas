# A character that is not part of the language.
param C = 16
input x: [3, 32, 32]

network {
    return x >> conv(C) @ relu
}
