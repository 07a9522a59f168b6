"""Where the generated forward frees its intermediates: at scope (cell) ends (nasl.compiler.frees)."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import torch

import nasl
from nasl.compiler import build, compile
from nasl.compiler.export_python import module_source
from nasl.compiler.frees import SCOPE_KEY, STATE_KEY, ScopeFrees, free_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = [("nas_bench_201.nas", dict(C=4, N=2)), ("darts.nas", dict(C=4, layers=3)), ("enas_macro.nas", {})]
_FREE = re.compile(r"((?:\w+ = )+)None")


def _compile(space, arch, scope_frees: bool):
    torch.manual_seed(0)
    return compile(space, arch, options=build.BuildOptions(scope_frees=scope_frees))


def _statements(code: str):
    """``[(assigned name or None, names read, names freed, comment)]`` per line of the forward body."""
    out = []
    for line in code.split("def forward", 1)[1].split("\n")[1:]:
        line, _, comment = line.strip().partition("  # ")
        if not line:
            continue
        stmt, *frees = line.split(";  ") if not _FREE.fullmatch(line) else ("", line)
        freed = [n for f in frees for n in _FREE.fullmatch(f).group(1).split(" = ") if n]
        name, _, expr = stmt.partition(" = ") if not stmt.startswith("return") else (None, "", stmt[6:])
        out.append((name or None, set(re.findall(r"(?<![.\w])[A-Za-z_]\w*", expr)), freed, comment))
    return out


def _nb201():
    from nasl.formats.nb201 import from_string
    space = nasl.load(EXAMPLES / "nas_bench_201.nas", C=4, N=2)
    return space, from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
                              "nor_conv_3x3~2|")


def test_a_cell_frees_its_states_and_input_when_it_ends_and_edges_at_last_use():
    space, arch = _nb201()
    stmts = _statements(compile(space, arch).code)
    ends = [(i, s) for i, s in enumerate(stmts) if s[3].startswith("end of cell[")]
    assert [s[3] for _, s in ends][:2] == ["end of cell[0][0]", "end of cell[0][1]"]
    i, (_, _, freed, _) = ends[0]
    # the cell's input (the stem's bn) and its node 2 live until the cell ends, with the values
    # the cell's last line reads
    assert freed == ["bn", "cell_0_0_node_2_sum", "cell_0_0_edge_2_3_relu_conv_bn", "add_1"]
    # an edge's output is freed at its last use, as the hand-written loop does
    last_use = {}
    for k, (name, reads, frees, _) in enumerate(stmts[:i]):
        for r in reads:
            last_use[r] = k
        for f in frees:
            assert last_use[f] == k, f
    assert any("cell_0_0_edge_0_1_relu_conv_bn" in s[2] for s in stmts[:i])
    # the cell's output is freed when the next cell ends
    assert "cell_0_0_node_3_sum" in ends[1][1][2]


def test_every_value_of_a_scope_until_its_end():
    """``FREE_ALL``: the variant that frees every value of a cell when the cell ends."""
    from nasl.compiler import frees
    space, arch = _nb201()
    frees.FREE_ALL = True
    try:
        stmts = _statements(compile(space, arch).code)
    finally:
        frees.FREE_ALL = False
    i, (_, _, freed, _) = next((i, s) for i, s in enumerate(stmts) if s[3] == "end of cell[0][0]")
    cell = {s[0] for s in stmts[:i] if s[0] and s[0].startswith("cell_0_0_")}
    assert set(freed) == (cell - {"cell_0_0_node_3_sum"}) | {"bn", "add_1"}


@pytest.mark.parametrize("example,params", CASES)
def test_every_value_is_freed_once_and_never_read_after(example, params):
    space = nasl.load(EXAMPLES / example, **params)
    model = compile(space, space.sample(seed=5))
    freed: set = set()
    assigned: set = set()
    for name, reads, frees, _ in _statements(model.code):
        assert not reads & freed, (name, reads & freed)
        assert not set(frees) & freed
        freed |= set(frees)
        if name:
            assigned.add(name)
    returned = _statements(model.code)[-1][1]
    assert freed | returned >= assigned                 # nothing left alive but the outputs
    # ENAS's macro space has no cells (flat node ids): every op is its own scope, fx's frees
    assert any(s[3].startswith("end of ") for s in _statements(model.code)) == (example != "enas_macro.nas")


@pytest.mark.parametrize("example,params", CASES)
def test_same_lines_and_bit_identical_outputs_as_last_use_frees(example, params):
    space = nasl.load(EXAMPLES / example, **params)
    arch = space.sample(seed=2)
    new, old = _compile(space, arch, True), _compile(space, arch, False)
    assert ("  # end of " in new.code) == (example != "enas_macro.nas") and "  # end of " not in old.code
    assert [s[:2] for s in _statements(new.code) if s[0] or s[1]] == \
        [s[:2] for s in _statements(old.code) if s[0] or s[1]]
    assert list(new.state_dict()) == list(old.state_dict())
    old.load_state_dict(new.state_dict())
    x = torch.randn(2, *next(iter(new.input_shapes.values())))
    for train in (True, False):
        new.train(train), old.train(train)
        torch.manual_seed(1)
        a = new(x)
        torch.manual_seed(1)
        assert torch.equal(a, old(x))


def test_copies_traces_and_exports_keep_the_frees():
    space, arch = _nb201()
    model = compile(space, arch).eval()
    x = torch.randn(2, 3, 32, 32)
    want = model(x)
    clone = copy.deepcopy(model)
    assert clone.code == model.code and torch.equal(clone(x), want)
    clone.recompile()
    assert clone.code == model.code
    traced = torch.jit.trace(model, x)
    assert torch.equal(traced(x), want)
    assert "= None  # end of cell[0][0]" in module_source(model)


def test_an_edited_graph_keeps_torch_fx_frees():
    space, arch = _nb201()
    model = compile(space, arch).eval()
    x = torch.randn(1, 3, 32, 32)
    want = model(x)
    out = next(n for n in model.graph.nodes if n.op == "output")
    with model.graph.inserting_before(out):
        extra = model.graph.call_function(torch.relu, (out.args[0],))
    out.args = (extra,)
    model.recompile()
    assert "# end of" not in model.code          # the plan no longer fits: fx's own frees
    assert torch.equal(model(x), torch.relu(want))


def test_plan_frees_at_the_end_of_the_last_users_scope():
    g = torch.fx.Graph()
    x = g.placeholder("x")
    a = g.call_function(torch.neg, (x,), name="a")
    b = g.call_function(torch.neg, (a,), name="b")
    c = g.call_function(torch.neg, (b,), name="c")
    d = g.call_function(torch.add, (c, a), name="d")
    for n in (a, b):
        n.meta[SCOPE_KEY] = "cell[0]"
    for n in (c, d):
        n.meta[SCOPE_KEY] = "cell[1]"
    g.output(d)
    a.meta[STATE_KEY] = True
    # x: the input of cell[0], freed when it ends; a: a state, b: cell[0]'s output, both read in
    # cell[1] and freed when it ends; c: an edge of cell[1], freed at its last use
    assert free_plan(g) == {"a": [], "b": ["x"], "c": [], "d": ["a", "b", "c"]}
    a.meta.pop(STATE_KEY)
    b.meta[SCOPE_KEY] = "cell[1]"
    assert free_plan(g) == {"a": ["x"], "b": [], "c": ["b"], "d": ["a", "c"]}   # b: now an edge of cell[1]
    body = ["a = torch.neg(x);  x = None\n", "b = torch.neg(a)\n"]
    assert ScopeFrees({"a": [], "b": ["x"]}, {"b": "cell[0]"})(body) == \
        ["a = torch.neg(x)\nb = torch.neg(a)\nx = None  # end of cell[0]\n"]
