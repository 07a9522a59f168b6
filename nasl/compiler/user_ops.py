"""Errors raised inside a user's registered op become the user's error, at the op's use in the ``.nas`` file.

A user op runs user code while nasl compiles: its builder, its forward
(traced, or run on ``meta`` tensors for its shape), its shape or cost rule.
An exception there is not a nasl bug, so it must not read "internal error,
please report". :func:`reraise` turns it into a one-line
:class:`NaslError` that names the op and points at the op's span; the
original exception stays chained (``--traceback`` shows where it came
from). An exception inside one of nasl's own ops still propagates, as the
bug it is.
"""
from __future__ import annotations

from nasl.ir.errors import NaslError

_MAX = 200          # characters of the user's message kept on the line


def _is_users(fn) -> bool:
    module = getattr(fn, "__module__", None) or ""
    return fn is not None and module != "nasl" and not module.startswith("nasl.")


def is_user_op(op: str) -> bool:
    """Whether any code that nasl runs for ``op`` (builder, shape rule, cost rule) is the user's."""
    from nasl.compiler.op_rules import get_builder, get_shape_rule, raw_cost_rule
    return any(_is_users(f) for f in (get_builder(op), get_shape_rule(op), raw_cost_rule(op)))


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= _MAX else line[:_MAX] + " ..."


def reraise(e: Exception, node: str, data: dict, stage: str):
    """Raise what ``e``, raised by op ``data["op"]`` (graph node ``node``) during ``stage``, becomes.

    Call it from an ``except Exception as e`` around the op's code (a
    ``try`` costs nothing until it raises, unlike a context manager, which
    would cost ~3 us per op in every compile). A :class:`NaslError` gets the
    op's span when it has none; an exception of nasl's own ops propagates
    unchanged.
    """
    if isinstance(e, NaslError):
        raise e.at(data.get("span"))
    op = data.get("op")
    if not is_user_op(op):
        raise e
    message = _first_line(e)
    where = "" if node == op else f" at '{node}'"      # the span: the file; this: the network
    raise NaslError(f"op '{op}'{where} raised {type(e).__name__} {stage}"
                    + (f": {message}" if message else ""), data.get("span"), path=node) from e


__all__ = ["reraise", "is_user_op"]
