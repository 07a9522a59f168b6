"""How a choice of a ChoiceSpec becomes Optuna parameters, and back (the tables of optuna_adapter.py)."""
from __future__ import annotations

from nasl.ir.choice import Choice

MAX_CATEGORICAL = 1000
_PLAIN = (str, int, float, bool, type(None))


def distribution(optuna, kind, args):
    d = optuna.distributions
    if kind == "int":
        lo, hi, step, log = args
        return d.IntDistribution(lo, hi, step=step, log=log)
    if kind == "float":
        return d.FloatDistribution(args[0], args[1], log=args[2])
    return d.CategoricalDistribution(args)


def layout(c: Choice, ordinal: bool):
    """``(params, decode, encode)``: the Optuna parameters of ``c`` and the maps to and from its value."""
    p = c.path
    numeric = c.numeric_range()         # the choice's kind says whether Optuna sees a number
    if numeric is not None:
        kind, args = numeric
        as_value = float if kind == "float" else (lambda v: v)
        return [(p, kind, args)], (lambda raw: raw[0]), (lambda v: [as_value(v)])
    if c.keyed and c.cardinality() > MAX_CATEGORICAL:
        return _random_keys(c)
    values = list(c.values())
    if ordinal and len(values) > 1:
        return ([(p, "int", (0, len(values) - 1, 1, False))], (lambda raw: values[raw[0]]),
                (lambda v: [_index(values, v)]))
    if c.categorical and all(type(v) in _PLAIN for v in values) and _distinct(values):
        return [(p, "categorical", tuple(values))], (lambda raw: raw[0]), (lambda v: [values[_index(values, v)]])
    return ([(p, "categorical", tuple(range(len(values))))], (lambda raw: values[raw[0]]),
            (lambda v: [_index(values, v)]))


def _random_keys(c: Choice):
    items = list(c.domain)
    n = len(items)
    params = [(f"{c.path}[{i}]", "float", (0.0, 1.0, False)) for i in range(n)]

    def encode(value):
        return c.to_keys({_index(items, v): k for k, v in enumerate(value)})
    return params, c.from_keys, encode


def _index(values, v) -> int:
    from nasl.ir.choice import same_value
    for i, x in enumerate(values):
        if same_value(v, x) or (isinstance(v, (list, tuple)) and tuple(v) == tuple(x)):
            return i
    raise ValueError(f"{v!r} is not one of the values of that choice")


def _distinct(values) -> bool:
    from nasl.ir.choice import same_value
    return not any(same_value(a, b) for i, a in enumerate(values) for b in values[i + 1:])
