"""``nasl dashboard``: one-line errors for bad input, and the URL of a free port."""
from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys

import pytest

from nasl.cli import main

from .conftest import get

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _error(capsys, argv) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_missing_file(capsys, tmp_path):
    assert "no study file at" in _error(capsys, ["dashboard", str(tmp_path / "none.db")])
    assert not (tmp_path / "none.db").exists()


def test_a_file_that_is_not_a_study(capsys, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("just some notes\n" * 200)
    assert "is not a nasl study file" in _error(capsys, ["dashboard", str(text)])
    assert text.read_text() == "just some notes\n" * 200


def test_a_port_in_use(capsys, study_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        err = _error(capsys, ["dashboard", str(study_path), "--port", str(port)])
    assert f"port {port} on 127.0.0.1 is in use" in err


def test_a_bad_port_and_a_bad_host(capsys, study_path):
    assert "not a port number" in _error(capsys, ["dashboard", str(study_path), "--port", "70000"])
    assert "cannot serve on no.such.host.invalid" in _error(
        capsys, ["dashboard", str(study_path), "--host", "no.such.host.invalid"])


def test_port_0_prints_the_url_and_ctrl_c_stops_it(study_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "nasl.cli", "dashboard", str(study_path), "--port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        line = p.stdout.readline()
        assert line.startswith(f"nasl dashboard: {study_path} at http://127.0.0.1:"), line
        url = line.split(" at ")[1].split()[0]
        assert get(url, "/api/summary")[2]["counts"]["complete"] == 3
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
    assert "Traceback" not in p.stderr.read()


@pytest.mark.parametrize("argv", [["dashboard", "--help"]])
def test_help_names_the_options(capsys, argv):
    with pytest.raises(SystemExit):
        main(argv)
    out = capsys.readouterr().out
    assert "--port" in out and "--host" in out and "STUDY.db" in out
