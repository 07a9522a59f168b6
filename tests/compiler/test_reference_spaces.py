"""The sizes of the hierarchical, mobile, path-level and RNN spaces, derived in their headers, and
the classic RNN cells written as presets of the RNN space, checked against torch's cells."""
from __future__ import annotations

import pytest
import torch

import nasl
from nasl.compiler import module_paths
from nasl.compiler.rnn import compile_cell
from nasl.formats.presets import get_preset, load_preset
from tests.conftest import example

HIER = example("hierarchical.nas")
RNN = example("rnn_cell.nas")


# Liu et al. 2018 -------------------------------------------------------------------------------------

def test_hierarchical_size_is_7_to_the_46():
    space = nasl.load(HIER)
    choices = space.spec.to_list()
    # 6 motifs of 6 edges and a 10-edge cell, each edge one of 6 primitives / 6 motifs, or none
    assert len(choices) == 6 * 6 + 10
    assert all(len(c["domain"]) == 7 for c in choices)
    assert space.size() == 7 ** 46 == 749_048_330_965_186_233_494_494_102_694_564_493_649


def test_hierarchical_flat_size_is_7_to_the_55():
    space = nasl.load(example("hierarchical_flat.nas"))
    assert len(space.spec.to_list()) == 11 * 10 // 2
    assert space.size() == 7 ** 55


def test_hierarchical_motifs_are_tied_with_separate_weights():
    space = nasl.load(HIER, C=8)
    arch = get_preset(space, HIER, "trivial")
    # the trivial genotype at C=16: stem 432+32, cells 16*(16^2+32^2+64^2) (4 motif edges of three 1x1
    # convs, 4 node convs), sep convs 720 and 2464, linear 650
    assert nasl.cost(nasl.load(HIER), arch).params == 464 + 16 * (16 ** 2 + 32 ** 2 + 64 ** 2) + 720 + 2464 + 650
    # motif1 on two more cell edges: its three convs again, with new weights, no new choices
    wider = arch.replace({"cell.edge[0->2]": "motif1", "cell.edge[0->4]": "motif1"})
    graph = space.realize(wider)
    per_cell = sum(1 for n, d in graph.ops() if d["op"] == "concat_conv" and n.startswith("cell[0][0]."))
    assert per_cell == 4 + 6 * 3       # 4 cell nodes + 6 motif uses of 3 nodes each
    # per cell, at c = 8, 16, 32: two more motif uses of three c x c 1x1 convs, and nodes 2 and 4 now
    # concatenate two inputs, so their 1x1 convs read 2c channels
    assert nasl.cost(space, wider).params - nasl.cost(space, arch).params == (6 + 2) * (8 ** 2 + 16 ** 2 + 32 ** 2)
    model = nasl.compile(space, wider)
    assert sum(p.numel() for p in model.parameters()) == nasl.cost(space, wider).params


# OFA / ProxylessNAS ---------------------------------------------------------------------------------

def test_mobilenet_size_is_the_ofa_count():
    space = nasl.load(example("mobilenet.nas"))
    per_stage = 9 ** 2 + 9 ** 3 + 9 ** 4
    assert per_stage == 7_371
    assert space.size() == per_stage ** 5 == 21_758_655_492_572_485_851
    # a shallow stage has no choices for its missing layers
    arch = get_preset(space, example("mobilenet.nas"), "smallest")
    assert "kernel[0][2]" not in arch and len(arch) == 5 * (1 + 2 * 2)


def test_mobilenet_presets_cost_equals_the_built_network():
    space = nasl.load(example("mobilenet.nas"))
    sizes = []
    for name in ("smallest", "largest"):
        arch = get_preset(space, example("mobilenet.nas"), name)
        sizes.append(nasl.cost(space, arch).params)
        assert sum(p.numel() for p in nasl.compile(space, arch).parameters()) == sizes[-1]
    # OFA's counts (mit-han-lab/once-for-all: OFAMobileNetV3(ks=7, e=6, d=4) and its smallest
    # sub-network): the squeeze-excite has make_divisible(mid // 4, 8) channels, as OFA's SEModule
    assert sizes == [3_410_792, 7_664_760]


# Cai et al. 2018 ------------------------------------------------------------------------------------

def tree_size(max_depth: int, edges: int = 7) -> int:
    def node(level):                   # a child node at `level`
        b = edges * (1 + node(level + 1)) if level + 1 < max_depth else edges
        return b + 2 * b * b + b ** 3
    r = 1 + node(1) if max_depth > 1 else 1
    return r + 2 * r * r + r ** 3


@pytest.mark.parametrize("max_depth,size", [(1, 4), (2, 90_922_500),
                                             (3, 29_986_678_769_403_186_482_832_715_562_500)])
def test_path_level_size(max_depth, size):
    space = nasl.load(example("path_level.nas"), max_depth=max_depth, N=1)
    assert space.size() == tree_size(max_depth) == size


def test_path_level_plain_cell_is_pyramidnet_164():
    # the search's start: the cell is the bottleneck's own conv; PyramidNet-164 (bottleneck,
    # alpha=48) is reported with 1.7M parameters (Han et al., "Deep Pyramidal Residual Networks", CVPR 2017)
    path = example("path_level.nas")
    space = nasl.load(path, alpha=48)
    assert nasl.cost(space, get_preset(space, path, "plain_bottleneck")).params == 1_715_442


def test_path_level_plain_cell_in_densenet_is_densenet_bc_100():
    # DenseNet-BC (L=100, k=12) is reported with 0.8M parameters (Huang et al., CVPR 2017)
    path = example("path_level.nas")
    space = nasl.load(path, skeleton="densenet")
    assert nasl.cost(space, get_preset(space, path, "plain_bottleneck")).params == 769_162
    small = nasl.load(path, skeleton="densenet", dense_layers=2, growth=6)
    for arch in small.sample(2, n=2):
        assert nasl.compile(small, arch)(torch.randn(1, 3, 32, 32)).shape == (1, 10)


def test_path_level_widths_hold_under_every_merge():
    # concat splits channels (odd widths too), add copies them; every block keeps its width
    space = nasl.load(example("path_level.nas"), N=1, alpha=9)
    for arch in space.sample(5, n=4):
        model = nasl.compile(space, arch)
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)


# Schrimpf et al. 2018 -------------------------------------------------------------------------------

def trees(depth, sources, unary, binary):
    t = sources
    for _ in range(depth):
        t = sources + unary * t + binary * t ** 2 + t ** 3
    return t


@pytest.mark.parametrize("depth,extended", [(1, False), (2, False), (1, True), (2, True)])
def test_rnn_size(depth, extended):
    space = nasl.load(RNN, depth=depth, extended=extended)
    u, b = (9, 4) if extended else (4, 2)
    assert space.size() == trees(depth, 4, u, b) * trees(depth, 5, u, b)


def test_rnn_default_size():
    assert nasl.load(RNN).size() == 1_588_276 * 8_080_805 == 12_834_548_642_180


H = 6
# each preset's MM layers in graph order: (torch gate, source)
GATES = {
    "tanh_rnn": (torch.nn.RNNCell, [("", "x_t"), ("", "h_prev")], ""),
    "LSTM": (torch.nn.LSTMCell, [("f", "x_t"), ("f", "h_prev"), ("i", "x_t"), ("i", "h_prev"), ("g", "x_t"),
                                 ("g", "h_prev"), ("o", "x_t"), ("o", "h_prev")], "ifgo"),
    "GRU": (torch.nn.GRUCell, [("n", "x_t"), ("r", "x_t"), ("r", "h_prev"), ("n", "h_prev"), ("z", "x_t"),
                               ("z", "h_prev")], "rzn"),
}


def load_torch_weights(space, arch, cell, ref, plan, order):
    graph = space.realize(arch)
    paths, mods = module_paths(graph), dict(cell.net.named_modules())
    mms = [(graph.inputs_of(n)[0], mods[paths[n]]) for n, d in graph.ops() if d["op"] == "MM"]
    assert [src for src, _ in mms] == [src for _, src in plan]
    with torch.no_grad():
        for (src, lin), (gate, _) in zip(mms, plan):
            rows = slice(order.index(gate) * H, (order.index(gate) + 1) * H) if order else slice(0, H)
            w, b = (ref.weight_ih, ref.bias_ih) if src == "x_t" else (ref.weight_hh, ref.bias_hh)
            lin.weight.copy_(w[rows])
            lin.bias.copy_(b[rows])


@pytest.mark.parametrize("name", list(GATES))
def test_rnn_presets_compute_torch_cells(name):
    space, arch = load_preset(RNN, name, nasl.load, hidden=H)
    torch_cell, plan, order = GATES[name]
    cell = compile_cell(space, arch)
    ref = torch_cell(H, H)
    load_torch_weights(space, arch, cell, ref, plan, order)
    assert sum(p.numel() for p in cell.parameters()) == sum(p.numel() for p in ref.parameters())
    x = torch.randn(3, H)
    h, c = torch.randn(3, H), torch.randn(3, H)
    state = {"x_prev": torch.randn(3, H), "h_prev": h, "c_prev": c}
    out, new = cell(x, tuple(state[s] for s in cell.state_names))
    new = dict(zip(cell.state_names, new))
    if name == "LSTM":
        rh, rc = ref(x, (h, c))
        torch.testing.assert_close(new["c_prev"], rc)
    else:
        rh = ref(x, h)
        torch.testing.assert_close(new["c_prev"], c)      # the memory passes c_prev on
    torch.testing.assert_close(out, rh)
    torch.testing.assert_close(new["h_prev"], rh)
    torch.testing.assert_close(new["x_prev"], x)


@pytest.mark.parametrize("name,depth", [("tanh_rnn", 3), ("LSTM", 5), ("GRU", 7)])
def test_rnn_presets_need_their_depth_and_hold_beyond_it(name, depth):
    for d in (depth, depth + 2):
        get_preset(nasl.load(RNN, depth=d), RNN, name)
    with pytest.raises(nasl.InvalidArchitecture, match=f"needs the space parameters depth={depth}"):
        get_preset(nasl.load(RNN, depth=depth - 1), RNN, name)
