"""``read_text``: the size cap holds without reserving the cap's memory (BENCHMARKS.md section 57)."""
import tracemalloc

import pytest

from nasl.ir.errors import NaslError
from nasl.ir.reading import MAX_SOURCE_BYTES, read_text


def test_small_file_costs_its_size_not_the_cap(tmp_path):
    p = tmp_path / "s.nas"
    p.write_bytes(b"x" * 6000)
    tracemalloc.start()
    try:
        text = read_text(str(p), "the space file", MAX_SOURCE_BYTES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(text) == 6000
    assert peak < 1024 * 1024        # read(limit + 1) reserved the 4 MiB cap here


@pytest.mark.parametrize("size,ok", [(1000, True), (1000 + 1, False), (5000, False)])
def test_cap_is_exact(tmp_path, size, ok):
    p = tmp_path / "f.nas"
    p.write_bytes(b"\xef\xbb\xbf" + b"a" * (size - 3))
    if ok:
        assert read_text(str(p), "the space file", 1000) == "a" * (size - 3)
    else:
        with pytest.raises(NaslError, match="larger than"):
            read_text(str(p), "the space file", 1000)


def test_device_is_capped():
    with pytest.raises(NaslError, match="larger than"):
        read_text("/dev/zero", "the space file", 200_000)
