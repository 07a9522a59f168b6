"""What every transformation reads: the realized graph of an architecture with its shapes and
state_dict key prefixes, the parent's weights grouped by node, and the result type.

A node's tensors are the state_dict entries under its submodule path
(:func:`nasl.compiler.build.module_paths`), so a transformation works on ``{suffix: tensor}``
per node (``conv.weight``, ``bn.running_mean``) and never on a built module of the parent.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from nasl.compiler.node_identity import NodeTable, fresh_state, plain
from nasl.ir.architecture import Architecture
from nasl.ir.errors import NaslError


@dataclass(frozen=True)
class Morph:
    """The result of a transformation.

    ``arch`` is the child (a point of the same space), ``state_dict`` its weights. ``preserving``
    says whether the child computes the parent's function in eval mode (N2N's shrink and layer
    removal, and plain inheritance, do not). ``inherited`` is the fraction of the child's
    tensor elements that came from the parent (copied or derived), the rest are fresh.
    """

    arch: Architecture
    state_dict: dict
    transformation: str
    preserving: bool
    inherited: float
    notes: tuple = field(default=())


class Realized:
    """An architecture's ArchGraph with shapes, submodule paths and (optionally) its weights by node.

    The per-node facts (op, params, module path, input shapes) are the compiler's node identity
    (:class:`nasl.compiler.node_identity.NodeTable`), which the ``bank`` supernet keys by too."""

    def __init__(self, space, arch, state: dict | None = None, who: str = "parent", input_shape=None,
                 graph=None, built: "Built | None" = None):
        self.arch = space.validate(arch)
        # a caller that already realized this architecture (to compile it) passes its graph, or the
        # whole Built child (graph and fresh state_dict)
        self.built = built
        if built is not None:
            graph = built.graph
        self.graph = space.realize(self.arch) if graph is None else graph
        self.table = NodeTable(self.graph, input_shape)
        self.ops = self.table.ops
        self.paths = self.table.paths
        self.state = state
        self.who = who
        self._by_node = None

    @property
    def shapes(self) -> dict:
        """``{node: output shape}``, inferred on first use (inheritance needs none)."""
        return self.table.shapes

    def op(self, n) -> str:
        return self.table.op(n)

    def params(self, n) -> dict:
        return self.table.params(n)

    def inputs(self, n) -> list:
        return self.graph.inputs_of(n)

    def in_shapes(self, n) -> tuple:
        return self.table.in_shapes(n)

    def signature(self, n) -> tuple:
        """What must agree for two nodes to hold interchangeable weights: op, params, input shapes."""
        return (self.op(n), plain(self.params(n)), self.in_shapes(n))

    def tensors(self, n) -> dict:
        """``{suffix: tensor}`` of node ``n`` in this architecture's weights (empty for weightless ops)."""
        if self.state is None:
            return {}
        if self._by_node is None:       # grouped once: a scan per node would cost O(nodes x keys)
            self._by_node = self.table.by_node(self.state)
        return self._by_node.get(n, {})


@dataclass(frozen=True)
class Built:
    """A child the caller has already realized and compiled: its architecture, realized graph and
    fresh ``state_dict`` (say ``model.state_dict()``). A transformation given one (``built=``)
    realizes and initialises the child no second time, and refuses, naming both ids, a result that
    is not ``arch`` (what the caller expected)."""

    arch: Architecture
    graph: object
    state: dict


def child_of(space, arch, what: str, input_shape=None, built: Built | None = None) -> Realized:
    """The child ``arch`` realized, or ``built``'s graph where it is that architecture."""
    arch = space.validate(arch)
    if built is None:
        return Realized(space, arch, who="child", input_shape=input_shape)
    if dict(built.arch) != dict(arch):
        raise NaslError(f"{what} gives architecture {arch.id}, not the expected {space.validate(built.arch).id}")
    return Realized(space, arch, who="child", input_shape=input_shape, built=built)


def fresh(child: Realized) -> dict:
    """A freshly initialised state_dict for the child (what the compiler would train from): the
    caller's own (a copy of the dict, its tensors shared) where the child came ``built``."""
    if child.built is not None:
        return dict(child.built.state)
    return fresh_state(child.graph, child.table.input_shape)


def by_node(child: Realized, state: dict) -> dict:
    """``{node: {suffix: tensor}}`` over ``state`` (keys under no node are left out)."""
    return child.table.by_node(state)


def check_weights(parent: Realized, expected: dict | None = None):
    """One line naming the first tensor of ``parent.state`` that does not fit its architecture.

    ``expected`` is ``{key: shape}`` of that architecture (compiled once when not given)."""
    if not isinstance(parent.state, dict):
        raise NaslError(f"the {parent.who}'s weights must be a state_dict (a dict of tensors), "
                        f"got {type(parent.state).__name__}")
    if expected is None:
        expected = expected_shapes(parent)
    for k, shape in expected.items():
        got = parent.state.get(k)
        if got is None:
            raise NaslError(f"the {parent.who}'s weights are not those of architecture {parent.arch.id}: "
                            f"'{k}' is missing")
        if tuple(got.shape) != shape:
            raise NaslError(f"the {parent.who}'s weights are not those of architecture {parent.arch.id}: "
                            f"'{k}' has shape {list(got.shape)}, the architecture needs {list(shape)}")
    extra = sorted(set(parent.state) - set(expected))
    if extra:
        raise NaslError(f"the {parent.who}'s weights are not those of architecture {parent.arch.id}: "
                        f"'{extra[0]}' belongs to no layer of it")


_SHAPES: dict = {}        # (builder, op, params, input shapes) -> {suffix: shape}; see expected_shapes


def expected_shapes(r: Realized) -> dict:
    """``{key: shape}`` of the state_dict of ``r``'s architecture, without compiling it.

    A layer's tensor shapes are fixed by its builder, op, params and input shapes, and a space has
    few such configurations (digits: a few dozen), so each is built once per process and its
    shapes kept: checking a parent's weights then costs no module construction, which was most
    of a compile's cost (and of a lineage child's overhead, BENCHMARKS.md section 54)."""
    from torch import nn

    from nasl.compiler.op_rules import get_builder
    out = {}
    for n in r.table.plan.order:
        prefix = r.paths.get(n)
        if prefix is None:
            continue
        op, params, ins = r.op(n), r.params(n), [tuple(r.shapes[u]) for u in r.table.plan.inputs[n]]
        builder = get_builder(op)
        key = (builder, op, plain(params), tuple(ins))
        shapes = _SHAPES.get(key)
        if shapes is None:
            with torch.random.fork_rng(devices=[]):    # whether the cache was warm must not move the RNG
                impl, _ = builder(params, ins)
            shapes = ({k: tuple(v.shape) for k, v in impl.state_dict().items()}
                      if isinstance(impl, nn.Module) else {})
            if len(_SHAPES) > 4096:       # a bound, for processes that see many spaces
                _SHAPES.clear()
            _SHAPES[key] = shapes
        out.update({f"{prefix}.{k}": v for k, v in shapes.items()})
    return out


def moved(space, arch: Architecture, path: str, value, what: str, fill: dict | None = None) -> Architecture:
    """``arch`` with ``path`` set to ``value``, refused with the path named when the space has no such point.

    Choices that become active take their value from ``fill`` (``{path: value}``), else their
    domain's first value; choices that become inactive are dropped."""
    if path not in arch:
        active = ", ".join(sorted(arch)[:8])
        raise NaslError(f"{what}: '{path}' is not an active choice of this architecture (active: {active})",
                        path=path)
    given = dict(arch)
    given.update(fill or {})
    given[path] = value

    def answer(choice, values):
        if choice.path in given:
            return given[choice.path]
        dom = getattr(choice, "domain", None)
        if not dom:
            raise NaslError(f"{what}: {path} = {value!r} activates '{choice.path}'; give its value in fill=",
                            path=choice.path)
        return dom[0]
    try:
        return space.validate(space.spec.walk(answer))
    except NaslError as e:
        raise NaslError(f"{what}: the space cannot express {path} = {value!r}: {e.message}", path=path) from None


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def next_value(space, arch, path, value, grow: bool):
    """``value``, or the next larger (``grow``) or smaller value of numeric choice ``path``'s domain."""
    choice = next((c for c in space.spec if c.path == path), None)
    if choice is None or path not in arch:
        return value
    if value is not None:
        return value
    dom = [v for v in choice.domain if is_number(v)]
    cur = arch[path]
    if not is_number(cur) or not dom:
        raise NaslError(f"'{path}' is not a numeric choice (a width or a depth); its domain is "
                        f"{list(choice.domain)}", path=path)
    cands = sorted(v for v in dom if (v > cur if grow else v < cur))
    if not cands:
        raise NaslError(f"'{path}' = {cur!r} is already the {'largest' if grow else 'smallest'} value "
                        f"of its domain {list(choice.domain)}", path=path)
    return cands[0] if grow else cands[-1]


def count(state: dict) -> int:
    return sum(int(v.numel()) for v in state.values() if torch.is_tensor(v) and v.is_floating_point())
