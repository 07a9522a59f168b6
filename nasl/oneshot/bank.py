"""Mode ``bank``: weight sharing for every space nasl can compile, with no super-realize.

A :class:`BankSupernet` keeps one weight bank, an ``nn.ModuleDict`` from a
node identity (node id, op, params, input shapes; :mod:`nasl.compiler.node_identity`)
to the module that ``nasl.compile`` built for that node. A forward of an
architecture compiles it with ``nasl.compile_graph`` (cached by architecture
id, a bounded LRU) and puts the bank's module in the place of each module the
compile built: the compiled network's parameters *are* the bank's
``nn.Parameter`` objects, so an optimizer over ``sn.weights()`` trains them,
and only the sampled architecture's modules run. A node seen for the first
time keeps the freshly built module, which joins the bank.

Because node ids are deterministic and the identity holds the params, this
needs nothing of the space beyond ``realize``: NAS-Bench-101's channel rule
(a changed channel count is another identity, so fresh weights), recursive
and hierarchical spaces work as they compile. It is ENAS / SPOS-style
sharing by position, and the weight inheritance of Large-Scale Evolution.

New weights. The bank grows as new nodes are seen, and ``sn.weights()``
shows the growth. An optimizer made before then does not know the new
parameters: either call ``sn.populate(n)`` before making it (it compiles ``n``
sampled architectures, so most nodes exist; with a learning-rate scheduler,
do this), or call ``sn.add_new_weights(optimizer)`` after a step, which adds
the parameters the optimizer lacks as a new parameter group with the first
group's settings.

Initialisation. A new node's torch layers are re-initialised from a
generator seeded by (``seed``, its identity), so a bank is the same whatever
order its architectures came in (resume, ``populate``, another process).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
from collections import OrderedDict

import torch
from torch import nn

from nasl.compiler.build import compile_graph, source_of
from nasl.compiler.clone import CLONEABLE
from nasl.ir.architecture import Architecture
from nasl.ir.errors import NaslError
from nasl.compiler.node_identity import key_of, node_identities
from nasl.oneshot.saving import load_error, payload, write


def _has_state(m: nn.Module) -> bool:
    return any(True for _ in m.parameters()) or any(True for _ in m.buffers())


class BankSupernet(nn.Module):
    """The ``bank`` supernet of a space (see the module doc); made by ``compile_supernet(space, "bank")``.

    Options: ``input_shape`` (as :func:`nasl.compile`), ``cache`` (compiled architectures kept, LRU),
    ``seed`` (of new nodes' initial weights).
    """

    def __init__(self, space, input_shape=None, cache: int = 64, seed: int = 0):
        super().__init__()
        if isinstance(cache, bool) or not isinstance(cache, int) or cache < 1:
            raise NaslError(f"bank option cache is the number of compiled architectures kept, an int >= 1, "
                            f"not {cache!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise NaslError(f"bank option seed is an int, not {seed!r}")
        self.mode = "bank"
        self.space = space
        self.input_shape = tuple(input_shape) if input_shape is not None and \
            all(isinstance(d, int) for d in input_shape) else input_shape
        self.cache_size = cache
        self.seed = seed
        self.bank = nn.ModuleDict()
        self.alpha = nn.ParameterDict()               # sampled mode: no architecture parameters
        self.register_buffer("_anchor", torch.empty(0), persistent=False)   # follows .to(): new nodes' device
        self._cache: OrderedDict = OrderedDict()      # arch id -> compiled GraphModule bound to the bank
        self._graphs: dict = {}                       # arch id -> its ArchGraph, for the cached ones
        self._origin: dict = {}                       # bank key -> JSON of the first architecture that had it
        self._active = None

    # ------------------------------------------------------------------ the interface of every mode
    def options(self) -> dict:
        """The constructor options, as a checkpoint records them."""
        shape = list(self.input_shape) if isinstance(self.input_shape, tuple) else self.input_shape
        return {"input_shape": shape, "cache": self.cache_size, "seed": self.seed}

    def arch_parameters(self) -> list:
        return []

    def weights(self) -> list:
        """Every banked parameter (the list grows as new nodes are seen; see the module doc)."""
        return list(self.bank.parameters())

    def probs(self) -> dict:
        return {}

    def derive(self):
        raise NaslError("a bank supernet has no architecture distribution to derive from; search it with "
                        "an evaluator (nasl.oneshot.evaluator.SupernetEvaluator, evaluator 'supernet:PATH')")

    def expected_cost(self, metric: str = "flops"):
        raise NaslError("a bank supernet has no architecture distribution, so no expected cost; the cost of one "
                        "architecture is nasl.cost(space, arch)")

    def sample_arch(self, rng=None) -> Architecture:
        """A uniformly random valid architecture (``space.sample``; ``rng`` an int or ``random.Random``)."""
        return self.space.sample(rng)

    @contextlib.contextmanager
    def use(self, arch):
        """``with sn.use(arch): sn(x)`` runs ``arch``."""
        arch = _arch(arch)
        self.module_for(arch)                     # a bad architecture fails at the `with`, not in the body
        previous, self._active = self._active, arch
        try:
            yield self
        finally:
            self._active = previous

    def forward(self, *inputs, arch=None):
        if arch is None and inputs and isinstance(inputs[-1], (dict, Architecture)):
            inputs, arch = inputs[:-1], inputs[-1]
        arch = self._active if arch is None else arch
        if arch is None:
            raise NaslError("a bank supernet runs one architecture: call sn(x, arch) or use `with sn.use(arch):`")
        model = self.module_for(arch)
        if model.training != self.training:
            model.train(self.training)
        return model(*inputs)

    def sub_state_dict(self, arch) -> dict:
        """The ``state_dict`` of ``nasl.compile(space, arch)``, with the bank's tensors (copies)."""
        return {k: v.detach().clone() for k, v in self.module_for(arch).state_dict().items()}

    def subnet(self, arch) -> nn.Module:
        """A stand-alone ``nasl.compile`` of ``arch`` holding copies of the bank's weights."""
        arch = _arch(arch)
        bound = self.module_for(arch)
        model = self._compile_plain(arch, self._graphs.get(arch.id))
        model.load_state_dict({k: v.detach().clone() for k, v in bound.state_dict().items()})
        return model.to(self._anchor.device).train(self.training)

    # ------------------------------------------------------------------ the bank
    def module_for(self, arch) -> nn.Module:
        """The compiled network of ``arch`` whose modules are the bank's (cached, LRU)."""
        arch = _arch(arch)
        model = self._cache.get(arch.id)
        if model is not None:
            self._cache.move_to_end(arch.id)
            return model
        graph = self.space.realize(arch)          # an architecture outside the space fails here
        model = self._bind(arch, graph)
        self._cache[arch.id], self._graphs[arch.id] = model, graph
        while len(self._cache) > self.cache_size:
            old, _ = self._cache.popitem(last=False)
            self._graphs.pop(old, None)
        return model

    def _compile_plain(self, arch, graph=None):
        try:
            return compile_graph(graph if graph is not None else self.space.realize(arch), self.input_shape)
        except NaslError as e:
            e.with_source(source_of(self.space))
            raise

    def _bind(self, arch: Architecture, graph=None) -> nn.Module:
        if graph is None:
            graph = self.space.realize(arch)
        model = self._compile_plain(arch, graph)
        device, dtype = self._anchor.device, self._anchor.dtype
        text = arch.to_json()
        for ident, path in node_identities(graph, self.input_shape).values():
            try:
                built = model.get_submodule(path)
            except AttributeError:
                continue                          # a functional op (merge, slice): no module, no weights
            key = key_of(ident)
            banked = self.bank[key] if key in self.bank else None
            if banked is None:
                if not _has_state(built):
                    continue                      # ReLU, pooling: nothing to share
                self._initialise(built, key)
                self.bank[key] = built.to(device=device, dtype=dtype if dtype.is_floating_point else None)
                self._origin[key] = text
            else:
                if text < self._origin[key]:
                    # the least architecture JSON that has the node: the saved state does not depend
                    # on the order the architectures came in (a resumed run saves what a whole one does)
                    self._origin[key] = text
                parent, _, leaf = path.rpartition(".")
                setattr(model.get_submodule(parent) if parent else model, leaf, banked)
        return model.to(device)

    def _initialise(self, module: nn.Module, key: str) -> None:
        """Draw a new node's torch layers from a generator seeded by (seed, identity)."""
        if not all(type(m) in CLONEABLE for m in module.modules()):
            return                                # a user op: its builder's own initialisation
        seed = int(hashlib.sha1(f"{self.seed}:{key}".encode()).hexdigest()[:15], 16)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for m in module.modules():
                reset = getattr(type(m), "reset_parameters", None)
                if reset is not None:
                    reset(m)

    def populate(self, n: int, seed=0) -> int:
        """Compile ``n`` sampled architectures so that their nodes join the bank (before making an
        optimizer); returns the number of banked modules."""
        import random
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        for _ in range(int(n)):
            self._bind(self.sample_arch(rng))     # not cached: populate must not evict what runs
        return len(self.bank)

    def add_new_weights(self, optimizer) -> int:
        """Add the banked parameters ``optimizer`` lacks, as a parameter group with its first group's
        settings; returns how many it added."""
        have = {id(p) for g in optimizer.param_groups for p in g["params"]}
        new = [p for p in self.bank.parameters() if id(p) not in have]
        if new:
            settings = {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}
            optimizer.add_param_group({**settings, "params": new})
        return len(new)

    def _apply(self, fn, *args, **kwargs):
        # .to() / .cuda() / .double(): the cached networks hold modules that are not the bank's
        # (ReLUs, pools), rebuilt lazily on the new device
        self._cache.clear()
        self._graphs.clear()
        return super()._apply(fn, *args, **kwargs)

    # ------------------------------------------------------------------ checkpoints
    # The state_dict carries, as the root module's extra state, one architecture per banked node, so that
    # ``load_state_dict`` into a fresh bank first rebuilds the same modules: torch loads a module's own
    # state (and calls set_extra_state) before it walks its children, the bank among them. Any checkpoint
    # that holds ``sn.state_dict()`` (``sn.save``, a training loop's) thus loads as it is. The architectures
    # travel as a uint8 tensor of their JSON, so that every value of the state_dict is a tensor, as code
    # that copies, compares or moves state dicts expects.
    def get_extra_state(self) -> torch.Tensor:
        text = json.dumps(sorted(set(self._origin.values())))
        return torch.frombuffer(bytearray(text.encode()), dtype=torch.uint8).clone()

    def set_extra_state(self, state) -> None:
        try:
            archs = json.loads(bytes(state.to("cpu", torch.uint8).tolist()).decode())
        except (AttributeError, TypeError, ValueError, UnicodeDecodeError):
            archs = None
        if not isinstance(archs, list) or not all(isinstance(a, str) for a in archs):
            raise NaslError("the bank's saved state is damaged: no list of architectures")
        for text in archs:
            try:
                arch = Architecture.from_json(text)
                if arch.id not in self._cache:
                    self._bind(arch)
            except NaslError as e:
                raise NaslError(f"the saved bank does not fit this space: {str(e).splitlines()[0]}") from None

    def checkpoint(self) -> dict:
        """Plain data (``torch.load(weights_only=True)`` reads it back): the format, mode, space and options,
        and the state dict (with the architectures that rebuild the bank's modules)."""
        return payload(self, self.space, self.options())

    def load_checkpoint(self, data: dict, where: str = "the checkpoint") -> None:
        try:
            self.load_state_dict(data["state"], strict=True)
        except (RuntimeError, KeyError, TypeError, AttributeError) as e:
            raise NaslError(f"{where} does not fit this supernet: {load_error(e)}") from None

    def save(self, path) -> str:
        """Write :meth:`checkpoint` to ``path`` atomically (a reader never sees half a file)."""
        return write(self.checkpoint(), path)

    def extra_repr(self) -> str:
        return f"mode=bank, banked={len(self.bank)}, cached={len(self._cache)}"


def _arch(arch) -> Architecture:
    if isinstance(arch, Architecture):
        return arch
    if isinstance(arch, dict):
        return Architecture(arch)
    raise NaslError(f"an architecture is an Architecture or a {{path: value}} dict, not {type(arch).__name__}")


def build(space, mode: str = "bank", **options) -> BankSupernet:
    """``compile_supernet(space, "bank", input_shape=None, cache=64, seed=0)``."""
    known = {"input_shape", "cache", "seed"}
    bad = sorted(set(options) - known)
    if bad:
        raise NaslError(f"mode 'bank' has no option '{bad[0]}'; its options: {', '.join(sorted(known))}")
    return BankSupernet(space, **options)


__all__ = ["BankSupernet", "build"]
