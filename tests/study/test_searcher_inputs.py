"""The encoder and cost a study hands its searcher, named in the searcher options."""
from __future__ import annotations

import pytest

import nasl
from nasl.ir.errors import NaslError
from nasl.study.searcher_inputs import check_searcher_options, make_cost, make_encoder
from tests.study.helpers import NB201, TABLE

BEST = {"cell.edge[0->1]": "nor_conv_3x3", "cell.edge[0->2]": "nor_conv_3x3", "cell.edge[1->2]": "nor_conv_3x3",
        "cell.edge[0->3]": "skip_connect", "cell.edge[1->3]": "nor_conv_3x3", "cell.edge[2->3]": "nor_conv_3x3"}


@pytest.fixture(scope="module")
def space():
    return nasl.load(NB201)


def test_named_encoders_give_vectors_of_the_encoding_length(space):
    from nasl.ir.encodings import graph_encoder
    from nasl.searchers.encoding import OneHotEncoder
    arch = space.validate(BEST)
    onehot = make_encoder(space, "onehot")(arch)
    assert len(onehot) == OneHotEncoder(space.spec).size == 30 and sum(onehot) == 6
    assert list(make_encoder(space, "path")(arch)) == list(graph_encoder(space, "path")(arch))
    assert len(make_encoder(space, "adjacency")(arch)) == len(graph_encoder(space, "adjacency")(arch))


def test_named_cost_measures_the_realized_graph(space):
    pytest.importorskip("torch")
    assert make_cost(space, "params")(space.validate(BEST)) == 1_288_506.0


@pytest.mark.parametrize("options,message", [({"encoder": "paths"}, "unknown encoder 'paths'"),
                                             ({"cost": len}, "give the searcher's cost by name"),
                                             ({"encoder": lambda a: [0.0]}, "records its options as JSON")])
def test_bad_inputs_are_refused_with_a_reason(options, message):
    with pytest.raises(NaslError, match=message):
        check_searcher_options(options)


def test_bananas_searches_on_the_path_encoding_and_resumes(tmp_path):
    db = tmp_path / "b.db"
    options = {"encoder": "path", "num_initial": 5, "candidates": 20, "batch_size": 5, "epochs": 20}
    first = nasl.search(NB201, searcher="bananas", evaluator=TABLE, budget=12, storage=str(db), seed=3,
                        searcher_options=options, progress=False)
    assert len(first.trials) == 12
    again = nasl.search(storage=str(db), resume=True, budget=20, progress=False)   # the encoder is rebuilt
    assert sum(t.state == "complete" for t in again.trials) == 20
    with pytest.raises(NaslError, match="unknown encoder"):
        nasl.search(NB201, searcher="bananas", evaluator=TABLE, budget=2, storage=None, progress=False,
                    searcher_options={"encoder": "paths"})


@pytest.mark.parametrize("argv,message", [
    (["--searcher", "evolutoin"], "error: no searcher named 'evolutoin'; known: bananas,"),
    (["-O", "popsize=3"], "error: searcher 'regularized_evolution' has no option 'popsize'; its options:")])
def test_unknown_searcher_or_option_is_a_one_line_error(tmp_path, capsys, argv, message):
    from nasl.cli import main
    code = main(["search", str(NB201), "--evaluator", "cost:params", "--budget", "2", "--no-progress",
                 "--study", str(tmp_path / "s.db"), *argv])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(message) and len(err.strip().splitlines()) == 1
