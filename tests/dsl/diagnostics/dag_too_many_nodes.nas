# 1,000 nodes are 499,500 possible edges, each a choice point: this took a minute and a GB.
input x: [3, 8, 8]
def cell(c) = dag(nodes=1000) {
    edge i -> j: choice(identity, zero)
}
network { return x >> cell(3) }
