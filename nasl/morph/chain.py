"""A chain of transformations applied in order: ``net2wider width; net2deeper depth``.

EAS (Cai et al. 2018) changes a network by several Net2Wider and Net2Deeper actions, then trains
only the result. A lineage names that chain with the steps in order, separated by ``;``; a single
transformation (``net2wider width``) is a chain of one, so every lineage transformation goes
through :func:`apply_chain`. A step is ``<kind> <argument>``: for the width and depth kinds the
argument is a choice path, for the path-level ones the tree node, branch or edge. A width or
depth step takes its choice to the next value of its domain, except the last step on that choice
when a ``target`` architecture is given, which takes the target's value: so ``net2wider width``
towards a child of width 32 widens 16 -> 32 in one step, and ``net2wider width; net2wider
width`` widens twice. The chain preserves the parent's function when every step does.
"""
from __future__ import annotations

from nasl.ir.errors import NaslError
from nasl.morph.deeper import net2deeper, remove_layer
from nasl.morph.graphs import Built, Morph
from nasl.morph.paths import insert_node, replace_identity, replicate_path, split_path
from nasl.morph.wider import net2wider, shrink

STEPS = {"net2wider": net2wider, "net2deeper": net2deeper, "shrink": shrink, "remove_layer": remove_layer,
         "replicate_path": replicate_path, "split_path": split_path, "insert_node": insert_node,
         "replace_identity": replace_identity}
VALUED = ("net2wider", "net2deeper", "shrink", "remove_layer")       # their argument is a numeric choice


def parse_chain(transformation: str) -> list[tuple[str, str]]:
    """``[(kind, argument), ...]`` of a ``;``-separated chain, each step checked."""
    steps = []
    for part in transformation.split(";"):
        kind, _, arg = part.strip().partition(" ")
        if kind not in STEPS or not arg.strip():
            raise NaslError(f"'{part.strip()}' in the chain '{transformation}' is not a step "
                            f"'<kind> <choice path>' of a kind {', '.join(STEPS)}")
        steps.append((kind, arg.strip()))
    return steps


def apply_chain(space, arch, state: dict, transformation: str, *, target=None, input_shape=None,
                built: Built | None = None, noise: float = 0.0, seed: int = 0,
                allow_inexact: bool = False) -> Morph:
    """Apply the steps of ``transformation`` to ``arch`` and its weights ``state``, in order.

    ``target`` (the architecture the caller expects) sets the last value of each width or depth
    choice; ``built`` (that architecture already compiled) serves the last step, so the chain's
    child is realized and initialised once. ``noise`` and ``seed`` go to the Net2Wider steps,
    ``allow_inexact`` to replace_identity. ``inherited`` is the product of the steps' fractions:
    exact where only the last step adds fresh weights (widen first, then deepen, as EAS does), an
    estimate otherwise. A step the space cannot express raises its own NaslError, naming the path.
    """
    steps = parse_chain(transformation)
    preserving, inherited, done = True, 1.0, []
    m = None
    for i, (kind, arg) in enumerate(steps):
        kw = {"input_shape": input_shape, "built": built if i == len(steps) - 1 else None}
        args = [arg]
        if kind in VALUED and target is not None and arg in target and all(a != arg for _, a in steps[i + 1:]):
            args.append(target[arg])
        if kind == "net2wider":
            kw.update(noise=noise, seed=seed + i)
        elif kind == "replace_identity":
            kw["allow_inexact"] = allow_inexact
        m = STEPS[kind](space, arch, state, *args, **kw)
        arch, state = m.arch, m.state_dict
        preserving, inherited = preserving and m.preserving, inherited * m.inherited
        done.append(m.transformation)
    return Morph(m.arch, m.state_dict, "; ".join(done), preserving=preserving, inherited=inherited)
