"""The dependency rules of DESIGN.md, read from the imports, and a torch-free core."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "nasl"

# what each subpackage may import from nasl (besides itself); every one may use nasl.registry, which
# imports only nasl.ir.errors
ALLOWED = {
    "ir": {"nasl.ir"},
    "dsl": {"nasl.ir", "nasl.dsl"},
    "compiler": {"nasl.ir", "nasl.compiler"},
    # counting and sampling work on the ChoiceSpec alone (the random searcher's uniform-architecture mode)
    "searchers": {"nasl.ir.choice", "nasl.ir.decision_tree", "nasl.ir.architecture", "nasl.ir.errors", "nasl.ir.counting",
                  "nasl.ir.sampling", "nasl.searchers"},
    "formats": {"nasl.ir", "nasl.formats"},
    # supernets build modules from the IR; their loops are driven from study (DESIGN.md)
    "oneshot": {"nasl.ir", "nasl.compiler", "nasl.oneshot"},
    # transformations of an architecture with its weights (DESIGN.md: nasl/morph/)
    "morph": {"nasl.ir", "nasl.compiler", "nasl.morph"},
}


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("sub", sorted(ALLOWED))
def test_subpackage_imports_follow_the_design(sub):
    allowed = ALLOWED[sub] | {"nasl.registry"}
    bad = []
    for path in sorted((PKG / sub).rglob("*.py")):
        for mod in _imports(path):
            if mod == "nasl" or mod.startswith("nasl."):
                if not any(mod == a or mod.startswith(a + ".") for a in allowed):
                    bad.append(f"{path.relative_to(PKG.parent)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_searchers_never_import_dsl_compiler_or_study():
    for path in (PKG / "searchers").rglob("*.py"):
        for mod in _imports(path):
            assert not mod.startswith(("nasl.dsl", "nasl.compiler", "nasl.study")), (path, mod)


def test_core_does_not_import_torch():
    code = ("import sys, nasl\n"
            "s = nasl.load('examples/nas_bench_201.nas')\n"
            "s.size(); s.sample(0); s.count_unique('expression')\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=PKG.parent, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_tests_mirror_the_package():
    tests = pathlib.Path(__file__).resolve().parent
    for sub in ("dsl", "ir", "cli"):
        assert (tests / sub).is_dir()


# the import graph: no cycles, no private names across modules, study never imports cli ------------

def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    name = ".".join(rel.parts)
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def import_graph():
    """``(edges, private)``: module -> the nasl modules it imports (at module level or inside functions),
    and ``"a imports b._x"`` for each private name imported from another module. An edge from a
    package's child into the package's ``__init__`` (a re-export) is no edge of design."""
    paths = {_module_name(p): p for p in PKG.rglob("*.py")}
    edges, private = {m: set() for m in paths}, set()
    for mod, path in paths.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [(a.name, None) for a in node.names if a.name in paths]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = mod.split(".")[: len(mod.split(".")) - node.level + (1 if is_pkg else 0)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                if not base.startswith("nasl"):
                    continue
                targets = []
                for a in node.names:
                    if f"{base}.{a.name}" in paths:
                        targets.append((f"{base}.{a.name}", None))
                    elif base in paths:
                        targets.append((base, a.name))
            else:
                continue
            for target, name in targets:
                if target != mod and not mod.startswith(target + "."):
                    edges[mod].add(target)
                if name and name.startswith("_") and not name.startswith("__") and target != mod:
                    private.add(f"{mod} imports {target}.{name}")
    return edges, private


def import_cycles(edges) -> list:
    """The strongly connected groups of more than one module, each a sorted tuple (Tarjan's algorithm)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):           # iterative enough for nasl's ~300 modules: recursion depth is the longest path
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(tuple(sorted(group)))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


# Both allow-lists are empty (issue 15): any import cycle in nasl (module level or inside a function) and any
# private name imported across modules fails the tests below. They stay as sets only so that a test's message
# names what is new; nothing may be added to them.
KNOWN_CYCLES: set = set()
KNOWN_PRIVATE: set = set()


def test_no_import_cycles_beyond_the_known_ones():
    cycles = set(import_cycles(import_graph()[0]))
    new, gone = cycles - KNOWN_CYCLES, KNOWN_CYCLES - cycles
    assert not new, "new import cycles:\n" + "\n".join(" <-> ".join(c) for c in sorted(new))
    assert not gone, "cycles gone (take them off KNOWN_CYCLES):\n" + "\n".join(" <-> ".join(c) for c in sorted(gone))


def test_no_private_names_imported_across_modules_beyond_the_known_ones():
    private = import_graph()[1]
    new, gone = private - KNOWN_PRIVATE, KNOWN_PRIVATE - private
    assert not new, "private names imported from another module:\n" + "\n".join(sorted(new))
    assert not gone, "gone (take them off KNOWN_PRIVATE):\n" + "\n".join(sorted(gone))


def test_study_never_imports_cli():
    edges = import_graph()[0]
    bad = [f"{m} imports {t}" for m, ts in edges.items() if m.startswith("nasl.study") for t in ts
           if t == "nasl.cli" or t.startswith("nasl.cli.")]
    assert not bad, bad


def test_the_import_graph_sees_function_level_and_relative_imports(tmp_path):
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(edges) == [("a", "b", "c")]
    graph, private = import_graph()
    assert "nasl.compiler.op_rules" in graph["nasl.compiler.layers"]     # module level
    assert "nasl.loader" in graph["nasl.study.protocol"]                 # inside a function
