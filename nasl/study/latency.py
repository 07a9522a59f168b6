"""Latency lookup tables: each op instance measured alone, a network predicted as the sum of its ops.

MnasNet, FBNet and ProxylessNAS predict a network's latency on a device from a
table of its layers' latencies, measured once per (op, input shape). Here an
"op instance" is a module that the compiled network calls (a node of its
``torch.fx`` graph) with the shapes of its inputs, keyed by the module's
``repr`` (which names its type and hyperparameters) and those shapes.
:func:`build_table` compiles sampled architectures of a space, collects
their op instances, and times each alone on the device; :func:`predict_ms`
sums a network's entries. ``nasl latency build-table`` is the command
(:mod:`nasl.study.latency_cli`), and ``--cost latency_table=PATH`` the
objective (:mod:`nasl.study.cost_evaluator`).

Timing on a shared CPU is noisy (other processes steal whole time slices),
so every measurement here is *robust* the same way: one intra-op thread,
warm-up calls, then ``rounds`` rounds that each time every candidate once,
in an order rotated per round (:func:`time_interleaved`), and the minimum
over the rounds. Interleaving spreads a burst of load over all candidates
instead of inflating a few; the minimum keeps the run least disturbed,
since load only ever adds time.
"""
from __future__ import annotations

import contextlib
import json
import os
import statistics
import time

from nasl.ir.errors import NaslError
from nasl.ir.reading import MAX_JSON_BYTES, load_json, read_text

STATS = ("min", "median")


def op_instances(model, input_shapes) -> list:
    """``[(key, module, [input shapes])]`` for each module call of a compiled ``model``, in graph order.

    One forward pass at batch 1, with a pre-hook on each called module
    recording the shapes of its tensor inputs.
    """
    import torch
    targets = [n.target for n in model.graph.nodes if n.op == "call_module"]
    seen: dict = {}
    hooks = []
    for t in dict.fromkeys(targets):
        def record(mod, args, t=t):
            seen.setdefault(t, [list(a.shape) for a in args if isinstance(a, torch.Tensor)])
        hooks.append(model.get_submodule(t).register_forward_pre_hook(record))
    try:
        with torch.inference_mode(), threads(1):
            model(*[torch.zeros(1, *s) for s in input_shapes])
    finally:
        for h in hooks:
            h.remove()
    out = []
    for t in targets:
        if t not in seen:           # not run by the forward (a dead op): it costs no time
            continue
        mod = model.get_submodule(t)
        out.append((f"{' '.join(repr(mod).split())} @ {seen[t]}", mod, seen[t]))
    return out


@contextlib.contextmanager
def threads(n: int | None = 1):
    """Run the block with ``n`` torch intra-op threads (None: leave the setting alone)."""
    import torch
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def time_interleaved(fns, rounds: int = 20, warmup: int = 2, stat: str = "min", sync=None,
                     clock=None) -> list[float]:
    """The time of each of ``fns`` in ms: ``warmup`` untimed calls each, then ``rounds`` interleaved rounds.

    Round r times every function once, starting at function ``r mod n``, so
    no function is always timed right after the same neighbour. ``stat`` is
    ``"min"`` (the default: load only adds time) or ``"median"``.
    """
    if stat not in STATS:
        raise NaslError(f"unknown timing statistic '{stat}'; expected one of {', '.join(STATS)}")
    if rounds < 1:
        raise NaslError(f"rounds must be at least 1, not {rounds}")
    clock = clock or time.perf_counter
    fns = list(fns)
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    n = len(fns)
    for r in range(rounds):
        for j in range(n):
            i = (r + j) % n
            if sync:
                sync()
            t = clock()
            fns[i]()
            if sync:
                sync()
            times[i].append(clock() - t)
    pick = min if stat == "min" else statistics.median
    return [pick(ts) * 1e3 for ts in times]


CLOCKS = ("auto", "thread", "wall")


def _clock(name: str, device, num_threads):
    """The timer: this thread's CPU time (``thread``) or wall time (``wall``).

    ``auto`` picks the thread's CPU time on a CPU with one intra-op thread:
    all the work then runs on the calling thread, and its CPU time leaves out
    the slices the scheduler gives to other processes, which wall time on a
    shared machine counts. A GPU, or several threads, need wall time.
    """
    if name not in CLOCKS:
        raise NaslError(f"unknown clock '{name}'; expected one of {', '.join(CLOCKS)}")
    if name == "auto":
        name = "thread" if device.type == "cpu" and num_threads == 1 else "wall"
    if name == "thread" and device.type != "cpu":
        raise NaslError("the thread clock measures CPU work only; time a GPU with --clock wall")
    return time.thread_time if name == "thread" else time.perf_counter


def _sync(device):
    import torch
    return torch.cuda.synchronize if device.type == "cuda" else None


def _device(name: str):
    import torch
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise NaslError(f"unknown device '{name}'; expected cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise NaslError("--device cuda: this torch has no CUDA device")
    if dev.type not in ("cpu", "cuda"):
        raise NaslError(f"unknown device '{name}'; expected cpu or cuda")
    return dev


def compiled(space, arch, input_shape=None):
    """The compiled, eval-mode model of ``arch``."""
    from nasl.compiler import compile_graph
    return compile_graph(space.realize(arch), input_shape).eval()


def build_table(space, *, samples: int = 100, device: str = "cpu", input_shape=None, archs=(),
                warmup: int = 2, rounds: int = 20, stat: str = "min", num_threads: int | None = 1,
                clock: str = "auto", seed: int = 0) -> dict:
    """Measure every op instance of ``archs`` plus ``samples`` sampled architectures of ``space`` on ``device``.

    Each distinct instance is timed once with its own input shapes, all of
    them interleaved (:func:`time_interleaved`), at batch 1.
    """
    import torch
    dev = _device(device)
    timer = _clock(clock, dev, num_threads)
    mods, keys = {}, []
    pool = list(archs) + (space.sample(seed, samples, mode="uniform-choice") if samples else [])
    with torch.inference_mode():
        for arch in pool:
            model = compiled(space, arch, input_shape)
            for key, mod, shapes in op_instances(model, list(model.input_shapes.values())):
                if key not in mods:
                    xs = [torch.randn(1, *s[1:], device=dev) for s in shapes]
                    mods[key] = (mod.to(dev), xs)
                    keys.append(key)
        with threads(num_threads):
            fns = [(lambda m, xs: lambda: m(*xs))(*mods[k]) for k in keys]
            ms = time_interleaved(fns, rounds, warmup, stat, _sync(dev), timer)
    return {"device": device, "input_shape": None if input_shape is None else list(input_shape),
            "warmup": warmup, "rounds": rounds, "stat": stat, "num_threads": num_threads,
            "clock": "thread" if timer is time.thread_time else "wall",
            "architectures": len(pool), "ops": dict(zip(keys, ms))}


def predict_ms(table: dict, model) -> float:
    """The table's latency of a compiled ``model``: the sum of its op instances (NaslError for a missing one)."""
    total = 0.0
    for key, _, _ in op_instances(model, list(model.input_shapes.values())):
        if key not in table["ops"]:
            raise NaslError(f"the latency table has no entry for {key[:120]}; build it with more samples "
                            f"(nasl latency build-table SPACE --samples N)")
        total += table["ops"][key]
    return total


def measure_models(models, device: str = "cpu", warmup: int = 2, rounds: int = 20, stat: str = "min",
                   num_threads: int | None = 1, clock: str = "auto") -> list[float]:
    """The measured latency in ms of each whole compiled model (batch 1), timed interleaved."""
    import torch
    dev = _device(device)
    timer = _clock(clock, dev, num_threads)
    fns = []
    for model in models:
        model = model.to(dev).eval()
        xs = [torch.randn(1, *s, device=dev) for s in model.input_shapes.values()]
        fns.append((lambda m, xs: lambda: m(*xs))(model, xs))
    with torch.inference_mode(), threads(num_threads):
        return time_interleaved(fns, rounds, warmup, stat, _sync(dev), timer)


def measured_ms(model, device: str = "cpu", warmup: int = 2, rounds: int = 20, stat: str = "min",
                num_threads: int | None = 1, clock: str = "auto") -> float:
    """The measured latency of one whole compiled ``model`` (batch 1)."""
    return measure_models([model], device, warmup, rounds, stat, num_threads, clock)[0]


def spread_sample(space, n: int, *, pool: int = 2000, input_shape=None, seed: int = 0) -> list:
    """``n`` distinct architectures that span the space's range of FLOPs (a proxy for latency).

    ``pool`` architectures are sampled with every active choice uniform
    (``mode="uniform-choice"``: each depth of a depth choice equally often,
    where uniform-architecture sampling almost always picks the deepest) and
    their FLOPs counted (nothing is built). The ``n`` picked are those
    nearest to ``n`` evenly spaced values between the pool's least and
    greatest FLOPs, so a check of a latency predictor sees slow and fast
    networks alike, not ``n`` networks bunched around the median.
    """
    from nasl.compiler.cost import cost_graph
    seen, ranked = set(), []
    for arch in space.sample(seed, pool, mode="uniform-choice"):
        k = json.dumps(dict(arch), sort_keys=True, default=list)
        if k not in seen:
            seen.add(k)
            ranked.append((cost_graph(space.realize(arch), input_shape).flops, len(ranked), arch))
    if len(ranked) < n:
        raise NaslError(f"only {len(ranked)} distinct architectures in a pool of {pool}; fewer than {n}")
    ranked.sort(key=lambda t: (t[0], t[1]))
    lo, hi = ranked[0][0], ranked[-1][0]
    picked, free = [], list(range(len(ranked)))
    for i in range(n):
        target = lo + (hi - lo) * i / max(n - 1, 1)
        j = min(free, key=lambda k: (abs(ranked[k][0] - target), k))
        free.remove(j)
        picked.append(ranked[j][2])
    return picked


def write_json(obj, path) -> str:
    """Write a latency table or model as JSON; the path written."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    return os.fspath(path)


def read_json(path, what: str):
    """A latency table or model file, read as nasl reads its other data files: capped in size, a
    byte-order mark skipped, every problem one NaslError naming ``what``."""
    try:
        return load_json(read_text(path, what, MAX_JSON_BYTES), f"{what} '{path}'")
    except json.JSONDecodeError as e:
        raise NaslError(f"cannot read {what} '{path}': {e}") from None


def save(table: dict, path) -> str:
    return write_json(table, path)


def load(path) -> dict:
    table = read_json(path, "the latency table")
    if not isinstance(table, dict) or not isinstance(table.get("ops"), dict):
        raise NaslError(f"'{path}' is not a latency table (no 'ops' mapping)")
    return table


__all__ = ["build_table", "predict_ms", "measure_models", "measured_ms", "op_instances", "spread_sample",
           "threads", "time_interleaved", "compiled", "save", "load"]
