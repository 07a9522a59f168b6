"""Latency lookup tables: each op instance measured alone, a network predicted as the sum of its ops.

MnasNet, FBNet and ProxylessNAS predict a network's latency on a device from a
table of its layers' latencies, measured once per (op, input shape). Here an
"op instance" is a module that the compiled network calls (a node of its
``torch.fx`` graph) with the shapes of its inputs, keyed by the module's
``repr`` (which names its type and hyperparameters) and those shapes.
:func:`build_table` compiles sampled architectures of a space, collects
their op instances, and times each alone on the device (warm-up, then the
median of ``repeats`` runs); :func:`predict_ms` sums a network's entries.

Status (issue 18): a first piece, not wired into ``nasl latency`` or the cost
evaluator yet, and without a test. Measured once on the shared 2-core CPU
(load average ~7): 50 sampled architectures of ``examples/mobilenet.nas`` at
32x32 with narrow widths, a table from the same 50 (102 op instances, 7 s),
Spearman of predicted vs measured whole-network latency = -0.02 (0.22 with
one thread and the minimum of the repeats). Two measurements of the same 50
networks in a row rank them with Spearman -0.29: on this machine the
measurement's noise is larger than the networks' differences (29-32 op
instances each at this size), so the issue's >= 0.9 cannot be checked here;
it needs a quiet machine (BENCHMARKS.md, section 29).
"""
from __future__ import annotations

import json
import os
import statistics
import time

from nasl.ir.errors import NaslError


def op_instances(model, input_shapes) -> list:
    """``[(key, module, [input shapes])]`` for each module call of a compiled ``model``, in graph order."""
    import torch
    from torch.fx.passes.shape_prop import ShapeProp
    xs = [torch.zeros(1, *s) for s in input_shapes]
    ShapeProp(model).propagate(*xs)
    out = []
    for node in model.graph.nodes:
        if node.op != "call_module":
            continue
        shapes = [list(a.meta["tensor_meta"].shape) for a in node.args
                  if hasattr(a, "meta") and "tensor_meta" in a.meta]
        mod = model.get_submodule(node.target)
        out.append((f"{' '.join(repr(mod).split())} @ {shapes}", mod, shapes))
    return out


def time_ms(fn, warmup: int = 3, repeats: int = 10, sync=None) -> float:
    """The median wall time of ``fn()`` in ms, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if sync:
            sync()
        t = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def _sync(device):
    import torch
    return torch.cuda.synchronize if device.type == "cuda" else None


def build_table(space, *, samples: int = 20, device: str = "cpu", input_shape=None, warmup: int = 3,
                repeats: int = 10, seed: int = 0) -> dict:
    """Measure every op instance of ``samples`` sampled architectures of ``space`` (a Space) on ``device``."""
    import torch
    from nasl.compiler import compile_graph
    dev = torch.device(device)
    ops, sync = {}, _sync(dev)
    with torch.inference_mode():
        for i in range(samples):
            graph = space.realize(space.sample(seed + i))
            model = compile_graph(graph, input_shape).eval()
            for key, mod, shapes in op_instances(model, list(model.input_shapes.values())):
                if key in ops:
                    continue
                mod = mod.to(dev)
                xs = [torch.randn(1, *s[1:], device=dev) for s in shapes]
                ops[key] = time_ms(lambda: mod(*xs), warmup, repeats, sync)
    return {"device": device, "input_shape": None if input_shape is None else list(input_shape),
            "warmup": warmup, "repeats": repeats, "ops": ops}


def predict_ms(table: dict, model) -> float:
    """The table's latency of a compiled ``model``: the sum of its op instances (NaslError for a missing one)."""
    total = 0.0
    for key, _, _ in op_instances(model, list(model.input_shapes.values())):
        if key not in table["ops"]:
            raise NaslError(f"the latency table has no entry for {key[:120]}; build it with more samples "
                            f"(nasl latency build-table SPACE --samples N)")
        total += table["ops"][key]
    return total


def measured_ms(model, device: str = "cpu", warmup: int = 3, repeats: int = 10) -> float:
    """The measured latency of the whole compiled ``model`` (batch 1)."""
    import torch
    dev = torch.device(device)
    model = model.to(dev).eval()
    xs = [torch.randn(1, *s, device=dev) for s in model.input_shapes.values()]
    with torch.inference_mode():
        return time_ms(lambda: model(*xs), warmup, repeats, _sync(dev))


def save(table: dict, path) -> str:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(table, f, indent=1, sort_keys=True)
    return os.fspath(path)


def load(path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            table = json.load(f)
    except (OSError, ValueError) as e:
        raise NaslError(f"cannot read the latency table '{path}': {e}") from None
    if not isinstance(table, dict) or not isinstance(table.get("ops"), dict):
        raise NaslError(f"'{path}' is not a latency table (no 'ops' mapping)")
    return table


__all__ = ["build_table", "predict_ms", "measured_ms", "op_instances", "save", "load"]
