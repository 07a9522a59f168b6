"""Mode ``bank``: sharing by node identity, only the sampled path runs, subnet exactness, growth."""
from __future__ import annotations

import random

import pytest
import torch

import nasl
from nasl.compiler.plan import plan_graph
from nasl.ir.errors import NaslError
from nasl.compiler.node_identity import key_of, node_identities


@pytest.fixture(autouse=True)
def one_thread():
    # the networks are tiny: a second thread only contends with the other jobs on the machine
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def digits():
    return nasl.load("nasl/spaces/digits.nas")


@pytest.fixture(scope="module")
def nb101():
    return nasl.load("examples/nas_bench_101.nas", C=8)


def _params_by_node(sn, space, arch):
    """{identity key: [Parameter objects]} of the compiled network of ``arch`` inside ``sn``."""
    model = sn.module_for(arch)
    out = {}
    for ident, path in node_identities(space.realize(arch), sn.input_shape).values():
        try:
            m = model.get_submodule(path)
        except AttributeError:
            continue
        ps = list(m.parameters())
        if ps:
            out[ident] = ps
    return out


def _check_sharing(sn, space, a, b):
    """Nodes of equal identity share Parameter objects; nodes of one id but another identity share none.
    Returns (shared, changed) counts."""
    pa, pb = _params_by_node(sn, space, a), _params_by_node(sn, space, b)
    shared = changed = 0
    by_id_b = {ident[0]: ident for ident in pb}
    for ident, ps in pa.items():
        if ident in pb:
            assert all(x is y for x, y in zip(ps, pb[ident])), ident[0]
            shared += 1
        elif ident[0] in by_id_b:
            other = pb[by_id_b[ident[0]]]
            assert not {id(p) for p in ps} & {id(p) for p in other}, ident[0]
            changed += 1
    return shared, changed


def test_two_architectures_share_the_nodes_they_have_in_common(digits):
    sn = nasl.compile_supernet(digits, "bank")
    a = digits.sample(0)
    edge = next(p for p in a if "edge" in p and a[p] == "nor_conv_3x3")
    b = a.replace({edge: "nor_conv_1x1"})           # one edge changes op: its node is new, the rest shared
    shared, changed = _check_sharing(sn, digits, a, b)
    # (the 3x3 and 1x1 convs are one node id, relu_conv_bn, with another k: fresh weights)
    assert shared >= 3 and changed == 1
    pa, pb = _params_by_node(sn, digits, a), _params_by_node(sn, digits, b)
    (new,) = set(pb) - set(pa)
    assert new[0].startswith(edge.replace(".op", "")) or "edge" in new[0]
    # another width changes every node's params: nothing is shared
    width = {8: 16, 16: 24, 24: 8}[a["width"]]
    c = a.replace({"width": width})
    shared, changed = _check_sharing(sn, digits, a, c)
    assert shared == 0 and changed > 3
    # the stem conv's weight is literally one tensor in both compiled networks
    wa, wb = sn.module_for(a).get_submodule("conv").weight, sn.module_for(b).get_submodule("conv").weight
    assert wa is wb and wa.data_ptr() == wb.data_ptr()


def test_sharing_follows_nas_bench_101s_channel_rule(nb101):
    # NB101 splits a cell's channels among the nodes that feed its output: another graph changes
    # channel counts, hence identities (fresh weights); a node whose count survives keeps its tensor
    sn = nasl.compile_supernet(nb101, "bank", input_shape=(3, 8, 8))
    rng = random.Random(1)
    archs = [nb101.sample(rng) for _ in range(12)]
    shared = changed = 0
    for b in archs[1:]:
        s, c = _check_sharing(sn, nb101, archs[0], b)
        shared, changed = shared + s, changed + c
    assert shared > 0 and changed > 0
    # a node seen for the first time joins the bank and shows in weights()
    before = len(sn.weights())
    new = next(a for a in (nb101.sample(rng) for _ in range(50))
               if {key_of(i) for i in _params_by_node(nasl.compile_supernet(nb101, "bank", input_shape=(3, 8, 8)),
                                                       nb101, a)} - set(sn.bank))
    sn.module_for(new)
    assert len(sn.weights()) > before


@pytest.mark.parametrize("path,params,shape", [("examples/metaqnn.nas", {"max_layers": 4}, (3, 16, 16)),
                                               ("examples/hierarchical.nas", {"C": 4}, (3, 8, 8))])
def test_recursive_and_hierarchical_spaces_compile_and_share(path, params, shape):
    space = nasl.load(path, **params)
    sn = nasl.compile_supernet(space, "bank", input_shape=shape).eval()
    x = torch.randn(2, *shape)
    for a in space.sample(0, n=2):
        assert torch.allclose(sn.subnet(a)(x), sn(x, a), atol=1e-6)
    assert sn.weights() and not sn.arch_parameters() and len(sn.alpha) == 0


def test_only_the_sampled_path_runs(digits):
    sn = nasl.compile_supernet(digits, "bank")
    sn.populate(30)
    called = []
    hooked = set(sn.bank)
    handles = [m.register_forward_hook(lambda mod, i, o, k=k: called.append(k)) for k, m in sn.bank.items()]
    x = torch.randn(3, 1, 8, 8)
    try:
        for a in digits.sample(5, n=6):
            called.clear()
            sn(x, a)
            graph = digits.realize(a)
            live = plan_graph(graph).live
            expected = {key_of(i) for n, (i, _) in node_identities(graph).items()
                        if n in live and key_of(i) in hooked}
            assert len(called) == len(set(called))          # each module once
            assert set(called) == expected                  # exactly the sampled architecture's live modules
            assert called and len(called) < len(hooked)
    finally:
        for h in handles:
            h.remove()


def test_subnet_equals_the_supernet_for_50_architectures(digits):
    torch.manual_seed(0)
    sn = nasl.compile_supernet(digits, "bank")
    x = torch.randn(16, 1, 8, 8)
    archs = digits.sample(3, n=50)
    with torch.no_grad():
        for a in archs[:10]:                        # give the running statistics something to hold
            sn(x, a)
    sn.eval()
    worst = 0.0
    for a in archs:
        sub = sn.subnet(a)
        assert not sub.training
        assert list(sub.state_dict()) == list(nasl.compile(digits, a).state_dict())
        with torch.no_grad():
            worst = max(worst, float((sub(x) - sn(x, a)).abs().max()))
        # the subnet holds copies: training it leaves the bank alone
        assert all(p is not q for p, q in zip(sub.parameters(), sn.module_for(a).parameters()))
    assert worst <= 1e-6


def test_use_context_and_errors(digits):
    sn = nasl.compile_supernet(digits, "bank")
    x = torch.randn(2, 1, 8, 8)
    a = digits.sample(0)
    with sn.use(a):
        y = sn(x)
    assert torch.equal(y, sn(x, a)) or sn.training            # train-mode BN: same batch, same output
    with pytest.raises(NaslError, match="one architecture"):
        sn(x)
    with pytest.raises(NaslError):
        sn(x, {"width": 7})
    with pytest.raises(NaslError, match="no option 'widht'"):
        nasl.compile_supernet(digits, "bank", widht=1)
    with pytest.raises(NaslError, match="did you mean|modes are"):
        nasl.compile_supernet(digits, "bnak")
    with pytest.raises(NaslError, match="derive"):
        sn.derive()


def test_new_nodes_start_from_seeded_weights_whatever_the_order(digits):
    archs = digits.sample(7, n=6)
    one = nasl.compile_supernet(digits, "bank")
    two = nasl.compile_supernet(digits, "bank")
    for a in archs:
        one.module_for(a)
    torch.manual_seed(123)                           # the global RNG plays no part
    for a in reversed(archs):
        two.module_for(a)
    assert set(one.bank) == set(two.bank)
    s1, s2 = one.state_dict(), two.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    other = nasl.compile_supernet(digits, "bank", seed=1)
    other.module_for(archs[0])
    k = next(k for k in other.state_dict() if k.endswith("weight") and other.state_dict()[k].dim() == 4)
    assert not torch.equal(other.state_dict()[k], s1[k])


def test_an_optimizer_picks_up_new_weights(digits):
    sn = nasl.compile_supernet(digits, "bank")
    assert sn.populate(20) == len(sn.bank) > 0
    opt = torch.optim.SGD(sn.weights(), lr=0.1, momentum=0.9)
    n = len(sn.weights())
    rng = random.Random(99)
    for a in (digits.sample(rng) for _ in range(200)):
        sn(torch.randn(2, 1, 8, 8), a)
        if len(sn.weights()) > n:
            break
    added = sn.add_new_weights(opt)
    assert added == len(sn.weights()) - n > 0
    assert sn.add_new_weights(opt) == 0
    assert opt.param_groups[-1]["momentum"] == 0.9


@pytest.mark.slow
def test_spos_training_on_the_bank_lowers_the_loss(digits):
    # SPOS: each step one uniformly drawn architecture, from a pool of 8 uniform samples of the space so
    # that a few steps show (over the whole space each node gets too few of 40 steps to move the loss)
    from nasl.study.digits import load_digits_split
    torch.manual_seed(0)
    x, y, _, _ = load_digits_split()
    x, y = x[:256], y[:256]
    sn = nasl.compile_supernet(digits, "bank", cache=4)        # the pool is larger: compiles go on
    rng = random.Random(0)
    pool = digits.sample(rng, n=8)
    for a in pool:
        sn.module_for(a)
    opt = torch.optim.Adam(sn.weights(), lr=0.01)

    def pool_loss():
        with torch.no_grad():
            return sum(float(torch.nn.functional.cross_entropy(sn(x, a), y)) for a in pool) / len(pool)

    before = pool_loss()
    g = torch.Generator().manual_seed(0)
    for _ in range(40):
        idx = torch.randint(0, len(x), (64,), generator=g)
        loss = torch.nn.functional.cross_entropy(sn(x[idx], rng.choice(pool)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert sn.add_new_weights(opt) == 0                  # every node of the pool was banked first
    after = pool_loss()
    assert after < before - 0.15, (before, after)
    assert len(sn._cache) <= 4                              # the LRU stays bounded


def test_to_moves_the_bank_and_drops_compiled_networks(digits):
    sn = nasl.compile_supernet(digits, "bank")
    a = digits.sample(0)
    sn.module_for(a)
    sn.double()
    assert not sn._cache
    y = sn(torch.randn(2, 1, 8, 8, dtype=torch.float64), a)
    assert y.dtype == torch.float64
    sn.module_for(digits.sample(1))                  # a new node is made in the bank's dtype
    assert all(p.dtype == torch.float64 for p in sn.weights())
