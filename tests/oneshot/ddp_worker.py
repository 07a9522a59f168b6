"""A rank of the distributed-equivalence test (run by tests/oneshot/test_loops_ddp.py, one process per rank)."""
from __future__ import annotations

import json
import sys

import torch


def main(rank: int, world: int, rendezvous: str, out: str, order: int) -> None:
    torch.set_num_threads(1)
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    from nasl.oneshot.loops import make_trainer
    from tests.oneshot.loop_helpers import data, real_supernets, supernet
    # no BatchNorm: batch statistics over half a batch are not those of the whole (SyncBatchNorm is GPU-only);
    # other seeds per rank: rank 0's weights and alpha are broadcast at the start
    if real_supernets():
        import nasl
        torch.manual_seed(rank)
        sn = nasl.compile_supernet(nasl.loads(no_batchnorm()), "darts")
    else:
        sn = supernet("darts", seed=rank, bn=False)
    # 96 images: 48 train the weights, 48 alpha; a global batch of 16 gives exactly 3 steps
    t = make_trainer(sn, data(n_train=96, n_val=32), epochs=2, options=dict(batch_size=16, order=order))
    record = t.train_epoch()
    alpha = {k: v.detach().tolist() for k, v in sn.alpha.items()}
    assert alpha and not [n for n, _ in sn.named_buffers()]
    weights = {k: v.detach().flatten()[:50].tolist() for k, v in sn.state_dict().items() if "alpha" not in k}
    with open(f"{out}.{rank}", "w") as f:
        json.dump({"alpha": alpha, "weights": weights, "record": record, "steps": t.step_count}, f)
    if world > 1:
        torch.distributed.destroy_process_group()


def no_batchnorm() -> str:
    """digits.nas without its BatchNorms."""
    from tests.oneshot.loop_helpers import DIGITS
    src = open(DIGITS).read()
    for old, new in (("relu_conv_bn(c, k=1)", "relu >> conv(c, k=1)"), ("relu_conv_bn(c, k=3)", "relu >> conv(c, k=3)"),
                     ("conv(width, k=3) >> bn", "conv(width, k=3)"), ("h >> bn >> relu", "h >> relu")):
        assert old in src, old
        src = src.replace(old, new)
    return src


if __name__ == "__main__":
    rank, world, rendezvous, out, order = sys.argv[1:]
    main(int(rank), int(world), rendezvous, out, int(order))
