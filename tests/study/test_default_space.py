"""The bundled digits space makes a meaningful default search: architectures differ clearly in accuracy."""
from __future__ import annotations

import nasl
from nasl.study import default_space_path
from nasl.study.protocol import TrialRequest
from nasl.study.training import TrainEvaluator


def test_random_architectures_spread_in_accuracy():
    path = default_space_path()
    source = open(path, encoding="utf-8").read()
    space = nasl.load(path)
    ev = TrainEvaluator(epochs=1, batch_size=24, threads=1)      # 45 steps of the 1,077 training images: enough to rank
    accs = []
    for i, arch in enumerate(space.sample(7, n=8)):
        req = TrialRequest(trial_id=i, number=i, arch=dict(arch), budget=None, seed=0, space_source=source,
                           space_file=path)
        accs.append(ev(req)["val_accuracy"])
    # good cells pass 75% within an epoch, weak ones stay far below: a search has something to find
    assert max(accs) > 0.75, accs
    assert max(accs) - min(accs) > 0.3, accs
    assert len({round(a, 3) for a in accs}) >= 6, accs
