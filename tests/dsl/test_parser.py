"""The parser: the AST it builds for each construct, the spans it records, its syntax errors."""
from __future__ import annotations

import builtins

import pytest

import nasl
from nasl import NaslError, NaslSyntaxError
from nasl.dsl import ast as A
from nasl.dsl.parser import parse
from tests.conftest import EXAMPLES


def text_of(src: str, span) -> str:
    """The source text a span covers (lines and columns count from 1)."""
    lines = src.split("\n")
    if span.line == span.end_line:
        return lines[span.line - 1][span.col - 1:span.end_col - 1]
    parts = [lines[span.line - 1][span.col - 1:]] + lines[span.line:span.end_line - 1]
    return "\n".join(parts + [lines[span.end_line - 1][:span.end_col - 1]])


def items(src: str):
    return parse(src, "t.nas").items


def one(src: str):
    (item,) = items(src)
    return item


def expr(src: str):
    """The AST of an expression, parsed as the value of a let."""
    return one(f"let v = {src}").value


# ------------------------------------------------------------ declarations
def test_program_keeps_file_and_source():
    src = "param C = 16\n"
    prog = parse(src, "space.nas")
    assert prog.file == "space.nas" and prog.source == src
    assert prog.items[0].span.file == "space.nas"


def test_param_let_input_genotype():
    src = "param C = 16\nlet w = choice(1, 2)\ninput x: [3, 32, 32]\ngenotype g = cell(k=5)"
    p, l, i, g = items(src)
    assert isinstance(p, A.ParamDecl) and p.name == "C" and p.value.value == 16
    assert isinstance(l, A.LetDecl) and l.name == "w" and isinstance(l.value, A.Call)
    assert isinstance(i, A.InputDecl) and i.name == "x" and [n.value for n in i.shape.items] == [3, 32, 32]
    assert isinstance(g, A.GenotypeDecl) and g.name == "g" and g.value.kwargs[0][0] == "k"
    assert [text_of(src, d.span) for d in (p, l, i, g)] == src.split("\n")


def test_def_with_parameters_inputs_and_block():
    src = "def block(c, k=3)(h, skip) {\n    y = h >> conv(c, k=k)\n    return add(y, skip)\n}"
    d = one(src)
    assert isinstance(d, A.DefDecl) and d.name == "block"
    assert [(p.name, p.default.value if p.default else None) for p in d.params] == [("c", None), ("k", 3)]
    assert [p.name for p in d.inputs] == ["h", "skip"]
    assert [type(s) for s in d.body] == [A.Assign, A.Return]
    assert text_of(src, d.span) == src
    assert text_of(src, d.params[1].span) == "k=3"
    assert text_of(src, d.body[1].span) == "return add(y, skip)"


def test_def_as_expression_and_as_constant():
    f, g, h = items("def f(c) = conv(c)\ndef g() = relu\ndef h = [1, 2]")
    assert [p.name for p in f.params] == ["c"] and f.inputs is None and isinstance(f.body, A.Call)
    assert g.params == () and g.inputs is None
    assert h.params is None and h.inputs is None and isinstance(h.body, A.ListExpr)


def test_trailing_commas_and_semicolons():
    d, n = items("def f(a, b,)(h,) { return h; };;\nnetwork { x = [1, 2,]; return x }")
    assert [p.name for p in d.params] == ["a", "b"] and [p.name for p in d.inputs] == ["h"]
    assert len(n.body) == 2 and len(n.body[0].values[0].items) == 2


def test_comments_are_ignored():
    d = one("# heading\nparam C = 16  # trailing comment\n# the end")
    assert d.name == "C" and d.span.line == 2


# -------------------------------------------------------------- statements
NET = """network {
    a = x
    a, b = b, a
    for i, c in enumerate([1, 2]) { a = a >> conv(c) }
    repeat n as k { b = b >> relu }
    repeat 2 { b = b }
    if a > 1 { b = 1 } elif not b { b = 2 } elif c { b = 3 } else { b = 4 }
    if a { b = 5 }
    require a + b <= 5 else "too big"
    forbid a == b
    return a, b
}"""


def test_statements_of_a_block():
    net = one(NET)
    assert isinstance(net, A.NetworkDecl)
    assign, multi, loop, rep, rep2, cond, cond2, req, forbid, ret = net.body
    assert assign.targets == ("a",) and isinstance(assign.values[0], A.Name)
    assert multi.targets == ("a", "b") and [v.id for v in multi.values] == ["b", "a"]
    assert isinstance(loop, A.For) and loop.vars == ("i", "c") and isinstance(loop.iterable, A.Call)
    assert len(loop.body) == 1
    assert isinstance(rep, A.Repeat) and rep.var == "k" and rep.count.id == "n"
    assert rep2.var is None and rep2.count.value == 2
    assert isinstance(cond, A.If) and len(cond.branches) == 3 and len(cond.orelse) == 1
    assert isinstance(cond.branches[1][0], A.UnaryOp) and cond.branches[1][0].op == "not"
    assert cond2.orelse == ()
    assert isinstance(req, A.Require) and req.message == "too big" and req.negate is False
    assert forbid.negate is True and forbid.message is None
    assert isinstance(ret, A.Return) and [v.id for v in ret.values] == ["a", "b"]


def test_statement_spans():
    net = one(NET)
    lines = NET.split("\n")
    for stmt, line in zip(net.body, lines[1:]):
        assert text_of(NET, stmt.span) == line.strip()
    assert text_of(NET, net.span) == NET
    assert text_of(NET, net.body[7].expr.span) == "a + b <= 5"


# ------------------------------------------------------------- expressions
def test_precedence_and_associativity():
    e = expr("1 + 2 * 3 - 4")
    assert e.op == "-" and e.left.op == "+" and e.left.right.op == "*"
    e = expr("a or b and not c == d")
    assert e.op == "or" and e.right.op == "and" and e.right.right.op == "not"
    assert e.right.right.operand.op == "=="
    e = expr("-a // b % c")
    assert e.op == "%" and e.left.op == "//" and isinstance(e.left.left, A.UnaryOp)
    e = expr("x >> f >> g + 1")          # '>>' is looser than '+', and left-associative
    assert isinstance(e, A.SeqExpr) and isinstance(e.left, A.SeqExpr) and e.right.op == "+"
    e = expr("a >> b == c >> d")
    assert e.op == "==" and isinstance(e.left, A.SeqExpr) and isinstance(e.right, A.SeqExpr)
    e = expr("a in [1, 2]")
    assert e.op == "in" and isinstance(e.right, A.ListExpr)


def test_ternary_is_right_associative():
    src = "let v = a ? b : c ? d : e"
    e = one(src).value
    assert isinstance(e, A.Cond) and e.test.id == "a" and e.then.id == "b"
    assert isinstance(e.orelse, A.Cond) and e.orelse.test.id == "c"
    assert text_of(src, e.span) == "a ? b : c ? d : e"
    assert text_of(src, e.orelse.span) == "c ? d : e"


def test_labels_apply_to_the_whole_expression():
    src = "let v = x >> conv(choice(3, 5) as k) as layer"
    e = one(src).value
    assert isinstance(e, A.Labelled) and e.label == "layer" and isinstance(e.expr, A.SeqExpr)
    inner = e.expr.right.args[0]
    assert isinstance(inner, A.Labelled) and inner.label == "k"
    assert text_of(src, inner.span) == "choice(3, 5) as k"
    assert text_of(src, e.span) == "x >> conv(choice(3, 5) as k) as layer"


def test_calls_with_keyword_arguments_chained_calls_and_indexing():
    src = "let v = cell(16, k=3, stride=2)(a, b)[0]"
    e = one(src).value
    assert isinstance(e, A.Index) and e.index.value == 0
    outer = e.obj
    assert isinstance(outer, A.Call) and [a.id for a in outer.args] == ["a", "b"] and outer.kwargs == ()
    inner = outer.func
    assert inner.func.id == "cell" and [a.value for a in inner.args] == [16]
    assert [(k, v.value) for k, v in inner.kwargs] == [("k", 3), ("stride", 2)]
    assert text_of(src, inner.span) == "cell(16, k=3, stride=2)"
    assert text_of(src, outer.span) == "cell(16, k=3, stride=2)(a, b)"
    assert expr("f()").args == () and expr("f()").kwargs == ()


def test_lists_tuples_and_parentheses():
    assert expr("[]").items == ()
    assert [i.value for i in expr("[1, 2, 3]").items] == [1, 2, 3]
    t = expr("(1, 2)")
    assert isinstance(t, A.TupleExpr) and [i.value for i in t.items] == [1, 2]
    single = expr("(1,)")
    assert isinstance(single, A.TupleExpr) and len(single.items) == 1
    assert isinstance(expr("(1)"), A.Num)
    nested = expr("[(1, 2), [3]]")
    assert isinstance(nested.items[0], A.TupleExpr) and isinstance(nested.items[1], A.ListExpr)


@pytest.mark.parametrize("src, value", [
    ("16", 16), ("0", 0), ("2.5", 2.5), (".5", 0.5), ("3.", 3.0), ("1e-4", 1e-4), ("2E3", 2000.0),
    ('"abc"', "abc"), ("'abc'", "abc"), (r'"a\"b"', 'a"b'), (r'"tab\there"', "tab\there"), (r'"\x41"', "A"),
    ("true", True), ("false", False),
])
def test_literals(src, value):
    e = expr(src)
    assert e.value == value and type(e.value) is type(value)


def test_literal_spans_cover_the_token():
    src = 'let v = [16, 2.5, "s", true, -3]'
    items_ = one(src).value.items
    assert [text_of(src, i.span) for i in items_] == ["16", "2.5", '"s"', "true", "-3"]
    assert items_[4].op == "-" and items_[4].operand.value == 3


def test_dag_with_edge_node_and_require_statements():
    src = """def cell(c) = dag(nodes=4, prune=true) {
    edge i -> j where i > 0: optional
    edge i -> j: conv(c)
    node j where j < 3: op = conv(c), merge = "sum"
    node k: inputs = pick(2)
    require edges() <= 9 else "at most 9"
    forbid connected()
}"""
    d = one(src).body
    assert isinstance(d, A.Dag)
    assert [(k, text_of(src, v.span)) for k, v in d.kwargs] == [("nodes", "4"), ("prune", "true")]
    e1, e2 = d.edges
    assert (e1.src, e1.dst, text_of(src, e1.where.span), text_of(src, e1.op.span)) == ("i", "j", "i > 0",
                                                                                         "optional")
    assert e2.where is None and text_of(src, e2.span) == "edge i -> j: conv(c)"
    n1, n2 = d.nodes
    assert n1.var == "j" and text_of(src, n1.where.span) == "j < 3"
    assert [k for k, _ in n1.kwargs] == ["op", "merge"] and n1.kwargs[1][1].value == "sum"
    assert n2.var == "k" and n2.where is None and n2.kwargs[0][0] == "inputs"
    r1, r2 = d.requires
    assert r1.message == "at most 9" and not r1.negate and r2.negate
    assert text_of(src, r1.span) == 'require edges() <= 9 else "at most 9"'
    assert text_of(src, d.span) == src[src.index("dag("):]


def test_spans_across_lines():
    src = "let v = choice(\n    1,\n    2)\nparam C = 1"
    e = items(src)[0].value
    assert (e.span.line, e.span.col, e.span.end_line, e.span.end_col) == (1, 9, 3, 7)
    assert items(src)[1].span.line == 4


def test_tabs_count_as_one_column():
    src = "param C =\t16"
    assert one(src).value.span.col == 11
    assert text_of(src, one(src).value.span) == "16"


# ----------------------------------------------------------- syntax errors
def syntax_error(src: str) -> NaslSyntaxError:
    with pytest.raises(NaslSyntaxError) as info:
        parse(src, "t.nas")
    return info.value


SYNTAX_ERRORS = [
    ("network {\n  return x >> conv(3\n}\n", 3, 1, "unexpected '}'", "expected ')', ','"),
    ("param C = ", 1, 10, "unexpected end of file", "expected '('"),
    ("network {\n  return x >> (\n\n# trailing comment\n\n", 2, 16, "unexpected end of file", "a name"),
    ("param C = 16 @\n", 1, 14, "unexpected character '@'", None),
    ("param = 3", 1, 7, "unexpected '='", "expected a name"),
    ("let a = [1, 2\nlet b = 3", 2, 1, "unexpected 'let'", "expected ']', ','"),
    ("let a = 1 ? 2", 1, 14, "unexpected end of file", "expected ':'"),
    ("network { if a { } elif { } }", 1, 25, "unexpected '{'", "'not'"),
    ("edge i -> j: 3", 1, 1, "unexpected 'edge'", "'network'"),
    ("network { return x.y }", 1, 19, "unexpected character '.'", None),
    ("let s = \"abc", 1, 9, "unexpected character '\"'", None),
    ("let 3 = 4", 1, 5, "unexpected number 3", "expected a name"),
    ("let a = f(k=1, k=2)", 1, 16, "keyword argument 'k' given twice", None),
    ("let a = f(k=1, 2)", 1, 16, "positional argument after keyword arguments", None),
    ("let d = dag(4) { }", 1, 13, "dag(...) takes keyword arguments only, e.g. dag(nodes=4)", None),
    ('let s = "a\\qb\\N"', 1, 9, "invalid string literal: malformed \\N character escape", "backslash"),
    ("let s = 'a\rb'", 1, 9, "invalid string literal: it contains the control character U+000D", "escape"),
    ("let n = " + "7" * 5000, 1, 9, "the number has too many digits (5000)", None),
]


@pytest.mark.parametrize("src, line, col, message, hint", SYNTAX_ERRORS,
                         ids=[f"{c[1]}:{c[2]} {c[3][:40]}" for c in SYNTAX_ERRORS])
def test_syntax_errors(src, line, col, message, hint):
    e = syntax_error(src)
    assert (e.span.file, e.span.line, e.span.col) == ("t.nas", line, col)
    assert e.message == message
    if hint is None:
        assert e.hint is None or e.hint.startswith("expected")
    else:
        assert hint in e.hint
    rendered = e.render()
    assert rendered.startswith(f"t.nas:{line}:{col}: error: {message}")


def test_syntax_error_caret_points_at_the_token():
    e = syntax_error("network {\n  return x >> conv(3\n  h = 1\n}")
    assert e.render().split("\n")[1:3] == ["   3 |   h = 1", "         ^"]
    e = syntax_error("param C = 16\nlet = 3")
    assert e.render().split("\n")[1:] == ["   2 | let = 3", "           ^", "  = hint: expected a name"]


def test_the_expected_hint_lists_only_what_can_follow():
    # LALR lookaheads of a merged state would also offer ')', '}' and 'for' inside a list
    assert syntax_error("let a = [1, 2\nlet b = 3").hint == "expected ']', ','"


def test_deep_nesting_is_a_located_error_not_a_crash():
    depth = 3000
    src = "let a = " + "[" * depth + "]" * depth
    e = syntax_error(src)
    assert "nested too deeply" in e.message and e.span.line == 1 and e.span.col > 9
    src = "network {\n" + "if true { " * depth + "}" * depth + "\nreturn x }"
    e = syntax_error(src)
    assert "nested too deeply" in e.message and e.span.line == 2


def test_form_feeds_and_line_separators_do_not_shift_lines():
    # str.splitlines() would split at '\x0c' and '\u2028'; spans count '\n' only
    src = "# page one\x0c page two \u2028 still a comment\nlet a = 1 +"
    e = syntax_error(src)
    assert e.span.line == 2
    assert e.render().split("\n")[1] == "   2 | let a = 1 +"


# ------------------------------------------------------ no code execution
def test_a_space_never_executes_python(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"

    def forbidden(*args, **kwargs):
        raise AssertionError("nasl evaluated Python code")

    # import every module a load uses first: importing a module runs exec()
    for path in EXAMPLES.glob("*.nas"):
        space = nasl.load(path)
        space.realize(space.sample(0))
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    attempts = [
        f'let a = __import__("os").system("touch {marker}")',
        f'let a = eval("open(\'{marker}\', \'w\')")',
        f'let a = exec("open(\'{marker}\', \'w\')")',
        f'let a = open("{marker}", "w")',
        "let a = x.__class__.__bases__",
        "let a = lambda: 1",
        'let a = f"{1 + 1}"',
        "import os",
    ]
    for src in attempts:
        with pytest.raises(NaslError):
            nasl.loads("input x: [3, 8, 8]\n" + src + "\nnetwork { return x }")
    assert not marker.exists()


def test_strings_that_look_like_code_stay_strings():
    code = "__import__('os').system('echo hi')"
    e = expr(f'"{code}"')
    assert isinstance(e, A.Str) and e.value == code
    names = {n.id for n in _walk(expr("__import__(os)")) if isinstance(n, A.Name)}
    assert names == {"__import__", "os"}     # plain names, resolved by the elaborator (and unknown there)


def _walk(node):
    yield node
    for name in getattr(node, "__dataclass_fields__", ()):
        v = getattr(node, name)
        for x in (v if isinstance(v, tuple) else (v,)):
            if isinstance(x, A.Node):
                yield from _walk(x)
