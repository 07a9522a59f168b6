"""The format registry, NAS-Bench-201/101 in both directions, presets beside the example files, and
their CLI: --arch-format, --preset and `nasl presets`."""
from __future__ import annotations

import csv
import json

import pytest

import nasl
from nasl import formats
from nasl.cli import main
from nasl.formats import nb101
from nasl.formats import nb201 as nb201_fmt
from nasl.formats.presets import find_preset, get_preset, load_preset, presets
from nasl.data import open_text
from tests.conftest import NB201_CSV, example

NB201 = example("nas_bench_201.nas")
NB101 = example("nas_bench_101.nas")
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# the registry -----------------------------------------------------------------------------------------

def test_registry_names_the_formats_and_rejects_others(nb201):
    assert formats.FORMATS == ("nb201", "nb101", "darts", "genetic", "arch") == tuple(formats.ARCH_FORMATS.keys())
    assert formats.get_format("nb201") is nb201_fmt
    with pytest.raises(nasl.NaslError, match="unknown architecture format 'nb2001'.*nb201, nb101, darts, genetic, arch") as e:
        formats.get_format("nb2001")
    assert e.value.hint == "did you mean 'nb201'?"
    arch = formats.from_value(nb201, "arch", nb201_fmt.from_string(RESNET))
    assert arch == formats.from_value(nb201, "nb201", RESNET)
    with pytest.raises(nasl.InvalidArchitecture, match="a JSON object"):
        formats.from_value(nb201, "arch", [RESNET])


# NAS-Bench-201 -------------------------------------------------------------------------------------------

def test_nb201_to_arch_and_back(nb201):
    for text in (BEST, RESNET):
        arch = nb201_fmt.to_arch(nb201, text)
        assert nb201_fmt.to_string(nb201, arch) == text
        assert nb201_fmt.from_value(nb201, text) == arch
        assert nb201_fmt.to_value(nb201, arch) == text
    # the older call form still works
    assert nb201_fmt.to_string(nb201_fmt.from_string(BEST)) == BEST


@pytest.mark.parametrize("text,message", [
    ("|nor_conv_3x3~0|", "describes a cell of 1 edges"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "not a NAS-Bench-201 architecture string"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~0|", "not a NAS-Bench-201 architecture string"),
    ("|nor_conv_3x3~1|", "not a NAS-Bench-201 architecture string"),
    (BEST.replace("skip_connect", "skip"), "'cell.edge\\[0->3\\]'"),
    (["a"], "a NAS-Bench-201 architecture is a string, not list"),
])
def test_nb201_errors(nb201, text, message):
    with pytest.raises(nasl.InvalidArchitecture, match=message):
        nb201_fmt.to_arch(nb201, text)


def test_nb201_needs_a_space_with_one_edge_cell():
    with pytest.raises(nasl.InvalidArchitecture, match="one dag cell whose edges carry ops"):
        nb201_fmt.to_arch(nasl.load(example("mobilenet.nas")), BEST)


def test_nb201_table_round_trips_through_the_new_api(nb201):
    rows = list(csv.DictReader(open_text(NB201_CSV)))
    assert len(rows) == 15_625
    for row in rows:
        text = row["ArchitectureString"]
        assert nb201_fmt.to_string(nb201, nb201_fmt.to_arch(nb201, text)) == text


# NAS-Bench-101 -------------------------------------------------------------------------------------------

def test_nb101_readme_spec_round_trips():
    space = nasl.load(NB101)
    arch = nb101.to_arch(space, nb101.README_MATRIX, nb101.README_OPS)
    assert nb101.to_spec(space, arch) == (nb101.README_MATRIX, nb101.README_OPS)
    value = nb101.to_value(space, arch)
    assert nb101.from_value(space, json.loads(json.dumps(value))) == arch
    assert nb101.from_value(space, [nb101.README_MATRIX, nb101.README_OPS]) == arch


def test_nb101_small_specs_are_padded_and_pruned_specs_come_back():
    space = nasl.load(NB101)
    matrix = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    arch = nb101.to_arch(space, matrix, ops)
    assert arch["cell.edge[1->6]"] and arch["cell.edge[2->6]"] and not arch["cell.edge[3->6]"]
    assert nb101.to_spec(space, arch) == (matrix, ops)
    full, _ = nb101.to_spec(space, arch, prune=False)
    assert len(full) == 7
    # the padded vertices are pruned away: the same network as the 4-vertex spec
    small = nasl.load(NB101, V=4)
    assert nasl.cost(space, arch).params == nasl.cost(small, nb101.to_arch(small, matrix, ops)).params


@pytest.mark.parametrize("value,message", [
    ({"matrix": [[0, 1], [0, 0]], "ops": ["input", "conv"]}, "start with 'input' and end with 'output'"),
    ({"matrix": [[0, 1], [1, 0]], "ops": ["input", "output"]}, "below the diagonal"),
    ({"matrix": [[0, 2], [0, 0]], "ops": ["input", "output"]}, "holds 0 or 1"),
    ({"matrix": [[0, 1, 0]], "ops": ["input", "output"]}, "needs a 2x2 matrix"),
    ({"matrix": [[0] * 8] * 8, "ops": ["input"] + ["maxpool3x3"] * 6 + ["output"]}, "at most 7"),
    ("0101", "a NAS-Bench-101 spec is"),
])
def test_nb101_errors(value, message):
    with pytest.raises(nasl.InvalidArchitecture, match=message):
        nb101.from_value(nasl.load(NB101), value)


# presets -------------------------------------------------------------------------------------------------

def test_example_presets_load_as_architectures_of_their_spaces():
    for path in sorted(example("").glob("*.presets.json")):
        space_file = path.with_name(path.name.replace(".presets.json", ".nas"))
        assert space_file.exists(), path
        for name in presets(space_file):
            space, arch = load_preset(space_file, name, nasl.load)
            space.validate(arch)
            assert find_preset(space_file, name).doc


def test_nb201_presets_have_the_official_parameter_counts(nb201):
    space = nb201
    counts = {name: nasl.cost(space, get_preset(space, NB201, name)).params for name in presets(NB201)}
    assert counts == {"best_cifar100": 1_288_506, "all_nor_conv_3x3": 1_531_546, "resnet": 559_386}
    assert nb201_fmt.to_string(space, get_preset(space, NB201, "best_cifar100")) == BEST


def test_unknown_preset_names_close_matches():
    with pytest.raises(nasl.NaslError, match="unknown preset 'best_cifar10'.*best_cifar100, all_nor_conv_3x3, "
                                             "resnet") as e:
        find_preset(NB201, "best_cifar10")
    assert e.value.hint == "did you mean 'best_cifar100'?"
    with pytest.raises(nasl.NaslError, match="did you mean 'LSTM'"):
        find_preset(example("rnn_cell.nas"), "lstm")
    with pytest.raises(nasl.NaslError, match="has no presets"):
        find_preset(example("enas_macro.nas"), "x")


@pytest.mark.parametrize("text,message", [
    ("{", "not valid JSON"),
    ("[1]", "holds a JSON object"),
    ('{"a": {"value": 1}}', "needs a \"format\" and a \"value\""),
    ('{"a": {"format": "nb301", "value": 1}}', "unknown format 'nb301'"),
    ('{"a": {"format": "arch", "value": {}, "dox": ""}}', "unknown keys \\['dox'\\]"),
    ('{"a": {"format": "arch", "value": {}, "params": [1]}}', "\"params\" is an object"),
    ("[" * 100_000 + "]" * 100_000, "is nested too deeply to read"),            # was a RecursionError
    ('{"a": {"format": "arch", "value": {"x": ' + "7" * 5001 + "}}}", "a number with more than 4,300 digits"),
])
def test_bad_presets_files(tmp_path, text, message):
    (tmp_path / "s.nas").write_text("input x: [3]\nnetwork { return x }\n")
    (tmp_path / "s.presets.json").write_text(text)
    with pytest.raises(nasl.NaslError, match=message):
        presets(tmp_path / "s.nas")


def test_presets_files_are_capped_and_may_start_with_a_byte_order_mark(tmp_path, monkeypatch):
    from nasl.formats import presets as presets_module
    (tmp_path / "s.nas").write_text("input x: [3]\nnetwork { return x }\n")
    f = tmp_path / "s.presets.json"
    f.write_text('\ufeff{"a": {"format": "arch", "value": {}}}', encoding="utf-8")
    assert list(presets(tmp_path / "s.nas")) == ["a"]
    monkeypatch.setattr(presets_module, "MAX_JSON_BYTES", f.stat().st_size - 1)
    with pytest.raises(nasl.NaslError, match=r"the presets file '.*s\.presets\.json' is larger than"):
        presets(tmp_path / "s.nas")


def test_preset_params_load_the_space_and_the_callers_win():
    rnn = example("rnn_cell.nas")
    space, _ = load_preset(rnn, "GRU", nasl.load)
    assert space.params["depth"] == 7
    space, _ = load_preset(rnn, "GRU", nasl.load, depth=9, hidden=4)
    assert space.params["depth"] == 9 and space.params["hidden"] == 4


# the CLI ---------------------------------------------------------------------------------------------------

def test_cli_compile_preset(capsys):
    code, out, err = run(capsys, "compile", NB201, "--preset", "best_cifar100", "-D", "classes=100")
    assert code == 0, err
    assert "params:  1,294,356" in out
    code, out, err = run(capsys, "compile", NB101, "--preset", "readme_inception")
    assert code == 0, err
    assert "params:  2,694,282" in out
    code, out, err = run(capsys, "compile", example("rnn_cell.nas"), "--preset", "LSTM", "-D", "hidden=16")
    assert code == 0, err
    assert "params:  2,176" in out                 # 4 gates of (16x16 + 16) twice, as torch.nn.LSTMCell


@pytest.mark.parametrize("preset,params", [("DARTS_V2", "3,349,342"), ("DARTS_V1", "3,169,414"),
                                           ("NASNet", "3,830,950"), ("AmoebaNet", "3,145,078")])
def test_cli_compile_darts_presets_give_the_evaluation_network(capsys, preset, params):
    """The DARTS presets carry C=36 and 20 layers, so they compile to the published networks."""
    code, out, err = run(capsys, "compile", example("darts.nas"), "--preset", preset)
    assert code == 0, err
    assert f"params:  {params}" in out


def test_cli_arch_format_darts_and_genetic(capsys):
    """Every format is reachable from --arch-format: a DARTS genotype as JSON, a Genetic CNN bit string."""
    from nasl.formats.darts import DARTS_V2
    genotype = {"normal": DARTS_V2.normal, "normal_concat": DARTS_V2.normal_concat,
                "reduce": DARTS_V2.reduce, "reduce_concat": DARTS_V2.reduce_concat}
    code, out, err = run(capsys, "compile", example("darts.nas"), "--arch", json.dumps(genotype),
                         "--arch-format", "darts", "-D", "C=36", "-D", "layers=20")
    assert code == 0, err
    assert "params:  3,349,342" in out
    code, out, err = run(capsys, "compile", example("genetic_cnn.nas"), "--arch", "1-01|1-01-001|1-01-001-0001",
                         "--arch-format", "genetic")
    assert code == 0, err
    assert "params:  142,770" in out
    code, out, err = run(capsys, "compile", example("genetic_cnn.nas"), "--arch", "1-01", "--arch-format", "genetic")
    assert code == 1 and "needs 3 + 6 + 10 = 19 bits, got 3" in err


@pytest.mark.parametrize("value", [RESNET, json.dumps(RESNET)])
def test_cli_arch_format_nb201(capsys, value):
    code, out, err = run(capsys, "compile", NB201, "--arch", value, "--arch-format", "nb201")
    assert code == 0, err
    assert "params:  559,386" in out


def test_cli_arch_format_nb101_from_file(capsys, tmp_path):
    f = tmp_path / "spec.json"
    f.write_text(json.dumps({"matrix": nb101.README_MATRIX, "ops": nb101.README_OPS}))
    code, out, err = run(capsys, "compile", NB101, "--arch", f"@{f}", "--arch-format", "nb101")
    assert code == 0, err
    assert "params:  2,694,282" in out


def test_cli_export_preset(capsys, tmp_path):
    out_file = tmp_path / "net.py"
    code, out, err = run(capsys, "export", NB201, "--preset", "resnet", "--to", "python", "-o", out_file)
    assert code == 0, err
    assert "class" in out_file.read_text()


@pytest.mark.parametrize("argv,message", [
    (["--preset", "resnet", "--arch", "{}"], "either --arch or --preset"),
    (["--preset", "resne"], "did you mean 'resnet'"),
    (["--arch", "x", "--arch-format", "nb2001"], "unknown architecture format 'nb2001'"),
    (["--arch", "|x~0|", "--arch-format", "nb201"], "describes a cell of 1 edges"),
    (["--preset", "resnet", "--arch-format", "nb201"], "--arch-format applies to --arch"),
    ([], "--arch VALUE|@FILE or --preset NAME"),
])
def test_cli_errors(capsys, argv, message):
    code, out, err = run(capsys, "compile", NB201, *argv)
    assert code == 1
    assert message in err and "Traceback" not in err


def test_cli_lists_presets(capsys):
    code, out, err = run(capsys, "presets", example("rnn_cell.nas"))
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["tanh_rnn", "LSTM", "GRU"]
    assert "arch [depth=7]" in lines[2]
    code, out, _ = run(capsys, "show", NB201)
    assert out.rstrip().endswith("presets: best_cifar100, all_nor_conv_3x3, resnet (nasl presets FILE)")
    code, out, _ = run(capsys, "presets", example("enas_macro.nas"))
    assert code == 0 and out.startswith("no presets")


@pytest.mark.parametrize("module", ["nasl.formats", "nasl.formats.nb201", "nasl.formats.nb101",
                                    "nasl.formats.presets"])
def test_docstring_examples_run(module, monkeypatch):
    import doctest
    import importlib

    from tests.conftest import ROOT
    monkeypatch.chdir(ROOT)                 # the examples name files under examples/
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted and not result.failed
