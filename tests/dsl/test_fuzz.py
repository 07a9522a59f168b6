"""Fuzzing: mutated example spaces fail only with located NaslErrors, never with a crash.

Each example in ``examples/`` is mutated at the token level (deleted,
duplicated, swapped and replaced tokens, inserted keywords and punctuation,
stray characters, changed numbers, truncation) from a fixed seed. For every
mutant, ``nasl.loads`` must either succeed or raise a :class:`NaslError`
whose span (each span, for :class:`NaslErrors`) lies in the text and whose
``render()`` works. A mutant that loads is also sampled and realized, which
may raise only NaslErrors.

Random programs, which parse but put values of every kind in every position,
stress the elaborator the same way. ``NASL_FUZZ_MUTATIONS`` sets the number of
mutants per example (default 450: 2,700 mutants and 300 random programs);
``NASL_FUZZ_SEED`` changes the seed, for a longer hunt. The regressions at the
end are inputs that fuzzing found to crash, hang or mislead before.
"""
from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nasl
from nasl import NaslError, NaslErrors
from tests.conftest import EXAMPLES, ROOT

SEED = int(os.environ.get("NASL_FUZZ_SEED", "20240611"))
PER_EXAMPLE = int(os.environ.get("NASL_FUZZ_MUTATIONS", "450"))
LOAD_LIMIT_S = 10.0        # loading a mutant slower than this is reported as a hang
USE_LIMIT_S = 0.5          # sampling and realizing a mutant may be slow (a bigger space): then skipped

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.nas"))
SOURCES = {p.name: p.read_text(encoding="utf-8") for p in EXAMPLE_FILES}

# Rough tokens: strings, comments, names, numbers, two-character operators, any other character, spaces.
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*|[A-Za-z_]\w*'
                   r'|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|->|>>|==|!=|<=|>=|//|\s+|.', re.S)
KEYWORDS = ["param", "let", "input", "def", "genotype", "network", "for", "in", "repeat", "as", "if", "elif",
            "else", "return", "require", "forbid", "dag", "edge", "node", "where", "true", "false", "and",
            "or", "not", "choice", "optional", "boolean", "int_range", "float_range", "subset",
            "permutation", "pick", "range", "select", "edges", "connected", "x", "h", "c", "src"]
PUNCTUATION = ["(", ")", "[", "]", "{", "}", ",", ":", ";", "=", "?", ">>", "->", "+", "-", "*", "/", "//",
               "%", "==", "!=", "<", "<=", ">", ">=", '"s"', "'t'", "0", "1", "-1", "2.5", "1e3"]
STRAY = ["\x00", "\t", "\r", "\x0c", "\u2028", "\ufeff", "\u00e9", "\\", "@", "$", "`", "'", '"', "!", "~",
         "&", "|", "^", ".", "\n", "\\x4", "\\N"]
NUMBERS = ["0", "1", "2", "3", "5", "-1", "0.5", "1e-3", "12"]


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` in nasl swallows it."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise _Timeout after ``seconds`` (Linux, main thread); elsewhere no limit."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def fire(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def mutate(rng: random.Random, text: str) -> str:
    """One to three token-level edits of ``text``, or a truncation."""
    toks = TOKEN.findall(text)
    where = [i for i, t in enumerate(toks) if not t.isspace()]
    for _ in range(rng.randint(1, 3)):
        i = rng.choice(where)
        kind = rng.randrange(9)
        if kind == 0:                                   # delete
            toks[i] = ""
        elif kind == 1:                                 # duplicate
            toks[i] = f"{toks[i]} {toks[i]}"
        elif kind == 2:                                 # swap with another token
            j = rng.choice(where)
            toks[i], toks[j] = toks[j], toks[i]
        elif kind == 3:                                 # insert a keyword or punctuation
            toks[i] = f"{toks[i]} {rng.choice(KEYWORDS + PUNCTUATION)} "
        elif kind == 4:                                 # replace by a keyword or punctuation
            toks[i] = rng.choice(KEYWORDS + PUNCTUATION)
        elif kind == 5:                                 # a stray character
            toks[i] += rng.choice(STRAY)
        elif kind == 6:                                 # a random character anywhere in the text
            s = "".join(toks)
            k = rng.randrange(len(s) + 1)
            return s[:k] + chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 0x3000)])) + s[k:]
        elif kind == 7:                                 # change a number
            nums = [j for j in where if toks[j][:1].isdigit()]
            if nums:
                toks[rng.choice(nums)] = rng.choice(NUMBERS)
        else:                                           # truncate
            s = "".join(toks)
            return s[:rng.randrange(len(s))]
    return "".join(toks)


def mutants(name: str, n: int, seed: int = SEED):
    rng = random.Random(f"{seed}:{name}")
    return [mutate(rng, SOURCES[name]) for _ in range(n)]


def check_error(e: NaslError, text: str, file: str):
    """A user error: every part located inside ``text``, and renderable."""
    n_lines = len(text.split("\n"))
    for err in (e.errors if isinstance(e, NaslErrors) else [e]):
        assert isinstance(err, NaslError)
        sp = err.span
        assert sp is not None, f"an error without a span: {err.render()}"
        assert sp.file == file
        assert 1 <= sp.line <= n_lines and sp.col >= 1, f"span {sp} outside the text: {err.render()}"
        assert sp.end_line >= sp.line
        assert err.render().startswith(f"{file}:{sp.line}:{sp.col}: error: ")
    assert e.render()


def run_mutant(text: str, file: str = "mutant.nas") -> str:
    """'error', 'ok' or 'slow'; fails the test on anything but a NaslError."""
    try:
        with time_limit(LOAD_LIMIT_S):
            space = nasl.loads(text, file)
    except NaslError as e:
        check_error(e, text, file)
        return "error"
    except _Timeout:
        pytest.fail(f"loading took more than {LOAD_LIMIT_S} s (a hang?):\n{text}")
    except Exception as e:  # noqa: BLE001 - anything else is a bug
        pytest.fail(f"{type(e).__name__} escaped nasl.loads: {e}\n--- mutant ---\n{text}")
    try:
        with time_limit(USE_LIMIT_S):
            arch = space.sample(0)
            space.realize(arch)
    except NaslError as e:            # an unsatisfiable space, an unrealizable choice: fine if it renders
        assert e.render()
    except _Timeout:
        return "slow"
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"{type(e).__name__} escaped sample/realize: {e}\n--- mutant ---\n{text}")
    return "ok"


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_mutated_examples_fail_cleanly(name):
    outcomes = {"error": 0, "ok": 0, "slow": 0}
    for text in mutants(name, PER_EXAMPLE):
        outcomes[run_mutant(text)] += 1
    # the mutations are neither all fatal nor all harmless
    assert outcomes["error"] > PER_EXAMPLE // 4, outcomes
    assert outcomes["ok"] + outcomes["slow"] > 0, outcomes


def test_mutants_are_deterministic():
    assert mutants("nas_bench_201.nas", 5) == mutants("nas_bench_201.nas", 5)
    assert mutants("nas_bench_201.nas", 5) != mutants("nas_bench_201.nas", 5, seed=SEED + 1)


# ------------------------------------------------------------- hypothesis
EDIT = st.tuples(st.integers(0, 8), st.integers(0, 10 ** 6), st.integers(0, 10 ** 6),
                 st.sampled_from(KEYWORDS + PUNCTUATION + STRAY + NUMBERS))


def apply_edits(text: str, edits) -> str:
    toks = TOKEN.findall(text)
    for kind, a, b, word in edits:
        if not toks:
            break
        i, j = a % len(toks), b % len(toks)
        if kind == 0:
            toks[i] = ""
        elif kind == 1:
            toks[i] = f"{toks[i]} {toks[i]}"
        elif kind == 2:
            toks[i], toks[j] = toks[j], toks[i]
        elif kind in (3, 4, 5):
            toks[i] = f"{toks[i]} {word} " if kind == 3 else word if kind == 4 else toks[i] + word
        elif kind == 6:
            toks.insert(i, chr(b % 0x3000))
        elif kind == 7:
            nums = [k for k, t in enumerate(toks) if t[:1].isdigit()]
            if nums:
                toks[nums[a % len(nums)]] = word if word[:1].isdigit() else "0"
        else:
            toks = toks[:i]
    return "".join(toks)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SOURCES)), edits=st.lists(EDIT, min_size=1, max_size=4))
def test_hypothesis_edits_fail_cleanly(name, edits):
    run_mutant(apply_edits(SOURCES[name], edits))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(KEYWORDS + PUNCTUATION + STRAY + NUMBERS + ["\n", " "]), max_size=40))
def test_hypothesis_token_soup_fails_cleanly(words):
    run_mutant(" ".join(words))


# --------------------------------------------------------- random programs
# Mutants of the examples mostly fail to parse; these random bodies parse and stress the elaborator
# with values of every kind in every position.
PRELUDE = """input x: [3, 8, 8]
let L = [1, 2, 3]
def f(c) = conv(c)
def g(c)(h) { return h >> conv(c) }
def cell(c) = dag(nodes=4, prune=true) { edge i -> j: optional
  require edges() <= 3 }
"""
ATOMS = ["0", "1", "2", "-1", "0.5", '"a"', '"sum"', "true", "false", "x", "a", "b", "h", "L", "relu", "conv(4)",
         "conv", "range(3)", "[]", "[1, 2]", "(1, 2)", "choice(1, 2)", "choice(relu, bn)", "boolean()",
         "int_range(0, 3)", "float_range(0, 1)", "subset([1, 2, 3])", "permutation([1, 2])", "optional(relu)",
         "pick(2)", "select", "len", "zip", "enumerate", "max", "edges()", "nodes()", "uses(x)", "f", "f(2)", "g",
         "g(4)", "cell", "cell(4)", "identity", "zero", "concat", "add", 'tap("t")',
         "dag(nodes=3) { edge i -> j: conv(4) }"]
BINARY = ["+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "in", "and", "or", ">>"]


def random_expr(rng: random.Random, depth: int) -> str:
    r = rng.random()
    if depth <= 0 or r < 0.3:
        return rng.choice(ATOMS)
    if r < 0.6:
        return f"({random_expr(rng, depth - 1)} {rng.choice(BINARY)} {random_expr(rng, depth - 1)})"
    if r < 0.7:
        return f"({random_expr(rng, depth - 1)} ? {random_expr(rng, depth - 1)} : {random_expr(rng, depth - 1)})"
    if r < 0.8:
        return rng.choice(["not ", "-"]) + random_expr(rng, depth - 1)
    if r < 0.9:
        args = ", ".join(random_expr(rng, depth - 1) for _ in range(rng.randint(0, 3)))
        return f"{rng.choice(ATOMS)}({args})"
    return f"{random_expr(rng, depth - 1)}[{random_expr(rng, depth - 1)}]"


def random_stmt(rng: random.Random, depth: int) -> str:
    e = random_expr(rng, 2)
    r = rng.random()
    if r < 0.4 or depth <= 0:
        return f"{rng.choice('abh')} = {e}"
    if r < 0.5:
        return f"h = h >> {e}"
    if r < 0.6:
        return f"{rng.choice(['require', 'forbid'])} {e}"
    if r < 0.7:
        return f"for i in {e} {{ {random_stmt(rng, depth - 1)} }}"
    if r < 0.8:
        return f"repeat {e} as k {{ {random_stmt(rng, depth - 1)} }}"
    return f"if {e} {{ {random_stmt(rng, depth - 1)} }} else {{ {random_stmt(rng, depth - 1)} }}"


def random_program(rng: random.Random) -> str:
    body = "\n    ".join(random_stmt(rng, 2) for _ in range(rng.randint(1, 4)))
    out = rng.choice(["h", "x", random_expr(rng, 1)])
    return PRELUDE + f"network {{\n    a = 1\n    b = 2\n    h = x\n    {body}\n    return {out}\n}}\n"


def test_random_programs_fail_cleanly():
    rng = random.Random(SEED)
    outcomes = {"error": 0, "ok": 0, "slow": 0}
    for _ in range(PER_EXAMPLE * 2 // 3):
        outcomes[run_mutant(random_program(rng))] += 1
    assert outcomes["ok"] > 0, outcomes


# -------------------------------------------------------------------- CLI
def test_cli_check_on_mutants_never_crashes(tmp_path):
    rng = random.Random(SEED)
    paths = []
    for k in range(30):
        name = sorted(SOURCES)[k % len(SOURCES)]
        p = tmp_path / f"mutant_{k:02d}.nas"
        p.write_text(mutate(rng, SOURCES[name]), encoding="utf-8")
        paths.append(str(p))
    r = subprocess.run([sys.executable, "-m", "nasl.cli", "check", *paths], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert "internal error" not in r.stderr
    # every diagnostic names its mutant file and a position in it
    for line in r.stderr.splitlines():
        if ": error: " in line and not line.startswith("error: "):
            assert line.startswith(str(tmp_path)), line


# ------------------------------------------------- regressions found here
HEAD = "input x: [3, 8, 8]\n"
BIG = "9" * 400


LOAD_CASES = [
    ('network { return x >> tap("\\N") }', "invalid string literal: malformed \\N character escape"),
    ('network { return x >> tap("a\x01") }', "contains the control character U+0001"),
    ("let n = " + "1" * 5000 + "\nnetwork { return x }", "the number has too many digits"),
    ("let a = " + "[" * 2000 + "]" * 2000 + "\nnetwork { return x }", "nested too deeply"),
    ("".join(f"let a{i} = a{i + 1}\n" for i in range(400)) + "let a400 = 1\nnetwork { return x }",
     "nests too deeply to elaborate"),
    ("network { for i in range(1000000000) { }\n return x }", "1,000,000,000 items is more than the 100,000"),
    ("network { a = [1, 2] * 1000000000\n return x }", "a list of more than 100,000 items"),
    ('network { a = 1000000000 * "ab"\n return x }', "a string of more than 100,000 characters"),
    ("network { a = [1]\n for i in range(100) { a = a + a }\n return x }", "a list of more than 100,000 items"),
    ("network { repeat 1000000000 { }\n return x }", "cannot repeat 1,000,000,000 times"),
    ("network { d = choice(1, 1000000000)\n repeat d { x = x >> relu }\n return x }", "cannot repeat"),
    ("network { d = int_range(0, 100000000)\n repeat d { x = x >> relu }\n return x }",
     "depends on 'd', which has more than 10,000 values"),
    ("network { d = int_range(0, 100000000)\n if d > 5 { x = x >> relu }\n return x }",
     "depends on 'd', which has more than 10,000 values"),
    (f"network {{ a = int_range(0, {BIG})\n return x }}", "int_range(...): more than"),
    (f"network {{ a = float_range(0, {BIG})\n return x }}", "'high' must be a finite number"),
    (f"network {{ a = {BIG} / 3\n return x }}", "the result of '/' is too large for a float"),
    ("network { g = choice(0, 1, 2)\n h = 16 % g == 0 ? x >> conv(16) : x\n return h }",
     "cannot compute '%' for some choices: division by zero, e.g. when g = 0"),
    ("network { g = choice(0, 1, 2)\n repeat 4 // g { x = x >> relu }\n return x }", "cannot compute '//'"),
    ("def c(k) = dag(nodes=4, prune=true) { edge i -> j: optional\n require connected(a=x) }\n"
     "network { return c(4)(x) }", "connected(...): got an unexpected keyword argument 'a'"),
    ("def c(k) = dag(nodes=4, prune=true) { edge i -> j: optional\n require uses() }\n"
     "network { return c(4)(x) }", "uses() takes a node number"),
    ("network { a = pick()\n return x }", "pick(...): missing a required argument"),
    ("def c(k) = dag(nodes=4) { edge i -> j: optional\n require edges() <= select }\n"
     "network { return c(4)(x) }", "cannot apply '<=' to a choice-dependent value and builtin 'select'"),
    ("def c(k) = dag(nodes=4) { edge i -> j: conv(k)\n node j: merge = false }\nnetwork { return c(4)(x) }",
     "a merge is the name of a merge op or a merge op, not a bool"),
    ("def c(k) = dag(inputs=" + BIG + ", nodes=4) { edge i -> j: conv(k) }\ngenotype g = c\n"
     "network { return g(4)(x) }", "a dag with 4 nodes cannot have 999"),
    ("network { if uses(x) { x = x >> relu }\n return x }", "uses(x) is known only once the network is built"),
    ("network { repeat nodes() { x = x >> relu }\n return x }", "nodes() is known only once the network is built"),
    ("network { return relu }", "the network must return tensors, not op 'relu'"),
    ("network { a = choice(1, 2)\n return a == 1 ? x : 3 }", "the network must return tensors"),
    ("def f(c)(h) { return f(c)(h) }\nnetwork { return f(3)(x) }", "'f' recurses too deeply (f -> f"),
    ("let a = b + 1\nlet b = [a]\nnetwork { return x }", "'a' is defined in terms of itself"),
]


def _ids(cases):
    return [re.sub(r"\W+", "_", message)[:48].strip("_") for _, message in cases]


@pytest.mark.parametrize("body, message", LOAD_CASES, ids=_ids(LOAD_CASES))
def test_found_by_fuzzing_load_errors(body, message):
    text = HEAD + body
    with pytest.raises(NaslError) as info:
        nasl.loads(text, "r.nas")
    check_error(info.value, text, "r.nas")
    assert message in info.value.render()


SAMPLE_CASES = [
    # a recursion under a choice expands lazily: it fails when sampled, the same way every time
    ("def f(c)(h) { return choice(h, f(c)(h) >> relu) }\nnetwork { return f(3)(x) }", "'f' recurses too deeply"),
    ("network { a = choice(0, 1, 2)\n require 10 % a > 0\n return x }", "cannot compute '%' for some choices"),
    ("network { a = choice(0, 1, 2)\n require [1, 2][a] > 1\n return x }", "cannot compute '[]' for some choices"),
]


@pytest.mark.parametrize("body, message", SAMPLE_CASES, ids=_ids(SAMPLE_CASES))
def test_found_by_fuzzing_sample_errors(body, message):
    text = HEAD + body
    space = nasl.loads(text, "r.nas")
    for _ in range(2):
        with pytest.raises(NaslError) as info:
            space.realize(space.sample(0))
        check_error(info.value, text, "r.nas")
        assert message in info.value.message


def test_found_by_fuzzing_form_feed_in_a_comment():
    # labels and carets index lines by '\n' only, like the parser's spans
    text = HEAD + "# page\x0cbreak\nnetwork {\n a = choice(conv(3) >> relu, relu)\n return x >> a >> foo }"
    with pytest.raises(NaslError) as info:
        nasl.loads(text, "r.nas")
    assert info.value.render().split("\n")[1] == "   5 |  return x >> a >> foo }"
    space = nasl.loads(text.replace(" >> foo", ""))
    assert space.spec["a"].domain == ("conv(3)>>relu", "relu")


def test_found_by_fuzzing_repeat_loop_variable():
    space = nasl.loads(HEAD + "network { d = choice(1, 2, 3)\n repeat d as i { x = x >> conv(8 * (i + 1)) }\n"
                              " repeat 2 as j { x = x >> conv(j + 1) }\n return x }")
    assert [c.path for c in space.spec] == ["d"]
    g = space.realize({"d": 3})
    assert [d["params"]["c"] for _, d in g.ops()] == [8, 16, 24, 1, 2]


def test_found_by_fuzzing_trailing_commas():
    space = nasl.loads(HEAD + "network { a = [1, 2,]\n b = (3, 4,)\n require len(a) + len(b) == 4\n return x }")
    assert space.size() == 1


HUGE_CASES = [
    ("param n = 4\nnetwork { for i in range(n) { x = x >> relu }\n return x }", "more than the 100,000 a range may have"),
    ("param n = 4\ndef c(k) = dag(nodes=n) { edge i -> j: conv(k) }\nnetwork { return c(4)(x) }",
     "a dag has at most 200 nodes"),
]


@pytest.mark.parametrize("body, message", HUGE_CASES, ids=_ids(HUGE_CASES))
def test_found_by_fuzzing_huge_parameter_overrides(body, message):
    with pytest.raises(NaslError) as info:
        nasl.loads(HEAD + body, "r.nas", n=10 ** 100)
    assert message in info.value.message


@pytest.mark.parametrize("text", ["{", "", '{"a": 1,}', "[1]", "null"])
def test_found_by_fuzzing_architecture_from_bad_json(text):
    with pytest.raises(nasl.InvalidArchitecture, match="an architecture is a JSON object"):
        nasl.Architecture.from_json(text)


def test_found_by_fuzzing_float_range_under_a_condition_samples():
    # the branch holding the float range has infinitely many completions: no finite weights to draw by
    space = nasl.loads(HEAD + "network { b = int_range(0, 3) > 0 ? float_range(0, 1) : 1\n return x }")
    archs = space.sample(0, n=200)
    assert {a["int_range"] for a in archs} == {0, 1, 2, 3}
    assert all(0 <= a["float_range"] <= 1 for a in archs if a["int_range"] > 0)
