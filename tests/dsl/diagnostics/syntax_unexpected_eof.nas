# The file ends inside the network's block.
input x: [3, 32, 32]

network {
    h = x >> conv(16)
    for i in range(3) {
        h = h >> relu
    }
