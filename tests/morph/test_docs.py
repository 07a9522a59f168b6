"""Every python block of docs/morph.md runs as written (in order, in one fresh interpreter)."""
import json
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# runs the blocks one after another, each in a namespace of its own, and names the block that fails;
# one interpreter for all of them pays the torch and nasl imports once, not once per block
_DRIVER = """
import json, sys, traceback
for i, code in enumerate(json.load(sys.stdin), 1):
    try:
        exec(compile(code, f"docs/morph.md, python block {i}", "exec"), {"__name__": "__main__"})
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
"""


@pytest.mark.slow
def test_docs_morph_examples_run():
    text = (ROOT / "docs" / "morph.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    r = subprocess.run([sys.executable, "-c", _DRIVER], input=json.dumps(blocks), cwd=ROOT, capture_output=True,
                       text=True, timeout=600, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("\n") >= len(blocks)          # every block printed its result
