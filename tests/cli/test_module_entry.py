"""``python -m nasl`` runs the same command line as the ``nasl`` script."""
import subprocess
import sys


def test_python_dash_m_nasl_runs_the_cli(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nasl", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("usage: nasl")


def test_a_bad_searcher_option_is_one_line_and_writes_no_study(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nasl", "search", "examples/nas_bench_201.nas",
                          "--searcher", "regularized_evolution", "-O", "population_size=abc",
                          "--evaluator", "cost:params", "--budget", "3", "--study", str(tmp_path / "s.db")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert out.stderr.strip() == ("error: cannot create searcher 'regularized_evolution': option "
                                  "'population_size' is a number (default 100), not 'abc'")
    assert not (tmp_path / "s.db").exists()
