"""Benchmark: start-up CPU time of the ``nasl`` command against ``python -c pass``.

Each command runs ``--runs`` times as a fresh process; the CPU time (user +
system, from ``resource.getrusage(RUSAGE_CHILDREN)``) of each run is taken
and the median reported, with the ratio to the median of ``python -c pass``
in the same run. The ``nasl`` command is run as its console script does
(``from nasl.cli import main``), on this checkout.

* ``nasl --help`` (target: <= 2x ``python -c pass``);
* ``nasl check --fast examples/darts.nas``: parse, elaborate and the static
  passes (what ``nasl check`` did when the target was set; <= 4x);
* ``nasl check examples/darts.nas``: also realizes one architecture and
  checks its shapes (issue 13), which imports networkx; reported, no target.

``--baseline DIR`` also runs the two ``check`` commands on another checkout
(interleaved with the rest), for a before/after in one run.

``--pyc`` lets Python cache bytecode (in a temporary ``PYTHONPYCACHEPREFIX``,
warmed by one untimed run of each command), as an installed package has it.
Without it the environment decides: where ``PYTHONDONTWRITEBYTECODE`` is set,
as in this project's sessions, every run compiles nasl's sources afresh.

Usage::

    python benchmarks/startup.py [--runs 15] [--baseline DIR] [--pyc]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine  # noqa: E402

NASL = [sys.executable, "-c", "import sys; from nasl.cli import main; sys.exit(main())"]
COMMANDS = [
    ("python -c pass", [sys.executable, "-c", "pass"], None),
    ("nasl --help", NASL + ["--help"], 2.0),
    ("nasl check --fast darts", NASL + ["check", "--fast", "examples/darts.nas"], 4.0),
    ("nasl check darts", NASL + ["check", "examples/darts.nas"], None),
]


def cpu_of(cmd, env) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--baseline", metavar="DIR", help="another checkout to run the check commands on too")
    ap.add_argument("--pyc", action="store_true", help="cache bytecode (warmed once), as an installed package")
    args = ap.parse_args()
    base_env = dict(os.environ)
    if args.pyc:
        import tempfile
        base_env.pop("PYTHONDONTWRITEBYTECODE", None)
        base_env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="nasl-pyc-")
    env = dict(base_env, PYTHONPATH=str(ROOT))
    commands = [(name, cmd, target, env) for name, cmd, target in COMMANDS]
    if args.baseline:
        other = dict(base_env, PYTHONPATH=os.path.abspath(args.baseline))
        commands += [(f"{name} (baseline)", cmd, None, other) for name, cmd, _ in COMMANDS if "check" in name]
    print(machine())
    if args.pyc:
        for _, cmd, _, cmd_env in commands:
            cpu_of(cmd, cmd_env)          # writes the bytecode
    print(f"median CPU (user + sys) of {args.runs} fresh processes each, interleaved"
          + (", bytecode cached" if args.pyc else f", PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE')}"))
    times: dict = {name: [] for name, _, _, _ in commands}
    for _ in range(args.runs):        # interleaved, so a busy spell hits every command alike
        for name, cmd, _, cmd_env in commands:
            times[name].append(cpu_of(cmd, cmd_env))
    base = statistics.median(times["python -c pass"])
    for name, _, target, _ in commands:
        t = statistics.median(times[name])
        verdict = f"target <= {target:g}x: {'PASS' if t / base <= target else 'FAIL'}" if target else ""
        print(f"  {name:<35} {t * 1e3:7.1f} ms  ratio {t / base:5.2f}  {verdict}")


if __name__ == "__main__":
    main()
