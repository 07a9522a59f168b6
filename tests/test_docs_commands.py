"""Every command and snippet of README.md, docs/study.md, docs/searchers.md and docs/extending.md runs as written.

A reader follows a document from the top: each document's ```bash / ```sh
blocks (one command per line; a trailing backslash continues it) and
```python blocks run in document order, in one temporary folder per
document (with ``examples/`` linked into it), so a command may use what an
earlier one made (``nasl study show nasl-study.db`` after ``nasl search``),
and one that would collide with it (a second search into the same file)
fails as it would for the reader. ``nasl`` is this checkout's command line
(run by this test's Python), and Python blocks run in a fresh interpreter.

The one change made to what the documents say: **budgets shrink to 2
trials** (``--budget N`` becomes ``--budget 2``, ``budget=N`` becomes
``budget=2``), so a documented 200-trial search costs seconds. Blocks in a
fence without a language (synopses, sample output) are not run.

Explicit exceptions, each with its reason, are in ``SKIPPED``; a command
that needs an optional package that is missing here is skipped with the
package named (``NEEDS``). The test picks up new blocks by itself: a stale
command in these documents fails it.
"""
from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ["README.md", "docs/study.md", "docs/searchers.md", "docs/extending.md", "docs/oneshot.md"]
SLOW = {"README.md", "docs/study.md", "docs/oneshot.md"}        # they train networks (2 trials each search)
SHRINK_EPOCHS = {"README.md", "docs/oneshot.md"}    # one-shot runs: --epochs N / epochs=N become 1
RUN_LANGS = {"bash": "shell", "sh": "shell", "shell": "shell", "python": "python"}

# command prefixes that are not run, and why
SKIPPED = {
    "pip install": "installing: the test runs in the installed environment",
    "python -m pytest": "the test suite itself",
}
# a command or snippet that mentions the key needs that module
NEEDS = {'executor="ray"': "ray", "--executor ray": "ray", "--to onnx": "onnx"}
TIMEOUT = 600


def shrink_budgets(text: str) -> str:
    """The documented budgets, cut to 2 trials (the one change this test makes)."""
    text = re.sub(r"--budget\s+\d+", "--budget 2", text)
    return re.sub(r"\bbudget=\d+", "budget=2", text)


def shrink_epochs(text: str) -> str:
    """A one-shot document's epochs, cut to 1 (and the weight bank's populate to 2)."""
    text = re.sub(r"--epochs\s+\d+", "--epochs 1", text)
    text = re.sub(r"\bepochs=\d+", "epochs=1", text)
    return re.sub(r"populate=\d+", "populate=2", text)


def blocks(doc: str) -> list[tuple[int, str, str]]:
    """``(line, kind, text)`` of the runnable fenced blocks of ``doc``, in order."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        kind = RUN_LANGS.get(m.group(1))
        if kind:
            out.append((text[:m.start()].count("\n") + 2, kind, m.group(2)))
    return out


def shell_commands(line0: int, text: str) -> list[tuple[int, str]]:
    """``(line, command)`` of a shell block: continuation lines joined, blank and comment-only lines dropped."""
    out, buf, start = [], "", None
    for i, raw in enumerate(text.splitlines()):
        if start is None:
            start = line0 + i
        buf += raw.rstrip()
        if buf.endswith("\\"):
            buf = buf[:-1] + " "
            continue
        if buf.strip() and not buf.lstrip().startswith("#"):
            out.append((start, buf.strip()))
        buf, start = "", None
    return out


def steps(doc: str) -> list[tuple[str, str, str]]:
    """``(where, kind, code)`` for every command and snippet of ``doc``."""
    out = []
    for line, kind, text in blocks(doc):
        if kind == "python":
            out.append((f"{doc}:{line}", "python", text))
        else:
            out.extend((f"{doc}:{n}", "shell", cmd) for n, cmd in shell_commands(line, text))
    return out


def _skip_reason(code: str) -> str | None:
    for prefix, reason in SKIPPED.items():
        if code.startswith(prefix):
            return reason
    for key, module in NEEDS.items():
        if key in code and importlib.util.find_spec(module) is None:
            return f"needs {module}, which is not installed"
    return None


def _folder(tmp_path) -> dict:
    """The reader's folder: ``examples/`` linked in, ``nasl`` on PATH as this checkout's CLI."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    bin_dir = tmp_path / ".bin"
    bin_dir.mkdir()
    nasl = bin_dir / "nasl"
    nasl.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c '
                    f'"import sys; from nasl.cli import main; sys.exit(main())" "$@"\n')
    nasl.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               COLUMNS="120")
    return env


def synopsis_commands(doc: str) -> list[tuple[str, list[str]]]:
    """``(where, [command, subcommand...])`` of each ``nasl ...`` line in the blocks without a language
    (synopses: placeholders in capitals, not run), e.g. ``nasl study show|plot PATH`` gives
    ``["study", "show"]`` and ``["study", "plot"]``."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    out = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):    # fences pair up from the top
        if m.group(1):
            continue
        line0 = text[:m.start()].count("\n") + 2
        for i, line in enumerate(m.group(2).splitlines()):
            words = re.match(r"nasl ((?:[a-z][a-z|-]*)(?: [a-z][a-z|-]*)?)(?:\s|$)", line.strip())
            if words and line.startswith("nasl"):
                first, *rest = words.group(1).split(" ")
                for a in first.split("|"):
                    for b in (rest[0].split("|") if rest else [None]):
                        out.append((f"{doc}:{line0 + i}", [a] + ([b] if b else [])))
    return out


def _known_commands() -> dict:
    """``{command: set of its subcommands}`` of nasl's argument parser."""
    import argparse
    from nasl.cli import _parser

    def subs(parser):
        return {a for action in parser._actions if isinstance(action, argparse._SubParsersAction)
                for a in action.choices}, {name: p for action in parser._actions
                                           if isinstance(action, argparse._SubParsersAction)
                                           for name, p in action.choices.items()}
    names, parsers = subs(_parser())
    return {n: subs(parsers[n])[0] for n in names}


@pytest.mark.parametrize("doc", DOCS)
def test_every_synopsis_names_a_real_command(doc):
    known = _known_commands()
    for where, words in synopsis_commands(doc):
        assert words[0] in known, f"{where}: no command 'nasl {words[0]}'"
        if len(words) > 1 and known[words[0]]:
            # a second word is a subcommand when the command has them (`nasl study show`)
            assert words[1] in known[words[0]], f"{where}: no command 'nasl {' '.join(words)}'"


def test_the_documents_have_commands_and_snippets():
    found = {doc: steps(doc) for doc in DOCS}
    assert all(found.values()), {d: len(s) for d, s in found.items()}
    assert any("nasl search" in code for _, _, code in found["README.md"])


def test_budget_shrinking():
    assert shrink_budgets("nasl search --budget 30 -O x=1") == "nasl search --budget 2 -O x=1"
    assert shrink_budgets("nasl.search(s, budget=200, storage='a.db')") == "nasl.search(s, budget=2, storage='a.db')"
    assert shell_commands(5, "a \\\n  b  # c\n\n# only a comment\nd\n") == [(5, "a    b  # c"), (9, "d")]


def run_steps(found, tmp_path) -> tuple[str | None, list[str]]:
    """Run ``(where, kind, code)`` steps in order in ``tmp_path``: ``(the first failure or None, skipped)``."""
    tmp_path.mkdir(exist_ok=True)
    env = _folder(tmp_path)
    skipped = []
    for where, kind, code in found:
        reason = _skip_reason(code)
        if reason:
            skipped.append(f"{where}: {reason}")
            continue
        code = shrink_budgets(code)
        if where.split(":")[0] in SHRINK_EPOCHS:
            code = shrink_epochs(code)
        argv = [sys.executable, "-"] if kind == "python" else ["bash", "-c", code]
        run = subprocess.run(argv, input=code if kind == "python" else None, cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=TIMEOUT)
        if run.returncode != 0:
            return (f"{where}: exit {run.returncode}: {code}\n--- stdout\n{run.stdout[-3000:]}\n"
                    f"--- stderr\n{run.stderr[-3000:]}"), skipped
    return None, skipped


@pytest.mark.parametrize("doc", [pytest.param(d, marks=pytest.mark.slow) if d in SLOW else d for d in DOCS])
def test_every_command_of_the_document_runs(doc, tmp_path):
    failure, skipped = run_steps(steps(doc), tmp_path)
    if failure:
        pytest.fail(failure, pytrace=False)
    print("\n".join(skipped))


def test_a_stale_command_or_snippet_fails(tmp_path):
    failure, skipped = run_steps([("x.md:3", "shell", "pip install nothing"),
                                  ("x.md:4", "shell", "nasl count examples/nas_bench_201.nas"),
                                  ("x.md:5", "shell", "nasl cuont examples/nas_bench_201.nas"),
                                  ("x.md:9", "python", "raise SystemExit('never reached')")], tmp_path)
    assert failure.startswith("x.md:5: exit 2: nasl cuont") and "invalid choice" in failure
    assert skipped == ["x.md:3: installing: the test runs in the installed environment"]
    failure, _ = run_steps([("y.md:1", "python", "import nasl\nnasl.load('examples/missing.nas')")],
                           tmp_path / "second")
    assert failure.startswith("y.md:1: exit 1") and "missing.nas" in failure
