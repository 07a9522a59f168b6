"""Fuzz the study-file reader for longer than the test does.

Writes random bytes at random offsets of a valid study file (and, every other
time, odd values into random cells of it), many times, and
reads each damaged copy as ``nasl study show``, the Study API and
``--resume`` do (:mod:`tests.study.study_fuzz`). The only allowed outcomes
are success or a one-line NaslError; anything else is printed with the
writes that caused it, and the script exits with 1.

    python benchmarks/fuzz_study_file.py [N] [SEED]     # default 2000 copies, seed 0
"""
from __future__ import annotations

import collections
import os
import random
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from benchmarks._machine import machine  # noqa: E402
from tests.study.study_fuzz import (base_study, fast_tmpdir, damage, random_values, random_writes, read_everything,  # noqa: E402
                                    set_values)


def main(n: int, seed: int) -> int:
    print(machine())
    rng = random.Random(seed)
    outcomes: collections.Counter = collections.Counter()
    findings = 0
    with fast_tmpdir() as tmp:
        base = base_study(os.path.join(tmp, "base.db"))
        size = os.path.getsize(base)
        start = time.perf_counter()
        for i in range(n):
            path = os.path.join(tmp, f"copy{i % 2}.db")
            for suffix in ("-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            if i % 2:                            # every other copy: odd values in random cells
                writes = random_values(rng, base)
                set_values(base, path, writes)
            else:
                writes = random_writes(rng, size)
                damage(base, path, writes)
            try:
                got = read_everything(path)
            except Exception:  # noqa: BLE001 - a finding: show it and go on
                findings += 1
                print(f"FINDING at copy {i}: {str(writes)[:300]}")
                traceback.print_exc()
                continue
            # group the messages by their shape: numbers and quoted text vary
            outcomes[re.sub(r"'[^']*'|\d+", "_", got)[:100]] += 1
        elapsed = time.perf_counter() - start
    print(f"{n} damaged copies of a {size}-byte study in {elapsed:.1f} s ({1e3 * elapsed / n:.1f} ms each); "
          f"{findings} findings")
    for shape, count in outcomes.most_common():
        print(f"{count:6d}  {shape}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 0))
