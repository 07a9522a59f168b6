"""The Python API answers wrong argument types with a NaslError naming the argument, not a raw
TypeError or AttributeError from deep inside."""
import random

import numpy as np
import pytest

import nasl



def _space():
    return nasl.load("examples/nas_bench_201.nas")


@pytest.mark.parametrize("text, says", [(None, "not NoneType"), (b"space", "decode it first"), (3, "not int")])
def test_loads_takes_a_str(text, says):
    with pytest.raises(nasl.NaslError, match=says):
        nasl.loads(text)


@pytest.mark.parametrize("n", ["3", 2.0, -1, True, [3]])
def test_sample_n_must_be_a_count(n):
    with pytest.raises(nasl.NaslError, match=r"sample\(n=\.\.\.\) takes a count"):
        _space().sample(0, n=n)


@pytest.mark.parametrize("seed", [1.5, [1], object()])
def test_sample_seed_must_be_an_int_or_a_random(seed):
    with pytest.raises(nasl.NaslError, match=r"sample\(seed=\.\.\.\) takes an int"):
        _space().sample(seed)


def test_numpy_ints_and_randoms_are_accepted_and_agree():
    space = _space()
    assert space.sample(np.int64(7)) == space.sample(7) == space.sample(random.Random(7))
    assert space.sample(0, n=np.int32(3)) == space.sample(0, n=3)
    assert space.sample(0, n=0) == []
