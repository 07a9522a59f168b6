"""The ``train`` evaluator: compile an architecture and train it on a data set.

:class:`TrainEvaluator` follows the evaluator contract of
:mod:`nasl.study.protocol`: a picklable callable that takes a
:class:`~nasl.study.protocol.TrialRequest` and returns metrics, with
``directions = {"val_accuracy": "max"}``. It rebuilds the space from the
request's source (cached per process), compiles the architecture with the
data's input shape, trains it with cross-entropy and reports the validation
accuracy after every epoch (``"curve"``), so multi-fidelity searchers and
pruning can read partial results.

The budget is in epochs. ``request.budget`` overrides the evaluator's
``epochs``; a fractional budget trains the whole epochs and then that
fraction of the next epoch's steps (``2.5`` = two epochs and half of the
third). The learning-rate schedule (cosine decay to zero by default) is laid
over the evaluator's ``epochs``, not over the request's budget, so a trial at
budget ``k`` is exactly the first ``k`` epochs of a full trial with the same
seed: its curve is a prefix of the full curve. (A budget above ``epochs``
stretches the schedule to the budget.)
"""
from __future__ import annotations

import math
import time

import torch

from nasl.ir.errors import NaslError
from nasl.study import digits, inline_timeout, optimizers, train_data
from nasl.study.train_steps import evaluate, evaluate_reshaped, optimizer_settings, train_epoch  # noqa: F401  (evaluate: public here)
from nasl.study.lineage import remember_weights, weights_path
from nasl.study.trial_env import free_device_memory, save_atomic, trial_context  # noqa: F401  (save_atomic: public here)


def with_classes(request, num_classes):
    """``(request, space)``: :func:`nasl.study.evaluator_config.with_classes`, and the space it gives."""
    from nasl.study.evaluator_config import with_classes as set_classes
    request = set_classes(request, num_classes)
    return request, request.load_space()


class TrainEvaluator:
    """Train each architecture on a data set and score it by validation accuracy.

    Parameters
    ----------
    data : "digits", tuple of Tensor, or pair of Dataset
        ``"digits"`` (scikit-learn's handwritten digits, no download), a
        tuple ``(X_train, y_train, X_val, y_val)`` with inputs ``[N, ...]``
        and integer labels ``[N]``, or ``(train, val)`` Datasets of
        ``(input, label)`` items. All must be picklable to reach workers.
    epochs : float
        The full budget in epochs; ``request.budget`` overrides it.
    batch_size : int
        Training batch size.
    lr : float, optional
        Peak learning rate; default 0.01 for Adam, 0.1 for SGD.
    schedule : {"cosine", "constant"}
        Cosine decay from ``lr`` to 0 over ``epochs`` (per step), or a constant rate.
    optimizer : str
        Any ``torch.optim`` optimizer by name, case-insensitive (``"adam"``,
        ``"adamw"``, ``"rmsprop"`` ...); ``"sgd"`` is SGD with Nesterov
        momentum 0.9 (:mod:`nasl.study.optimizers`).
    weight_decay : float
        L2 weight decay.
    device : str, optional
        ``"cuda"``, ``"cpu"``, ``"cuda:1"`` ...; default CUDA when available
        in the process that runs the trial, else CPU.
    threads : int or None
        ``torch.set_num_threads`` for the trial (restored afterwards); None
        keeps the process's setting. The default, 1, suits these small
        models: a second thread gains about 1.4x on an idle machine, but when
        the cores are shared (pool workers, other jobs) multi-threaded trials
        were measured 3-14x slower than single-threaded ones (BENCHMARKS.md).
    input_shape : tuple, optional
        The network's input shape without the batch; default the data's.
    num_classes : int, optional
        Default: the largest label + 1. A space that declares ``param
        classes`` gets this value (unless the request sets it).
    val_fraction, split_seed, test_fraction :
        The digits train/validation/test split (see :func:`~nasl.study.digits.load_digits_split`).
        ``test_fraction`` defaults to 0.2 for the bundled digits (0 for one's own data, which brings
        its own test set); above 0 the trials also report ``test_accuracy``. A study records it, and
        one recorded before this default (no ``test_fraction``) resumes with 0.
    eval_batch_size : int
        Batch size for validation.
    morph_noise : float
        Net2Wider's noise for a trial whose lineage widens its parent (``net2wider width``): the
        replicated units' input weights get Gaussian noise of that many weight standard deviations,
        breaking their symmetry (Chen et al. 2016). 0 (the default) keeps the parent's function
        exactly; above 0 the child starts near it (docs/morph.md).
    """

    def __init__(self, data="digits", *, epochs: float = 5, batch_size: int = 64, lr: float | None = None,
                 optimizer: str = "adam", schedule: str = "cosine", weight_decay: float = 0.0,
                 device: str | None = None, threads: int | None = 1, input_shape=None,
                 num_classes: int | None = None,
                 val_fraction: float = 0.2, split_seed: int = 0, eval_batch_size: int = 512,
                 test_fraction: float | None = None, morph_noise: float = 0.0):
        data, shape, classes = train_data.check_data(data)
        optimizer = optimizers.resolve(optimizer)
        if schedule not in ("cosine", "constant"):
            raise ValueError(f"unknown schedule {schedule!r}; choose 'cosine' or 'constant'")
        _check_budget(epochs, "epochs")
        for name, v in (("batch_size", batch_size), ("eval_batch_size", eval_batch_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, not {v!r}")
        if lr is not None and not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a positive number, not {lr!r}")
        if not (isinstance(weight_decay, (int, float)) and weight_decay >= 0):
            raise ValueError(f"weight_decay must be a number >= 0, not {weight_decay!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive int, not {threads!r}")
        if isinstance(morph_noise, bool) or not isinstance(morph_noise, (int, float)) or not (
                0 <= morph_noise < math.inf):
            raise ValueError(f"morph_noise must be a number >= 0, not {morph_noise!r}")
        self.morph_noise = float(morph_noise)
        if device is not None:
            torch.device(device)                  # a bad name fails here, not in every trial
        if num_classes is None:
            num_classes = classes if classes is not None else train_data.dataset_classes(data[0])
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, not {num_classes!r}")
        self.data = data
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = float(lr) if lr is not None else optimizers.default_lr(optimizer)
        self.optimizer = optimizer
        self.schedule = schedule
        self.weight_decay = float(weight_decay)
        self.device = device
        self.threads = threads
        # an explicit input_shape overrides the space's declaration; the data's own shape only fills in
        # where the space declares none, or is reshaped into it (see fit_input_shape)
        self.input_shape = tuple(input_shape) if input_shape is not None else shape
        self.explicit_shape = input_shape is not None
        self.num_classes = num_classes
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.eval_batch_size = eval_batch_size
        if test_fraction is None:
            # the bundled digits hold out a test set by default; one's own data brings its own (or none)
            test_fraction = digits.DEFAULT_TEST_FRACTION if isinstance(data, str) else 0.0
        self.test_fraction = test_fraction
        if test_fraction:
            if not isinstance(data, str):
                raise ValueError("test_fraction splits the digits; give one's own test set with the data")
            digits.load_digits_split(split_seed, val_fraction, test_fraction)     # a bad fraction fails here
        self.directions = {"val_accuracy": "max"}
        # a trial whose searcher gave a parent (TrialRequest.lineage) starts from the parent's weights
        self.lineage = True
        self._inherited: dict = {}

    @property
    def model_inputs(self) -> dict:
        """The input shape and class count the networks are built for; a study records them, so that
        an export rebuilds the trained network (not the space's declared input and classes)."""
        return {"input_shape": list(self.input_shape), "num_classes": self.num_classes}

    def __repr__(self) -> str:
        data = self.data if isinstance(self.data, str) else f"<{type(self.data[0]).__name__} data>"
        return (f"TrainEvaluator(data={data!r}, epochs={self.epochs}, batch_size={self.batch_size}, "
                f"lr={self.lr}, optimizer={self.optimizer!r}, schedule={self.schedule!r}, "
                f"weight_decay={self.weight_decay})")

    # ------------------------------------------------------------------ input shapes
    def _data_name(self) -> str:
        return "the digits data" if isinstance(self.data, str) else "the data"

    def fit_input_shape(self, graph, source: str | None = None) -> tuple:
        """``(shape to compile for, reshape the data?)`` for a realized graph of the space.

        An input of the data's rank takes the data's shape (a CIFAR space
        trains on 8x8 digits; convs and pools do not mind). One of another rank
        with as many values takes the data reshaped to it (flat features,
        ``input x: [64]`` for 8x8 digits, or ``[8, 8]`` as 8 tokens). Any other
        declaration is an error naming both shapes, before the first trial,
        instead of a shape mismatch in every trial.
        """
        if self.explicit_shape:
            return self.input_shape, False
        names = list(graph.graph.get("inputs", []))
        declared = graph.nodes[names[0]].get("shape") if len(names) == 1 else None
        data = tuple(self.input_shape)
        if declared is None or len(declared) == len(data):
            return data, False
        declared = tuple(declared)
        if math.prod(declared) == math.prod(data):
            return declared, True
        flat = f", or [{math.prod(data)}] for flat features" if len(data) > 1 else ""
        err = NaslError(f"the space declares input {names[0]}: {list(declared)}, but {self._data_name()} "
                        f"are {list(data)} per example; declare input {names[0]}: {list(data)}{flat}",
                        graph.nodes[names[0]].get("span"))
        raise err.with_source(source)

    def _reshape(self, model):
        """The per-example shape the data are reshaped to for ``model``, or None (see fit_input_shape)."""
        shapes = list(getattr(model, "input_shapes", {}).values())
        if len(shapes) == 1 and len(shapes[0]) != len(self.input_shape):
            return tuple(shapes[0])
        return None

    def check_space(self, space) -> None:
        """Refuse, before the first trial, a space whose input the data cannot fill."""
        self.fit_input_shape(space.realize(space.sample(0)), getattr(space._backend, "source", None))

    # ------------------------------------------------------------------ one trial
    def build_graph(self, request):
        """``(space, realized graph, input shape, model)`` of a request, the model untrained: the one
        realization and compile of a trial, which :meth:`build` then starts from its parent's weights."""
        from nasl.compiler import compile_graph

        request, space = with_classes(request, self.num_classes)
        graph = space.realize(request.architecture())
        source = getattr(space._backend, "source", None)
        shape, _ = self.fit_input_shape(graph, source)
        table = None
        if getattr(request, "lineage", None) and getattr(self, "lineage", True):
            # a child that starts from its parent: the node table its transformation reads (kept for
            # it, nasl.morph.memo) is the plan, shapes and module paths the compile needs
            from nasl.morph import memo
            table = memo.realized(space, request.architecture(), shape, graph).table
        try:
            model = compile_graph(graph, shape, table=table)
        except NaslError as e:
            e.with_source(source)
            raise
        return space, graph, shape, model

    def build(self, request):
        """The space (with ``classes`` set) and the compiled model of a request, untrained (from its
        parent's weights where the request has a lineage)."""
        space, graph, shape, model = self.build_graph(request)
        outs = list(model.output_shapes.values())
        if len(outs) != 1 or tuple(outs[0]) != (self.num_classes,):
            raise ValueError(f"the network must output {self.num_classes} class scores (shape "
                             f"[{self.num_classes}]), but it outputs {', '.join(str(list(o)) for o in outs)}; "
                             "end it in a classifier such as `global_avg_pool >> linear(classes)`")
        self.start_from_parent(space, model, request, graph, shape)
        return space, model

    def start_from_parent(self, space, model, request, graph, shape) -> None:
        """Start the untrained ``model`` from its parent's weights where the request has a lineage.
        ``graph`` and ``shape`` are what the model was compiled from: the transformation realizes
        and initialises the child no second time."""
        if getattr(request, "lineage", None) and getattr(self, "lineage", True):
            from nasl.study.lineage import apply_lineage
            self._inherited[request.trial_id] = apply_lineage(space, model, request, graph=graph, input_shape=shape,
                                                              noise=getattr(self, "morph_noise", 0.0))

    def device_for(self) -> torch.device:
        if self.device is not None:
            return torch.device(self.device)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def warm_up(self) -> None:
        """Do once, untimed, what a first trial would do lazily: load the data, import the
        compiler and what torch imports on an optimizer's first step (``torch._dynamo``).
        The inline runner calls it before arming its first timeout."""
        import nasl.compiler  # noqa: F401
        train_data.materialize(self.data, self.val_fraction, self.split_seed, self.test_fraction)
        weight = torch.zeros(1, requires_grad=True)
        opt = optimizers.make(self.optimizer, [weight], self.lr, self.weight_decay)
        (weight * 2).sum().backward()
        opt.step()

    def __call__(self, request) -> dict:
        # An inline timeout may not interrupt this at any bytecode (torch's global settings are
        # restored in a finally; imports run lazily): it is delivered at the checkpoints, between steps.
        with inline_timeout.protected():
            return self._call(request)

    def _call(self, request) -> dict:
        budget = self.epochs if request.budget is None else request.budget
        _check_budget(budget, "budget")
        device = self.device_for()
        with trial_context(request.seed, device, self.threads):
            _, model = self.build(request)        # built under the seed: the initial weights are the trial's
            inline_timeout.checkpoint()
            lr, wd = optimizer_settings(request.architecture(), self.lr, self.weight_decay)
            metrics = self._train(model, budget, request.seed, device, self._reshape(model),
                                  report=getattr(request, "report", None), lr=lr, weight_decay=wd)
        metrics["params"] = sum(p.numel() for p in model.parameters())
        metrics.update(getattr(self, "_inherited", {}).pop(request.trial_id, {}))
        if request.artifact_dir:
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            remember_weights(save_atomic(state, weights_path(request.artifact_dir, request.trial_id)), state)
        del model
        free_device_memory(device)
        return metrics

    def _train(self, model, budget: float, seed: int, device: torch.device, reshape=None, report=None,
               lr: float | None = None, weight_decay: float | None = None) -> dict:
        lr = self.lr if lr is None else lr
        weight_decay = self.weight_decay if weight_decay is None else weight_decay
        data = train_data.materialize(self.data, self.val_fraction, self.split_seed, self.test_fraction)
        if isinstance(data[0], torch.Tensor):
            data = tuple(t.to(device) for t in data)
        model.to(device)
        opt = optimizers.make(self.optimizer, model.parameters(), lr, weight_decay)
        shuffle = torch.Generator().manual_seed(seed)
        full = train_data.steps_per_epoch(train_data.train_size(data), self.batch_size)
        total = math.ceil(max(self.epochs, budget) * full)        # the schedule's length in steps
        curve, start, epoch, steps_done = [], time.perf_counter(), 0.0, 0
        while epoch < budget:
            frac = min(1.0, budget - epoch)
            steps = full if frac == 1.0 else max(1, round(frac * full))
            loss_sum, n, steps_done = train_epoch(
                model, opt, train_data.train_batches(data, self.batch_size, shuffle, steps, device), reshape,
                lr=lr, schedule=self.schedule, done=steps_done, total=total,
                diverged=lambda value, step, e=int(epoch) + 1: (
                    f"training diverged: the loss is {value} at epoch {e}, step {step} (lr={lr}, "
                    f"optimizer={self.optimizer}); check the data for NaN/inf or lower the learning rate"))
            epoch = epoch + frac if frac < 1.0 else epoch + 1
            val_loss, val_acc = evaluate_reshaped(model, train_data.val_batches(data, self.eval_batch_size, device),
                                                  reshape)
            if not math.isfinite(val_loss):
                raise FloatingPointError(f"the validation loss is {val_loss} after epoch {epoch:g}; "
                                         "check the validation data for NaN/inf")
            inline_timeout.checkpoint()
            label = int(epoch) if epoch == int(epoch) else epoch
            curve.append({"epoch": label, "train_loss": loss_sum / n, "val_loss": val_loss, "val_accuracy": val_acc,
                          "seconds": time.perf_counter() - start})
            if report is not None and epoch < budget:
                report(curve)             # the study's pruner may stop the trial here (TrialPruned)
        last = curve[-1]
        test = {}
        if train_data.has_test(data):        # measured once, at the end: never in the curve a searcher reads
            test["test_loss"], test["test_accuracy"] = evaluate_reshaped(
                model, train_data.test_batches(data, self.eval_batch_size, device), reshape)
        return {**test, "val_accuracy": last["val_accuracy"], "val_loss": last["val_loss"],
                "train_loss": last["train_loss"], "train_seconds": last["seconds"], "epochs": last["epoch"],
                "steps": steps_done, "curve": curve}


def _check_budget(v, name: str):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a positive number of epochs, not {v!r}")


__all__ = ["TrainEvaluator", "evaluate", "weights_path", "save_atomic"]
