"""Optional packages and tools: a missing one is the user's to install, not a nasl bug.

nasl itself needs only lark and networkx. Pictures need pydot (and
Graphviz ``dot`` for SVG/PNG), ONNX export needs onnx, the ``optuna``
searcher needs Optuna, and so on (see ``pyproject.toml``'s extras). When one
is missing, :class:`MissingDependency` says what to install. It is a
:class:`NaslError`, so the CLI prints one line and exits 1, and an
``ImportError``, so ``except ImportError`` in user code still catches it.
"""
from __future__ import annotations

import importlib
import shutil

from nasl.ir.errors import MissingDependency

# top-level module -> how to install it (the extra that brings it, or the package itself)
INSTALL = {
    "torch": "pip install 'nasl[torch]' (or pip install torch)",
    "pydot": "pip install 'nasl[torch]' (or pip install pydot)",
    "onnx": "pip install 'nasl[torch]' (or pip install onnx onnxscript)",
    "onnxscript": "pip install 'nasl[torch]' (or pip install onnx onnxscript)",
    "optuna": "pip install 'nasl[optuna]' (or pip install optuna)",
    "cmaes": "pip install cmaes",
    "ray": "pip install 'nasl[ray]'",
    "sklearn": "pip install 'nasl[study]' (or pip install scikit-learn)",
    "matplotlib": "pip install 'nasl[study]' (or pip install matplotlib)",
    "tqdm": "pip install 'nasl[study]' (or pip install tqdm)",
    "pandas": "pip install pandas",
}
GRAPHVIZ = ("install Graphviz (apt-get install graphviz, brew install graphviz or conda install graphviz), "
            "or write a .dot file and render it elsewhere")


def missing(module: str, feature: str) -> MissingDependency:
    """The error for ``feature`` lacking ``module`` (a top-level module name)."""
    top = module.split(".")[0]
    how = INSTALL.get(top, f"pip install {top}")
    return MissingDependency(f"{feature} needs the '{top}' package, which is not installed: {how}")


def require(module: str, feature: str):
    """Import ``module`` for ``feature``; :class:`MissingDependency` when it (or a module it needs) is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        # a missing dependency of the module is what to install, not the module itself
        name = getattr(e, "name", None) or module
        raise missing(name if name.split(".")[0] in INSTALL else module, feature) from None


def require_tool(program: str, feature: str) -> str:
    """The path of ``program`` on PATH; :class:`MissingDependency` when it is not there."""
    path = shutil.which(program)
    if path is None:
        what, how = ("the Graphviz program 'dot'", GRAPHVIZ) if program == "dot" else \
            (f"the program '{program}'", "install it")
        raise MissingDependency(f"{feature} needs {what}, which is not on PATH: {how}")
    return path


__all__ = ["MissingDependency", "missing", "require", "require_tool", "INSTALL"]
