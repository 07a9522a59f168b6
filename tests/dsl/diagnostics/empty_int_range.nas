# A range whose high end is below its low end.
input x: [3, 32, 32]

network {
    width = int_range(64, 16)
    return x >> conv(width)
}
