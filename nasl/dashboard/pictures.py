"""The study's space, its trials' pictures (SVG through Graphviz) and their costs.

The space is rebuilt from the source text the study recorded, as workers
do. Pictures and costs are cached by architecture: a study shows the same
few trials again and again, and ``dot`` takes a while on a large network.
When Graphviz (or pydot) is missing, :class:`PictureUnavailable` says so,
and the page shows that message where the picture would be.
"""
from __future__ import annotations

import shutil
import subprocess
import threading

from nasl.ir.errors import NaslError

DOT_TIMEOUT = 60.0          # seconds; a picture is never worth a hung request
_CACHE_SIZE = 256


class PictureUnavailable(Exception):
    """No picture can be drawn here (no Graphviz, no pydot, a space that does not load)."""


class Pictures:
    """Pictures and costs for the study described by ``study`` (the study row)."""

    def __init__(self, study: dict):
        self.study = study
        self._space = None
        self._space_error: str | None = None
        self._lock = threading.Lock()
        self._cache: dict = {}
        self._cache_lock = threading.Lock()

    # ------------------------------------------------------------ the space
    def space(self):
        """The study's Space; PictureUnavailable with the reason when it does not load."""
        with self._lock:
            if self._space is None and self._space_error is None:
                from nasl.study.protocol import TrialRequest
                s = self.study
                req = TrialRequest(trial_id=-1, number=-1, arch={}, budget=None, seed=0,
                                   space_source=s["space_source"], space_file=s["space_file"],
                                   params=tuple(map(tuple, s["params"])), ops_modules=tuple(s["ops"]))
                try:
                    self._space = req.load_space()
                except NaslError as e:
                    self._space_error = f"the study's space does not load here: {e.message}"
                except Exception as e:  # noqa: BLE001 - a user's op module failed; the rest of the page works
                    self._space_error = f"the study's space does not load here: {type(e).__name__}: {e}"
            if self._space_error is not None:
                raise PictureUnavailable(self._space_error)
            return self._space

    def warm_up(self) -> None:
        """Load the space and the compiler (torch takes seconds to import) before the first click."""
        try:
            self.space()
            import nasl.compiler.export_dot  # noqa: F401
        except Exception:  # noqa: BLE001 - the request that needs them reports the reason
            pass

    # ------------------------------------------------------------ pictures
    def space_svg(self) -> str:
        return self._cached(("space",), lambda: self._space_dot(None))

    def choices_svg(self, arch: dict) -> str:
        """The space's picture with the choices of ``arch`` highlighted."""
        return self._cached(("choices", _key(arch)), lambda: self._space_dot(arch))

    def arch_svg(self, arch: dict) -> str:
        """The realized network of ``arch``, boxes labelled with their output shapes."""
        def make():
            space = self.space()
            _need_pydot()
            try:
                from nasl.compiler.export_dot import arch_dot
            except ImportError:           # no torch: the same picture without shapes
                from nasl.ir.pictures import graph_dot
                return graph_dot(space.realize(arch), title=f"{space.name}: architecture")
            return arch_dot(space, arch)
        return self._cached(("arch", _key(arch)), make)

    def _space_dot(self, arch):
        space = self.space()
        _need_pydot()
        from nasl.ir.pictures import space_dot
        return space_dot(space, chosen=arch)

    def _cached(self, key, make_dot) -> str:
        found = self._cache.get(key)
        if found is not None:
            return found
        if shutil.which("dot") is None:
            raise PictureUnavailable("Graphviz is not installed, so there is no picture "
                                     "(install it, e.g. apt-get install graphviz, and reload)")
        try:
            text = make_dot().to_string()
        except PictureUnavailable:
            raise
        except NaslError as e:
            raise PictureUnavailable(f"no picture: {e.message}") from None
        svg = render_svg(text)
        self._remember(key, svg)
        return svg

    def _remember(self, key, value) -> None:
        with self._cache_lock:           # two requests may finish at once
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))      # the oldest
            self._cache[key] = value

    # ------------------------------------------------------------ cost
    def cost(self, arch: dict) -> dict:
        """``{"params", "flops", "macs", "layers"}`` of ``arch`` (``nasl.cost``), or ``{"error": why}``."""
        key = ("cost", _key(arch))
        found = self._cache.get(key)
        if found is not None:
            return found
        try:
            import nasl
            c = nasl.cost(self.space(), arch)
        except PictureUnavailable as e:
            return {"error": str(e)}
        except ImportError as e:
            return {"error": f"costs need torch ({e})"}
        except NaslError as e:
            return {"error": e.message}
        except Exception as e:  # noqa: BLE001 - e.g. a user op without a cost rule that fails to build
            return {"error": f"{type(e).__name__}: {e}"}
        out = {"params": c.params, "flops": c.flops, "macs": c.macs, "layers": c.layers}
        self._remember(key, out)
        return out


def render_svg(dot_text: str) -> str:
    """SVG of DOT text through Graphviz ``dot``, with a time limit."""
    try:
        out = subprocess.run(["dot", "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True,
                             timeout=DOT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise PictureUnavailable("Graphviz is not installed, so there is no picture") from None
    except subprocess.TimeoutExpired:
        raise PictureUnavailable(f"Graphviz took more than {DOT_TIMEOUT:.0f} s on this picture") from None
    if out.returncode != 0:
        raise PictureUnavailable("Graphviz failed: " + out.stderr.decode("utf-8", "replace").strip()[:300])
    return out.stdout.decode("utf-8")


def _need_pydot() -> None:
    try:
        import pydot  # noqa: F401
    except ImportError:
        raise PictureUnavailable("pictures need pydot: pip install 'nasl[torch]'") from None


def _key(arch: dict) -> str:
    import json
    return json.dumps(arch, sort_keys=True)
