"""The evaluator ``demo_score[:SCALE]``: a deterministic score of the architecture, no training (a plug-in)."""
import zlib

from nasl.study.evaluators import register_evaluator


class DemoScore:
    directions = {"score": "max"}

    def __init__(self, scale: float = 1.0):
        self.scale = float(scale)

    def __call__(self, request):
        key = repr(sorted(request.arch.items())).encode()
        return {"score": self.scale * zlib.crc32(key) / 2 ** 32}


@register_evaluator("demo_score", form="demo_score[:SCALE]", options=DemoScore, example="demo_score:2",
                    doc="a hash of the architecture, scaled (a plug-in evaluator)")
def _make(rest, **options):
    return DemoScore(float(rest), **options) if rest else DemoScore(**options)
