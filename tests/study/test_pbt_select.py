"""PBT's exploit (truncation selection) and explore (perturb / resample) steps, and its options."""
import random

import pytest

import nasl
from nasl.ir.errors import NaslError
from nasl.study import pbt_select
from nasl.study.pbt import options

SPACE = """
input x: [1, 8, 8]
network {
    lr = float_range(0.001, 0.1, log=true)
    p = float_range(0.0, 0.5)
    width = choice(8, 16)
    return x >> conv(width, k=3) >> relu >> dropout(p) >> global_avg_pool >> linear(10)
}
"""


def test_cut_is_the_fraction_of_the_population_at_least_one_and_at_most_half():
    assert pbt_select.cut(4, 0.2) == 1           # floor(0.8) would copy nothing
    assert pbt_select.cut(4, 0.25) == 1
    assert pbt_select.cut(10, 0.2) == 2          # the paper's 20%
    assert pbt_select.cut(8, 0.5) == 4
    assert pbt_select.cut(2, 0.5) == 1


def test_exploit_bottom_copies_from_top():
    rng = random.Random(0)
    assert pbt_select.exploit([0.1, 0.9, 0.5, 0.3], 0.25, rng) == {0: 1}
    scores = [0.5, 0.1, 0.8, 0.3, 0.9, 0.2, 0.7, 0.6]          # top 4 and 2; bottom 1 and 5
    for seed in range(20):
        out = pbt_select.exploit(scores, 0.25, random.Random(seed))
        assert set(out) == {1, 5} and set(out.values()) <= {4, 2}
    donors = {pbt_select.exploit(scores, 0.25, random.Random(s))[1] for s in range(50)}
    assert donors == {2, 4}                                      # uniform over the top, not always the best


def test_exploit_direction_ties_and_failures():
    rng = random.Random(1)
    assert pbt_select.exploit([0.1, 0.9, 0.5, 0.3], 0.25, rng, direction="min") == {1: 0}
    assert pbt_select.exploit([0.5, 0.5, 0.5, 0.5], 0.25, rng) == {3: 0}        # ties: lower index ranks higher
    out = pbt_select.exploit([None, 0.9, None, 0.3], 0.25, random.Random(2))
    assert set(out) == {0, 2, 3} and set(out.values()) == {1}                   # a failed member always copies
    assert pbt_select.exploit([None, None], 0.5, rng) == {}


def test_explore_perturbs_by_the_papers_factors_and_clips():
    choices = pbt_select.float_choices(nasl.loads(SPACE))
    assert sorted(choices) == ["lr", "p"]
    arch = {"lr": 0.01, "p": 0.45, "width": 8}
    seen = set()
    for seed in range(30):
        new, changes = pbt_select.explore(arch, choices, random.Random(seed))
        assert new["width"] == 8
        assert new["lr"] in (pytest.approx(0.008), pytest.approx(0.012))
        assert new["p"] in (pytest.approx(0.36), 0.5)                           # 0.54 is clipped to the range
        seen.add(round(new["lr"], 6))
        assert changes == [f"lr x{round(new['lr'] / 0.01, 1):g}", f"p x{0.8 if new['p'] < 0.45 else 1.2:g}"]
    assert seen == {0.008, 0.012}


def test_explore_resample_draws_from_the_range_and_skips_inactive_choices():
    choices = pbt_select.float_choices(nasl.loads(SPACE))
    new, changes = pbt_select.explore({"lr": 0.01, "width": 16}, choices, random.Random(3), resample_probability=1.0)
    assert "p" not in new and changes == ["lr resampled"]
    assert 0.001 <= new["lr"] <= 0.1 and new["lr"] != 0.01


def test_interval_rng_depends_on_seed_and_interval_only():
    a = pbt_select.interval_rng(0, 3).random()
    assert a == pbt_select.interval_rng(0, 3).random()
    assert a != pbt_select.interval_rng(1, 3).random() != pbt_select.interval_rng(0, 4).random()


@pytest.mark.parametrize("given, message", [
    ({"population": 1}, "population must be an int of at least 2"),
    ({"interval": 0}, "interval (epochs between exploit steps) must be an int of at least 1"),
    ({"fraction": 0.7}, "fraction (the top and bottom share) must be in (0, 0.5]"),
    ({"factors": []}, "factors are a list of positive numbers"),
    ({"factors": [0.8, -1]}, "factors are a list of positive numbers"),
    ({"resample_probability": 2}, "resample_probability must be in [0, 1]"),
    ({"exploit": "yes"}, "exploit is true or false"),
    ({"ready": 2}, "scheduler 'pbt' has no option 'ready'"),
])
def test_bad_options_are_one_line_errors(given, message):
    with pytest.raises(NaslError) as e:
        options(given)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_defaults():
    assert options(None) == {"population": 4, "interval": 1, "fraction": 0.25, "factors": [0.8, 1.2],
                             "resample_probability": 0.0, "exploit": True}
