"""Benchmark: DARTS search steps of a nasl supernet against the hand-written search network.

Both networks are the DARTS search network (C=16, 8 layers, 10 classes, the 8
primitives with 'none', affine=False candidates):

* **hand-written** -- ``Network`` of ``tests/oneshot/reference_darts.py``
  (1,930,618 weights, 224 alphas; PC-DARTS: ``PCNetwork``, 299,578 + 252);
* **nasl** -- ``nasl.compile_supernet(space, mode="darts", affine=False)`` (or
  ``mode="pcdarts"``) of ``examples/darts.nas`` with the 8 ops.

A search step is what DARTS's ``train_search.py`` does per batch: an alpha
step on a validation batch (first order: the gradient of the validation loss;
``--second-order``: the unrolled gradient with the finite-difference
Hessian-vector product, r = 0.01 / |dw'|), then a weight step on a training
batch with gradient clipping at 5. Optimisers as officially: weights SGD 0.025,
momentum 0.9, weight decay 3e-4; alphas Adam 3e-4, betas (0.5, 0.999), weight
decay 1e-3 (PC-DARTS: SGD 0.1 and Adam 6e-4, its official values). The same
step code drives both networks, so only the networks differ; each backward
asks only for the gradients its optimiser uses (``backward(inputs=...)``).

Timing (CPU): one thread; both networks in one process, ``--warmup`` steps
each, then ``--repeats`` rounds in alternating order, each round ``--steps``
timed steps per network; the figure is the median over rounds of the mean
step time, and the ratio the median of the per-round ratios nasl / hand.

Memory (CPU): the peak resident set (``VmHWM``) during the steps, above the
RSS before the network is built, each network in a fresh process with the
same prelude (imports, ``nasl.load`` of the space, and one step of a tiny
reference network, so that torch's lazy initialisation is below the floor). After the build,
``gc`` and ``malloc_trim`` run and the high-water mark is reset
(``/proc/self/clear_refs``), so the figure is weights + gradients + optimiser
state + the step's activations, not the transient memory of building.
tracemalloc is not used: it does not see tensor storage.

``--device cuda``: batch 64 at 3x32x32, 10 warm-up and 50 timed steps (5
rounds of 10), ``torch.cuda.max_memory_allocated`` over the warm-up steps
above the allocation before that network was built (built one after the
other: the hand-written network's tensors stay allocated and are part of the
nasl baseline, and the peak counter is reset in between).

Targets (issue 11): nasl <= 1.10x the hand-written time per step, <= 1.05x its
peak memory.

Usage::

    python benchmarks/oneshot_darts.py [--sizes 8,32] [--batch 8] [--warmup 2] [--steps 3] [--repeats 5]
                                       [--second-order] [--pcdarts] [--no-memory] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.func import functional_call  # noqa: E402

import nasl  # noqa: E402
from nasl.ir.errors import NaslError  # noqa: E402
from _machine import machine  # noqa: E402
from tests.oneshot.reference_darts import PRIMITIVES, Network, PCNetwork, count  # noqa: E402

DARTS = ROOT / "examples" / "darts.nas"
OFFICIAL = {False: dict(lr=0.025, arch_lr=3e-4), True: dict(lr=0.1, arch_lr=6e-4)}   # by pcdarts


def load_space(args):
    return nasl.load(DARTS, ops=list(PRIMITIVES), C=args.C, layers=args.layers)


def build(which, args, space=None):
    """The network ``which`` ("hand" or "nasl"); for nasl, a one-line reason string if it cannot be built."""
    torch.manual_seed(0)
    if which == "hand":
        return (PCNetwork if args.pcdarts else Network)(args.C, 10, args.layers)
    try:
        return nasl.compile_supernet(space if space is not None else load_space(args),
                                     mode="pcdarts" if args.pcdarts else "darts", affine=False)
    except NaslError as e:
        return str(e).splitlines()[0]


class Stepper:
    """One DARTS search step (alpha step, then weight step) on any module with weights() / arch_parameters()."""

    def __init__(self, net, pcdarts=False, second_order=False, momentum=0.9, wd=3e-4, arch_wd=1e-3, clip=5.0):
        self.net, self.second_order, self.clip, self.momentum, self.wd = net, second_order, clip, momentum, wd
        self.fd_r = 0.01       # architect.py: r = 0.01 / |v|
        self.w, self.a = list(net.weights()), list(net.arch_parameters())
        self.lr = OFFICIAL[pcdarts]["lr"]
        self.wopt = torch.optim.SGD(self.w, self.lr, momentum=momentum, weight_decay=wd)
        self.aopt = torch.optim.Adam(self.a, OFFICIAL[pcdarts]["arch_lr"], betas=(0.5, 0.999), weight_decay=arch_wd)
        names = {id(p): n for n, p in net.named_parameters()}
        self.w_names = [names[id(p)] for p in self.w]

    def loss(self, x, y, weights=None):
        out = self.net(x) if weights is None else functional_call(self.net, dict(zip(self.w_names, weights)), (x,))
        return F.cross_entropy(out[0] if isinstance(out, tuple) else out, y)

    def arch_grads(self, train, valid):
        """Set the alphas' ``.grad``: first order, or DARTS's unrolled gradient."""
        self.aopt.zero_grad(set_to_none=True)
        if not self.second_order:
            self.loss(*valid).backward(inputs=self.a)
            return
        # w' = w - lr * (momentum * buf + dL_train/dw + wd * w): one virtual SGD step, as architect.py
        g = torch.autograd.grad(self.loss(*train), self.w)
        with torch.no_grad():
            unrolled = []
            for p, gp in zip(self.w, g):
                buf = self.wopt.state.get(p, {}).get("momentum_buffer")
                d = gp + self.wd * p if buf is None else gp + self.wd * p + self.momentum * buf
                unrolled.append((p - self.lr * d).requires_grad_())
        grads = torch.autograd.grad(self.loss(*valid, weights=unrolled), self.a + unrolled)
        d_alpha, v = grads[:len(self.a)], grads[len(self.a):]
        # finite-difference Hessian-vector product (d/dalpha dL_train/dw) . v at w +- r v
        r = (self.fd_r / torch.cat([t.flatten() for t in v]).norm()).item()
        with torch.no_grad():
            torch._foreach_add_(self.w, v, alpha=r)
        g_plus = torch.autograd.grad(self.loss(*train), self.a)
        with torch.no_grad():
            torch._foreach_add_(self.w, v, alpha=-2 * r)
        g_minus = torch.autograd.grad(self.loss(*train), self.a)
        with torch.no_grad():
            torch._foreach_add_(self.w, v, alpha=r)
        for a, da, gp, gm in zip(self.a, d_alpha, g_plus, g_minus):
            a.grad = da - self.lr * (gp - gm) / (2 * r)

    def step(self, train, valid):
        self.arch_grads(train, valid)
        self.aopt.step()
        self.wopt.zero_grad(set_to_none=True)
        self.loss(*train).backward(inputs=self.w)
        torch.nn.utils.clip_grad_norm_(self.w, self.clip)
        self.wopt.step()


def batches(size, batch, device):
    g = torch.Generator().manual_seed(size)
    def one():
        return (torch.randn(batch, 3, size, size, generator=g).to(device),
                torch.randint(0, 10, (batch,), generator=g).to(device))
    return one(), one()


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def time_steps(steppers, data, args):
    """{name: [(wall, cpu) seconds per step, one per round]}, rounds in alternating order.

    CPU time (``time.process_time``) is kept beside wall time: on a loaded
    machine a one-thread step waits for a core, and that wait is not the
    network's."""
    for s in steppers.values():
        for _ in range(args.warmup):
            s.step(*data)
    sync(args.device)
    times = {k: [] for k in steppers}
    names = list(steppers)
    for r in range(args.repeats):
        for name in (names if r % 2 == 0 else names[::-1]):
            t, c = time.perf_counter(), time.process_time()
            for _ in range(args.steps):
                steppers[name].step(*data)
            sync(args.device)
            times[name].append(((time.perf_counter() - t) / args.steps, (time.process_time() - c) / args.steps))
    return times


# --- CPU memory: one network per fresh process ----------------------------------------------------

def _status(field):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field)) / 1024   # MiB


def _trim():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _prime(args):
    """One step of a tiny reference network, so that what torch initialises lazily on the first
    convolution, backward and optimiser step (kernels, thread pools, caches) is below the floor."""
    tiny = (PCNetwork if args.pcdarts else Network)(4, 10, 3)
    Stepper(tiny, args.pcdarts, args.second_order).step(*batches(8, 2, "cpu"))


def _import_code():
    """Load the code a supernet uses (modules, not data) before the floor, in both processes: the floor
    is then a warm one, as in compile_memory.py, and the figure is the network's memory, not nasl's code."""
    import importlib
    for m in ("nasl.dsl.super_mode", "nasl.dsl.super_dag", "nasl.ir.supergraph", "nasl.oneshot.modes",
              "nasl.oneshot.relaxed_forward", "nasl.oneshot.derive", "nasl.oneshot.elastic"):
        try:
            importlib.import_module(m)
        except ImportError:
            pass


def memory_child(which, size, args):
    space = load_space(args)              # the same prelude for both networks
    data = batches(size, args.batch, "cpu")
    _import_code()
    _prime(args)
    _trim()
    floor = _status("VmRSS")
    net = build(which, args, space)
    if isinstance(net, str):
        return {"error": net}
    stepper = Stepper(net, args.pcdarts, args.second_order)
    _trim()
    built = _status("VmRSS") - floor
    with open("/proc/self/clear_refs", "w") as fh:    # reset VmHWM to the current RSS
        fh.write("5")
    for _ in range(max(2, args.warmup)):
        stepper.step(*data)
    return {"peak": _status("VmHWM") - floor, "built": built}


def memory(which, size, args):
    cmd = [sys.executable, __file__, "--_memory", which, "--sizes", str(size), "--batch", str(args.batch),
           "--warmup", str(args.warmup), "--C", str(args.C), "--layers", str(args.layers)]
    cmd += ["--second-order"] * args.second_order + ["--pcdarts"] * args.pcdarts
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    if out.returncode or not lines:
        return {"error": (out.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


# --- driver ---------------------------------------------------------------------------------------

def make_steppers(args, space, data):
    """{name: Stepper} on the device, and the reason nasl is missing (or None); on cuda also
    {name: peak MiB} over each network's warm-up steps, the networks built one after the other so
    that each one's peak is taken above what was allocated before it was built."""
    steppers, mem, reason = {}, {}, None
    for name in ("hand", "nasl"):
        if args.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        net = build(name, args, space)
        if isinstance(net, str):
            reason = net
            continue
        steppers[name] = s = Stepper(net.to(args.device), args.pcdarts, args.second_order)
        if args.device == "cuda":
            for _ in range(args.warmup):
                s.step(*data)
            torch.cuda.synchronize()
            mem[name] = (torch.cuda.max_memory_allocated() - base) / 2**20
    return steppers, mem, reason


def run_size(size, steppers, args, mem=None):
    data = batches(size, args.batch, args.device)
    times = time_steps(steppers, data, args)
    if mem is None:
        mem = {}
        for name in steppers if not args.no_memory else ():
            m = memory(name, size, args)
            mem[name] = m.get("peak")
            if "error" in m:
                print(f"{name} memory at {size}: {m['error']}")
    row = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    row.update({k + "_cpu": statistics.median(c for _, c in v) for k, v in times.items()})
    if "nasl" in times:
        row["ratio"] = statistics.median(n[0] / h[0] for n, h in zip(times["nasl"], times["hand"]))
        row["ratio_cpu"] = statistics.median(n[1] / h[1] for n, h in zip(times["nasl"], times["hand"]))
    row["mem"] = mem
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--sizes", default=None, help="input resolutions (default: 8,32 on CPU, 32 on cuda)")
    ap.add_argument("--batch", type=int, default=None, help="default: 8 on CPU, 64 on cuda")
    ap.add_argument("--warmup", type=int, default=None, help="default: 2 on CPU, 10 on cuda")
    ap.add_argument("--steps", type=int, default=None, help="timed steps per round (default: 3 on CPU, 10 on cuda)")
    ap.add_argument("--repeats", type=int, default=5, help="rounds")
    ap.add_argument("--second-order", action="store_true")
    ap.add_argument("--pcdarts", action="store_true", help="PC-DARTS (K=4) instead of DARTS")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes (CPU)")
    ap.add_argument("--C", type=int, default=16)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--_memory", choices=["hand", "nasl"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    cuda = args.device == "cuda"
    args.sizes = [int(s) for s in (args.sizes or ("32" if cuda else "8,32")).split(",")]
    args.batch = args.batch or (64 if cuda else 8)
    args.warmup = args.warmup if args.warmup is not None else (10 if cuda else 2)
    args.steps = args.steps or (10 if cuda else 3)
    torch.set_num_threads(1)
    if args._memory:
        print(json.dumps(memory_child(args._memory, args.sizes[0], args)))
        return 0
    if cuda and not torch.cuda.is_available():
        print("error: --device cuda, but torch sees no CUDA device")
        return 2
    if cuda:
        torch.backends.cudnn.benchmark = True
    kind = ("PC-DARTS" if args.pcdarts else "DARTS") + (", second order" if args.second_order else ", first order")
    print(machine(), f" torch {torch.__version__}  threads {torch.get_num_threads()}  device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if cuda else ""))
    print(f"{kind}; C={args.C}, {args.layers} layers; batch {args.batch}; {args.warmup} warm-up steps, "
          f"{args.repeats} rounds x {args.steps} timed steps")
    space = load_space(args)
    first = batches(args.sizes[0], args.batch, args.device)
    steppers, cuda_mem, reason = make_steppers(args, space, first)
    if reason:
        print(f"nasl: not available ({reason})")
    for k, s in steppers.items():
        print(f"{k}: {count(s.w):,} weights, {count(s.a):,} arch parameters")
    rows = {}
    for i, size in enumerate(args.sizes):
        if cuda:   # the first size was warmed up while its memory was measured
            warm = argparse.Namespace(**{**vars(args), "warmup": 0 if i == 0 else args.warmup})
            rows[size] = run_size(size, steppers, warm, cuda_mem if i == 0 else {})
        else:
            rows[size] = run_size(size, steppers, args)
    mem_how = "max_memory_allocated" if cuda else "VmHWM above the pre-build RSS, fresh process each"
    print("\n| input | hand ms/step | nasl ms/step | nasl/hand | hand CPU ms | nasl CPU ms | nasl/hand CPU "
          "| hand peak MiB | nasl peak MiB | nasl/hand |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def f(v, fmt):
        return "n/a" if v is None else format(v, fmt)
    for size, r in rows.items():
        ms = {k: (1e3 * r[k] if k in r else None) for k in ("hand", "nasl", "hand_cpu", "nasl_cpu")}
        hm, nm = r["mem"].get("hand"), r["mem"].get("nasl")
        print(f"| 3x{size}x{size} | {f(ms['hand'], '.1f')} | {f(ms['nasl'], '.1f')} | {f(r.get('ratio'), '.3f')} "
              f"| {f(ms['hand_cpu'], '.1f')} | {f(ms['nasl_cpu'], '.1f')} | {f(r.get('ratio_cpu'), '.3f')} "
              f"| {f(hm, '.1f')} | {f(nm, '.1f')} | {f(nm / hm if hm and nm else None, '.3f')} |")
    print(f"peak memory: {mem_how}; targets: time <= 1.10x, memory <= 1.05x")
    if reason:
        print("nasl: not available")
    return 0


if __name__ == "__main__":
    sys.exit(main())
