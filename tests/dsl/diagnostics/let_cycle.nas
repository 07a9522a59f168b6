# Two lets defined in terms of each other.
input x: [3, 32, 32]
let a = b
let b = a

network {
    return x >> conv(a)
}
