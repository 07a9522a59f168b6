# args: -D chanels=32
# -D names a parameter the space does not declare.
param channels = 16
input x: [3, 32, 32]

network {
    return x >> conv(channels)
}
