"""The command line: run / methods / datasets, and its errors."""
from __future__ import annotations

import json

import pytest

from graphclust.cli import _parse_value, main


def test_run_on_digits_prints_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "res.json"
    code = main(["run", "--method", "kmeans,spectral", "--seeds", "2", "--quiet", "--out", str(out),
                 "--param", "n_init=2"])
    assert code == 0
    table = capsys.readouterr().out
    assert "| kmeans | 2 |" in table and "| spectral | 2 |" in table and "±" in table
    record = json.loads(out.read_text())
    assert record["dataset"] == "digits" and record["n_clusters"] == 10
    assert [r["seed"] for r in record["runs"] if r["method"] == "kmeans"] == [0, 1]
    assert {"acc", "nmi", "ari", "f1"} <= set(record["runs"][0])
    assert "torch" in record["versions"]


def test_unknown_method_fails_before_loading_data(capsys):
    assert main(["run", "--method", "kmeans,nope", "--dataset", "no-such-data"]) == 2
    assert "unknown method 'nope'" in capsys.readouterr().err


def test_unknown_dataset_lists_valid_names(capsys):
    assert main(["run", "--method", "kmeans", "--dataset", "no-such-data"]) == 2
    err = capsys.readouterr().err
    assert "no-such-data" in err and "digits" in err


def test_missing_dataset_names_the_expected_files(tmp_path, capsys):
    assert main(["run", "--method", "kmeans", "--dataset", "cora", "--data-root", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_bad_param_syntax(capsys):
    assert main(["run", "--method", "kmeans", "--param", "n_init"]) == 2
    assert "key=value" in capsys.readouterr().err


def test_a_param_no_method_takes_is_an_error(capsys):
    assert main(["run", "--method", "kmeans,spectral", "--param", "n_inti=2", "--dataset", "no-such-data"]) == 2
    err = capsys.readouterr().err
    assert "n_inti" in err and "'n_init'" in err  # named, with the valid ones, before any data is loaded


@pytest.mark.parametrize("key, option", [("n_clusters", "--n-clusters"), ("random_state", "--seed-start"),
                                         ("device", "--device"), ("verbose", "--quiet")])
def test_a_param_that_run_sets_points_to_its_option(capsys, key, option):
    assert main(["run", "--method", "kmeans", "--param", f"{key}=1"]) == 2
    err = capsys.readouterr().err
    assert f"--param {key}" in err and option in err


@pytest.mark.parametrize("device", ["gpu", "cuda:x"])
def test_an_unknown_device_fails_before_loading_data(capsys, device):
    assert main(["run", "--method", "kmeans", "--device", device, "--dataset", "no-such-data"]) == 2
    assert f"unknown device {device!r}" in capsys.readouterr().err


def test_n_clusters_below_two_is_an_error(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--method", "kmeans", "--n-clusters", "0"])
    assert "--n-clusters must be >= 2, got 0" in capsys.readouterr().err


def test_methods_and_datasets_listings(capsys, shared_data):
    assert main(["methods"]) == 0
    listing = capsys.readouterr().out
    for name in ("kmeans", "dec", "idec", "sdcn", "gae", "daegc"):
        assert name in listing
    lines = listing.splitlines()  # each docstring's whole first paragraph, wrapped under its column
    assert max(map(len, lines)) <= 120
    (sddecc,) = [i for i, line in enumerate(lines) if line.startswith("sddecc ")]
    assert lines[sddecc].split()[1:3] == ["SDDECC", "graph"]
    assert "Laser & Optoelectronics Progress" in " ".join(lines[sddecc:sddecc + 3])
    assert lines[sddecc + 1].startswith(" " * 36) and lines[sddecc + 1].strip()
    assert main(["datasets", "--data-root", str(shared_data)]) == 0
    listing = capsys.readouterr().out
    assert "cora" in listing and "available" in listing


@pytest.mark.parametrize("text, value", [("50", 50), ("1e-3", 1e-3), ("true", True), ("none", None),
                                         ("500,500,2000", (500, 500, 2000)), ("adam", "adam")])
def test_param_values_are_parsed(text, value):
    assert _parse_value(text) == value


def test_sddecc_runs_from_the_cli_on_images(capsys):
    code = main(["run", "--method", "sddecc", "--dataset", "digits", "--seeds", "1",
                 "--param", "pretrain_epochs=2", "--param", "epochs=2", "--param", "gcn_warmup_steps=5",
                 "--param", "gcn_steps=2"])
    assert code == 0
    out, err = capsys.readouterr()
    assert "| sddecc | 1 |" in out
    assert "sddecc: builds its own 3-NN graph (the dataset's recipe has another k)" in err  # digits: k = 10
    assert "kNN graph" not in err  # the shared one is not built: no method would run on it


def test_a_method_that_sets_another_k_builds_its_own_knn_graph():
    from torch_geometric.data import Data

    from graphclust.cli import graph_input, prepare_graph
    from graphclust.data import load_dataset
    from graphclust.graphs import knn_graph
    from graphclust.models import GAE, SDDECC

    data = prepare_graph(load_dataset("blobs"), verbose=False)  # the recipe's 10-NN graph, shared
    assert graph_input(GAE(), data) is data  # no k of its own
    assert graph_input(GAE(n_neighbors=10), data) is data  # the recipe's k
    own = graph_input(SDDECC(), data)  # k = 3, the paper's
    assert own.edge_index is None and own.edge_weight is None and data.edge_index is not None
    assert own.x is data.x and own.graph_recipe == data.graph_recipe
    model = SDDECC(n_clusters=3, latent=4, pretrain_epochs=1, gcn_warmup_steps=2, gcn_steps=1, epochs=1,
                   random_state=0, verbose=False).fit(own)
    three, _ = knn_graph(data.x, n_neighbors=3)
    assert model.edge_index_.shape == three.shape  # the 3-NN graph, not the shared 10-NN one
    assert model.edge_index_.shape[1] < data.edge_index.shape[1]
    native = Data(x=data.x, edge_index=data.edge_index)  # a native graph: always shared
    assert graph_input(SDDECC(), native) is native


def test_versions_record_faiss_as_none_where_it_is_not_installed(monkeypatch):
    import sys

    from graphclust.cli import versions

    pytest.importorskip("faiss")
    assert versions()["faiss"]  # installed here
    monkeypatch.delitem(sys.modules, "graphclust.graphs._faiss", raising=False)
    monkeypatch.setitem(sys.modules, "faiss", None)  # an import of faiss now fails
    recorded = versions()
    assert recorded["faiss"] is None and recorded["torch"]


def test_run_help_says_what_it_prints_with_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "mean ± std" in text
    assert "    graphclust run --method dec,idec --dataset usps" in text  # the examples keep their layout
