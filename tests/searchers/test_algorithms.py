"""The rules of each algorithm of searchers-a: what it keeps, removes, breeds and learns."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from nasl.searchers import Exhausted, Result, create
from nasl.searchers import tournament
from nasl.searchers.tournament import trivial
from tests.searchers.test_protocol import ROOT_DIR, score, space


def run(s, n, value=score):
    out = []
    for _ in range(n):
        a = s.ask()
        s.tell(a, value(a))
        out.append(a)
    return out


def test_only_creating_a_reinforce_searcher_imports_torch():
    code = ("import sys, nasl\n"
            "from nasl.searchers import create, reinforce\n"
            "spec = nasl.load('examples/nas_bench_201.nas').spec\n"
            "for n in ('mcts', 'q_learning', 'genetic', 'tournament_evolution', 'pairwise_tournament'):\n"
            "    s = create(n, spec, seed=0); s.tell(s.ask(), 1.0); s.ask()\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT_DIR, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    import nasl.searchers.controller      # noqa: F401  (what Reinforce.__init__ imports: torch)
    assert "torch" in sys.modules


# ------------------------------------------------------------ tournament evolution
def test_tournament_evolution_never_removes_and_samples_five_percent():
    spec = space("nb201").spec
    s = create("tournament_evolution", spec, seed=0, population_size=10)
    run(s, 60)
    assert len(s.population) == 60                       # every told member stays
    assert s.tournament_size() == math.ceil(0.05 * 60)


def test_tournament_evolution_winner_is_the_best_of_a_uniform_tournament():
    # the winner is drawn by rank, not by drawing the k members: its rank must follow the best-of-k law
    spec = space("nb201").spec
    s = create("tournament_evolution", spec, seed=0, population_size=10)
    run(s, 60)
    n, k = len(s.population), s.tournament_size()
    order = sorted(range(n), key=lambda i: -s.population[i][1])
    rank_of = {i: r for r, i in enumerate(order)}
    parents, s_mutate = [], tournament.mutate
    tournament.mutate = lambda spec, parent, rng, check: parents.append(parent) or s_mutate(spec, parent, rng, check)
    try:
        for _ in range(3000):
            s._child()
    finally:
        tournament.mutate = s_mutate
    by_arch = {s.population[i][0]: rank_of[i] for i in range(n)}
    got = [by_arch[p] for p in parents]
    # P(best rank = r) = C(n-1-r, k-1) / C(n, k); compare the first ranks, where the mass is
    for r in range(4):
        want = math.comb(n - 1 - r, k - 1) / math.comb(n, k)
        share = got.count(r) / len(got)
        assert abs(share - want) < 4 * math.sqrt(want * (1 - want) / len(got)), (r, share, want)


def test_tournament_evolution_trivial_start():
    sp = space("path_level")
    s = create("tournament_evolution", sp.spec, seed=0, init="trivial", init_mutations=0, population_size=3)
    assert s.ask() == trivial(sp.spec)
    s = create("tournament_evolution", sp.spec, seed=0, init="trivial", init_mutations=30, population_size=3)
    a = s.ask()
    assert sp.validate(a) == a and a != trivial(sp.spec)
    with pytest.raises(ValueError, match="init is one of random, trivial"):
        create("tournament_evolution", sp.spec, init="zero")


# ------------------------------------------------------------ pairwise tournament
def test_pairwise_tournament_kills_the_worse_and_mutates_the_better():
    spec = space("nb201").spec
    s = create("pairwise_tournament", spec, seed=0, population_size=8)
    run(s, 8)
    before = dict((a, v) for a, v in s.population)
    child = s.ask()
    assert len(s.population) == 7                        # killed at once, at the ask
    killed = set(before) - {a for a, _ in s.population}
    assert len(killed) == 1
    (dead,) = killed
    parents = [a for a in before if sum(a[p] != child[p] for p in a) == 1]
    assert parents and all(before[dead] <= before[p] for p in parents)
    s.tell(child, 0.5)
    assert len(s.population) == 8


def test_pairwise_tournament_with_one_member_or_none():
    spec = space("nb201").spec
    s = create("pairwise_tournament", spec, seed=0, population_size=2)
    a, b = s.ask(), s.ask()
    s.tell(a, 1.0)
    s.tell(b, Result.failure("nan loss"))
    c = s.ask()                                          # one member: mutated, not killed
    assert len(s.population) == 1 and sum(a[p] != c[p] for p in a) == 1


# ------------------------------------------------------------ genetic
def test_genetic_runs_its_generations_then_says_so():
    spec = space("darts").spec
    s = create("genetic", spec, seed=0, population_size=6, generations=2)
    asked = []
    with pytest.raises(Exhausted, match="2 generations"):
        for _ in range(100):
            a = s.ask()
            asked.append(a)
            s.tell(a, score(a))
    assert s.generation == 2 and 6 < len(asked) <= 18 and len(set(asked)) == len(asked)


def test_genetic_roulette_never_selects_the_worst_and_rank_may():
    spec = space("nb201").spec
    pool = [(a, v) for a, v in zip(space("nb201").sample(0, n=4), (1.0, 2.0, 3.0, 4.0))]
    s = create("genetic", spec, seed=0, population_size=400)
    picked = s._select(pool)
    assert pool[0][0] not in picked and picked.count(pool[3][0]) > picked.count(pool[1][0])
    s = create("genetic", spec, seed=0, population_size=400, selection="rank")
    assert pool[0][0] in s._select(pool)
    with pytest.raises(ValueError, match="probability"):
        create("genetic", spec, mutation_prob=1.5)


def test_genetic_keeps_known_children_without_asking_again():
    spec = space("nb201").spec
    s = create("genetic", spec, seed=0, population_size=10, mutation_prob=0.0, crossover_prob=0.0)
    archs = run(s, 10)
    a = s.ask()                 # selection alone copies parents: every child is known, so none is re-asked
    assert a not in archs and s.generation >= 1


# ------------------------------------------------------------ Q-learning
def test_q_learning_epsilon_schedules():
    spec = space("nb201").spec
    s = create("q_learning", spec, seed=0, epsilon_asks=100)
    got = []
    for t in (0, 50, 100, 500):
        s.num_asked = t
        got.append(round(s.epsilon(), 6))
    assert got == [1.0, 0.55, 0.1, 0.1]
    s = create("q_learning", spec, seed=0, epsilon_schedule=[[10, 1.0], [5, 0.5], [5, 0.1]])
    got = []
    for t in (0, 9, 10, 14, 15, 100):
        s.num_asked = t
        got.append(s.epsilon())
    assert got == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError, match="epsilon_schedule"):
        create("q_learning", spec, epsilon_schedule=[[10, 2.0]])


def test_q_learning_backs_the_score_up_the_sequence():
    spec = space("nb201").spec
    s = create("q_learning", spec, seed=0, learning_rate=0.5, replay=0)
    a = s.ask()
    s.tell(a, 10.0)
    steps = s.memory[0][0]
    states = [f"{k}|^" if i == 0 else f"{k}|{steps[i - 1][0]}={steps[i - 1][3]}" for i, (k, *_) in enumerate(steps)]
    assert len(steps) == 6
    # new rows start at the mean score told (10): the whole path holds 10
    assert [s.q[st][act] for st, (_, _, _, act) in zip(states, steps)] == [10.0] * 6
    last = "cell.edge[2->3]"
    b = a.replace({last: next(v for v in spec[last].domain if v != a[last])})
    s.tell(b, 0.0)
    b_action = spec[last].domain.index(b[last])
    assert s.q[states[-1]][b_action] == 5.0             # halfway from 10 to 0
    assert s.q[states[-2]][steps[-2][3]] == 10.0         # max of the next row is still 10 (discount 1)


# ------------------------------------------------------------ MCTS
def test_mcts_grows_one_node_per_ask_and_counts_visits():
    spec = space("nb201").spec
    s = create("mcts", spec, seed=0)
    run(s, 30)
    assert len(s.tree) == 31 and s.tree[()][0] == 30 and s.tree[()][2] == 30
    assert sum(s.tree[(a,)][0] for a in range(5) if (a,) in s.tree) == 30
    outside = space("nb201").sample(99)
    s.tell(outside, 0.1)                                 # told, never asked: a visit as well as a score
    assert s.tree[()][0] == 31 and s.tree[()][2] == 31


def test_mcts_focuses_on_the_best_branch():
    spec = space("nb201").spec
    s = create("mcts", spec, seed=0)
    first = "cell.edge[0->1]"
    run(s, 200, value=lambda a: 1.0 if a[first] == "nor_conv_3x3" else 0.0)
    visits = {a: s.tree[(a,)][0] for a in range(5)}
    assert max(visits, key=visits.get) == 3 and visits[3] > 100


# ------------------------------------------------------------ REINFORCE
def test_reinforce_learns_a_rewarded_decision_and_its_state_is_json():
    spec = space("nb201").spec
    s = create("reinforce", spec, seed=0, hidden_size=8, batch_size=5, learning_rate=0.1)
    first = "cell.edge[0->1]"

    def p_conv():
        x, st = s.controller.start_sample()
        plan = s.decisions.plan(spec[first])
        probs, _, _ = s.controller.sample_step(x, st, plan.prefix + "0", 5, None)
        return probs[3]
    run(s, 10)
    before = p_conv()
    run(s, 100, value=lambda a: 1.0 if a[first] == "nor_conv_3x3" else 0.0)
    assert p_conv() > max(0.6, before + 0.3) and s.updates == 22
    state = json.loads(json.dumps(s.state_dict()))
    t = create("reinforce", spec, seed=5, hidden_size=8, batch_size=5, learning_rate=0.1)
    t.load_state_dict(state)
    assert run(t, 5) == run(s, 5)


# ------------------------------------------------------------ mdenas
def test_mdenas_flat_draws_are_those_of_the_spec_walk():
    # the fast draw of a flat space (NB201) must propose exactly what walking the spec proposes
    spec = space("nb201").spec
    fast, walked = create("mdenas", spec, seed=3), create("mdenas", spec, seed=3)
    assert fast.decisions.flat() is not None
    walked.decisions._flat = None                    # as for a space with groups
    assert run(fast, 400) == run(walked, 400)
    assert fast.probabilities() == walked.probabilities()


def test_decisions_flat_only_without_groups():
    from nasl.searchers.decisions import Decisions
    assert Decisions(space("path_level").spec).flat() is None
    flat = Decisions(space("nb201").spec).flat()
    assert [path for path, _, _ in flat] == [c.path for c in space("nb201").spec]     # every edge, in order


def test_a_nan_objective_is_a_failure_for_every_searcher():
    """Told NaN through the Python API (a study already records it as a failed trial), each
    searcher goes on asking: NaN compares False with everything, so it must not be ranked."""
    from nasl.searchers import list_searchers
    spec = space("nb201").spec
    r = Result({"acc": float("nan"), "params": 3.0}, directions={"params": "min"})
    assert r.failed and r.error == "objective 'acc' is nan" and r.score() == float("-inf")
    for name in list_searchers():
        s = create(name, spec, seed=0)
        for i in range(12):
            arch, budget = s.ask_with_budget()
            s.tell(arch, float("nan") if i % 3 == 0 else float(i), budget)
        assert s.num_told == 12, name


@pytest.mark.parametrize("name, options, says", [
    ("regularized_evolution", {"population_size": "10"}, "option 'population_size' is a number"),
    ("tournament_evolution", {"population_size": float("nan")}, "is a number"),
    ("random", {"dedup": "no"}, "option 'dedup' is true or false"),
    ("random", {"max_retries": -5}, "max_retries must be at least 0"),
    ("eas", {"embedding_dim": -5}, "embedding_dim must be at least 1"),
    ("eas", {"baseline_decay": 1.5}, "baseline_decay must be in"),
    ("path_level_eas", {"learning_rate": -1.0}, "learning_rate must be above 0"),
    ("n2n", {"learning_rate": 0}, "learning_rate must be above 0"),
    ("bananas", {"lr": -5}, "lr must be above 0"),
    ("pnas", {"lr": 0.0}, "lr must be above 0"),
    ("optuna", {"max_tries": 0}, "max_tries must be at least 1"),
    ("grid", {"float_points": 0}, "float_points must be at least 1"),
])
def test_bad_option_values_are_one_line_value_errors(name, options, says):
    """A string from a config file, NaN, or an out-of-range value fails at creation, naming the
    option, not as a TypeError or a negative tensor size in the first ask."""
    with pytest.raises(ValueError, match=says) as e:
        create(name, space("nb201").spec, seed=0, **options)
    assert "\n" not in str(e.value)
