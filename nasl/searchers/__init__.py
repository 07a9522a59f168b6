"""Searchers: the ask/tell protocol over a ChoiceSpec, and the algorithms.

>>> import nasl
>>> from nasl.searchers import create
>>> s = create("random", nasl.load("examples/nas_bench_201.nas").spec, seed=0)
>>> arch = s.ask(); s.tell(arch, 93.1)
"""
from nasl.searchers.base import Exhausted, Lineage, Result, Searcher
from nasl.searchers.registry import create, get_searcher, list_searchers, register_searcher
from nasl.searchers import random_search, grid, evolution  # noqa: F401  (registers them)
from nasl.searchers import bananas, hyperband, nsga2, optuna_adapter  # noqa: F401  (registers them)

__all__ = ["Exhausted", "Lineage", "Result", "Searcher", "create", "get_searcher", "list_searchers", "register_searcher"]
from nasl.searchers import tournament, pairwise, genetic, reinforce, q_learning, mcts  # noqa: F401,E402  (registers)
from nasl.searchers import mdenas, nao, pnas, large_scale_evolution, n2n  # noqa: F401,E402  (registers)
from nasl.searchers import eas  # noqa: F401,E402  (registers; issue 17)
from nasl.searchers import path_level_eas  # noqa: F401,E402  (registers; issue 17)
