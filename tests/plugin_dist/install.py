"""Install the plug-in distributions of this folder into a temporary folder, as pip would, without pip.

pip would need setuptools and, with build isolation, the network; a fresh CI machine may have
neither. An installed distribution is its package plus a ``NAME-VERSION.dist-info`` folder whose
``entry_points.txt`` ``importlib.metadata`` reads. This writes both, the entry points read from
``pyproject.toml`` (its ``[project.entry-points]`` tables), so the pyproject stays the one source.
Put the folder on ``sys.path`` / ``PYTHONPATH`` and nasl finds the plug-ins.
"""
from __future__ import annotations

import pathlib
import shutil
import sys

HERE = pathlib.Path(__file__).resolve().parent


def _pyproject() -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:                                   # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads((HERE / "pyproject.toml").read_text())


def _write_dist(target: pathlib.Path, name: str, version: str, entry_points: dict, package: str) -> None:
    shutil.copytree(HERE / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    info = target / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, eps in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in eps.items()]
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines))
    (info / "top_level.txt").write_text(package + "\n")


def install(target, broken: bool = False) -> pathlib.Path:
    """Install nasl-demo-plugin (and, with ``broken``, nasl-broken-plugin, whose module fails to import)
    into the folder ``target``; returns it."""
    target = pathlib.Path(target)
    target.mkdir(parents=True, exist_ok=True)
    project = _pyproject()["project"]
    _write_dist(target, project["name"], project["version"], project["entry-points"], "nasl_demo_plugin")
    if broken:
        _write_dist(target, "nasl-broken-plugin", "0.1.0", {"nasl.ops": {"broken": "nasl_broken_plugin"}},
                    "nasl_broken_plugin")
    return target


if __name__ == "__main__":      # python tests/plugin_dist/install.py DIR
    print(install(sys.argv[1]))
