"""examples/darts.nas and nasl.formats.darts against quark0/darts (REFERENCE.md).

DARTS_V1, DARTS_V2 and the auxiliary head have official parameter counts.
NASNet and AmoebaNet in DARTS format have none published for the DARTS
evaluation network (the papers' 3.3M and 3.2M are their own networks), so
their counts, 3,830,950 and 3,145,078, were obtained from the hand-written
build in tests/examples/darts_reference.py and are asserted for both builds.
"""
from __future__ import annotations

import json
import math

import pytest
import torch

import nasl
from nasl.compiler import compile, count_params
from nasl.compiler.cost import cost
from nasl.formats import darts as fmt
from tests.conftest import example
from tests.examples.darts_reference import DartsCifar
from tests.examples.darts_reference import count_params as reference_params

PARAMS = {"DARTS_V1": 3_169_414, "DARTS_V2": 3_349_342, "NASNet": 3_830_950, "AmoebaNet": 3_145_078}
AUX_HEAD = 476_426


@pytest.fixture(scope="module")
def eval_space():
    return nasl.load(example("darts.nas"), C=36, layers=20)


@pytest.fixture(scope="module")
def nasnet_space():
    return nasl.load(example("darts.nas"), C=36, layers=20, **fmt.NASNET_FORMAT)


def _space_for(name, eval_space, nasnet_space):
    return nasnet_space if name in ("NASNet", "AmoebaNet") else eval_space


def test_one_cell_has_the_paper_size(darts):
    # prod_{k=1..4} C(k+1, 2) * 7^2; the network has a normal and a reduction cell
    assert math.isqrt(darts.size()) == 1_037_664_180
    assert darts.size() == 1_037_664_180 ** 2


def test_nasnet_format_size(nasnet_space):
    # node j (2..6) picks an ordered pair of its j predecessors with replacement, and one of 9 ops for each
    per_cell = math.prod(j * j * 9 * 9 for j in range(2, 7))
    assert nasnet_space.size() == per_cell ** 2 == (720 ** 2 * 9 ** 10) ** 2


@pytest.mark.parametrize("name", list(PARAMS))
def test_genotype_parameter_counts(name, eval_space, nasnet_space):
    space = _space_for(name, eval_space, nasnet_space)
    genotype = fmt.GENOTYPES[name]
    arch = fmt.to_arch(space, genotype)
    assert count_params(compile(space, arch)) == PARAMS[name]
    assert cost(space, arch).params == PARAMS[name]          # counted from the graph, no modules
    assert reference_params(DartsCifar(genotype)) == PARAMS[name]


def test_auxiliary_head_adds_the_official_count():
    space = nasl.load(example("darts.nas"), C=36, layers=20, auxiliary=True)
    model = compile(space, fmt.to_arch(space, fmt.DARTS_V2))
    assert count_params(model) == PARAMS["DARTS_V2"] + AUX_HEAD
    assert reference_params(DartsCifar(fmt.DARTS_V2, auxiliary=True)) == PARAMS["DARTS_V2"] + AUX_HEAD


def test_auxiliary_network_returns_both_logits():
    space = nasl.load(example("darts.nas"), C=4, layers=6, auxiliary=True)
    model = compile(space, fmt.to_arch(space, fmt.DARTS_V1))
    logits, aux = model(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)
    (logits.sum() + aux.sum()).backward()


@pytest.mark.parametrize("name", ["NASNet", "AmoebaNet"])
def test_nasnet_format_genotypes_round_trip_exactly(name, nasnet_space):
    genotype = fmt.GENOTYPES[name]
    assert fmt.to_genotype(nasnet_space, fmt.to_arch(nasnet_space, genotype)) == genotype


@pytest.mark.parametrize("name", ["DARTS_V1", "DARTS_V2"])
def test_darts_genotypes_round_trip_up_to_the_order_within_a_node(name, eval_space):
    genotype = fmt.GENOTYPES[name]
    back = fmt.to_genotype(eval_space, fmt.to_arch(eval_space, genotype))
    for field in ("normal", "reduce"):
        pairs, again = getattr(genotype, field), getattr(back, field)
        assert [sorted(pairs[i:i + 2], key=lambda p: p[1]) for i in range(0, 8, 2)] == \
               [again[i:i + 2] for i in range(0, 8, 2)]
        assert getattr(back, field + "_concat") == getattr(genotype, field + "_concat")


@pytest.mark.parametrize("params", [{}, fmt.NASNET_FORMAT, dict(nodes=5, concat="loose"),
                                    dict(nodes=3, distinct=False)])
def test_sampled_architectures_round_trip(params):
    space = nasl.load(example("darts.nas"), **params)
    for seed in range(20):
        arch = space.sample(seed=seed)
        assert fmt.to_arch(space, fmt.to_genotype(space, arch)) == arch


def test_from_value_reads_the_presets_file(eval_space, nasnet_space):
    presets = json.loads(example("darts.presets.json").read_text())
    assert set(presets) == set(fmt.GENOTYPES)
    for name, entry in presets.items():
        assert entry["format"] == "darts" and entry["doc"]
        space = nasnet_space if "nodes" in entry.get("params", {}) else eval_space
        assert fmt.from_value(space, entry["value"]) == fmt.to_arch(space, fmt.GENOTYPES[name])


def test_old_names_still_work(darts):
    assert darts.validate(fmt.from_genotype(fmt.DARTS_V2)) == fmt.to_arch(darts, fmt.DARTS_V2)


def _with(genotype, **changes):
    return genotype._replace(**changes)


@pytest.mark.parametrize("genotype,message", [
    (_with(fmt.DARTS_V2, normal=fmt.DARTS_V2.normal[:6]), "'normal' has 6 .op, input. pairs; this space's cells "
                                                            "have 4 nodes, so it needs 8"),
    (_with(fmt.DARTS_V2, reduce=[("sep_conv_7x7", 0)] + fmt.DARTS_V2.reduce[1:]),
     "uses op 'sep_conv_7x7', which is not in this space's op list"),
    (_with(fmt.DARTS_V2, normal=fmt.DARTS_V2.normal[:2] + [("skip_connect", 3)] + fmt.DARTS_V2.normal[3:]),
     "node 3 of 'normal' reads input 3, but only nodes 0..2 come before it"),
    (_with(fmt.DARTS_V2, normal=[("skip_connect", 1)] + fmt.DARTS_V2.normal[1:]), "reads input 1 twice"),
    (_with(fmt.DARTS_V2, normal_concat=[4, 5]), "'normal_concat' is \\[4, 5\\], but this space's cell "
                                                 "concatenates every intermediate node"),
    (_with(fmt.DARTS_V2, reduce=[("sep_conv_3x3", "0")] + fmt.DARTS_V2.reduce[1:]), "is not an \\(op, input\\) pair"),
    ({"normal": fmt.DARTS_V2.normal}, "the genotype has no 'reduce' list"),
])
def test_bad_genotypes_are_clear_errors(genotype, message, darts):
    with pytest.raises(nasl.InvalidArchitecture, match=message):
        fmt.to_arch(darts, genotype)


def test_nasnet_needs_its_own_space_parameters(darts, nasnet_space):
    with pytest.raises(nasl.InvalidArchitecture, match="load the space with nodes=N"):
        fmt.to_arch(darts, fmt.NASNET)
    with pytest.raises(nasl.InvalidArchitecture, match="the nodes no other node reads"):
        fmt.to_arch(nasnet_space, _with(fmt.NASNET, reduce_concat=[2, 3, 4, 5, 6]))


def test_from_value_rejects_what_is_not_a_genotype(darts):
    with pytest.raises(nasl.InvalidArchitecture, match="is an object with normal"):
        fmt.from_value(darts, [["sep_conv_3x3", 0]])
    with pytest.raises(nasl.InvalidArchitecture, match="has no field 'normal_cat'"):
        fmt.from_value(darts, {"normal_cat": []})


def test_the_op_list_must_name_darts_ops():
    with pytest.raises(nasl.NaslError, match="KNOWN_OPS"):
        nasl.load(example("darts.nas"), ops=["sep_conv_3x3", "sep_conv_9x9"])
    small = nasl.load(example("darts.nas"), ops=["sep_conv_3x3", "skip_connect"])
    assert small.size() == (180 * 2 ** 8) ** 2


def test_any_namedtuple_with_the_four_fields_is_a_genotype(darts):
    from collections import namedtuple
    Theirs = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
    theirs = Theirs(**fmt.DARTS_V1._asdict())
    assert fmt.to_arch(darts, theirs) == fmt.to_arch(darts, dict(fmt.DARTS_V1._asdict()))


def test_pc_darts_imagenet_preset_has_the_official_count():
    # quark0/darts' NetworkImageNet at C=48, 14 layers, 1000 classes, PC-DARTS' ImageNet genotype
    from nasl.formats.presets import load_preset
    space, arch = load_preset(example("darts.nas"), "PC_DARTS_image", nasl.load)
    model = compile(space, arch)
    assert model.input_shapes == {"x": (3, 224, 224)}
    assert count_params(model) == 5_342_464


def test_imagenet_network_reduces_224_to_7_and_trains():
    space = nasl.load(example("darts.nas"), C=8, layers=3, imagenet=True)
    from nasl.compiler.infer import infer_shapes
    arch = space.sample(0)
    shapes = infer_shapes(space.realize(arch))
    # stems 224 -> 56 -> 28; the reduction cells (layers 1 and 2) -> 14 -> 7
    cells = [tuple(s) for n, s in shapes.items() if n.endswith("out.concat")]
    assert [c[1:] for c in cells] == [(28, 28), (14, 14), (7, 7)]
    model = compile(space, arch)
    model(torch.randn(1, 3, 224, 224)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_imagenet_network_refuses_the_auxiliary_head():
    with pytest.raises(nasl.NaslError, match="auxiliary"):
        nasl.load(example("darts.nas"), imagenet=True, auxiliary=True).sample(0)


def test_an_all_none_node_of_a_reduction_cell_has_the_reduced_shape():
    # a reduction-cell node reading two intermediate nodes through `none` edges: its zeros take the
    # first picked node's (reduced) shape, not the cell input's (the cell's concat failed before)
    ops = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
           "dil_conv_3x3", "dil_conv_5x5"]
    space = nasl.load(example("darts.nas"), C=4, layers=3, ops=ops)
    arch = dict(space.sample(seed=0))
    for j in range(2, 6):
        arch[f"reduction.node[{j}].edge[0]"] = arch[f"reduction.node[{j}].edge[1]"] = "sep_conv_3x3"
    arch["reduction.node[4].inputs"] = (2, 3)
    arch["reduction.node[4].edge[0]"] = arch["reduction.node[4].edge[1]"] = "none"
    model = nasl.compile(space, arch)
    import torch
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
