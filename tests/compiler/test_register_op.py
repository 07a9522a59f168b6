"""One way to register a user op with its PyTorch builder, shape rule and cost rule (issue 14, bug 1).

``nasl.register_op(name, params, builder=...)`` used to keep the builder on the signature, where
the compiler never looked: compile then said "op 'x' has no PyTorch builder".
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import nasl  # noqa: E402
from nasl.compiler import compile, layers, torch_op  # noqa: E402
from nasl.ir.errors import NaslError  # noqa: E402

SOURCE = "input x: [3, 8, 8]\nnetwork {\n    return x >> scaled_conv(6) >> global_avg_pool\n}\n"


@pytest.fixture(autouse=True)
def private_registries(isolated_ops):
    yield


def build_scaled_conv(params, in_shapes):
    c_in = in_shapes[0][0]
    return torch.nn.Conv2d(c_in, params["c"], params["k"], padding=params["k"] // 2), None


def test_the_builder_given_to_register_op_compiles():
    nasl.register_op("scaled_conv", ("c", ("k", 3)), builder=build_scaled_conv)
    space = nasl.loads(SOURCE)
    model = compile(space, space.sample(0))
    assert model(torch.zeros(2, 3, 8, 8)).shape == (2, 6)
    assert nasl.cost(space, space.sample(0)).params == sum(p.numel() for p in model.parameters())
    assert "scaled_conv" in layers.torch_ops("scaled_*")


def test_shape_and_cost_rules_given_to_register_op_are_used():
    calls = []

    def shape(p, ins):
        calls.append("shape")
        return (p["c"],) + ins[0][1:]

    def cost(p, ins, out):
        calls.append("cost")
        n = ins[0][0] * p["c"] * p["k"] ** 2 + p["c"]
        macs = ins[0][0] * p["c"] * p["k"] ** 2 * out[1] * out[2]
        return {"params": n, "flops": 2 * macs, "macs": macs + p["c"] * out[1] * out[2]}

    nasl.register_op("scaled_conv", ("c", ("k", 3)), builder=build_scaled_conv, shape=shape, cost=cost)
    space = nasl.loads(SOURCE)
    arch = space.sample(0)
    c = nasl.cost(space, arch)
    assert calls.count("cost") == 1 and "shape" in calls
    model = compile(space, arch)
    assert c.params == sum(p.numel() for p in model.parameters()) == 3 * 6 * 9 + 6
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 8, 8))
    assert c.flops == counter.get_total_flops()


def test_a_cost_rule_returning_nonsense_is_the_users_error():
    nasl.register_op("scaled_conv", ("c", ("k", 3)), builder=build_scaled_conv, cost=lambda p, i, o: 7)
    space = nasl.loads(SOURCE)
    with pytest.raises(NaslError, match=r"op 'scaled_conv' raised TypeError.*OpCost") as e:
        nasl.cost(space, space.sample(0))
    assert e.value.span is not None and e.value.span.line == 3


def test_register_op_refuses_a_builder_that_is_not_callable():
    with pytest.raises(TypeError, match="builder must be callable"):
        nasl.register_op("scaled_conv", ("c",), builder="build_scaled_conv")


def test_registering_the_same_op_again_is_no_clash_and_torch_op_still_works():
    nasl.register_op("scaled_conv", ("c", ("k", 3)), builder=build_scaled_conv)
    nasl.register_op("scaled_conv", ("c", ("k", 3)), builder=build_scaled_conv)     # a module run twice
    nasl.register_op("other_conv", ("c", ("k", 3)))
    torch_op("other_conv")(build_scaled_conv)
    space = nasl.loads(SOURCE.replace("scaled_conv", "other_conv"))
    assert compile(space, space.sample(0))(torch.zeros(1, 3, 8, 8)).shape == (1, 6)
