"""Successive halving and Hyperband: multi-fidelity wrappers around any searcher.

Both ask with a budget (a fidelity such as epochs): :meth:`ask_with_budget`
returns ``(arch, budget)``, and the same architecture comes back at a larger
budget in a later rung when it survives. The study passes the budget back to
``tell(arch, result, budget)``, which attributes the result to its rung.
``ask()`` returns the architecture of :meth:`ask_with_budget` (the budget is
still recorded, and a ``tell`` without a budget goes to the oldest pending
evaluation of that architecture), so budget-unaware loops still work.

Brackets run asynchronously: while the current rung of every open bracket
waits for results, an ask opens the next bracket rather than blocking, so
parallel workers stay busy. When the base searcher is exhausted and nothing
is left to ask, :class:`Exhausted` says so (naming the pending results).
"""
from __future__ import annotations

import math

from nasl.ir.architecture import Architecture
from nasl.searchers.base import Exhausted, Result, Searcher
from nasl.searchers.registry import create, register_searcher


@register_searcher("successive_halving", example={"min_budget": 1, "max_budget": 9, "eta": 3})
class SuccessiveHalving(Searcher):
    """Successive halving (Jamieson & Talwalkar, AISTATS 2016; the inner loop of
    Li et al., "Hyperband", JMLR 2018), wrapping any registered searcher.

    A bracket draws ``num_configs`` architectures from the base searcher and
    evaluates them at the smallest budget; the best ``1/eta`` of each rung go
    on to a budget ``eta`` times larger, up to ``max_budget``. Brackets repeat
    with fresh architectures. Failed results never advance.

    The base searcher is told each architecture's result at the largest
    budget it reached, once that architecture leaves its bracket.

    Parameters
    ----------
    spec, seed
        See :class:`~nasl.searchers.base.Searcher`.
    base : str
        The registered searcher that proposes new architectures (default ``"random"``).
    base_options : dict, optional
        Options for it (e.g. ``{"population_size": 10}``).
    min_budget, max_budget : float
        The smallest and the full budget (defaults 1 and 81).
    eta : float
        The reduction factor (default 3).
    num_configs : int, optional
        Architectures per bracket (default ``eta ** s_max``, so that one
        reaches ``max_budget``).
    objective : str, optional
        The objective that ranks a rung (default: each result's first).
    """

    def __init__(self, spec, seed=None, *, base: str = "random", base_options: dict | None = None,
                 min_budget: float = 1, max_budget: float = 81, eta: float = 3, num_configs: int | None = None,
                 objective: str | None = None, **kw):
        super().__init__(spec, seed, **kw)
        if not 0 < min_budget <= max_budget:
            raise ValueError(f"need 0 < min_budget <= max_budget, got {min_budget} and {max_budget}")
        if eta < 2:
            raise ValueError(f"eta must be at least 2, not {eta}")
        if base in ("successive_halving", "hyperband"):
            raise ValueError(f"'{self.name}' cannot wrap '{base}'; wrap a searcher that proposes architectures")
        if num_configs is not None and num_configs < 1:
            raise ValueError(f"num_configs must be at least 1, not {num_configs}")
        self.min_budget, self.max_budget, self.eta = min_budget, max_budget, eta
        self.s_max = int(math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9))
        self.num_configs = num_configs
        self.objective = objective
        self.base = create(base, self.spec, seed=seed, encoder=self.encoder, cost=self.cost, **(base_options or {}))
        self.brackets: list[dict] = []      # open brackets, oldest first
        self.num_brackets = 0
        self.jobs: list[list] = []          # [arch, budget, bracket id, config index], oldest first

    # ------------------------------------------------------------ plan
    def bracket_plan(self, index: int) -> tuple[list, list]:
        """``(budgets, counts)`` of the rungs of bracket number ``index``."""
        s = self.s_max
        n0 = self.num_configs or int(round(self.eta ** s))
        return self._rungs(s, n0)

    def _rungs(self, s: int, n0: int) -> tuple[list, list]:
        budgets = [_tidy(self.max_budget * self.eta ** (k - s)) for k in range(s + 1)]
        counts = [max(1, int(n0 / self.eta ** k + 1e-9)) for k in range(s + 1)]
        return budgets, counts

    # ------------------------------------------------------------ asks
    def ask(self) -> Architecture:
        """The architecture of :meth:`ask_with_budget` (its budget is recorded for the tell)."""
        return self.ask_with_budget()[0]

    def ask_with_budget(self) -> tuple[Architecture, float]:
        for br in list(self.brackets):      # a shrunk bracket may close
            job = self._next_job(br)
            if job is not None:
                return self._issue(*job)
        try:
            br = self._open_bracket()
        except Exhausted as e:
            waiting = len(self.jobs)
            raise Exhausted(f"{self.name}: the base searcher is exhausted ({e})" +
                            (f"; {waiting} evaluation(s) are still pending: tell them, then ask again"
                             if waiting else "")) from None
        return self._issue(*self._next_job(br))

    def _issue(self, br: dict, idx: int) -> tuple[Architecture, float]:
        arch, budget = br["configs"][idx], br["budgets"][br["rung"]]
        self.jobs.append([arch, budget, br["id"], idx])
        self.pending.setdefault(arch, self.num_asked)
        self.num_asked += 1
        return arch, budget

    def _open_bracket(self) -> dict:
        budgets, counts = self.bracket_plan(self.num_brackets)
        br = {"id": self.num_brackets, "budgets": budgets, "counts": counts, "rung": 0,
              "configs": [], "next": 0, "results": {}}
        br["configs"].append(self.base.ask())      # Exhausted: no bracket is opened
        self.num_brackets += 1
        self.brackets.append(br)
        return br

    def _next_job(self, br: dict):
        if br["next"] < len(br["configs"]):
            br["next"] += 1
            return br, br["next"] - 1
        if br["rung"] == 0 and len(br["configs"]) < br["counts"][0]:
            try:
                br["configs"].append(self.base.ask())
            except Exhausted:
                n = len(br["configs"])                   # a smaller bracket, with rungs to match
                br["counts"] = [max(1, int(n / self.eta ** k + 1e-9)) for k in range(len(br["counts"]))]
                self._maybe_promote(br)
                return None
            br["next"] += 1
            return br, br["next"] - 1
        return None

    # ------------------------------------------------------------ tells
    def tell(self, arch, result, budget: float | None = None) -> None:
        arch = arch if isinstance(arch, Architecture) else Architecture(arch)
        result = Result.coerce(result)
        self.num_told += 1
        k = next((i for i, j in enumerate(self.jobs) if j[0] == arch and (budget is None or j[1] == budget)), None)
        if k is None:
            # not one of ours (a result from elsewhere): the base searcher may still learn from it
            self.base.tell(arch, result)
            return
        _, _, bid, idx = self.jobs.pop(k)
        if not any(j[0] == arch for j in self.jobs):
            self.pending.pop(arch, None)
        br = next(b for b in self.brackets if b["id"] == bid)
        br["results"][idx] = result
        self._maybe_promote(br)

    def _maybe_promote(self, br: dict) -> None:
        k, configs, results = br["rung"], br["configs"], br["results"]
        if len(results) < len(configs) or (k == 0 and len(configs) < br["counts"][0]):
            return
        ranked = sorted((i for i in range(len(configs)) if not results[i].failed),
                        key=lambda i: (-results[i].score(self.objective), i))
        last = k + 1 >= len(br["budgets"])
        winners = [] if last else ranked[:br["counts"][k + 1]]
        for i in range(len(configs)):
            if i not in winners:
                self.base.tell(configs[i], results[i])
        if not winners:
            self.brackets.remove(br)
            return
        br.update(rung=k + 1, configs=[configs[i] for i in winners], next=0, results={})

    # ------------------------------------------------------------ state
    def _get_state(self):
        return {"num_brackets": self.num_brackets, "base": self.base.state_dict(),
                "brackets": [{**b, "configs": [a.to_json() for a in b["configs"]],
                              "results": [[i, r.to_dict()] for i, r in b["results"].items()]}
                             for b in self.brackets],
                "jobs": [[a.to_json(), b, bid, i] for a, b, bid, i in self.jobs]}

    def _set_state(self, state) -> None:
        self.num_brackets = state["num_brackets"]
        self.base.load_state_dict(state["base"])
        self.brackets = [{**b, "configs": [Architecture.from_json(a) for a in b["configs"]],
                          "results": {int(i): Result.coerce(r) for i, r in b["results"]}}
                         for b in state["brackets"]]
        self.jobs = [[Architecture.from_json(a), b, bid, i] for a, b, bid, i in state["jobs"]]


@register_searcher("hyperband", example={"min_budget": 1, "max_budget": 9, "eta": 3})
class Hyperband(SuccessiveHalving):
    """Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, JMLR 2018).

    Cycles through ``s_max + 1`` successive-halving brackets that trade the
    number of architectures against their starting budget: bracket ``s``
    starts ``ceil((s_max + 1) / (s + 1) * eta ** s)`` architectures at
    ``max_budget * eta ** -s``, from the most exploratory (``s = s_max``,
    starting at ``min_budget``) to plain evaluation at ``max_budget``.
    Options as for ``successive_halving`` except ``num_configs``.
    """

    def __init__(self, spec, seed=None, **kw):
        if kw.get("num_configs") is not None:
            raise ValueError("hyperband sets the number of architectures per bracket itself; "
                             "num_configs is an option of successive_halving")
        super().__init__(spec, seed, **kw)

    def bracket_plan(self, index: int) -> tuple[list, list]:
        s = self.s_max - index % (self.s_max + 1)
        n0 = int(math.ceil((self.s_max + 1) / (s + 1) * self.eta ** s - 1e-9))
        return self._rungs(s, n0)


def _tidy(b: float) -> float:
    """A budget without float noise; an int when it is whole (epochs)."""
    r = round(b, 9)
    return int(r) if r == int(r) else r
