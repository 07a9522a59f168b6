"""Lazily elaborated definition bodies, memoised by their arguments.

A call under a condition is elaborated only when the spec is walked into it
(:func:`nasl.dsl.defs._run`). In a recursive space such as MetaQNN's, many
sites call the same definition with the same arguments: ``layers("conv", 32,
3, 0, 0)`` is reached by every history of three convs. Their blocks differ
only in the path prefix and in the guards around the call site, so the first
one elaborated is kept as a *template* and later ones are copies of it with
the paths moved (:func:`relocate`): a copy costs a walk over the block's
items instead of a run of the body.

A template is kept only when moving the prefix is all that differs between
sites. Its key holds the definition, the typed values of its arguments (plain
numbers, strings, booleans, tuples and lists of them; inputs must be spec-mode
placeholders), the depth and the chain of calls (so the recursion limit trips
where it did); and its block may name only paths under its own prefix, besides
the guards of the call site. A block with constraints, graph constraints or
anything else is elaborated at every site, as before. A copy's own lazy
groups get sites of their own, so a copy that misses the memo runs the body
there for real, with its real paths.
"""
from __future__ import annotations

from nasl.dsl.runtime import checked, run_body
from nasl.dsl.values import Tensor
from nasl.ir.choice_kind import CHOICE_TYPES
from nasl.ir.decision_tree import Block, Choice, Group, Guard
from nasl.ir.errors import NaslError

_INVALID = object()     # memo value: a key whose blocks cannot be moved
_SCALARS = (int, float, str, bool, type(None))


class Site:
    """Everything a lazy call needs to elaborate its body at one place in the spec."""

    __slots__ = ("interp", "decl", "node", "env", "expr", "sub", "key", "deferred", "_moved")

    def __init__(self, interp, decl, node, env, expr, sub, key):
        self.interp, self.decl, self.node, self.env, self.expr = interp, decl, node, env, expr
        self.sub = sub          # the body's context, without its block
        self.key = key          # memo key, or None: never memoised
        self.deferred = None    # the caller's Deferred (None for a copy's site)
        self._moved = None      # what moved() found: a template, once kept, stays; () for none, for good

    def run(self, sub):
        env = dict(self.env)    # a body assigns into its env: every run starts from the arguments
        if self.expr:
            return self.interp.eval(self.decl.body, env, sub)
        return run_body(self.interp, self.decl, env, sub)

    def force(self) -> Block:
        """The group's thunk: a copy of the template for this key, else the body run here."""
        interp, key = self.interp, self.key
        memo = interp.lazy_memo
        t = memo.get(key) if key is not None else None
        if t is not None and t is not _INVALID:
            block = relocate(t, self)
            value = t.value
        else:
            block = Block()
            n_graph = len(interp.graph_constraints)
            try:
                value = checked(self.run, self.sub.but(block=block), self.decl, self.node)
            except NaslError as e:      # raised while a space is counted or sampled, after loading
                raise e.with_source(interp.program.source)
            if key is not None and key not in memo:
                ok = len(interp.graph_constraints) == n_graph and _movable(block, self, value)
                memo[key] = _Template(block, self, value) if ok else _INVALID
        d = self.deferred
        if d is not None:
            d.settle(value)
        return block


    def moved(self):
        """``(block, its prefix, this site's prefix)`` of the template this site copies, or None.

        The sampler draws from the template directly (``Group.origin`` protocol,
        :meth:`nasl.ir.sampling.TreeSampler._draw_moved`).
        """
        m = self._moved
        if m is not None:
            return m or None
        key = self.key
        if key is None:
            self._moved = ()
            return None
        t = self.interp.lazy_memo.get(key)
        if t is None:
            return None         # not elaborated anywhere yet: the caller's force decides
        if t is _INVALID or t.site is self:
            self._moved = ()    # final: this site elaborates its own block
            return None
        self._moved = (t.block, t.site.sub.cprefix, self.sub.cprefix)
        return self._moved


class _Template:
    __slots__ = ("block", "site", "value")

    def __init__(self, block, site, value):
        self.block, self.site, self.value = block, site, value


def memo_key(decl, globals_, env: dict, sub):
    """The key under which equal calls share a template, or None."""
    items = []
    for k in sorted(env):
        t = _typed(env[k])
        if t is None:
            return None
        items.append((k, t))
    return (id(decl), id(globals_), tuple(items), sub.depth, sub.trace)


def _typed(v):
    if type(v) is Tensor and v.node is None and v.index == 0:
        return "tensor"
    if type(v) in _SCALARS:
        return (type(v).__name__, v)     # 1, 1.0 and True are equal keys but may elaborate apart
    if type(v) in (tuple, list):
        out = []
        for x in v:
            t = _typed(x)
            if t is None:
                return None
            out.append(t)
        return (type(v).__name__, tuple(out))
    return None


def _placeholder(v) -> bool:
    if type(v) is Tensor:
        return v.node is None
    return type(v) in (list, tuple) and all(type(x) is Tensor and x.node is None for x in v)


# ---------------------------------------------------------------- checks
def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


def _movable(block: Block, site: Site, value) -> bool:
    """Whether ``block`` names only paths under the site's prefix (and the site's own guards)."""
    if not _placeholder(value):
        return False
    sub = site.sub
    return bool(sub.cprefix) and _items_ok(block, sub.cprefix, sub.nprefix, sub.guards)


def _items_ok(block, cp, np_, guards) -> bool:
    n = len(guards)
    for item in block.items:
        t = type(item)
        if t in CHOICE_TYPES:
            c = item.condition
            if not _under(item.path, cp) or len(c) < n or any(a is not b for a, b in zip(c, guards)):
                return False
            if any(type(g) is not Guard or not _under(g.path, cp) for g in c[n:]):
                return False
        elif t is Group:
            o = item.origin
            if o is None:
                if item._block is None or type(item.guard) is not Guard or not _under(item.guard.path, cp):
                    return False
                if not _items_ok(item._block, cp, np_, guards):
                    return False
            else:
                if type(o) is not Site or o.key is None or item.guard is not None:
                    return False
                s = o.sub
                if not (_under(s.cprefix, cp) and (s.nprefix == np_ or s.nprefix.startswith(np_ + "."))):
                    return False
                if len(s.guards) < n or any(a is not b for a, b in zip(s.guards, guards)):
                    return False
                if any(type(g) is not Guard or not _under(g.path, cp) for g in s.guards[n:]):
                    return False
        else:
            return False        # a constraint: its symbol names paths that a copy would have to move
    return True


# ------------------------------------------------------------ relocation
class _Mover:
    """Maps the template's paths, node names and guards to a new site's."""

    __slots__ = ("a", "b", "na", "nb", "n", "guards", "_g")

    def __init__(self, old, new):
        self.a, self.b = old.cprefix, new.cprefix
        self.na, self.nb = old.nprefix, new.nprefix
        self.n, self.guards = len(old.guards), new.guards
        self._g: dict = {}

    def path(self, p: str) -> str:
        return self.b + p[len(self.a):]

    def guard(self, g: Guard) -> Guard:
        h = self._g.get(id(g))
        if h is None:
            h = self._g[id(g)] = Guard(self.path(g.path), g.values, g.text)
        return h

    def cond(self, c: tuple) -> tuple:
        if len(c) == self.n:
            return self.guards
        return self.guards + tuple(self.guard(g) for g in c[self.n:])

    def block(self, block: Block) -> Block:
        out = []
        for item in block.items:
            if type(item) in CHOICE_TYPES:
                c = object.__new__(type(item))
                d = c.__dict__
                d.update(item.__dict__)
                d["path"] = self.path(item.path)
                d["condition"] = self.cond(item.condition)
                out.append(c)
            elif item.origin is None:
                out.append(Group(self.guard(item.guard), self.block(item._block), site=self.path(item.site),
                                 key=item.key))
            else:
                s = item.origin
                sub = s.sub.but(cprefix=self.path(s.sub.cprefix), nprefix=self.nb + s.sub.nprefix[len(self.na):],
                                guards=self.cond(s.sub.guards))
                site = Site(s.interp, s.decl, s.node, s.env, s.expr, sub, s.key)
                out.append(Group(None, thunk=site.force, site=sub.cprefix, key=item.key, origin=site))
        return Block(out)


def relocate(t: _Template, site: Site) -> Block:
    """A copy of the template's block at ``site``."""
    return _Mover(t.site.sub, site.sub).block(t.block)
