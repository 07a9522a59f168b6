"""The network pool of the transformation searchers (``eas``, ``path_level_eas``).

Cai et al. keep every network they have trained: a child the meta-controller proposes again is
not retrained; the controller learns from the reward it already has and samples again. Both
searchers sample their children through :func:`propose_new`, so they agree on how often they
retry and on what they ask when every try was known.
"""
from __future__ import annotations

from nasl.ir.architecture import Architecture
from nasl.searchers.walks import satisfies

#: samples per ask before a known child is retrained (then the parent, as ``identity``)
TRIES = 10


def propose_new(searcher, parent: Architecture, rollout):
    """A child of ``parent`` from ``rollout(values) -> (values, memory, name)``.

    ``memory`` is what REINFORCE needs of the rollout (empty: the controller decided nothing)
    and ``name`` the child's transformation. A child already told is learned from at once
    (``searcher._learn(memory, reward)``) and sampled again, at most :data:`TRIES` times; a
    child the space's constraints refuse is sampled again too. The child's memory waits in
    ``searcher.rollouts`` for its reward."""
    for attempt in range(TRIES):
        values, memory, name = rollout(dict(parent))
        if searcher._check and not satisfies(searcher.spec, values):
            continue
        arch = Architecture(values)
        if attempt < TRIES - 1 and arch.id in searcher.known and memory:
            searcher._learn(memory, searcher.known[arch.id])     # the network pool: no second training
            continue
        break
    else:
        return searcher.child(parent, parent, "identity")
    if memory:
        searcher.rollouts.setdefault(arch.id, []).append(memory)
    return searcher.child(arch, parent, name or "identity")


def learn_told(searcher, arch: Architecture, r: float) -> None:
    """Learn from the reward ``r`` of a child this searcher proposed: its oldest waiting rollout
    (``searcher.rollouts``) goes to ``searcher._learn``. A network it did not propose (the start
    network, a mutation, another searcher's) teaches the controller nothing."""
    queue = searcher.rollouts.get(arch.id)
    if not queue:
        return
    memory = queue.pop(0)
    if not queue:
        del searcher.rollouts[arch.id]
    searcher.rewards.append(r)
    from nasl.searchers.controller import single_thread      # torch, only for a controller's child
    with single_thread():
        searcher._learn(memory, r)


def learn_batch(searcher, memory, r: float) -> None:
    """Batch ``(memory, r)``; every ``batch_size`` rewards, one REINFORCE step against the moving
    baseline ``b += baseline_decay * (mean - b)`` (a baseline not yet set starts at the batch's mean)."""
    searcher.batch.append([memory, r])
    if len(searcher.batch) < searcher.batch_size:
        return
    mean = sum(x for _, x in searcher.batch) / len(searcher.batch)
    b = mean if searcher.baseline is None else searcher.baseline
    searcher.baseline = b + searcher.baseline_decay * (mean - b)
    searcher.policy.reinforce([(m, x - searcher.baseline) for m, x in searcher.batch], searcher.entropy_weight)
    searcher.batch = []
