"""``nasl --help`` starts without the space machinery, the parser or the study code (issue 19)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import io
import sys
from nasl.cli import main
out, sys.stdout = sys.stdout, io.StringIO()
try:
    main(["--help"])
except SystemExit:
    pass
sys.stdout = out
heavy = ("nasl.ir.space", "nasl.ir.counting", "nasl.dsl", "nasl.study.api", "nasl.study.storage", "lark",
         "sqlite3", "networkx", "torch", "numpy", "json", "difflib")
print(" ".join(sorted(m for m in sys.modules if m in heavy or m.split(".")[0] in ("lark", "networkx", "torch"))))
"""


def test_help_imports_none_of_the_heavy_modules():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "", out.stdout


def test_lazy_names_still_import():
    import nasl
    import nasl.ir
    import nasl.study
    from nasl import Architecture, NaslError, Space  # noqa: F401
    from nasl.study import Study, search  # noqa: F401
    assert nasl.Space is nasl.ir.Space and nasl.ir.NaslError is NaslError
    assert nasl.study.pareto_front.__module__ == "nasl.study.study"
    for mod in (nasl, nasl.ir, nasl.study):
        for name in mod.__all__:
            assert getattr(mod, name) is not None, (mod.__name__, name)


CHECK_PROBE = """
import io
import sys
from nasl.cli import main
out, sys.stdout = sys.stdout, io.StringIO()
try:
    main(["check", "--fast", "examples/darts.nas"])
except SystemExit:
    pass
sys.stdout = out
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & {"lark", "regex", "networkx", "torch", "numpy"})))
"""


def test_check_fast_of_a_well_formed_file_imports_no_lark_networkx_or_torch():
    # the descent parser takes darts.nas (escaped quotes included), so lark stays unloaded
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHECK_PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "", out.stdout
