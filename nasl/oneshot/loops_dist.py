"""``torch.distributed`` for the one-shot loops: one global batch split over the ranks.

The loops do not wrap the supernet in ``DistributedDataParallel``; they
average the gradients themselves, one flat all-reduce per parameter group,
which is what DDP's hooks do (docs/decisions.md, "one-shot under
torch.distributed"). The reasons: the second-order step evaluates the
supernet through ``torch.func.functional_call``, where DDP's hooks never fire;
the alpha step and the weight step are separate backward passes over
disjoint groups; and a sampled mode leaves most weights unused in a step,
which DDP only allows with ``find_unused_parameters`` and a graph walk per
step. Averaging alpha's gradient like the weights' keeps alpha, hence
``derive()``, identical on every rank.

Every rank must run the same steps with the same architectures: the loops
seed their samplers alike on every rank, so this holds by construction.
"""
from __future__ import annotations

import torch

from nasl.ir.errors import NaslError


class Dist:
    """The process group the loop runs in (a no-op when there is none, or one process)."""

    def __init__(self):
        import torch.distributed as dist
        self.dist = dist
        self.on = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        self.rank = dist.get_rank() if self.on else 0
        self.world = dist.get_world_size() if self.on else 1

    @property
    def main(self) -> bool:
        """Rank 0 writes the checkpoint and the study; the others only train."""
        return self.rank == 0

    def shard(self, index: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous share of one global batch of indices (equal shares, so that the mean of the
        ranks' mean losses is the global batch's mean loss)."""
        if not self.on:
            return index
        if len(index) % self.world:
            raise NaslError(f"the batch size {len(index)} is not a multiple of the {self.world} processes; "
                            f"choose batch_size divisible by the world size")
        return index.view(self.world, -1)[self.rank]

    def broadcast_module(self, module) -> None:
        """Start every rank from rank 0's weights, alpha and buffers."""
        if self.on:
            for t in list(module.parameters()) + list(module.buffers()):
                self.dist.broadcast(t.data, 0)

    def average(self, tensors) -> None:
        """Average ``tensors`` over the ranks in place (one flat all-reduce)."""
        tensors = [t for t in tensors if t is not None]
        if not self.on or not tensors:
            return
        flat = torch.cat([t.reshape(-1) for t in tensors])
        self.dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for t in tensors:
            n = t.numel()
            t.copy_(flat[offset:offset + n].view_as(t))
            offset += n

    def average_grads(self, params) -> None:
        self.average([p.grad for p in params if p.grad is not None])

    def sum(self, values: list[float]) -> list[float]:
        """Sums of per-rank counts (correct predictions, examples) for the epoch's metrics."""
        if not self.on:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64)
        self.dist.all_reduce(t)
        return t.tolist()
