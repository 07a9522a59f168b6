"""The tree sampler's fast path: plans turned into flat programs, with groups entered by table.

:class:`nasl.ir.sampling.TreeSampler` compiles each block into a *plan* (draw a value, test a guard,
enter a group). A MetaQNN draw walks about 25 blocks (each layer: its block, the branch's group, the
lazy call of the next layer), and walking them one Python call each cost as much as the picks. Here:

* a choice step absorbs the guarded groups right after it that test only its value (:func:`fold`):
  the draw enters the groups listed for the value's index instead of testing nine guards in turn;
* paths come paired with their part after the template's prefix, so a draw from a template
  (``Group.origin``, :mod:`nasl.dsl.lazy`) stores ``b + suffix`` without slicing;
* eager groups are inlined, and a group entered by a program's last step replaces the program in
  the same loop (a tail call): walking down a chain of layers makes no calls.

The random numbers come from the same calls in the same order (``randrange(n)`` is
``_randbelow(n)`` after its checks) and the values are stored in the same order as the step-by-step
walk: the same seed gives the same architectures. Blocks conditioned on choices above them
(:func:`nasl.ir.counting.conditioning_choices`) keep the step-by-step walk.
"""
from __future__ import annotations

from bisect import bisect_right
from random import Random as _Random

from nasl.ir.counting import EMPTY_COUNT, conditioning_choices
from nasl.ir.decision_tree import INACTIVE
from nasl.ir.errors import InternalError

FOLD_MAX = 4096          # the longest table whose values get a list of groups each
_MISSING = object()
_TAIL = {5: 15, 7: 17, 8: 18}
_UNTAIL = {v: k for k, v in _TAIL.items()}


def fold(steps: list) -> list:
    """Merge a choice's step with the guarded groups that follow it straight away and test only it.

    Kind 1 (weighted) becomes 8, kind 2 (uniform table) becomes 7, each with
    a tuple of groups per value index. The groups that hold come next in
    both walks, so the order of draws is unchanged. Empty eager groups are
    left out.
    """
    out, i, n = [], 0, len(steps)
    while i < n:
        kind, key, x = steps[i]
        j = i + 1
        while j < n and steps[j][0] == 3 and steps[j][1][0] == key:
            j += 1
        if j == i + 1 or kind not in (1, 2) or (kind == 2 and len(x) > FOLD_MAX):
            out.append(steps[i])
            i += 1
            continue
        try:
            groups = tuple(tuple(g for _, (_, allowed), g in steps[i + 1:j]
                                 if _hashable(v) in allowed and not (g.forced and not g.block.items))
                           for v in (x[0] if kind == 1 else x))
        except TypeError:       # an unhashable value: keep the guard tests
            out.append(steps[i])
            i += 1
            continue
        out.append((8, key, x + (groups,)) if kind == 1 else (7, key, (x, groups)))
        i = j
    return out


def _hashable(v):
    return tuple(v) if type(v) is list else v


def _tailed(prog: list) -> list:
    """``prog`` with its last step marked as a tail (entered without coming back), where it enters a group."""
    if prog and prog[-1][0] in _TAIL:
        k, k0, k1, x = prog[-1]
        prog[-1] = (_TAIL[k], k0, k1, x)
    return prog


def _joined(items):
    """One program that enters ``items`` in order: eager blocks' programs inlined, other groups as steps
    (a lone lazy group: its _Cell)."""
    out = []
    for p in items:
        if type(p) is list:
            out.extend(p)
            if out and out[-1][0] in _UNTAIL:
                k, k0, k1, x = out[-1]
                out[-1] = (_UNTAIL[k], k0, k1, x)
        else:
            out.append((5, None, None, p))      # a _Cell
    if len(out) == 1 and out[0][0] == 5:
        return out[0][3]        # one lazy group: entered straight from the choice's step
    return _tailed(out)


class _Cell:
    """A group that a program enters and cannot inline (lazily built, or conditioned), and, once first
    entered, what it leads to: ``(program or None, template prefix or None, what the site adds to the
    prefix of the values, block)``; it is fixed, since a program is compiled for one prefix."""

    __slots__ = ("g", "to")

    def __init__(self, g):
        self.g, self.to = g, None


def _under(path: str, a: str) -> bool:
    return not a or path == a or path.startswith(a + ".")


class _View:
    """The values of one draw from a template read and written under the template's paths (``a``), as the
    step-by-step walk's ``loc`` (:meth:`nasl.ir.sampling.TreeSampler._draw_moved`) holds them."""

    __slots__ = ("values", "a", "b")

    def __init__(self, values, a, b):
        self.values, self.a, self.b = values, a, b

    def get(self, path, default=None):
        if not _under(path, self.a):
            return default
        return self.values.get(self.b + path[len(self.a):], default)

    def __setitem__(self, path, v):
        self.values[self.b + path[len(self.a):]] = v


class Programs:
    """The programs of one sampler's blocks, by block and the template prefix ``a`` cut off their paths
    (``""`` for a block drawn at its own paths)."""

    def __init__(self, sampler):
        self.sampler = sampler
        self._progs: dict = {}
        self._root = None           # the root's program (False: the root needs the step-by-step walk)

    def program(self, block, a: str):
        """The block's program with ``a`` cut off its paths; None where the block is conditioned on choices."""
        k = (id(block), a)
        p = self._progs.get(k, _MISSING)
        if p is _MISSING:
            s = self.sampler
            p = None if conditioning_choices(block, s.memo) else self._compile(s.plan(block), a)
            self._progs[k] = p
        return p

    def _static(self, g, a: str):
        """An eager group's program, where it has one (entered without looking anything up); else a _Cell."""
        if g.origin is None and g.forced:
            p = self.program(g.block, a)
            if p is not None:
                return p
        return _Cell(g)

    def _compile(self, steps: list, a: str) -> list:
        """The ops ``(kind, k0, k1, x)``: a value is stored at ``b + k1``, the path without ``a``."""
        la, prog = len(a), []
        for kind, key, x in steps:
            if kind == 2:
                prog.append((2, len(x), key[la:], x))
            elif kind == 0:
                prog.append((0, None, key[la:], x))
            elif kind == 1:
                prog.append((1, x[2].bit_length(), key[la:], x))
            elif kind in (7, 8):
                entries = tuple(_joined(tuple(self._static(g, a) for g in gs)) for gs in x[-1])
                if kind == 8:
                    prog.append((8, x[2].bit_length(), key[la:], x[:3] + (entries,)))
                else:
                    prog.append((7, len(x[0]), key[la:], (x[0], entries)))
            elif kind == 3:
                path, allowed = key
                if _under(path, a):
                    prog.append((3, path[la:], allowed, self._static(x, a)))
                elif INACTIVE in allowed:       # a path outside the template: never drawn here
                    prog.append((5, None, None, self._static(x, a)))
            elif kind == 6:
                prog.append((6, key, None, self._static(x, a)))
            elif kind == 5:
                prog.append((5, None, None, self._static(x, a)))
            else:
                prog.append((4, None, None, x))
        return _tailed(prog)

    def _lead(self, g, a: str) -> tuple:
        """Where entering ``g`` from a program cut at ``a`` leads (see _Cell)."""
        o = g.origin
        m = o.moved() if o is not None else None
        if m is None:       # its own block (g.block forces it; moved() is final after that)
            return self.program(g.block, a), None, "", g.block
        return self.program(m[0], m[1]), m[1], m[2][len(a):], m[0]

    def draw(self, root, rng, values, constraints) -> bool:
        """Draw from the root into ``values``; False (nothing drawn) where the root needs the slow walk."""
        prog = self._root
        if prog is None:
            prog = self._root = self.program(root, "")
            if prog is None:
                self._root = False
                return False
        elif prog is False:
            return False
        self.run(prog, rng, values, "", "", constraints)
        return True

    def _slow(self, blk, rng, values, a, b, constraints):
        if a:
            self.sampler._draw_moved(blk, rng, values, _View(values, a, b), a, b)
        else:
            self.sampler._draw(blk, rng, values, constraints, EMPTY_COUNT)

    def run(self, prog, rng, values, a, b, constraints):
        """Run ``prog``, its values stored under ``b`` in place of ``a``.

        A step that enters a group pushes where it was and goes on with the
        group's program in the same loop (no call); a tail step pushes
        nothing.
        """
        r = rng.random
        # randrange(n) is _randbelow(n); Random's own is inlined below (k0 = n.bit_length())
        bits = rng.getrandbits if type(rng)._randbelow is _Random._randbelow_with_getrandbits else None
        below = rng._randbelow
        stack = []
        it = iter(prog)
        while True:
            for kind, k0, k1, x in it:
                if kind == 2:
                    values[b + k1] = x[int(r() * k0)]
                elif kind == 18 or kind == 8:
                    vals, cum, total, groups = x
                    if bits is None:
                        i = bisect_right(cum, below(total))
                    else:
                        i = bits(k0)
                        while i >= total:
                            i = bits(k0)
                        i = bisect_right(cum, i)
                    values[b + k1] = vals[i]
                    nxt = groups[i]
                    if nxt:
                        tail = kind == 18
                        break
                elif kind == 15 or kind == 5:
                    nxt, tail = x, kind == 15
                    break
                elif kind == 17 or kind == 7:
                    table, groups = x
                    i = int(r() * k0)
                    values[b + k1] = table[i]
                    nxt = groups[i]
                    if nxt:
                        tail = kind == 17
                        break
                elif kind == 3:
                    v = values.get(b + k0, INACTIVE)
                    if (tuple(v) if type(v) is list else v) in k1:
                        nxt, tail = x, False
                        break
                elif kind == 6:
                    if k0.holds(_View(values, a, b) if a else values):
                        nxt, tail = x, False
                        break
                elif kind == 1:
                    vals, cum, total = x
                    # randrange(total), exact for the huge integer weights of deep trees
                    if bits is None:
                        i = below(total)
                    else:
                        i = bits(k0)
                        while i >= total:
                            i = bits(k0)
                    values[b + k1] = vals[bisect_right(cum, i)]
                elif kind == 0:
                    values[b + k1] = x.sample(rng)
                elif a:
                    raise InternalError(f"a constraint in the moved block of '{b}'")
                else:
                    constraints.append(x)
            else:           # the program is done: back to where the last group was entered
                if not stack:
                    return
                it, a, b = stack.pop()
                continue
            if not tail:
                stack.append((it, a, b))
            if type(nxt) is list:
                it = iter(nxt)
                continue
            to = nxt.to
            if to is None:
                to = nxt.to = self._lead(nxt.g, a)
            p, a2, site, blk = to
            if a2 is not None:      # a template's block, its values stored under this site's paths
                b, a = b + site, a2
            if p is None:
                self._slow(blk, rng, values, a, b, constraints)
                it = iter(())
            else:
                it = iter(p)
