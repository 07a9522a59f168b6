# A constraint that can never hold.
input x: [3, 32, 32]

network {
    require 1 > 2
    return x >> conv(16)
}
