"""What the standalone Python export cannot write is a user error at the op (issue 14, bug 5).

A class from an --ops module holding a MultiheadAttention, or one that reads a module global, used
to end as "internal error, please report", with no op and no position.
"""
from __future__ import annotations

import sys

import pytest

torch = pytest.importorskip("torch")

from nasl.cli import main  # noqa: E402

OPS = '''import torch, nasl
SCALE = 2.0


class Attn(torch.nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.mha = torch.nn.MultiheadAttention(d, heads, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x)[0]


class Scaled(torch.nn.Module):
    def forward(self, x):
        return x * SCALE


class SelfAttn(torch.nn.MultiheadAttention):
    def forward(self, x):
        return super().forward(x, x, x)[0]


nasl.register_op("limit_attn", (("heads", 2),), builder=lambda p, ins: (Attn(ins[0][-1], p["heads"]), ins[0]))
nasl.register_op("limit_scaled", (), builder=lambda p, ins: (Scaled(), ins[0]))
nasl.register_op("limit_self_attn", (("heads", 2),),
                 builder=lambda p, ins: (SelfAttn(ins[0][-1], p["heads"], batch_first=True), ins[0]))
'''


@pytest.fixture
def ops_file(tmp_path, monkeypatch, isolated_ops):
    monkeypatch.setattr("nasl.loader._FILES", {})
    monkeypatch.delitem(sys.modules, "limit_ops_for_test", raising=False)
    f = tmp_path / "limit_ops_for_test.py"
    f.write_text(OPS)
    yield f
    sys.modules.pop("limit_ops_for_test", None)


@pytest.mark.parametrize("op, message", [
    ("limit_attn(2)", "op 'limit_attn' cannot be exported as standalone Python: MultiheadAttention with "
                      "submodules is not supported; its class Attn is from module 'limit_ops_for_test'"),
    ("limit_scaled", "op 'limit_scaled' cannot be exported as standalone Python: 'forward' uses 'SCALE', which "
                     "the standalone export does not define; its class Scaled is from module 'limit_ops_for_test'"),
])
def test_export_limits_name_the_op_its_position_and_module(ops_file, tmp_path, capsys, op, message):
    space = tmp_path / "s.nas"
    space.write_text(f"input x: [4, 8]\nnetwork {{\n    return x >> {op}\n}}\n")
    code = main(["export", str(space), "--ops", str(ops_file), "--arch", "{}", "--to", "python",
                 "-o", str(tmp_path / "net.py")])
    err = capsys.readouterr().err
    assert code == 1 and f"{space}:3:17: error: {message}" in err, err
    assert "internal error" not in err and "^^^" in err and "--to onnx" in err


def test_what_the_export_can_write_still_exports(ops_file, tmp_path, capsys):
    space = tmp_path / "s.nas"
    space.write_text("input x: [4, 8]\nnetwork {\n    return x >> limit_self_attn(2)\n}\n")
    assert main(["export", str(space), "--ops", str(ops_file), "--arch", "{}", "--to", "python",
                 "-o", str(tmp_path / "net.py")]) == 0, capsys.readouterr().err
    source = (tmp_path / "net.py").read_text()
    assert "class SelfAttn(torch.nn.MultiheadAttention)" in source and "SelfAttn(8, 2" in source
