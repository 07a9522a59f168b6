# A misspelt dag option.
input x: [3, 32, 32]

def cell(c) = dag(nodes=4, purne=true) {
    edge i -> j: choice(conv(c), identity)
}

network {
    return cell(16)(x)
}
