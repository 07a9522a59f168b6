"""RNN cells from expressions: (x_t, state) -> (h_t, new_state), and sequences."""
from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import nasl
from nasl.compiler import module_paths
from nasl.compiler.rnn import RecurrentNet, compile_cell
from tests.conftest import example

F, H = 8, 16

LSTM = f"""
param hidden = {H}
input x_t: [{F}]
input h_prev: [{H}]
input c_prev: [{H}]

def gate(act) = act(Add(MM(hidden)(x_t), MM(hidden)(h_prev)))

network {{
    i = gate(Sigmoid)
    f = gate(Sigmoid)
    g = gate(Tanh)
    o = gate(Sigmoid)
    c_t = Add(Mult(f, c_prev), Mult(i, g)) >> tap("c_t")
    return Mult(o, Tanh(c_t))
}}
"""

GRU = f"""
param hidden = {H}
input x_t: [{F}]
input h_prev: [{H}]

network {{
    r = Sigmoid(Add(MM(hidden)(x_t), MM(hidden)(h_prev)))
    z = Add(MM(hidden)(x_t), MM(hidden)(h_prev))
    n = Tanh(Add(MM(hidden)(x_t), Mult(r, MM(hidden)(h_prev))))
    return Gate3(h_prev, n, z)
}}
"""


def mm_modules(space, cell) -> list:
    """The MM layers of a fixed cell in program order, as ``(source input, nn.Linear)``."""
    graph = space.realize({})
    paths = module_paths(graph)
    mods = dict(cell.net.named_modules())
    return [(graph.inputs_of(n)[0], mods[paths[n]]) for n, d in graph.ops() if d["op"] == "MM"]


def copy_gates(space, cell, w_ih, w_hh, b_ih, b_hh, order):
    """Load a torch cell's gates (stacked in torch's ``order``) into our MMs.

    Our cells list the gates in the same order as torch, each as MM(x_t) and MM(h_prev).
    """
    by_src = {"x_t": [], "h_prev": []}
    for src, lin in mm_modules(space, cell):
        by_src[src].append(lin)
    assert len(by_src["x_t"]) == len(by_src["h_prev"]) == len(order)
    with torch.no_grad():
        for i in range(len(order)):
            rows = slice(i * H, (i + 1) * H)
            by_src["x_t"][i].weight.copy_(w_ih[rows])
            by_src["x_t"][i].bias.copy_(b_ih[rows])
            by_src["h_prev"][i].weight.copy_(w_hh[rows])
            by_src["h_prev"][i].bias.copy_(b_hh[rows])


def test_lstm_expression_equals_torch_lstm_cell():
    space = nasl.loads(LSTM)
    torch.manual_seed(0)
    cell = compile_cell(space, {})
    assert cell.state_names == ("h_prev", "c_prev") and cell.state_shapes == ((H,), (H,))
    assert (cell.input_size, cell.hidden_size) == (F, H)
    ref = torch.nn.LSTMCell(F, H)
    copy_gates(space, cell, ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh, ["i", "f", "g", "o"])
    assert sum(p.numel() for p in cell.parameters()) == sum(p.numel() for p in ref.parameters())
    x, h, c = torch.randn(3, F), torch.randn(3, H), torch.randn(3, H)
    out, (h2, c2) = cell(x, (h, c))
    rh, rc = ref(x, (h, c))
    assert out.shape == (3, H)
    torch.testing.assert_close(out, rh)
    torch.testing.assert_close(h2, rh)
    torch.testing.assert_close(c2, rc)


def test_gru_expression_equals_torch_gru_cell():
    space = nasl.loads(GRU)
    cell = compile_cell(space, {})
    assert cell.state_names == ("h_prev",)
    ref = torch.nn.GRUCell(F, H)
    copy_gates(space, cell, ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh, ["r", "z", "n"])
    x, h = torch.randn(4, F), torch.randn(4, H)
    out, (h2,) = cell(x, (h,))
    torch.testing.assert_close(out, ref(x, h))
    assert h2 is out


def test_sequence_run_gives_t_n_h_and_matches_the_loop():
    space = nasl.loads(LSTM)
    cell = compile_cell(space, {})
    net = RecurrentNet(cell)
    x = torch.randn(5, 2, F)
    ys, (h, c) = net(x)
    assert ys.shape == (5, 2, H) and h.shape == c.shape == (2, H)
    state = None
    for t in range(5):
        y, state = cell(x[t], state)
        torch.testing.assert_close(ys[t], y)
    torch.testing.assert_close(state[1], c)


def test_cell_cost_equals_the_built_cell():
    space = nasl.loads(LSTM)
    cell = compile_cell(space, {})
    c = nasl.cost(space, {})
    assert c.params == sum(p.numel() for p in cell.parameters()) == 4 * (F * H + H + H * H + H)
    with FlopCounterMode(display=False) as counter:
        cell(torch.randn(1, F))
    assert c.flops == counter.get_total_flops() == 2 * 4 * (F * H + H * H)
    assert c.output_shapes == {"c_t": (H,), "output": (H,)}


def test_sampled_cells_of_the_example_space_run():
    space = nasl.load(example("rnn_cell.nas"))
    for arch in space.sample(1, n=10):
        ys, state = RecurrentNet(compile_cell(space, arch))(torch.randn(3, 2, 32))
        # one state per '_prev' input: x_prev, h_prev, c_prev
        assert ys.shape == (3, 2, 32) and [s.shape for s in state] == [(2, 32)] * 3


def test_posenc_keeps_the_step_in_the_state():
    space = nasl.loads(f"""
input x_t: [{F}]
input h_prev: [{F}]
network {{ return Tanh(Add(PosEnc(x_t), Sin(h_prev))) }}
""")
    cell = compile_cell(space, {})
    assert cell.state_names[-1] == "step" and cell.state_shapes[-1] == (1,)
    x = torch.zeros(2, F)
    _, s1 = cell(x)
    _, s2 = cell(x, s1)
    assert s1[-1].tolist() == [[1.0], [1.0]] and s2[-1].tolist() == [[2.0], [2.0]]
    # PE(t) differs from step to step, so the same input gives different outputs
    y1, _ = cell(x, (torch.zeros(2, F), s1[-1]))
    y2, _ = cell(x, (torch.zeros(2, F), s2[-1]))
    assert not torch.allclose(y1, y2)
    ys, _ = RecurrentNet(cell)(torch.randn(4, 2, F))
    assert ys.shape == (4, 2, F)


def test_a_state_without_next_value_is_an_error():
    space = nasl.loads(f"""
input x_t: [{F}]
input h_prev: [{H}]
input c_prev: [{H}]
network {{ return Tanh(Add(MM({H})(x_t), Mult(h_prev, c_prev))) }}
""")
    with pytest.raises(nasl.NaslError, match=r"reads 'c_prev'.*tap|tap"):
        compile_cell(space, {})


def test_a_state_of_another_width_is_an_error():
    space = nasl.loads(f"""
input x_t: [{F}]
input h_prev: [{H}]
network {{ return MM(4)(Add(MM({H})(x_t), h_prev)) }}
""")
    with pytest.raises(nasl.NaslError, match="feeds 'h_prev'"):
        compile_cell(space, {})


def test_shape_mismatch_in_a_cell_points_at_the_op():
    space = nasl.loads(f"""
input x_t: [{F}]
input h_prev: [{H}]
network {{ return Add(x_t, h_prev) }}
""")
    with pytest.raises(nasl.NaslError, match="shape mismatch"):
        compile_cell(space, {})
