"""A chain of width and depth transformations applied in order: ``net2wider width; net2deeper depth``.

EAS (Cai et al. 2018) changes a network by several Net2Wider and Net2Deeper actions, then trains
only the result. A lineage names that chain with the steps in order, separated by ``;``. Each
step takes its choice to the next value of its domain (``value=None``). So a step names one
action, and ``net2wider width; net2wider width`` widens twice. The chain preserves the parent's
function when every step does.
"""
from __future__ import annotations

from nasl.ir.errors import NaslError
from nasl.morph.deeper import net2deeper, remove_layer
from nasl.morph.graphs import Morph
from nasl.morph.wider import net2wider, shrink

STEPS = {"net2wider": net2wider, "net2deeper": net2deeper, "shrink": shrink, "remove_layer": remove_layer}


def parse_chain(transformation: str) -> list[tuple[str, str]]:
    """``[(kind, choice path), ...]`` of a ``;``-separated chain, each step checked."""
    steps = []
    for part in transformation.split(";"):
        kind, _, path = part.strip().partition(" ")
        if kind not in STEPS or not path.strip():
            raise NaslError(f"'{part.strip()}' in the chain '{transformation}' is not a step "
                            f"'<kind> <choice path>' of a kind {', '.join(STEPS)}")
        steps.append((kind, path.strip()))
    return steps


def apply_chain(space, arch, state: dict, transformation: str) -> Morph:
    """Apply the steps of ``transformation`` to ``arch`` and its weights ``state``, in order.

    ``inherited`` is the product of the steps' fractions. That is exact where only the last
    step adds fresh weights (widen first, then deepen, as EAS does), and an estimate otherwise.
    A step the space cannot express raises the step's own NaslError, which names the choice path.
    """
    preserving, inherited, done = True, 1.0, []
    m = None
    for kind, path in parse_chain(transformation):
        m = STEPS[kind](space, arch, state, path)
        arch, state = m.arch, m.state_dict
        preserving, inherited = preserving and m.preserving, inherited * m.inherited
        done.append(m.transformation)
    return Morph(m.arch, m.state_dict, "; ".join(done), preserving=preserving, inherited=inherited)
