"""Every entry of every registry (nasl/registry.py) through its contract, and plug-ins by entry point.

The cases are read from the registries, so an op, searcher, evaluator, executor, exporter or format
that is registered (by nasl, by a test's module, or by a plug-in installed in the environment) is
tested here with no edit: through the example its registration carries.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import nasl
import nasl.searchers  # noqa: F401 - registers the built-in searchers
from nasl.exporters import EXPORTERS
from nasl.formats import ARCH_FORMATS
from nasl.ir.errors import NaslError
from nasl.ir.oplib import OPS
from nasl.registry import NameClash, PluginWarning, Registry, UnknownName, load_plugins
from nasl.searchers.registry import SEARCHERS
from nasl.study.evaluators import EVALUATORS
from nasl.study.runners import EXECUTORS

ROOT = pathlib.Path(__file__).resolve().parents[1]
NB201 = ROOT / "examples" / "nas_bench_201.nas"
PLUGIN_DIST = ROOT / "tests" / "plugin_dist"


# the registry itself ------------------------------------------------------------------------------

def test_register_get_list_clash_and_did_you_mean():
    reg = Registry("widget", plural="test widgets")
    reg.register("round", len, doc="a round one")
    reg.register("round", len)                      # the same object again: no clash
    with pytest.raises(NameClash, match="a widget named 'round' is already registered differently"):
        reg.register("round", max)
    assert reg.entry("round").meta["doc"] == "a round one"
    reg.register("round", max, replace=True)
    assert reg.get("round") is max
    with pytest.raises(UnknownName, match="no widget named 'rund'; did you mean 'round'") as e:
        reg.get("rund")
    assert isinstance(e.value, KeyError) and isinstance(e.value, NaslError) and "\n" not in str(e.value)
    with pytest.raises(UnknownName, match="no widget named 'zzz'; known: round"):
        reg["zzz"]
    assert reg.names() == ["round"] and "round" in reg and reg.find("zzz") is None


def test_lazy_entries_import_on_first_get():
    reg = Registry("thing", plural="test things")
    reg.register("dumps", "json:dumps")
    reg.register("missing", "json:no_such_name")
    assert not reg.entry("dumps").loaded and reg.entry("dumps").module == "json"
    assert reg.get("dumps") is json.dumps and reg.entry("dumps").loaded
    with pytest.raises(NaslError, match="'json:no_such_name', which has no 'no_such_name'"):
        reg.get("missing")


def test_item_assignment_registers_like_a_dict_of_modes():
    reg = Registry("mode", plural="test modes")
    reg["x"] = "json:loads"
    reg["x"] = "json:dumps"                         # a plain dict replaced; so does this
    assert reg.get("x") is json.dumps and list(reg) == ["x"]


def test_isolated_undoes_registrations():
    with OPS.isolated():
        nasl.register_op("only_in_this_test", ())
        assert "only_in_this_test" in nasl.list_ops()
    assert "only_in_this_test" not in nasl.list_ops()


def test_a_failing_plugin_is_a_warning_naming_its_distribution(monkeypatch, tmp_path):
    from nasl.plugins import PluginEntry
    info = tmp_path / "nasl_bad_dist-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nasl-bad-dist\nVersion: 1.0\n")
    ep = PluginEntry("bad", "nasl_no_such_plugin_module", "nasl.formats", str(info))
    monkeypatch.setattr("nasl.plugins._entry_points", lambda group: [ep])
    monkeypatch.setattr("nasl.plugins.loaded_groups", set())
    with pytest.warns(PluginWarning, match="'bad' .*of distribution 'nasl-bad-dist' failed to import"):
        assert load_plugins("nasl.formats") == []
    assert load_plugins("nasl.formats") == []       # once per process


# ops: build, shape and cost agree on the example ----------------------------------------------

OP_NAMES = OPS.names()


@pytest.mark.parametrize("name", OP_NAMES)
def test_op_contract(name):
    torch = pytest.importorskip("torch")
    from nasl.compiler.cost import OpCost, op_cost
    from nasl.compiler.layers import build_op, run_impl
    from nasl.compiler.shapes import op_shape
    entry = OPS.entry(name)
    assert "example" in entry.meta, f"op '{name}' has no example: register_op(..., example=(params, shapes))"
    given, in_shapes = entry.meta["example"]
    sig = entry.obj
    bound = sig.bind((), given)
    assert not sig.missing(bound), f"the example of '{name}' misses {sig.missing(bound)}"
    params = sig.resolved(bound)
    in_shapes = [tuple(s) for s in in_shapes]
    shape = op_shape(name, params, in_shapes)
    impl, built_shape = build_op(name, params, in_shapes)
    assert built_shape is None or tuple(built_shape) == shape
    if isinstance(impl, torch.nn.Module):
        impl.eval()
    out = run_impl(impl, [torch.randn((2,) + s) for s in in_shapes])
    assert tuple(out.shape) == (2,) + shape
    c = op_cost(name, params, in_shapes, shape)
    assert isinstance(c, OpCost) and min(c.params, c.flops, c.macs) >= 0
    if isinstance(impl, torch.nn.Module):
        assert c.params == sum(p.numel() for p in impl.parameters()), "the cost rule's params are the module's"


# searchers: the ask/tell protocol ---------------------------------------------------------------

@pytest.mark.parametrize("name", SEARCHERS.names())
def test_searcher_contract(name):
    from tests.searchers.test_protocol import drive
    space = nasl.load(NB201)
    example = SEARCHERS.entry(name).meta.get("example") or {}
    try:
        first = nasl.searchers.create(name, space.spec, seed=1, **example)
    except ImportError as e:                    # an optional package (optuna) that is not installed
        pytest.skip(str(e))
    archs = drive(first, 12, fail_every=5, lag=1)
    assert all(space.validate(a) == a for a in archs)
    again = drive(nasl.searchers.create(name, space.spec, seed=1, **example), 12, fail_every=5, lag=1)
    assert archs == again, "the same seed gives the same asks"
    state = json.loads(json.dumps(first.state_dict()))
    resumed = nasl.searchers.create(name, space.spec, seed=1, **example)
    resumed.load_state_dict(state)
    assert resumed.ask_with_budget() == first.ask_with_budget()


def _slow(*names):
    return lambda name: pytest.param(name, marks=pytest.mark.slow) if name in names else name


# evaluators: the example spec evaluates an architecture into metrics the study accepts -----------

@pytest.mark.parametrize("name", map(_slow("digits"), EVALUATORS.names()))
def test_evaluator_contract(name):
    from nasl.study.evaluator_config import option_names
    from nasl.study.evaluators import check_metrics, parse_evaluator, spec_forms
    from nasl.study.protocol import TrialRequest
    entry = EVALUATORS.entry(name)
    assert entry.meta["form"] in spec_forms() and isinstance(option_names(name), list)
    example = entry.meta.get("example")
    if example is None:                         # it needs a file the user names (table:PATH, python:M:F)
        with pytest.raises(NaslError):
            parse_evaluator(name + ":")
        return
    if name == "digits":
        pytest.importorskip("sklearn")
        from nasl.study.digits import default_space_path
        path, options = default_space_path(), {"epochs": 1, "threads": 1}
    else:
        path, options = NB201, {}
    ev = parse_evaluator(example, **options)
    space = nasl.load(path)
    arch = space.sample(seed=0)
    request = TrialRequest(trial_id=1, number=0, arch=dict(arch), budget=None, seed=0,
                           space_source=pathlib.Path(path).read_text(), space_file=str(path))
    metrics, _ = check_metrics(ev(request), list(ev.directions))
    assert set(ev.directions) <= set(metrics) and set(ev.directions.values()) <= {"max", "min"}


# executors, exporters, formats ---------------------------------------------------------------

def _score(request):
    return {"objective": 1.0}


@pytest.mark.parametrize("name", EXECUTORS.names())
def test_executor_contract(name):
    from nasl.study.runners import check_executor, make_runner
    from nasl.study.protocol import TrialRequest
    entry = EXECUTORS.entry(name)
    if name == "ray":
        pytest.skip("Ray starts a cluster (tests/study/test_ray_runner.py)")
    check_executor(name, _score)
    runner = make_runner(name, _score, ["objective"], workers=1, timeout=None)
    request = TrialRequest(trial_id=7, number=0, arch={}, budget=None, seed=0, space_source="")
    try:
        runner.submit(request)
        done = runner.wait()
    finally:
        runner.close()
    assert [(tid, out["state"]) for tid, out in done] == [(7, "complete")], entry.meta


TINY = """\
input x: [3, 8, 8]
network {
    k = choice(1, 3)
    return x >> conv(4, k=k) >> relu >> global_avg_pool >> linear(10)
}
"""


@pytest.mark.parametrize("name", map(_slow("onnx"), EXPORTERS.names()))
def test_exporter_contract(name, tmp_path):
    pytest.importorskip("torch")
    ex = EXPORTERS.get(name)
    assert ex.name == name and (ex.arch or ex.model or ex.space) and (not ex.suffix or ex.suffix.startswith("."))
    space = nasl.loads(TINY, "tiny.nas")
    arch = space.sample(seed=0)
    if name == "onnx":
        pytest.importorskip("onnx")
    if name in ("svg", "png") and shutil.which("dot") is None:
        pytest.skip("no Graphviz 'dot' to render pictures")
    if ex.arch is not None:
        path = ex.call("arch", space, arch, str(tmp_path / ("net" + ex.suffix)), None)
        assert os.path.getsize(path) > 0
    if ex.model is not None:
        from nasl.study.model_export import export_model
        path = export_model(str(tmp_path / ("model" + ex.suffix)), space_source=TINY, space_file="tiny.nas",
                            arch=dict(arch), to=name)
        assert os.path.getsize(path) > 0


@pytest.mark.parametrize("name", ARCH_FORMATS.names())
def test_format_contract(name):
    from nasl.formats import get_format
    module = get_format(name)
    assert callable(module.from_value)
    example = ARCH_FORMATS.entry(name).meta.get("example")
    if example is not None:
        path, value = example
        arch = module.from_value(nasl.load(ROOT / path), value)
        assert nasl.load(ROOT / path).validate(arch) == arch


def test_every_registry_is_listed_by_the_cli(capsys):
    from nasl.cli import main
    for what in ("ops", "searchers", "evaluators", "executors", "exporters", "formats"):
        assert main(["list", what]) == 0
        assert capsys.readouterr().out.strip()


# a plug-in distribution installed by entry points (tests/plugin_dist) -----------------------------

@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    from tests.plugin_dist.install import install
    site = install(tmp_path_factory.mktemp("site"), broken=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(site)]))
    env.pop("NASL_NO_PLUGINS", None)
    return env


def _nasl(env, *args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "nasl.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_scan_finds_what_importlib_metadata_finds(plugin_env):
    # nasl reads entry_points.txt itself (importing importlib.metadata costs more than a command may)
    code = ("import importlib.metadata as m\nfrom nasl.plugins import GROUPS, _entry_points, dist_name\n"
            "for g in GROUPS:\n"
            "    ours = sorted((e.name, e.value, dist_name(e.dist)) for e in _entry_points(g))\n"
            "    theirs = sorted((e.name, e.value, e.dist.name) for e in m.entry_points(group=g))\n"
            "    assert ours == theirs, (g, ours, theirs)\n"
            "print(sorted(dist_name(e.dist) for e in _entry_points('nasl.ops')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=plugin_env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['nasl-broken-plugin', 'nasl-demo-plugin']"


def test_nasl_list_shows_the_plugins_and_warns_of_the_broken_one(plugin_env):
    ops = _nasl(plugin_env, "list", "ops", "demo*")
    assert ops.returncode == 0, ops.stderr
    assert ops.stdout.strip() == "demo_scale(factor=2.0)  # the input times factor (a plug-in op)"
    assert "distribution 'nasl-broken-plugin' failed to import" in ops.stderr
    assert "this plug-in is broken on purpose" in ops.stderr
    searchers = _nasl(plugin_env, "list", "searchers", "demo*")
    assert searchers.stdout.startswith("demo_first  Random draws, never one twice"), searchers.stderr
    evaluators = _nasl(plugin_env, "list", "evaluators", "demo*")
    assert "demo_score[:SCALE]" in evaluators.stdout, evaluators.stderr
    helped = _nasl(plugin_env, "search", "--help")
    assert "demo_score[:SCALE]" in " ".join(helped.stdout.split())


SPACE = """\
input x: [3, 8, 8]
network {
    k = choice(1, 3)
    f = choice(0.5, 2.0)
    return x >> conv(4, k=k) >> demo_scale(factor=f) >> global_avg_pool >> linear(10)
}
"""


@pytest.mark.slow
def test_nasl_compile_and_search_use_the_plugins(plugin_env, tmp_path):
    (tmp_path / "plug.nas").write_text(SPACE)
    checked = _nasl(plugin_env, "check", tmp_path / "plug.nas")
    assert checked.returncode == 0, checked.stderr
    compiled = _nasl(plugin_env, "compile", tmp_path / "plug.nas", "--arch", json.dumps(
        {"k": 3, "f": 2.0}), "--code")
    assert compiled.returncode == 0, compiled.stderr
    assert "params:  " in compiled.stdout and "* 2.0" in compiled.stdout, compiled.stdout
    searched = _nasl(plugin_env, "search", tmp_path / "plug.nas", "--searcher", "demo_first", "--evaluator",
                     "demo_score:2", "--budget", "4", "--no-progress", "--study", tmp_path / "s.db")
    assert searched.returncode == 0, searched.stderr
    shown = _nasl(plugin_env, "study", "show", tmp_path / "s.db")
    assert shown.returncode == 0 and "demo_first" in shown.stdout and "score" in shown.stdout, shown.stdout


def test_without_the_plugins_their_names_are_unknown(plugin_env, tmp_path):
    env = dict(plugin_env, NASL_NO_PLUGINS="1")
    out = _nasl(env, "search", NB201, "--searcher", "demo_first", "--evaluator", "cost:params", "--budget", "1",
                "--no-progress", "--study", tmp_path / "s.db")
    assert out.returncode == 1 and "no searcher named 'demo_first'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_the_plugins_are_not_imported_by_help_or_import_nasl(plugin_env):
    code = ("import sys, io, nasl\nfrom nasl.cli import main\nsys.stdout = io.StringIO()\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "sys.stdout = sys.__stdout__\n"
            "print(sorted(m for m in sys.modules if m.startswith(('nasl_demo', 'nasl_broken'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=plugin_env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr
