"""Net2Wider, Net2Deeper and N2N on digits, a conv chain and an MBConv space: function preservation
(eval mode, atol 1e-5) over random parents, and the refusals."""
import pytest
import torch

import nasl
from nasl.ir.errors import NaslError
from nasl.morph import net2deeper, net2wider, remove_layer, shrink
from tests.morph.conftest import max_diff, trained

X_DIGITS = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(1))
X_CHAIN = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(2))
X_MOBILE = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))


@pytest.mark.slow
def test_net2wider_preserves_digits_on_20_parents(digits):
    done = 0
    for seed in range(60):
        arch = digits.sample(seed)
        if arch["width"] == 24:
            continue
        state = trained(digits, arch, X_DIGITS, seed)
        m = net2wider(digits, arch, state, "width", seed=seed)
        assert m.preserving and m.arch["width"] > arch["width"]
        digits.validate(m.arch)
        assert max_diff(digits, arch, state, m, X_DIGITS) < 1e-5
        done += 1
        if done == 20:
            break
    assert done == 20


def test_net2wider_replicates_bn_and_divides_the_next_layer(chain):
    arch = chain.validate({"width": 8, "depth": 1, "hidden": 10})
    state = trained(chain, arch, X_CHAIN)
    m = net2wider(chain, arch, state, "width", 16, seed=3)
    w_old, w_new = state["conv_1.weight"], m.state_dict["conv_1.weight"]
    assert w_new.shape == (16, 16, 3, 3)
    # the sum over the input replicas of each old channel is the old weight
    assert torch.allclose(w_new[:8, :8].sum() + w_new[:8, 8:].sum(), w_old.sum(), atol=1e-5)
    assert torch.equal(m.state_dict["bn.running_var"][:8], state["bn.running_var"])
    assert max_diff(chain, arch, state, m, X_CHAIN) < 1e-5


def test_net2wider_on_a_linear_and_with_noise(chain):
    arch = chain.validate({"width": 16, "depth": 2, "hidden": 10})
    state = trained(chain, arch, X_CHAIN)
    m = net2wider(chain, arch, state, "hidden")
    assert m.arch["hidden"] == 20 and max_diff(chain, arch, state, m, X_CHAIN) < 1e-5
    noisy = net2wider(chain, arch, state, "hidden", noise=0.05)
    assert not noisy.preserving
    assert 0 < max_diff(chain, arch, state, noisy, X_CHAIN) < 1.0


@pytest.mark.parametrize("kw, says", [({"noise": float("nan")}, "noise is a number"), ({"noise": -0.1}, "noise"),
                                      ({"noise": "0.1"}, "noise"), ({"seed": 1.5}, "seed is an int")])
def test_net2wider_refuses_a_bad_noise_or_seed(chain, kw, says):
    arch = chain.validate({"width": 16, "depth": 2, "hidden": 10})
    state = nasl.compile(chain, arch).state_dict()
    with pytest.raises(NaslError, match=says):
        net2wider(chain, arch, state, "hidden", **kw)


@pytest.mark.slow
def test_net2wider_on_mbconv_expand_with_squeeze_excite(mobile):
    done = 0
    for seed in range(40):
        arch = mobile.sample(seed)
        path = next((p for p in sorted(arch) if p.startswith("expand[1]") and arch[p] != 6), None)  # stage 1 has SE
        if path is None:
            continue
        state = trained(mobile, arch, X_MOBILE, seed)
        m = net2wider(mobile, arch, state, path)
        assert max_diff(mobile, arch, state, m, X_MOBILE) < 1e-5
        done += 1
        if done == 6:
            break
    assert done == 6


def test_shrink_keeps_the_largest_l1_units_and_is_not_preserving(chain):
    arch = chain.validate({"width": 16, "depth": 1, "hidden": 20})
    state = trained(chain, arch, X_CHAIN)
    m = shrink(chain, arch, state, "hidden")
    assert m.arch["hidden"] == 10 and m.preserving is False
    norms = state["linear.weight"].abs().sum(1)
    keep = torch.sort(torch.topk(norms, 10).indices).values
    assert torch.equal(m.state_dict["linear.weight"], state["linear.weight"][keep])
    assert max_diff(chain, arch, state, m, X_CHAIN) > 1e-4


def test_net2deeper_on_a_conv_chain(chain):
    for seed in range(6):
        arch = chain.validate({**chain.sample(seed), "depth": 1 + seed % 2})
        state = trained(chain, arch, X_CHAIN, seed)
        m = net2deeper(chain, arch, state, "depth")
        assert m.preserving and m.arch["depth"] == arch["depth"] + 1
        assert max_diff(chain, arch, state, m, X_CHAIN) < 1e-5
        assert 0 < m.inherited < 1


@pytest.mark.slow
def test_net2deeper_on_digits_cells(digits):
    done = refused = 0
    for seed in range(200):
        arch = digits.sample(seed)
        if arch["depth"] == 3:
            continue
        state = trained(digits, arch, X_DIGITS, seed)
        try:
            m = net2deeper(digits, arch, state, "depth")
        except NaslError as e:      # a cell genotype with no skip path cannot be the identity
            assert "'depth'" in str(e) and "\n" not in str(e).strip()
            refused += 1
            continue
        assert max_diff(digits, arch, state, m, X_DIGITS) < 1e-5
        done += 1
        if done == 20:
            break
    assert done == 20 and refused > 0


@pytest.mark.slow
def test_net2deeper_on_mbconv_stages(mobile):
    done = 0
    for seed in range(40):
        arch = mobile.sample(seed)
        path = next((p for p in sorted(arch) if p.startswith("depth") and arch[p] < 4), None)
        if path is None:
            continue
        state = trained(mobile, arch, X_MOBILE, seed)
        m = net2deeper(mobile, arch, state, path)
        assert m.preserving and max_diff(mobile, arch, state, m, X_MOBILE) < 1e-5
        done += 1
        if done == 6:
            break
    assert done == 6


MLP = """
input x: [12]
network {
    h = x >> linear(16) >> relu
    layers = choice(1, 2, 3)
    repeat layers { h = h >> linear(16) >> relu }
    return h >> linear(3)
}
"""


def test_net2deeper_inserts_an_identity_linear_layer():
    mlp = nasl.loads(MLP)
    x = torch.randn(5, 12, generator=torch.Generator().manual_seed(4))
    for layers in (1, 2):
        arch = mlp.validate({"layers": layers})
        state = trained(mlp, arch, x, layers)
        m = net2deeper(mlp, arch, state, "layers")
        assert m.preserving and m.arch["layers"] == layers + 1
        assert len(m.state_dict) == len(state) + 2                  # one more linear: weight and bias
        eye = [k for k, w in m.state_dict.items() if w.shape == (16, 16) and torch.equal(w, torch.eye(16))]
        assert len(eye) == 1                                        # the new linear is the identity
        assert not m.state_dict[eye[0].replace("weight", "bias")].any()
        assert max_diff(mlp, arch, state, m, x) < 1e-5


def test_shrink_on_a_conv_width_keeps_the_largest_l1_filters(chain):
    arch = chain.validate({"width": 16, "depth": 1, "hidden": 10})
    state = trained(chain, arch, X_CHAIN)
    m = shrink(chain, arch, state, "width")
    assert m.arch["width"] == 8 and m.preserving is False
    first = next(k for k in state if k.endswith("weight") and state[k].dim() == 4)
    norms = state[first].abs().sum((1, 2, 3))
    keep = torch.sort(torch.topk(norms, 8).indices).values
    assert torch.equal(m.state_dict[first], state[first][keep])
    assert m.state_dict[first].shape[0] == 8
    assert max_diff(chain, arch, state, m, X_CHAIN) > 1e-4


def test_remove_layer_is_not_preserving_but_inherits(chain):
    arch = chain.validate({"width": 8, "depth": 3, "hidden": 10})
    state = trained(chain, arch, X_CHAIN)
    m = remove_layer(chain, arch, state, "depth")
    assert m.arch["depth"] == 2 and not m.preserving
    assert m.inherited == 1.0
    assert max_diff(chain, arch, state, m, X_CHAIN) > 1e-4


@pytest.mark.parametrize("call, words", [
    (lambda s, a, st: net2wider(s, a, st, "width", 24), "'width'"),           # no larger width
    (lambda s, a, st: net2wider(s, a, st, "depth"), "'depth'"),              # not a width choice
    (lambda s, a, st: net2wider(s, a, st, "nope"), "'nope'"),
    (lambda s, a, st: net2deeper(s, a, st, "width"), "'width'"),             # not a depth choice
    (lambda s, a, st: net2deeper(s, a, st, "depth", 7), "depth = 7"),
    (lambda s, a, st: net2wider(s, a, st, "cell.edge[0->1]"), "'cell.edge[0->1]' is not a numeric"),
    (lambda s, a, st: net2wider(s, a, st, "cell.edge[0->1]", "none"), "'cell.edge[0->1]'"),
    (lambda s, a, st: remove_layer(s, a, st, "depth"), "'depth'"),              # already the smallest
])
def test_refusals_name_the_choice_path(digits, call, words):
    arch = digits.validate({**digits.sample(0), "width": 24, "depth": 1})
    state = nasl.compile(digits, arch).state_dict()
    with pytest.raises(NaslError) as e:
        call(digits, arch, state)
    assert words in str(e.value) and len(str(e.value).strip().splitlines()) == 1


def test_weights_of_another_architecture_are_refused(digits):
    arch = digits.validate({**digits.sample(0), "width": 8, "depth": 1})
    other = nasl.compile(digits, {**arch, "width": 16}).state_dict()
    with pytest.raises(NaslError, match="not those of architecture"):
        net2wider(digits, arch, other, "width")
    with pytest.raises(NaslError, match="state_dict"):
        net2wider(digits, arch, None, "width")
