"""Small spaces and requests for the training tests."""
from __future__ import annotations

from nasl.study.protocol import TrialRequest

# a conv layer whose width is the only choice: trains in a fraction of a second
TINY = """
param classes = 10
input x: [1, 8, 8]
network {
    return x >> conv(choice(4, 8) as width, k=3) >> bn >> relu >> flatten >> linear(classes)
}
"""


def request(arch=None, *, source=TINY, budget=None, seed=0, trial_id=1, artifact_dir=None, params=()):
    return TrialRequest(trial_id=trial_id, number=trial_id - 1, arch=arch or {"width": 8}, budget=budget,
                        seed=seed, space_source=source, space_file="tiny.nas", params=tuple(params),
                        artifact_dir=None if artifact_dir is None else str(artifact_dir))
