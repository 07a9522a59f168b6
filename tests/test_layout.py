"""The dependency rules of DESIGN.md, read from the imports, and a torch-free core."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "nasl"

# what each subpackage may import from nasl (besides itself)
ALLOWED = {
    "ir": {"nasl.ir"},
    "dsl": {"nasl.ir", "nasl.dsl"},
    "compiler": {"nasl.ir", "nasl.compiler"},
    # counting and sampling work on the ChoiceSpec alone (the random searcher's uniform-architecture mode)
    "searchers": {"nasl.ir.choice", "nasl.ir.choices", "nasl.ir.architecture", "nasl.ir.errors", "nasl.ir.counting",
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
    allowed = ALLOWED[sub]
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
