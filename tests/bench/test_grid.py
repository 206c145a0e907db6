"""Benchmark grids: config / CLI lists -> run specs, per-pair overrides, and clear errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from graphclust.bench.grid import build_grid, grid_from_lists, load_config, params_hash

CONFIGS = Path(__file__).resolve().parents[2] / "benchmarks" / "configs"


def small_config(**extra) -> dict:
    return {"name": "tiny", "datasets": ["sbm", "blobs"], "methods": ["kmeans", "gae"], "seeds": 3, **extra}


def test_config_expands_dataset_then_seed_then_method_with_overrides():
    grid = build_grid(small_config(
        params={"gae": {"epochs": 5}},
        overrides=[{"dataset": "blobs", "method": "kmeans", "seeds": 2, "reason": "a test"},
                   {"dataset": "blobs", "method": "gae", "params": {"latent": 4}}]))
    assert [(s.dataset, s.method, s.seed) for s in grid.specs] == [
        ("sbm", "kmeans", 0), ("sbm", "gae", 0), ("sbm", "kmeans", 1), ("sbm", "gae", 1),
        ("sbm", "kmeans", 2), ("sbm", "gae", 2),
        ("blobs", "kmeans", 0), ("blobs", "gae", 0), ("blobs", "kmeans", 1), ("blobs", "gae", 1), ("blobs", "gae", 2)]
    params = {(s.dataset, s.method): s.params for s in grid.specs}
    assert params[("sbm", "gae")] == {"epochs": 5}
    assert params[("blobs", "gae")] == {"epochs": 5, "latent": 4}
    assert params[("sbm", "kmeans")] == {}
    assert grid.reduced == [{"dataset": "blobs", "method": "kmeans", "seeds": [0, 1], "reason": "a test"}]
    assert grid.settings["monitor"] is True and grid.settings["save_embeddings"] == "first"


def test_skip_needs_and_keeps_a_reason():
    grid = build_grid(small_config(overrides=[{"dataset": "*", "method": "gae", "skip": True, "reason": "too slow"}]))
    assert {s.method for s in grid.specs} == {"kmeans"}
    assert grid.skipped == [{"dataset": "sbm", "method": "gae", "reason": "too slow"},
                            {"dataset": "blobs", "method": "gae", "reason": "too slow"}]


def test_yaml_file_names_aliases_and_exponent_strings(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text("datasets: [SBM]\nmethods: [SDCN-Q]\nseeds: [4, 7]\n"
                    "params:\n  sdcn_q: {lr: 1e-4, hidden: [16, 8]}\n")  # YAML reads 1e-4 as a string
    grid = build_grid(load_config(path), source=path)
    assert grid.name == "grid"  # the file's stem
    assert [(s.dataset, s.method, s.seed) for s in grid.specs] == [("sbm", "sdcn_q", 4), ("sbm", "sdcn_q", 7)]
    assert grid.specs[0].params == {"lr": 1e-4, "hidden": [16, 8]}


def test_params_hash_ignores_order_and_tuple_vs_list():
    assert params_hash({"a": 1, "hidden": (16, 8)}) == params_hash({"hidden": [16, 8], "a": 1})
    assert params_hash({"a": 1}) != params_hash({"a": 2})
    assert params_hash({}) != params_hash({}, shared_pretraining=True)


def test_shared_pretraining_marks_only_methods_with_a_pretrained_autoencoder():
    grid = build_grid({"datasets": ["sbm"], "methods": ["kmeans", "dec", "sdcn"], "seeds": 1,
                       "share_pretraining": True})
    assert {s.method: s.shared_pretraining for s in grid.specs} == {"kmeans": False, "dec": True, "sdcn": True}
    grid = build_grid({"datasets": ["sbm"], "methods": ["kmeans", "dec", "sdcn"], "seeds": 1,
                       "share_pretraining": ["dec"]})
    assert {s.method: s.shared_pretraining for s in grid.specs} == {"kmeans": False, "dec": True, "sdcn": False}
    with pytest.raises(ValueError, match="take no pretrained autoencoder"):
        build_grid({"datasets": ["sbm"], "methods": ["kmeans"], "share_pretraining": ["kmeans"]})


@pytest.mark.parametrize("change, message", [
    ({"methods": ["kmeans", "nope"]}, "unknown method 'nope'"),
    ({"datasets": ["no-such-data"]}, "unknown dataset 'no-such-data'"),
    ({"params": {"gae": {"epoch": 3}}}, "unknown parameter(s) ['epoch'] for method 'gae'"),
    ({"params": {"gae": {"random_state": 3}}}, "set by the benchmark harness"),
    ({"params": {"dec": {"epochs": 3}}}, "not in the grid's methods"),
    ({"overrides": [{"dataset": "sbm", "method": "gae", "seeds": 1}]}, "needs a 'reason'"),
    ({"overrides": [{"dataset": "sbm", "method": "gae", "skip": True}]}, "needs a 'reason'"),
    ({"overrides": [{"dataset": "cora", "method": "gae", "params": {}}]}, "not in the grid's datasets"),
    ({"overrides": [{"datasets": "sbm", "method": "gae"}]}, "unknown key(s) ['datasets']"),
    ({"seed": 3}, "unknown key(s) ['seed']"),
    ({"seeds": 0}, "must be >= 1"),
    ({"save_embeddings": "some"}, "save_embeddings must be one of"),
])
def test_invalid_configs_fail_with_clear_messages(change, message):
    with pytest.raises(ValueError) as err:
        build_grid(small_config(**change))
    assert message in str(err.value)


def test_cli_lists_route_params_to_the_methods_that_take_them():
    grid = grid_from_lists("kmeans,gae", "sbm", seeds="0,5", params={"n_init": 2, "gae:epochs": 5})
    params = {s.method: s.params for s in grid.specs}
    assert params == {"kmeans": {"n_init": 2}, "gae": {"n_init": 2, "epochs": 5}}
    assert sorted({s.seed for s in grid.specs}) == [0, 5]
    with pytest.raises(ValueError, match="no method among"):
        grid_from_lists("kmeans", "sbm", 1, params={"epochs": 5})
    with pytest.raises(ValueError, match="not in the grid"):
        grid_from_lists("kmeans", "sbm", 1, params={"gae:epochs": 5})


def test_filter_keeps_a_part_of_the_grid():
    grid = build_grid(small_config(overrides=[{"dataset": "sbm", "method": "gae", "skip": True, "reason": "r"}]))
    part = grid.filter(methods="kmeans", seeds=2)
    assert {(s.method, s.seed) for s in part.specs} == {("kmeans", 0), ("kmeans", 1)}
    assert part.skipped == []
    with pytest.raises(ValueError, match="not in grid"):
        grid.filter(datasets="cora")


def test_repository_configs_are_valid_and_account_for_every_pair():
    smoke = build_grid(load_config(CONFIGS / "smoke.yaml"))
    assert len(smoke.specs) == 4
    repro = build_grid(load_config(CONFIGS / "reproduction.yaml"))
    assert repro.settings["report"] == "REPRODUCTION.md"
    assert set(repro.datasets) == {"cora", "citeseer", "acm", "dblp", "usps", "amazon-photo", "mnist", "fashion-mnist"}
    assert {"kmeans", "spectral", "ae_kmeans", "dec", "idec", "dcn", "deepcluster", "gae", "vgae", "daegc", "sdcn",
            "sdcn_q", "sddecc"} <= set(repro.methods)
    seeds = {}
    for spec in repro.specs:
        seeds.setdefault((spec.dataset, spec.method), set()).add(spec.seed)
    reasons = {(e["dataset"], e["method"]) for e in repro.skipped + repro.reduced}
    for dataset in repro.datasets:
        for method in repro.methods:
            pair = (dataset, method)
            assert seeds.get(pair) == set(range(10)) or pair in reasons, f"{pair}: fewer seeds without a reason"
    citeseer_sdcn = {s.params_hash: s.params for s in repro.specs if s.dataset == "citeseer" and s.method == "sdcn"}
    assert list(citeseer_sdcn.values()) == [{"lr": 1e-4}]
