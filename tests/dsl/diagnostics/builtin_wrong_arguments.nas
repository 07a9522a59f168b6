# A builtin called with an argument it does not take.
input x: [3, 32, 32]

def cell(c) = dag(nodes=4) {
    node j: inputs = pick(2, unique=true), edge = conv(c)
}

network {
    return cell(16)(x)
}
