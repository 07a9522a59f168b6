# The same name declared twice.
param C = 16
input x: [3, 32, 32]
param C = 32

network {
    return x >> conv(C)
}
