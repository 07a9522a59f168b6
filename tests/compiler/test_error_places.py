"""Shape and constraint errors show the source line with a caret, and a merge's mismatch points at
the op that made the odd input (issue 14, bug 8). They used to carry only file:line:col, at the merge."""
from __future__ import annotations

import pytest

pytest.importorskip("torch")

import nasl  # noqa: E402
from nasl.cli import main  # noqa: E402

MERGE = "input x: [3, 8, 8]\nnetwork {\n    a = x >> conv(8)\n    b = x >> conv(16)\n    return add(a, b)\n}\n"
CONSTRAINT = ("input x: [3, 8, 8]\nnetwork {\n    a = choice(1, 2, 3) as a\n    require a > 1\n"
              "    return x >> conv(4)\n}\n")


def test_a_merge_mismatch_points_at_the_op_that_made_the_odd_width():
    space = nasl.loads(MERGE, "m.nas")
    with pytest.raises(nasl.NaslError) as e:
        nasl.compile(space, {})
    text = e.value.render()
    assert text.splitlines() == [
        "m.nas:4:14: error: shape mismatch at 'add' (add): cannot add tensors of different shapes: [8, 8, 8], "
        "[16, 8, 8]; 'conv_1' (conv) makes [16, 8, 8], where the first input has [8, 8, 8]",
        "   4 |     b = x >> conv(16)",
        "                    ^^^^^^^^",
        "  = hint: merged by 'add' (add) at 5:12; input shapes: [8, 8, 8], [16, 8, 8]"]


def test_cost_errors_draw_the_caret_too():
    with pytest.raises(nasl.NaslError) as e:
        nasl.cost(nasl.loads(MERGE, "m.nas"), {})
    assert "   4 |     b = x >> conv(16)" in e.value.render()


def test_a_mismatch_with_no_op_to_blame_stays_at_the_merge():
    space = nasl.loads(MERGE.replace("return add(a, b)", "return add(b, x)"), "m.nas")
    with pytest.raises(nasl.NaslError) as e:
        nasl.compile(space, {})
    assert (e.value.span.line, e.value.span.col) == (5, 12) and "   5 |     return add(b, x)" in e.value.render()


@pytest.mark.parametrize("call", [lambda s: s.validate({"a": 1}), lambda s: s.realize({"a": 1}),
                                  lambda s: nasl.compile(s, {"a": 1})])
def test_constraint_violations_draw_the_caret(call):
    with pytest.raises(nasl.ConstraintViolation) as e:
        call(nasl.loads(CONSTRAINT, "c.nas"))
    assert e.value.render().splitlines()[1:] == ["   4 |     require a > 1", "           ^^^^^^^^^^^^^"]


def test_the_cli_draws_the_caret_for_compile(tmp_path, capsys):
    (tmp_path / "m.nas").write_text(MERGE)
    assert main(["compile", str(tmp_path / "m.nas"), "--arch", "{}"]) == 1
    err = capsys.readouterr().err
    assert "   4 |     b = x >> conv(16)\n                    ^^^^^^^^\n" in err
