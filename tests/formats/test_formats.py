"""NAS-Bench-201 strings and DARTS genotypes as architectures of the example spaces."""
from __future__ import annotations

import csv

import pytest

import nasl
from nasl.formats import darts as darts_format
from nasl.formats import nb201 as nb201_format
from nasl.data import open_text
from tests.conftest import NB201_CSV


def test_nb201_strings_round_trip_over_the_whole_table(nb201):
    ids = set()
    for row in csv.DictReader(open_text(NB201_CSV)):
        arch = nb201.validate(nb201_format.from_string(row["ArchitectureString"]))
        assert nb201_format.to_string(arch) == row["ArchitectureString"]
        ids.add(arch.id)
    assert len(ids) == 15_625


def test_nb201_bad_strings():
    with pytest.raises(nasl.InvalidArchitecture, match="not a NAS-Bench-201 architecture string"):
        nb201_format.from_string("|nor_conv_3x3|+")


def test_darts_genotype_is_an_architecture_of_the_darts_space(darts):
    arch = darts.validate(darts_format.from_genotype(darts_format.DARTS_V2))
    assert arch["normal.node[5].inputs"] == (0, 2)
    assert arch["normal.node[5].edge[1]"] == "dil_conv_3x3"
    assert arch["reduction.node[3].edge[0]"] == "max_pool_3x3"


def test_darts_genotype_errors():
    with pytest.raises(nasl.InvalidArchitecture, match="reads input 1 twice"):
        darts_format.from_genotype({"normal": [("sep_conv_3x3", 1), ("skip_connect", 1)], "reduce": []})


def test_nb101_readme_spec_is_an_architecture_of_the_nb101_space():
    from nasl.formats import nb101 as nb101_format
    from tests.conftest import example
    space = nasl.load(example("nas_bench_101.nas"))
    arch = space.validate(nb101_format.from_spec(nb101_format.README_MATRIX, nb101_format.README_OPS))
    assert sum(1 for k, v in arch.items() if k.startswith("cell.edge") and v) == 9
    with pytest.raises(nasl.InvalidArchitecture, match="unknown NAS-Bench-101 op 'conv5x5'"):
        nb101_format.from_spec(nb101_format.README_MATRIX, ["input"] + ["conv5x5"] * 5 + ["output"])
