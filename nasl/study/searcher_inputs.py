"""The optional inputs a study hands its searcher: an encoder and a cost.

A study records its searcher options as JSON, so these two are named, not
passed as callables: ``searcher_options={"encoder": "path"}`` (or ``-O
encoder=path`` on the command line) becomes a callable built here from the
space, each time the searcher is created (also on resume).

- ``encoder``: ``"onehot"`` (from the choice spec alone), ``"path"`` (the
  BANANAS path encoding of the space's first DAG cell) or ``"adjacency"``
  (its adjacency matrix plus op one-hots); see :mod:`nasl.ir.encodings`.
- ``cost``: ``"params"``, ``"flops"`` or ``"macs"``, computed from the
  realized graph without building the model (:func:`nasl.cost`).
"""
from __future__ import annotations

from typing import Any, Mapping

from nasl.ir.errors import NaslError

ENCODERS = ("onehot", "path", "adjacency")
COSTS = ("params", "flops", "macs")


def resolve_searcher_options(options: Mapping[str, Any], space) -> dict:
    """``options`` with a named ``encoder`` / ``cost`` replaced by its callable."""
    out = dict(options)
    if out.get("encoder") is not None:
        out["encoder"] = make_encoder(space, out["encoder"])
    if out.get("cost") is not None:
        out["cost"] = make_cost(space, out["cost"])
    return out


def check_searcher_options(options: Mapping[str, Any]) -> None:
    """Refuse encoder/cost values that cannot be recorded or are unknown, before the study starts."""
    for key, known in (("encoder", ENCODERS), ("cost", COSTS)):
        value = options.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise NaslError(f"give the searcher's {key} by name ({', '.join(known)}), not as "
                            f"{type(value).__name__}: a study records its options as JSON")
        if value not in known:
            raise NaslError(f"unknown {key} '{value}'; expected one of {', '.join(known)}")


def make_encoder(space, name: str):
    """The ``Architecture -> vector`` callable called ``name``."""
    check_searcher_options({"encoder": name})
    if name == "onehot":
        from nasl.searchers.encoding import OneHotEncoder
        return OneHotEncoder(space.spec)
    from nasl.ir.encodings import graph_encoder
    try:
        return graph_encoder(space, name)
    except (ValueError, LookupError) as e:
        raise NaslError(f"the '{name}' encoder needs a DAG cell in the space: {e}") from None


def make_cost(space, name: str):
    """The ``Architecture -> float`` callable that measures ``name`` from the realized graph."""
    check_searcher_options({"cost": name})

    def cost(arch) -> float:
        import nasl
        return float(getattr(nasl.cost(space, arch), name))
    return cost
