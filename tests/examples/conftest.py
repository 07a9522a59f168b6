"""The example tests build small networks; one intra-op thread avoids the
oversubscription that makes them seconds slower on shared CI machines."""
import pytest

torch = pytest.importorskip("torch")  # the compiler extra: pip install -e ".[torch]"

torch.set_num_threads(1)
