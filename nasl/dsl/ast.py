"""The abstract syntax tree: plain dataclasses, each carrying its source span.

Nodes compare by identity (``eq=False``) because the elaborator memoises on
them, and two textually equal expressions at different places are different
program points.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple, Union

from nasl.ir.errors import Span


@dataclass(eq=False)
class Node:
    span: Span


# ---------------------------------------------------------------- expressions
@dataclass(eq=False)
class Num(Node):
    value: Union[int, float]


@dataclass(eq=False)
class Str(Node):
    value: str


@dataclass(eq=False)
class Bool(Node):
    value: bool


@dataclass(eq=False)
class Name(Node):
    id: str


@dataclass(eq=False)
class ListExpr(Node):
    items: Tuple["Expr", ...]


@dataclass(eq=False)
class TupleExpr(Node):
    items: Tuple["Expr", ...]


@dataclass(eq=False)
class Call(Node):
    func: "Expr"
    args: Tuple["Expr", ...]
    kwargs: Tuple[Tuple[str, "Expr"], ...]


@dataclass(eq=False)
class Index(Node):
    obj: "Expr"
    index: "Expr"


@dataclass(eq=False)
class BinOp(Node):
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(eq=False)
class UnaryOp(Node):
    op: str          # "-" or "not"
    operand: "Expr"


@dataclass(eq=False)
class Cond(Node):
    test: "Expr"
    then: "Expr"
    orelse: "Expr"


@dataclass(eq=False)
class SeqExpr(Node):
    """``left >> right``: feed left into right, or compose two functions."""
    left: "Expr"
    right: "Expr"


@dataclass(eq=False)
class Labelled(Node):
    """``expr as name``: names a choice, a call's scope or an alternative."""
    expr: "Expr"
    label: str


@dataclass(eq=False)
class EdgeStmt(Node):
    src: str
    dst: str
    where: Optional["Expr"]
    op: "Expr"


@dataclass(eq=False)
class NodeStmt(Node):
    var: str
    where: Optional["Expr"]
    kwargs: Tuple[Tuple[str, "Expr"], ...]


@dataclass(eq=False)
class Dag(Node):
    kwargs: Tuple[Tuple[str, "Expr"], ...]
    edges: Tuple[EdgeStmt, ...]
    nodes: Tuple[NodeStmt, ...]
    requires: Tuple["Require", ...]


Expr = Union[Num, Str, Bool, Name, ListExpr, TupleExpr, Call, Index, BinOp, UnaryOp, Cond,
             SeqExpr, Labelled, Dag]


# ----------------------------------------------------------------- statements
@dataclass(eq=False)
class Assign(Node):
    targets: Tuple[str, ...]
    values: Tuple[Expr, ...]


@dataclass(eq=False)
class For(Node):
    vars: Tuple[str, ...]
    iterable: Expr
    body: Tuple["Stmt", ...]


@dataclass(eq=False)
class Repeat(Node):
    count: Expr
    var: Optional[str]
    body: Tuple["Stmt", ...]


@dataclass(eq=False)
class If(Node):
    branches: Tuple[Tuple[Expr, Tuple["Stmt", ...]], ...]
    orelse: Tuple["Stmt", ...]


@dataclass(eq=False)
class Return(Node):
    values: Tuple[Expr, ...]


@dataclass(eq=False)
class Require(Node):
    expr: Expr
    message: Optional[str]
    negate: bool = False      # True for ``forbid``


Stmt = Union[Assign, For, Repeat, If, Return, Require]


# --------------------------------------------------------------- declarations
@dataclass(eq=False)
class Param(Node):
    name: str
    default: Optional[Expr]


@dataclass(eq=False)
class ParamDecl(Node):
    name: str
    value: Expr


@dataclass(eq=False)
class LetDecl(Node):
    name: str
    value: Expr


@dataclass(eq=False)
class InputDecl(Node):
    name: str
    shape: Expr


@dataclass(eq=False)
class DefDecl(Node):
    """``def f(params)(inputs) {body}`` or ``def f(params) = expr``."""
    name: str
    params: Optional[Tuple[Param, ...]]      # None for ``def f = expr``
    inputs: Optional[Tuple[Param, ...]]      # None for expression-bodied defs
    body: Union[Tuple[Stmt, ...], Expr]


@dataclass(eq=False)
class GenotypeDecl(Node):
    name: str
    value: Expr


@dataclass(eq=False)
class NetworkDecl(Node):
    body: Tuple[Stmt, ...]


@dataclass(eq=False)
class Program:
    items: Tuple[Node, ...]
    file: str
    source: str = field(repr=False)
