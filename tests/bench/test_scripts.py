"""The reproduction scripts end to end on tiny data: a run is recorded at once, a rerun skips it,
a run killed after a checkpoint resumes there, and the tables are written.

``benchmarks/reproduce_sddecc.py`` stands for the three scripts (they share ``_common``); its
USPS loader is swapped for 150 of scikit-learn's 8×8 digits and its schedule for a few steps."""
from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import Killed, die_after_saves
from graphclust.data.loaders import load_digits

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
TINY_SDDECC = {"pretrain_epochs": 1, "epochs": 2, "gcn_warmup_steps": 3, "gcn_steps": 2, "channels": (4,),
               "latent": 4, "hidden": 8, "batch_size": 64, "n_init": 2}


@pytest.fixture
def script(tmp_path, monkeypatch):
    """``reproduce_sddecc`` writing under ``tmp_path`` and reading tiny digits for "usps"."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("GRAPHCLUST_HUGEPAGES", "0")  # never restart the test process
    module = importlib.import_module("reproduce_sddecc")
    common = sys.modules["_common"]
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    diagnostics = importlib.import_module("sddecc_diagnostics")  # the note of the tables
    monkeypatch.setattr(diagnostics, "OUT", tmp_path / "sddecc_diagnostics.jsonl")
    monkeypatch.setattr(importlib.import_module("ae_seeding"), "RESULTS", tmp_path)  # the note under Table 3
    monkeypatch.setattr(common, "CHECKPOINTS", tmp_path / "checkpoints")
    digits = load_digits()
    monkeypatch.setattr(module, "load_dataset", lambda name, root=None: type(digits)(
        x=digits.x[:150], y=digits.y[:150], image_shape=digits.image_shape, name="digits"))
    monkeypatch.setattr(module, "SDDECC_EPOCHS", {"usps": TINY_SDDECC})
    return module


def run(module, monkeypatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["reproduce_sddecc.py", "--datasets", "usps", "--seeds", "1", "--quiet", *args])
    module.main()


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_runs_are_recorded_once_with_progress_and_tables(script, tmp_path, monkeypatch, capsys):
    run(script, monkeypatch, "--only", "sddecc,convae")
    out = capsys.readouterr().out
    assert "[1/2] usps SDDECC (ConvAE+MI+GCN) seed 0" in out and "[2/2] usps ConvAE seed 0" in out
    runs = records(tmp_path / "sddecc.jsonl")
    assert [(r["method"], r["seed"]) for r in runs] == [("sddecc", 0), ("convae", 0)]
    for r in runs:
        assert 0.0 <= r["acc"] <= 1.0 and r["time"] > 0
        assert r["full_config"]["epochs"] == 2 and "checkpoint" not in r["full_config"]
        assert ("graph_build" in r) == (r["method"] == "sddecc")  # where its graph came from; ConvAE has none
        curve = r[script.MONITOR_KEY]  # the monitored ACC of the 2 joint epochs, the last the final model's
        assert len(curve) == 2 and curve[-1] == round(r["acc"], 4)
    assert not list((tmp_path / "checkpoints").glob("*.pt"))  # recorded runs leave no checkpoint
    tables = (tmp_path / "sddecc.md").read_text()
    assert "| usps | ConvAE | 1 |" in tables and "| usps | SDDECC (ConvAE+MI+GCN) | 1 |" in tables
    assert "includes getting its kNN graph: built in the run in 1 (the graph took" in tables

    run(script, monkeypatch, "--only", "sddecc,convae")  # all done: nothing runs again
    out = capsys.readouterr().out
    assert "seed 0:" not in out and "[1/" not in out
    assert len(records(tmp_path / "sddecc.jsonl")) == 2
    run(script, monkeypatch, "--only", "sddecc,convae", "--datasets", "USPS,usps")  # the catalog's name: done too
    assert "[1/" not in capsys.readouterr().out and len(records(tmp_path / "sddecc.jsonl")) == 2
    for datasets, named in (("usps2", "unknown dataset 'usps2'; valid names: "),  # not in the catalog
                            ("cora", "unknown dataset(s) ['cora']; valid: usps, mnist, fashion-mnist")):
        with pytest.raises(SystemExit):
            run(script, monkeypatch, "--datasets", datasets)
        assert named in capsys.readouterr().err

    run(script, monkeypatch, "--only", "sddecc,convae_mi,convae,convae_mi")  # one new row, named twice
    assert "[1/1] usps ConvAE+MI seed 0" in capsys.readouterr().out
    assert [r["method"] for r in records(tmp_path / "sddecc.jsonl")] == ["sddecc", "convae", "convae_mi"]
    assert "Readings of Eq. 19" not in (tmp_path / "sddecc.md").read_text()  # shown once the literal one ran

    terms = records(tmp_path / "sddecc.jsonl")[-1]["loss_terms"]  # label-free, from the fit's history
    assert terms["pixels"] == 64 and len(terms["mi_global_pretrain"]) == 1
    assert terms["pretrain"]["epochs"] == 1 and set(terms["pretrain"]) == {"epochs", "loss", "rec", "prior_kl",
                                                                          "mi_global", "mi_local"}
    assert terms["joint"]["epochs"] == 2 and {"clu", "mi_global", "mi_local"} <= set(terms["joint"])
    assert "**usps** (ConvAE+MI, seeds 0;" in (tmp_path / "sddecc.md").read_text().split("## Why the MI terms")[1]

    run(script, monkeypatch, "--only", "sddecc_lc_sum")  # the literal reading of Eq. 19, on request only
    literal = records(tmp_path / "sddecc.jsonl")[-1]
    assert literal["method"] == "sddecc_lc_sum" and literal["full_config"]["kl_reduction"] == ["mean", "sum"]
    tables = (tmp_path / "sddecc.md").read_text()
    assert "| usps | SDDECC, L_c summed (Eq. 19 literal) | 1 |" in tables.split("Readings of Eq. 19")[1]
    note = tables.split("## Reading of L_c")[1]
    assert f"- usps, seeds 0: ACC {literal['acc']:.4f} summed against" in note and "active dimensions of 4" in note
    assert "Joint training: alternating" not in tables  # shown once the end-to-end variant ran

    run(script, monkeypatch, "--only", "sddecc_e2e")  # end-to-end joint training, on request only
    e2e = records(tmp_path / "sddecc.jsonl")[-1]
    assert e2e["method"] == "sddecc_e2e" and e2e["full_config"]["joint"] == "end_to_end"
    tables = (tmp_path / "sddecc.md").read_text().split("Joint training: alternating")[1]
    assert "| usps | SDDECC, joint training end to end | 1 |" in tables
    assert "| usps | SDDECC (ConvAE+MI+GCN) | 1 |" in tables  # beside the default
    note = (tmp_path / "sddecc.md").read_text().split("## Joint training: alternating or end to end")[1]
    assert f"- usps, seeds 0: ACC {e2e['acc']:.4f} end to end against" in note
    objectives = [r["code"]["objective"] for r in records(tmp_path / "sddecc.jsonl")
                  if r["method"] in ("sddecc", "sddecc_e2e")]
    assert f"seeds 0: {objectives[1]:.4f} end to end against {objectives[0]:.4f} alternating" in note
    assert f"lower end to end on {int(objectives[1] < objectives[0])} of 1 seeds" in note
    run(script, monkeypatch, "--only", "sddecc_dim_weights")  # λ1, λ2 as the Deep InfoMax code weighs them
    swapped = records(tmp_path / "sddecc.jsonl")[-1]
    assert (swapped["full_config"]["lambda1"], swapped["full_config"]["lambda2"]) == (1.5, 0.01)
    text = (tmp_path / "sddecc.md").read_text()
    assert "| usps | SDDECC, λ1 = 1.5 on MI, λ2 = 0.01 on the KL (Deep InfoMax code's weights) | 1 |" in \
        text.split("Weights of Eq. 19: the text's (default)")[1]
    note = text.split("## Weights of Eq. 19: the text's or the Deep InfoMax code's")[1]
    assert f"- usps, seeds 0: ACC {swapped['acc']:.4f} with the code's weights against " in note
    assert ("in one cluster" in note) == (swapped["clusters_found"] == 1) and swapped["clusters_found"] >= 1
    for flat in ({"clusters_found": 1}, {"nmi": 0.0, "clusters_found": None}):  # a record without the count
        flat = {k: v for k, v in dict(swapped, **flat).items() if v is not None}
        flat["code"] = dict(flat["code"], posterior_clusters=7, warmup_agreement=0.125)
        lines = script.beside_default([flat], "usps", [flat], ("flat", "default"))
        assert "- Flat, seed 0 ended with every image in one cluster (NMI 0; its ACC is the largest class's share)." \
            in lines
        assert "  Seed 0: the model's own posterior uses 7 clusters, and the GCN ended its warm-up agreeing with it " \
            "on 12.5% of the images: the GCN, not the code, collapsed." in lines
    for r in records(tmp_path / "sddecc.jsonl"):  # the code's label-free state, for every SDDECC row
        code = r["code"]
        assert code["rate_nats"] > 0 and 0 <= code["active_dims"] <= 4 and code["rec_explained"] <= 1
        assert code["objective"] > 0  # Eq. 19 without the MI terms: a reconstruction and a KL, both >= 0
        assert 1 <= code["posterior_clusters"] <= 10
        gcn = r["full_config"]["use_gcn"]
        assert (code["warmup_agreement"] is not None) == gcn and (not gcn or 0 <= code["warmup_agreement"] <= 1)
        # without the GCN the read-out is the posterior itself
        assert 0 <= code["final_agreement"] <= 1 and (gcn or code["final_agreement"] == 1)


def test_a_wider_code_is_set_beside_the_default(script, tmp_path, monkeypatch):
    run(script, monkeypatch, "--only", "sddecc_latent20")  # the width of the public code of L_c, on request only
    (wide,) = records(tmp_path / "sddecc.jsonl")
    assert wide["method"] == "sddecc_latent20" and wide["full_config"]["latent"] == 20
    assert wide["code"]["active_dims"] <= 20
    run(script, monkeypatch, "--only", "sddecc")  # the default of the same seed: the note compares them
    text = (tmp_path / "sddecc.md").read_text()
    assert "| usps | SDDECC, d = 20 | 1 |" in text.split("## Width of the code: d = 10 (default) or 20")[1]
    note = text.split("## Width of the code: d = 10 or 20")[1]
    assert f"- usps, seeds 0: ACC {wide['acc']:.4f} at d = 20 against" in note
    assert "active dimensions of 20" in note and "active dimensions of 4" in note  # each row's own width


def test_first_seed_runs_only_the_later_seeds(script, tmp_path, monkeypatch, capsys):
    run(script, monkeypatch, "--only", "convae", "--seeds", "3", "--first-seed", "1")  # the last --seeds wins
    assert [(r["method"], r["seed"]) for r in records(tmp_path / "sddecc.jsonl")] == [("convae", 1), ("convae", 2)]
    assert "[1/2] usps ConvAE seed 1" in capsys.readouterr().out
    for bad in ("-1", "3"):  # below 0, or no seed left below --seeds
        with pytest.raises(SystemExit):
            run(script, monkeypatch, "--only", "convae", "--seeds", "3", "--first-seed", bad)
        assert "--first-seed" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # not the default seeds, without a word
        run(script, monkeypatch, "--only", "convae", "--seeds", "0")
    assert "--seeds 0: it must be at least 1" in capsys.readouterr().err


def test_a_killed_run_resumes_from_its_checkpoint(script, tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        die_after_saves(patch, 3)  # pretrained, initialised, joint epoch 1: then "killed"
        with pytest.raises(Killed):
            run(script, monkeypatch, "--only", "sddecc")
    assert not records(tmp_path / "sddecc.jsonl")
    assert [p.name for p in (tmp_path / "checkpoints").glob("*.pt")] == ["usps_sddecc_seed0.pt"]

    run(script, monkeypatch, "--only", "sddecc")
    (record,) = records(tmp_path / "sddecc.jsonl")
    assert record["resumed"]["stage"] == "joint" and record["resumed"]["epochs_done"] == 1
    assert not list((tmp_path / "checkpoints").glob("*.pt"))


def test_diagnostics_shared_cluster_and_note(script, tmp_path):
    diagnostics = sys.modules["sddecc_diagnostics"]
    # path 0-1-2-3 with a self-loop at 2; node 2 is wrong (cluster 0, class 1): of its neighbours 1 and 3,
    # node 1 shares cluster 0. Right: node 0 (1 of 1 neighbour), 1 (2 of 2), 3 (0 of 1) -> (1 + 1 + 0) / 3
    edges = torch.tensor([[0, 1, 1, 2, 2, 3, 2], [1, 0, 2, 1, 3, 2, 2]])
    wrong, right = diagnostics.shared_cluster(edges, np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]))
    assert wrong == 0.5 and right == pytest.approx(2 / 3)

    assert diagnostics.gcn_note() == ""  # nothing recorded yet
    record = {"dataset": "usps", "method": "convae_gcn", "seed": 0, "time": 1.0, "acc_gcn": 0.7, "acc_posterior": 0.69,
              "acc_smoothed": 0.71, "acc_kmeans": 0.68, "agreement": 0.95, "homophily": 0.9, "wrong_shared": 0.8,
              "right_shared": 0.95}
    script.append_run(diagnostics.OUT, record)
    assert diagnostics.gcn_note() == ""  # no ConvAE / ConvAE+GCN runs to compare yet
    for method, accs in (("convae", (0.70, 0.72)), ("convae_gcn", (0.71, 0.73))):
        for seed, acc in enumerate(accs):
            script.append_run(tmp_path / "sddecc.jsonl", {"dataset": "usps", "method": method, "seed": seed,
                                                          "acc": acc})
    note = diagnostics.gcn_note()
    assert "gains 8.4 points" in note
    assert "ours gains 1.0 (ConvAE+GCN 72.0 ± 1.0 against ConvAE 71.0 ± 1.0, 2 seeds)" in note
    assert "2 seeds, within the spread" not in note  # a 1.0 gain against a 1.0 spread is not inside it
    assert "on 95.0% of the images" in note and "reaches 71.0, +2.0 over the posterior and more than the GCN's" in note
    assert "80.0% of its neighbours on average (one it gets right: 95.0%): most errors" in note
    assert "| usps | convae_gcn | 1 | 0.7000 | 0.6900 | 0.9500 | 0.7100 | 0.6800 | 0.9000 | 0.8000 | 0.9500 |" in \
        diagnostics.write_table()


def test_the_scripts_results_file_survives_a_torn_line_and_keeps_one_record_per_run(script, tmp_path):
    common = sys.modules["_common"]
    path = tmp_path / "runs.jsonl"
    common.append_run(path, {"dataset": "usps", "method": "sddecc", "seed": 0, "acc": 0.5})
    with path.open("a") as fh:
        fh.write('{"dataset": "usps", "method": "sddecc", "se')  # a process killed while writing
    with pytest.warns(UserWarning, match="not valid JSON"):
        assert common.done_keys(path) == {("usps", "sddecc", 0)}
    common.append_run(path, {"dataset": "usps", "method": "sddecc", "seed": 1, "acc": float("nan")})
    common.append_run(path, {"dataset": "usps", "method": "sddecc", "seed": 0, "acc": 0.7})  # recorded twice
    with pytest.warns(UserWarning, match="not valid JSON"):
        runs = common.read_runs(path)
    assert [(r["seed"], r["acc"]) for r in runs] == [(0, 0.7), (1, None)]  # the last of seed 0; NaN as null
    assert len(path.read_text().splitlines()) == 4  # the next record started on a fresh line


def test_sdcn_of_the_sddecc_script_is_the_run_of_the_graph_script(script, tmp_path, monkeypatch):
    """Both scripts give SDCN the dataset's shared kNN graph, so a seed gives one run, whichever made it."""
    from graphclust.cli import prepare_graph

    monkeypatch.setitem(script.sources.__globals__, "RESULTS", tmp_path)
    data = script.load_dataset("usps")
    data.graph_recipe = {"n_neighbors": 3}
    monkeypatch.setattr(script, "load_dataset", lambda name, root=None: data)
    fast = {"pretrain_epochs": 2, "epochs": 3, "n_init": 2}
    graph_script = sys.modules["reproduce_graph"]
    monkeypatch.setitem(graph_script.CONFIGS, ("usps", "sdcn"), fast)
    run(script, monkeypatch, "--only", "sdcn")
    recorded, = [r for r in records(tmp_path / "graph_methods.jsonl") if r["method"] == "sdcn"]
    shared = prepare_graph(type(data)(x=data.x, y=data.y, graph_recipe=data.graph_recipe), verbose=False)
    again = graph_script.run_graph_method(shared, "usps", "sdcn", 0, tmp_path / "again.jsonl", verbose=False)
    assert recorded["acc"] == again["acc"] and recorded["nmi"] == again["nmi"]


def test_strategy_1_read_literally_trains_the_autoencoder_alone_as_long_as_the_other_rows(script, tmp_path,
                                                                                           monkeypatch):
    run(script, monkeypatch, "--only", "convae_rec,convae")
    literal, convae = records(tmp_path / "sddecc.jsonl")
    assert literal["method"] == "convae_rec" and convae["method"] == "convae"
    config = literal["full_config"]
    assert (config["lambda2"], config["use_mi"], config["use_gcn"], config["epochs"]) == (0.0, False, False, 0)
    assert config["pretrain_epochs"] == TINY_SDDECC["pretrain_epochs"] + TINY_SDDECC["epochs"] == literal["epochs_run"]
    assert {h["stage"] for h in literal_history(script)} == {"pretrain"}
    tables = (tmp_path / "sddecc.md").read_text()
    assert "| usps | ConvAE, reconstruction only + k-means | 1 |" in tables.split("## Table 4")[1]
    note = tables.split("## Two readings of strategy 1")[1]
    assert f"reconstruction only {literal['acc']:.4f}; ConvAE {convae['acc']:.4f}; ConvAE+MI not run" in note
    assert "(paper: ConvAE 69.81, ConvAE+MI 78.53, ConvAE+GCN 78.22)" in note
    gain = 100 * (convae["acc"] - literal["acc"])
    assert f"Points of ACC over the reconstruction-only ConvAE of the same seeds: ConvAE {gain:+.1f}.\n" in note
    assert not script.settings_changed(records(tmp_path / "sddecc.jsonl"))


def test_strategy_1_gains_pair_each_row_with_the_reconstruction_only_runs_of_its_seeds(script):
    runs = [{"dataset": "usps", "method": "convae_rec", "seed": s, "acc": a} for s, a in ((0, 0.5), (1, 0.6), (2, 0.7))]
    runs += [{"dataset": "usps", "method": "convae", "seed": s, "acc": a} for s, a in ((0, 0.6), (1, 0.6), (2, 0.9))]
    runs.append({"dataset": "usps", "method": "convae_mi", "seed": 0, "acc": 0.55})  # seed 0 only
    note = script.strategy1_note(runs)
    assert "ConvAE+MI 0.5500 (1 of these seeds)" in note
    # ConvAE: (0.7 - 0.6) over all three seeds; ConvAE+MI: 0.55 - 0.5 on seed 0, not 0.55 - 0.6 (all seeds' mean)
    assert "of the same seeds: ConvAE +10.0, ConvAE+MI +5.0 (paper +8.7)." in note


def test_ordering_pairs_each_check_by_seed(script):
    def rows(method, accs):
        return [{"dataset": "usps", "method": method, "seed": s, "acc": a} for s, a in accs]

    assert script.ordering_note(rows("convae", [(0, 0.5)])) == ""  # no pair yet
    runs = rows("convae", [(0, 0.50), (1, 0.60), (2, 0.70)]) + rows("convae_mi", [(0, 0.54), (1, 0.63), (2, 0.75)])
    runs += rows("convae_gcn", [(2, 0.69)]) + rows("sddecc", [(0, 0.60), (1, 0.66)])
    note = script.ordering_note(runs)
    # MI - ConvAE: +4, +3, +5 points -> mean +4.0, population std 0.82: holds, beyond the spread
    assert "  - ConvAE < ConvAE+MI: holds, +4.0 ± 0.8 points, higher on 3 of 3 seeds (0-2); paper +8.7.\n" in note
    # GCN - ConvAE on seed 2 alone: -1 point, no spread
    assert "  - ConvAE < ConvAE+GCN: does not hold, -1.0 points, higher on 0 of 1 seed (2); paper +8.4.\n" in note
    # full - MI on seeds 0, 1: +6, +3 -> +4.5 ± 1.5; full - GCN: no common seed, no line
    assert "  - ConvAE+MI < SDDECC (ConvAE+MI+GCN): holds, +4.5 ± 1.5 points, higher on 2 of 2 seeds (0, 1)" in note
    assert "ConvAE+GCN < SDDECC" not in note
    runs[3]["acc"] = 0.40  # MI - ConvAE: -10, +3, +5 -> -0.67 ± 6.65: below zero, inside the spread
    assert "ConvAE < ConvAE+MI: does not hold (within the spread), -0.7 ± 6." in script.ordering_note(runs)


def test_loss_terms_keep_each_stages_last_epoch_and_the_global_mi_curve(script):
    history = [{"stage": "pretrain", "epoch": 0, "loss": 3.0, "rec": 2.0, "prior_kl": 0.5, "mi_global": 0.4,
                "mi_local": 0.6},
               {"stage": "pretrain", "epoch": 1, "loss": 2.0, "rec": 1.5, "prior_kl": 0.3, "mi_global": 0.2,
                "mi_local": 0.5},
               {"stage": "gcn_warmup", "epoch": 0, "loss": 1.3, "agreement": 0.9},
               {"stage": "joint", "epoch": 0, "loss": 1.9, "rec": 1.4, "clu": 0.3, "mi_global": 0.1, "mi_local": 0.4,
                "delta_label": 0.1, "acc": 0.5}]
    assert script.loss_terms(history, 256) == {
        "pixels": 256, "mi_global_pretrain": [0.4, 0.2], "loss_curve": {"pretrain": [3.0, 2.0], "joint": [1.9]},
        "pretrain": {"epochs": 2, "loss": 2.0, "rec": 1.5, "prior_kl": 0.3, "mi_global": 0.2, "mi_local": 0.5},
        "joint": {"epochs": 1, "loss": 1.9, "rec": 1.4, "clu": 0.3, "mi_global": 0.1, "mi_local": 0.4}}


def test_lowest_loss_of_r_restarts_is_the_mean_over_every_subset(script):
    pairs = [(2.0, 0.5), (1.0, 0.9), (3.0, 0.1)]  # (final loss, ACC), in no order
    # R = 2: {1.0, 2.0} -> 0.9, {1.0, 3.0} -> 0.9, {2.0, 3.0} -> 0.5: (0.9 + 0.9 + 0.5) / 3
    assert script.lowest_loss_acc(pairs, 2) == pytest.approx(2.3 / 3)
    assert script.lowest_loss_acc(pairs, 1) == pytest.approx(0.5)  # one run: the row's mean
    assert script.lowest_loss_acc(pairs, 3) == pytest.approx(0.9)  # every run: the lowest loss's
    # a tie is broken at random, never by ACC: {1.0: 0.9 or 0.5} -> 0.7, {1.0, 2.0} -> 0.9 and 0.5 -> 0.7 twice
    assert script.lowest_loss_acc([(1.0, 0.9), (1.0, 0.5), (2.0, 0.7)], 2) == pytest.approx(0.7)
    for bad in (0, 4):
        with pytest.raises(ValueError, match="restarts must be between 1 and the 3 runs"):
            script.lowest_loss_acc(pairs, bad)


def test_restarts_note_ranks_a_rows_seeds_by_their_final_loss(script):
    def run(seed, acc, loss, method="sddecc"):
        return {"dataset": "mnist", "method": method, "seed": seed, "acc": acc,
                "loss_terms": {"joint": {"epochs": 50, "loss": loss}}}

    runs = [run(s, a, l) for s, a, l in ((0, 0.80, 7.9), (1, 0.90, 7.7), (2, 0.70, 8.0), (3, 0.85, 7.8))]
    assert script.restarts_note(runs, min_seeds=5) == ""  # four seeds: too few
    runs += [run(4, 0.60, 8.1), {"dataset": "mnist", "method": "sddecc", "seed": 5, "acc": 0.99},  # no loss: left out
             run(0, 0.5, 1.0, method="convae")]  # one ConvAE seed: no line of its own
    note = script.restarts_note(runs, min_seeds=5)
    assert note.startswith("## The final training loss against ACC, seed by seed\n")
    # ACC falls as the loss rises on every seed: ρ = -1. Sorted by loss, ACC 0.90, 0.85, 0.80, 0.70, 0.60;
    # lowest of 3: (C(4,2)·0.90 + C(3,2)·0.85 + C(2,2)·0.80) / C(5,3) = (5.40 + 2.55 + 0.80) / 10 = 0.875;
    # lowest of 5: 0.90. ACC's population std: sqrt((.03² + .13² + .07² + .08² + .17²) / 5) = sqrt(.0116) = 0.1077
    assert "| mnist | SDDECC (ConvAE+MI+GCN) | 0-4 | 0.7700 ± 0.1077 | -1.00 (< 0.001) | 0.8750 | 0.9000 |" in note
    assert "ConvAE |" not in note and "the Bonferroni level 0.05 / 1 = 0.05 the relation stands in mnist SDDECC" in note
    assert "fewer than 5 seeds with a final loss" in note and "mnist ConvAE (1 of 1)" in note
    runs.append(run(6, 0.95, float("nan")))  # diverged: not ranked
    assert "| 0-4 | 0.7700 ± 0.1077 |" in script.restarts_note(runs, min_seeds=5)
    same = [run(s, 0.5, 7.0 + s) for s in range(5)]  # one ACC on every seed: no rank correlation
    assert "| mnist | SDDECC (ConvAE+MI+GCN) | 0-4 | 0.5000 ± 0.0000 | — | 0.5000 | 0.5000 |" in script.restarts_note(same, 5)


def test_mi_note_weighs_the_mi_terms_from_the_recorded_loss_terms(script):
    def convae_mi(seed, acc, rec, joint_rec, curve):
        # λ1 = 0.01, λ2 = 1.5: loss = rec + 1.5 · KL + 0.01 · (global + local), global + local = 1
        return {"dataset": "usps", "method": "convae_mi", "seed": seed, "acc": acc,
                "full_config": {"lambda1": 0.01, "lambda2": 1.5},
                "loss_terms": {"pixels": 64, "mi_global_pretrain": curve,
                               "pretrain": {"epochs": 6, "loss": rec + 1.51, "rec": rec, "prior_kl": 1.0,
                                            "mi_global": curve[-1], "mi_local": 1 - curve[-1]},
                               "joint": {"epochs": 3, "loss": joint_rec + 1.51, "rec": joint_rec, "clu": 1.0,
                                         "mi_global": 0.05, "mi_local": 0.95}}}

    convae = [{"dataset": "usps", "method": "convae", "seed": s, "acc": a} for s, a in ((0, 0.70), (1, 0.72))]
    assert script.mi_note(convae + [{"dataset": "usps", "method": "convae_mi", "seed": 0, "acc": 0.7}]) == ""
    runs = convae + [convae_mi(0, 0.71, 4.0, 3.0, [1.2, 1.0, 0.8, 0.6, 0.4, 0.1]),
                     convae_mi(1, 0.74, 5.0, 4.0, [1.3, 1.0, 0.8, 0.6, 0.2, 0.3])]
    note = script.mi_note(runs)
    # seed-paired gain: +1, +2 points -> +1.5
    assert "**usps** (ConvAE+MI, seeds 0, 1; the paper's ConvAE+MI gains +8.7 points over ConvAE, ours +1.5)" in note
    assert "| term | pretraining, epoch 6 | joint, epoch 3 |" in note
    assert "summed over the 64 pixels (Eq. 19's 1/(2N)‖X − X̂‖²_F) | 4.50 ± 0.50 | 3.50 ± 0.50 |" in note
    assert "| λ2 · prior KL (λ2 = 1.5) / λ2 · L_c | 1.50 ± 0.00 | 1.50 ± 0.00 |" in note
    # shares at λ1 = 0.01: 0.01 / 5.51 = 0.1815%, 0.01 / 6.51 = 0.1536% (pretraining); 0.01 / 4.51 = 0.2217%,
    # 0.01 / 5.51 = 0.1815% (joint)
    assert "| their share of the loss, % | 0.17 ± 0.01 | 0.20 ± 0.02 |" in note
    assert "its loss is 0.300 ± 0.100 after 5 epochs and 0.200 ± 0.100 after 6, against 1.386 at chance" in note
    # at λ1 = 0.1 (joint): 0.1 / 4.6 = 2.17%, 0.1 / 5.6 = 1.79% -> 1.98 ± 0.19
    assert "0.20 ± 0.02% of the loss at the end of joint training at λ1 = 0.01, and would be 2.0 ± 0.2% at" in note
    # reconstruction per pixel at the end of pretraining: (4 / 64 + 5 / 64) / 2 = 0.0703; 1.5 / 0.0703 = 21
    assert "mean over pixels (0.0703 at the end of pretraining). Then λ2 · KL (about 1.50) would outweigh it " \
        "about 21-fold" in note


def test_deepcluster_backbones_are_compared_on_the_seeds_both_ran(script):
    def rows(method, runs):
        return [{"dataset": "usps", "method": method, "seed": s, "acc": a, "time": t} for s, a, t in runs]

    mlp = rows("deepcluster", [(0, 0.50, 60), (1, 0.60, 62), (2, 0.55, 64)])
    assert script.backbone_note(mlp) == ""  # the convolutional row has not run
    note = script.backbone_note(mlp + rows("deepcluster_conv", [(0, 0.58, 10), (1, 0.64, 14)]))
    # seeds 0, 1: conv - MLP = +8, +4 points -> +6.0 ± 2.0; the MLP's seed 2 is left out of its mean and time
    assert ("- usps, seeds 0, 1: 0.6100 ± 0.0300 convolutional against 0.5500 ± 0.0500 with the MLP (paper 56.23); "
            "the convolutional backbone +6.0 ± 2.0 points, higher on 2 of 2 seeds; 12 ± 2 s against 61 ± 1 s per "
            "run.") in note


def test_the_short_rows_keep_the_tables_old_schedule_beside_the_tables_rows(script, monkeypatch):
    monkeypatch.setattr(script, "SDDECC_EPOCHS", {})  # the tables on the estimator's own schedule, as now
    short = {"pretrain_epochs": 10, "epochs": 20}
    assert script.SHORT_EPOCHS == {"mnist": short, "fashion-mnist": short}
    for row, base in script.SHORT_ROWS.items():  # the tables' row, on the schedule the tables had until 2026-12-04
        if base == "convae_rec":  # strategy 1: pretraining alone, as many epochs as the others train in all
            assert script.row_params("mnist", base)[1] == {**script.OWN_ROWS[base][1], "pretrain_epochs": 80}
            assert script.row_params("mnist", row)[1] == {**script.OWN_ROWS[base][1], "pretrain_epochs": 30}
            continue
        assert script.row_params("mnist", base) == ("sddecc", script.OWN_ROWS[base][1])  # the estimator's defaults
        assert script.row_params("fashion-mnist", row) == ("sddecc", {**short, **script.OWN_ROWS[base][1]})
    with pytest.raises(ValueError, match="only on mnist, fashion-mnist, not 'usps'"):
        script.row_params("usps", "convae_short")

    def rows(method, runs):
        return [{"dataset": "mnist", "method": method, "seed": s, "acc": a, "nmi": n, "time": t,
                 "code": {"objective": o, "rate_nats": 20.0, "active_dims": 10, "rec_explained": 0.8}}
                for s, a, n, t, o in runs]

    tables = rows("convae", [(0, 0.80, 0.70, 3000, 4.5), (1, 0.76, 0.66, 3400, 4.2), (2, 0.9, 0.9, 1, 1.0)])
    assert script.schedule_note(tables) == ""  # the short row has not run
    note = script.schedule_note(tables + rows("convae_short", [(0, 0.70, 0.60, 1000, 5.0), (1, 0.74, 0.64, 1200, 4.0)])
                                + rows("sddecc_short", [(5, 0.5, 0.5, 1, 1.0)])  # a seed the tables' row has not run
                                + rows("convae_rec", [(0, 0.6, 0.6, 1, 1.0)]) + rows("convae_rec_short", [(0, 0.5, 0.5,
                                                                                                        1, 1.0)]))
    # seeds 0, 1 only: the tables' seed 2 is left out of every mean
    assert "\nConvAE:\n" in note and "SDDECC (ConvAE+MI+GCN):" not in note  # no seed of both
    assert "reconstruction only" not in note  # strategy 1 has no joint stage: its table is all there is
    assert ("- mnist, seeds 0, 1: ACC 0.7200 ± 0.0200 at 10 + 20 epochs against 0.7800 ± 0.0200 at 30 + 50 (the "
            "ConvAE row's runs of the same seeds).") in note
    assert ("- Eq. 19 without the MI terms at the final model, decoded from μ(x) (`code.objective`, lower is better, "
            "no labels), seeds 0, 1: 4.5000 ± 0.5000 at 10 + 20 epochs against 4.3500 ± 0.1500 at 30 + 50; lower at "
            "10 + 20 epochs on 1 of 2 seeds.") in note
    assert "- NMI 0.6200 ± 0.0200 at 10 + 20 epochs against 0.6800 ± 0.0200 at 30 + 50; 1100 ± 100 s against " \
           "3200 ± 200 s per run." in note


def test_the_step_rows_train_as_many_optimiser_steps_as_the_estimators_schedule_on_mnist(script, monkeypatch):
    monkeypatch.setattr(script, "SDDECC_EPOCHS", {})  # USPS's rows of the tables on the estimator's 30 + 50
    # batches of 256 per epoch: MNIST ceil(70,000 / 256) = 274, USPS ceil(9,298 / 256) = 37;
    # 30 · 274 / 37 = 222.2 -> 222 and 50 · 274 / 37 = 370.3 -> 370 epochs on USPS; MNIST's own are 30 + 50
    for steps, base in script.STEP_ROWS.items():
        assert script.row_params("usps", steps) == ("sddecc", {**script.OWN_ROWS[base][1], "pretrain_epochs": 222,
                                                               "epochs": 370})
        assert script.row_params("mnist", steps) == ("sddecc", {**script.OWN_ROWS[base][1], "pretrain_epochs": 30,
                                                                "epochs": 50})
    runs = [{"dataset": "usps", "method": method, "seed": 0, "acc": acc, "nmi": 0.7, "time": time,
             "code": {"objective": objective, "rate_nats": 20.0, "active_dims": 10, "rec_explained": 0.8}}
            for method, acc, time, objective in (("sddecc", 0.73, 480, 4.8), ("sddecc_steps", 0.75, 3000, 4.3))]
    assert script.steps_note(runs[:1]) == ""  # the step row has not run
    note = script.steps_note(runs)
    assert "\nSDDECC (ConvAE+MI+GCN):\n" in note and "\nConvAE:\n" not in note
    assert ("- usps, seeds 0: ACC 0.7500 at 222 + 370 epochs against 0.7300 at 30 + 50 (the default's runs of the "
            "same seeds).") in note
    assert "seeds 0: 4.3000 at 222 + 370 epochs against 4.8000 at 30 + 50; lower at 222 + 370 epochs on 1 of 1" in note
    assert "- NMI 0.7000 at 222 + 370 epochs against 0.7000 at 30 + 50; 3000 s against 480 s per run." in note
    assert "- The loss over" not in note  # no loss curve recorded yet
    # 20 pretraining epochs: the last tenth is the last 2, from 5.0 (epoch 18) to 4.9: 2%; 5 joint epochs: the last
    # one (at least one), from 4.0 to 3.96: 1%
    runs[1]["loss_terms"] = {"loss_curve": {"pretrain": [9.0] * 18 + [5.0, 4.95, 4.9],
                                            "joint": [5.0, 4.5, 4.2, 4.0, 3.96]}}
    assert ("- The loss over the last tenth of each stage's epochs (label-free, `loss_terms.loss_curve`), at 222 + "
            "370 epochs, seeds 0: it fell by 2.00% in pretraining and by 1.00% in joint training.") \
        in script.steps_note(runs)
    assert script.late_fall([2.0, 1.0]) == 50.0  # a one-epoch stretch from a two-epoch stage
    runs[1][script.MONITOR_KEY] = [0.70, 0.72, 0.73, 0.74, 0.75]  # half-way: the 3rd of 5 epochs
    assert ("(against the labels, a diagnosis that chose nothing; `acc_per_epoch`), at 222 + 370 epochs, seeds 0: "
            "0.7000 at the first epoch, 0.7300 half-way, 0.7500 at the last.") in script.steps_note(runs)


def test_table_4s_ordering_is_checked_on_the_step_rows_as_on_the_tables(script):
    def rows(method, accs):
        return [{"dataset": "usps", "method": method, "seed": s, "acc": a} for s, a in enumerate(accs)]

    runs = rows("convae", [0.9, 0.9]) + rows("convae_mi", [0.1, 0.1])  # the tables' rows: not in the step note
    assert script.steps_ordering_note(runs) == ""
    runs += rows("convae_steps", [0.70, 0.72]) + rows("convae_gcn_steps", [0.73, 0.77]) + rows("sddecc_steps",
                                                                                               [0.76])
    note = script.steps_ordering_note(runs)
    # ConvAE+GCN - ConvAE at MNIST's steps: +3, +5 points -> +4.0 ± 1.0; full - ConvAE+GCN on seed 0: +3
    assert "  - ConvAE < ConvAE+GCN: holds, +4.0 ± 1.0 points, higher on 2 of 2 seeds (0, 1); paper +8.4.\n" in note
    assert "  - ConvAE+GCN < SDDECC (ConvAE+MI+GCN): holds, +3.0 points, higher on 1 of 1 seed (0); paper +1.6." in note
    assert "ConvAE < ConvAE+MI" not in note  # no ConvAE+MI at MNIST's steps yet
    assert "ConvAE < ConvAE+MI: does not hold" in script.ordering_note(runs)  # the tables' pair, unchanged


def test_the_stage_rows_lengthen_one_stage_to_mnists_steps_and_split_the_gain(script, monkeypatch):
    monkeypatch.setattr(script, "SDDECC_EPOCHS", {})
    # USPS: pretraining 30 -> 222 epochs with joint training at the estimator's 50, or joint 50 -> 370 after 30
    assert script.row_params("usps", "sddecc_steps_pretrain") == ("sddecc", {"pretrain_epochs": 222})
    assert script.row_params("usps", "sddecc_steps_joint") == ("sddecc", {"epochs": 370})
    assert script.row_params("mnist", "sddecc_steps_joint") == ("sddecc", {"epochs": 50})  # MNIST's own steps
    assert script.epochs_name("usps", "sddecc_steps_pretrain") == "at 222 + 50 epochs"

    def rows(method, accs):
        return [{"dataset": "usps", "method": method, "seed": s, "acc": a, "nmi": 0.7, "time": 500}
                for s, a in enumerate(accs)]

    runs = rows("sddecc", [0.73, 0.74, 0.72]) + rows("sddecc_steps", [0.77, 0.76, 0.99])
    assert script.stage_steps_note(runs) == ""  # neither stage row has run
    runs += rows("sddecc_steps_pretrain", [0.75, 0.75]) + rows("sddecc_steps_joint", [0.76, 0.74, 0.73])
    note = script.stage_steps_note(runs)
    assert "\nSDDECC, MNIST's steps in pretraining only:\n" in note
    assert "\nSDDECC, MNIST's steps in joint training only:\n" in note
    assert ("- usps, seeds 0, 1: ACC 0.7500 ± 0.0000 at 222 + 50 epochs against 0.7350 ± 0.0050 at 30 + 50 (the "
            "default's runs of the same seeds).") in note
    assert "- usps, seeds 0, 1, 2: ACC 0.7433 ± 0.0125 at 30 + 370 epochs against 0.7300 ± 0.0082 at 30 + 50" in note
    # seeds 0, 1 (seed 2 lacks the pretraining row): pretraining +2, +1 -> +1.5 ± 0.5; joint +3, 0 -> +1.5 ± 1.5;
    # both +4, +2 -> +3.0 ± 1.0; the two alone +3.0 together
    assert ("- usps, seeds 0, 1, seed-paired over the default (at 30 + 50 epochs), in points of ACC: at 222 + 50 "
            "epochs (only pretraining longer) +1.5 ± 0.5 points, higher on 2 of 2 seeds; at 30 + 370 epochs (only "
            "joint training longer) +1.5 ± 1.5 points, higher on 1 of 2 seeds; at 222 + 370 epochs (both stages "
            "longer) +3.0 ± 1.0 points, higher on 2 of 2 seeds. The two stages lengthened one at a time add +3.0 "
            "points together, against +3.0 for both at once.") in note
    assert note.endswith("chose nothing.\n")
    assert "0.7500 ± 0.0000 at 222 + 50 epochs (2 seeds, CPU)" in script.standing_note(runs)


def test_the_gcn_ratio_row_updates_the_gcn_as_seldom_per_ddecn_step_as_on_mnist(script, monkeypatch):
    monkeypatch.setattr(script, "SDDECC_EPOCHS", {})
    # 10 GCN steps per epoch scaled by USPS's 37 batches over MNIST's 274: 1.35 -> 1; on MNIST itself 10
    assert script.row_params("usps", "sddecc_steps_gcn") == ("sddecc", {"pretrain_epochs": 222, "epochs": 370,
                                                                         "gcn_steps": 1})
    assert script.row_params("mnist", "sddecc_steps_gcn")[1]["gcn_steps"] == 10

    def rows(method, dataset, runs):
        return [{"dataset": dataset, "method": method, "seed": s, "acc": a, "nmi": 0.7, "time": t,
                 "code": {"objective": o, "rate_nats": 20.0, "active_dims": 10, "rec_explained": 0.8,
                          "final_agreement": g}} for s, a, t, o, g in runs]

    runs = (rows("sddecc_steps", "usps", [(0, 0.77, 1500, 4.2, 0.95), (1, 0.76, 1600, 4.3, 0.93),
                                          (2, 0.99, 1, 1.0, 1.0)])
            + rows("convae_mi_steps", "usps", [(0, 0.76, 700, 4.2, 1.0), (1, 0.77, 800, 4.2, 1.0)])
            + rows("sddecc", "mnist", [(0, 0.76, 7000, 7.0, 0.95), (1, 0.78, 6000, 7.0, 0.95)])
            + rows("convae", "mnist", [(0, 0.85, 2000, 7.0, 1.0), (1, 0.84, 2000, 7.0, 1.0),
                                            (2, 0.86, 2000, 7.0, 1.0)]))
    assert script.gcn_ratio_note(runs) == ""  # the row has not run
    note = script.gcn_ratio_note(runs + rows("sddecc_steps_gcn", "usps", [(0, 0.74, 1000, 4.4, 0.90),
                                                                          (1, 0.75, 1100, 4.1, 0.86)]))
    assert "(10 per 274) than on USPS (10 per 37)" in note and "7.4 times less often" in note
    # seeds 0, 1 only: the base row's seed 2 is left out
    assert ("- usps, seeds 0, 1: ACC 0.7450 ± 0.0050 with 1 GCN step per epoch against 0.7650 ± 0.0050 with 10 (the "
            "SDDECC, MNIST's steps row's runs of the same seeds).") in note
    # 1 step - ConvAE+MI: -2, -2 points; 10 steps - ConvAE+MI: +1, -1 points
    assert ("seed-paired, SDDECC with 1 GCN step per epoch -2.0 ± 0.0 points, higher on 0 of 2 seeds, with 10 "
            "+0.0 ± 1.0 points, higher on 1 of 2 seeds.") in note
    assert "on the images: 88.0 ± 2.0% with 1 GCN step per epoch, 94.0 ± 1.0% with 10." in note
    # 1 step - 10 steps: -3, -1 points -> -2.0 ± 1.0, lower beyond the spread: no verdict against the stale target
    assert "- Seed-paired, with 1 GCN step per epoch against with 10: -2.0 ± 1.0 points, higher on 0 of 2 " \
           "seeds." in note
    assert "does not explain" not in note
    assert "4.2500 ± 0.1500 with 1 GCN step per epoch against 4.2500 ± 0.0500 with 10; lower with 1 GCN step " \
           "per epoch on 1 of 2 seeds." in note
    # MNIST: SDDECC - ConvAE on seeds 0, 1: -9, -6 points
    assert ("- mnist, at 30 + 50 epochs (10 GCN steps per 274 DDECN steps), seeds 0, 1: SDDECC 0.7700 ± 0.0100 "
            "against ConvAE (no MI, no GCN) 0.8450 ± 0.0050; seed-paired, SDDECC -7.5 ± 1.5 points, higher on 0 of 2 "
            "seeds.") in note
    # 1 step - 10 steps: +1, -1 points -> within the spread: the stale target does not explain the gap
    note = script.gcn_ratio_note(runs + rows("sddecc_steps_gcn", "usps", [(0, 0.78, 1000, 4.4, 0.90),
                                                                          (1, 0.75, 1100, 4.1, 0.86)]))
    assert "against with 10: +0.0 ± 1.0 points, higher on 1 of 2 seeds (within the spread)." in note
    assert "On usps, a GCN refreshed as seldom per DDECN step as on MNIST does not score under" in note
    assert "does not explain what the GCN costs on MNIST. " in note  # MNIST's -7.5 ± 1.5: beyond its spread
    # MNIST's SDDECC seed 1 at 0.86: SDDECC - ConvAE -9, +2 points -> -3.5 ± 5.5, a gap within its spread
    runs = [dict(r, acc=0.86) if (r["dataset"], r["method"], r["seed"]) == ("mnist", "sddecc", 1) else r
            for r in runs]
    note = script.gcn_ratio_note(runs + rows("sddecc_steps_gcn", "usps", [(0, 0.78, 1000, 4.4, 0.90),
                                                                          (1, 0.75, 1100, 4.1, 0.86)]))
    assert "seed-paired, SDDECC -3.5 ± 5.5 points, higher on 1 of 2 seeds (within the spread).\n" in note
    assert ("does not explain a gap on MNIST, where the gap is itself within the spread of its seeds (the last "
            "line).") in note
    ratio = rows("sddecc_steps_gcn", "usps", [(0, 0.78, 1000, 4.4, 0.90), (1, 0.75, 1100, 4.1, 0.86)])
    assert "How soft" not in note  # no run recorded the entropies yet
    ratio[0]["code"].update(y_entropy=0.10, posterior_entropy=0.14)  # seed 0 only; K = 4: log 4 = 1.386 is uniform
    ratio[0]["full_config"] = {"n_clusters": 4}
    assert ("- How soft the read-out is (label-free, `code.y_entropy`, `code.posterior_entropy`: the mean entropy of "
            "a row, in nats; 1.386 for a uniform one), with 1 GCN step per epoch, seeds 0: Y 0.100, the DDECN's own "
            "posterior 0.140.") in script.gcn_ratio_note(runs + ratio)
    above = [dict(r, acc=0.95 + 0.01 * r["seed"]) if (r["dataset"], r["method"]) == ("mnist", "sddecc") else r
             for r in runs]
    assert "does not explain a gap on MNIST, where SDDECC scores above ConvAE (the last line)." in \
        script.gcn_ratio_note(above + ratio)  # +10, +11 points: above beyond the spread
    unrun = [r for r in runs if r["dataset"] == "usps"]
    assert "does not explain a gap on MNIST. The estimator keeps" in script.gcn_ratio_note(unrun + ratio)


def test_table_4s_ordering_on_the_shorter_schedule_and_the_runs_made_on_another_device(script, monkeypatch):
    monkeypatch.setattr(script, "SDDECC_EPOCHS", {})

    def run(method, seed, acc, device=None, replaces=None):
        return {"dataset": "mnist", "method": method, "seed": seed, "acc": acc, "nmi": 0.7, "ari": 0.6, "f1": 0.7,
                "time": 100.0, "versions": {"torch": "2.11.0+cu130" if device else "2.13.0+cpu"},
                **({"device": device} if device else {}), **({"replaces": replaces} if replaces else {})}

    gpu = "cuda (NVIDIA H200)"
    short = [run("convae_short", 0, 0.70), run("convae_short", 1, 0.74), run("convae_mi_short", 0, 0.72),
             run("convae_mi_short", 1, 0.73)]
    assert script.short_ordering_note(short[:1]) == "" and script.gpu_rows_note(short) == ""
    note = script.short_ordering_note(short)
    # ConvAE+MI - ConvAE at 10 + 20: +2, -1 points -> +0.5 ± 1.5
    assert ("  - ConvAE < ConvAE+MI: holds (within the spread), +0.5 ± 1.5 points, higher on 1 of 2 seeds (0, 1); "
            "paper +5.9.") in note and "ConvAE+GCN" not in note  # not run on this schedule
    tables = [run("convae", 0, 0.80, gpu, {"acc": 0.86, "device": "cpu", "time": 2000.0}),
              run("convae", 1, 0.84, gpu, {"acc": 0.83, "device": "cpu", "time": 2100.0}),
              run("convae_mi", 0, 0.78, gpu), run("convae_mi", 1, 0.85, gpu)]
    assert "made on CPU and on" not in script.ordering_note(short)
    note = script.ordering_note(short + tables)
    assert "  - ConvAE < ConvAE+MI: does not hold (within the spread), -0.5 ± 1.5 points" in note  # the tables' rows
    # the reruns moved by -6 and +1 points: sizes 6, 1 -> 3.5 ± 2.5
    assert ("The same seed of the same row made on CPU and on NVIDIA H200 (*Runs made again* below; 2 runs) moved by "
            "-6.0 to +1.0 points of ACC, 3.5 ± 2.5 in size.") in note
    # the device a record was made on, where the text names it; older records without one were made on the CPU
    assert [script.device_name(r) for r in (short[0], tables[0], {"full_config": {"device": "cuda"}})] == \
        ["CPU", "NVIDIA H200", "cuda"]
    assert script.made_under(tables[0]) == "code unrecorded, cuda (NVIDIA H200), torch 2.11.0+cu130, 100 s"
    assert script.made_under({**short[0], "torch_threads": 1}) == "code unrecorded, 1 thread, 100 s"
    assert script.device_label("cpu") == "cpu"
    runs = short + tables
    assert script.gpu_rows_note(runs) == (
        "Rows run on a GPU, whose s / run does not compare with the CPU rows' (one core per run): mnist on NVIDIA "
        "H200: *ConvAE*, *ConvAE+MI*.\n")
    # ... and points to the list of CPU runs on more than one thread only when there is one
    assert script.gpu_rows_note(runs + [{**short[0], "seed": 9, "torch_threads": 2}]).startswith(
        "Rows run on a GPU, whose s / run does not compare with the CPU rows' (one core per run, but for the runs "
        "listed below as on more than one thread): mnist on NVIDIA H200: ")
    # how the H200 runs of a day were made comes only with runs of their code, in the order of H200_RUNS
    first, second = script.H200_RUNS
    runs[6]["code_version"], runs[5]["code_version"] = second, first
    assert script.gpu_rows_note(runs).endswith(
        "*ConvAE+MI*." + script.H200_RUNS[first] + script.H200_RUNS[second] + "\n")
    # a row whose seeds ran on both devices says which ran where, and gives its time and memory per device
    mixed = runs + [dict(run("convae", 2, 0.82), time=3000.0, peak_rss_mib=2000.0),
                    dict(run("convae", 3, 0.80), time=3200.0, peak_rss_mib=2100.0)]
    assert "mnist on NVIDIA H200: *ConvAE* (seeds 0, 1; seeds 2, 3 on the CPU), *ConvAE+MI*." in \
        script.gpu_rows_note(mixed)
    assert "*ConvAE* (seeds 0, 1; seed 2 on the CPU)" in script.gpu_rows_note(mixed[:-1])

    def rows(device_of=None):
        lines = sys.modules["_common"].summary_table(mixed, device_of=device_of).splitlines()[2:]
        return {line.split(" | ")[1]: line for line in lines}

    assert rows(script.device_name)["convae"].endswith(
        "| 100.0 (NVIDIA H200, 2) / 3100.0 (CPU, 2) | 0 (NVIDIA H200, 2) / 2100 (CPU, 2) |")
    assert rows(script.device_name)["convae_mi"].endswith("| 100.0 | 0 |")  # one device, one figure
    assert rows()["convae"].endswith("| 1600.0 | 2100 |")  # without device_of: one figure over all runs
    # the time of rows made on other devices is named by its device
    runs = [dict(r, code={"objective": 7.0, "rate_nats": 20.0, "active_dims": 10, "rec_explained": 0.8}) for r in runs]
    assert "; 100 ± 0 s (CPU) against 100 ± 0 s (NVIDIA H200) per run." in script.schedule_note(runs)


def test_the_time_note_says_where_each_runs_graph_came_from(script):
    old = {"dataset": "usps", "method": "sddecc", "seed": 0, "full_config": {"use_gcn": True}}  # before the field
    no_gcn = {"dataset": "usps", "method": "convae", "seed": 0, "full_config": {"use_gcn": False}}
    assert script.graph_time_note([old, no_gcn]) == ""  # no record says
    runs = [old, no_gcn] + [dict(old, seed=seed, graph_build={"source": source, "seconds": seconds})
                            for seed, source, seconds in ((1, "built", 40.0), (2, "built", 60.0), (3, "cache", 0.5))]
    assert script.graph_time_note(runs) == (
        "The s / run of a run on a graph includes getting its kNN graph: built in the run in 2 (the graph took "
        "50.0 ± 10.0 s); read from a file (`--graph-cache`, built once beforehand) in 1 (the graph took 0.5 s). "
        "1 older runs with a GCN do not say (an uncached MNIST graph took 45-130 s on the CPU).\n")


def test_reruns_that_did_not_reproduce_are_summed_up_per_row(script):
    def rerun(seed, old, new):
        return {"dataset": "usps", "method": "convae", "seed": seed, "acc": new, "nmi": 0.5, "ari": 0.4, "f1": 0.5,
                "time": 10.0, "replaces": {"acc": old, "nmi": 0.5, "ari": 0.4, "f1": 0.5, "time": 9.0}}

    same = [rerun(0, 0.60, 0.60), rerun(1, 0.70, 0.70)]
    assert "did not reproduce" not in script.reruns_note(same)
    note = script.reruns_note(same + [rerun(2, 0.50, 0.53), rerun(3, 0.80, 0.78)])
    assert "2 of 4 reruns gave exactly the scores" in note
    # changes +3 and -2 points; means over all four seeds: 0.65 recorded, 0.6525 again
    assert ("- usps / ConvAE, seeds 0-3: 2 of 4 exactly as recorded; 9 ± 0 s recorded, 10 ± 0 s again; ACC moved on "
            "2, by -2.0 to +3.0 points, mean ACC 0.6500 ± 0.1118 recorded, 0.6525 ± 0.0952 again.\n") in note
    # one line for each rerun that moved, none for those that reproduced
    assert "  - seed 2: ACC 0.5000 recorded (code unrecorded, 9 s), 0.5300 again (code unrecorded, 10 s), a change " \
        "of +3.00 points.\n" in note and "seed 0:" not in note and "seed 1:" not in note
    # records without a code version whose reruns moved: the note says what is known of how they were made
    assert 'marked "code unrecorded" were made' in note
    assert 'marked "code unrecorded" were made' not in script.reruns_note(same)


def literal_history(script) -> list[dict]:
    """The history of a fresh reconstruction-only fit on the fixture's tiny digits (seed 0)."""
    data = script.load_dataset("usps")
    model = script.own_row_model("usps", "convae_rec", n_clusters=10, seed=0, device="cpu", verbose=False)
    return model.fit(data).history_


def test_runs_made_under_other_settings_are_flagged(script, tmp_path, monkeypatch, capsys):
    run(script, monkeypatch, "--only", "convae")
    assert "other settings" not in (tmp_path / "sddecc.md").read_text()
    monkeypatch.setitem(script.SDDECC_EPOCHS, "usps", {**TINY_SDDECC, "epochs": 3})  # as if a default changed
    script.write_tables(["usps"])
    text = (tmp_path / "sddecc.md").read_text()
    assert "- usps / ConvAE, seeds 0: made with other settings than today's (epochs: 2 recorded, 3 now)" in text
    assert "other settings" in capsys.readouterr().err


def test_a_rerun_supersedes_the_record_and_says_whether_it_reproduced(script, tmp_path, monkeypatch, capsys):
    run(script, monkeypatch, "--only", "sddecc")
    (first,) = records(tmp_path / "sddecc.jsonl")
    assert "Runs made again" not in (tmp_path / "sddecc.md").read_text()
    run(script, monkeypatch, "--only", "sddecc", "--rerun")
    assert f"the record it replaces: acc={first['acc']:.4f}" in capsys.readouterr().out
    old, new = records(tmp_path / "sddecc.jsonl")
    kept = ("acc", "nmi", "ari", "f1", "time", "code_version", "torch_threads")  # spelt out, not the script's tuple
    assert new["replaces"] == {**{k: first[k] for k in kept}, "device": "cpu"}  # with the device it was made on
    assert new["device"] == first["device"] == "cpu"
    assert new["code_version"] == first["code_version"] == script.code_version()  # every record says its code
    assert new["torch_threads"] == first["torch_threads"] == torch.get_num_threads()  # ... and its thread count
    assert new["acc"] == first["acc"] and new["code"] == first["code"]  # one thread, same seed: the same run
    note = (tmp_path / "sddecc.md").read_text().split("## Runs made again")[1]
    assert "1 of 1 reruns gave exactly the scores" in note
    assert "- usps / SDDECC (ConvAE+MI+GCN), seeds 0: 1 of 1 exactly as recorded;" in note
    run(script, monkeypatch, "--only", "sddecc", "--rerun")  # a killed --rerun resumes: what was made again
    assert "usps sddecc seed 0: acc=" not in capsys.readouterr().out  # under this code is not run a third time
    assert len(records(tmp_path / "sddecc.jsonl")) == 2

    changed = dict(new, acc=new["acc"] + 0.01)  # as if today's code gave another result
    script.append_run(tmp_path / "sddecc.jsonl", changed)
    note = script.write_tables(["usps"]).split("## Runs made again")[1]
    assert "0 of 1 reruns" in note and "ACC moved on 1, by +1.0 to +1.0 points" in note
    threads = torch.get_num_threads()
    assert f"  - seed 0: ACC {first['acc']:.4f} recorded (code {first['code_version']}, {threads} thread" in note
    assert "a change of +1.00 points" in note
    table = script.write_tables(["usps"]).split("## Table 4")[0]
    assert f"| usps | SDDECC (ConvAE+MI+GCN) | 1 | {changed['acc']:.4f}" in table  # the tables hold the rerun


def test_a_baseline_the_script_has_not_run_comes_from_the_grid(script, tmp_path):
    grid = {"status": "ok", "dataset": "usps", "method": "dec", "time_s": 12.0, "peak_rss_mib": 100.0,
            "metrics": {"acc": 0.8, "nmi": 0.7, "ari": 0.6, "f1": 0.75, "modularity": 0.5}}
    for record in ({**grid, "seed": 0}, {**grid, "seed": 1, "metrics": {**grid["metrics"], "acc": 0.9}},
                   {**grid, "seed": 2, "imported_from": "baselines_usps.jsonl"},  # a script's run: not the grid's
                   {**grid, "seed": 3, "status": "failed"}):
        script.append_run(tmp_path / "reproduction.jsonl", record)
    tables = script.write_tables(["usps"])
    assert "| usps | DEC | 2 | 0.8500 ± 0.0500 |" in tables and "Rows from the grid" in tables and "usps: DEC" in tables
    script.append_run(tmp_path / "baselines_usps.jsonl", {"dataset": "usps", "method": "dec", "seed": 0, "acc": 0.7,
                                                          "nmi": 0.6, "ari": 0.5, "f1": 0.65, "time": 3.0})
    tables = script.write_tables(["usps"])  # the script's own run of the row takes its place
    assert "| usps | DEC | 1 | 0.7000 |" in tables and "Rows from the grid" not in tables


def test_a_killed_baseline_seed_resumes_without_pretraining_again(tmp_path, monkeypatch):
    """``reproduce_baselines.py`` keeps the seed's autoencoder until the seed is recorded, and DEC
    resumes from its checkpoint to the uninterrupted result."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("GRAPHCLUST_HUGEPAGES", "0")
    baselines = importlib.import_module("reproduce_baselines")
    monkeypatch.setattr(sys.modules["_common"], "CHECKPOINTS", tmp_path / "checkpoints")
    make = baselines.make_method  # a short schedule (the autoencoder keeps its default widths)
    monkeypatch.setattr(baselines, "make_method", lambda name, **params: make(
        name, **params, n_init=2, **({"epochs": 3, "batch_size": 64} if name == "dec" else {})))
    digits = load_digits()
    data = type(digits)(x=digits.x[:150], y=digits.y[:150], image_shape=digits.image_shape, name="digits")

    def seed_zero(out: Path, methods=("ae_kmeans", "dec")) -> list[dict]:
        baselines.run_baseline_seed(data, "digits", 0, list(methods), out, pretrain_epochs=2, verbose=False)
        return records(out)

    whole = seed_zero(tmp_path / "whole.jsonl")
    assert not list((tmp_path / "checkpoints").glob("*.pt"))  # the seed recorded: nothing kept
    with monkeypatch.context() as patch, pytest.raises(Killed):
        saved = die_after_saves(patch, 3)  # the autoencoder, DEC's initialisation, its first epoch
        seed_zero(tmp_path / "out.jsonl")
    assert saved[0] == ("pretrained autoencoder", tmp_path / "checkpoints" / "baselines_digits_ae_seed0.pt")
    assert [r["method"] for r in records(tmp_path / "out.jsonl")] == ["ae_kmeans"]
    with monkeypatch.context() as patch:
        patch.setattr(baselines, "build_pretrained_autoencoder", lambda *a, **k: pytest.fail("pretrained again"))
        ae_kmeans, dec = seed_zero(tmp_path / "out.jsonl", methods=("dec",))
    assert dec["resumed"]["epochs_done"] >= 1 and "resumed" not in whole[1]
    assert [dec[m] for m in ("acc", "nmi", "ari", "f1")] == [whole[1][m] for m in ("acc", "nmi", "ari", "f1")]
    assert dec["time"] >= dec["resumed"]["elapsed_s"] and dec["peak_rss_mib"] > 0
    assert not list((tmp_path / "checkpoints").glob("*.pt"))


def test_a_baseline_seeds_autoencoder_comes_from_manual_seed_not_from_fit(tmp_path, monkeypatch):
    """What the script's docstring says of seed s's autoencoder: pretrained from
    ``torch.Generator().manual_seed(s)``, so it is not the one ``fit(random_state=s)`` pretrains
    (``fit`` draws its numpy seed from that generator first)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("GRAPHCLUST_HUGEPAGES", "0")
    baselines = importlib.import_module("reproduce_baselines")
    monkeypatch.setattr(sys.modules["_common"], "CHECKPOINTS", tmp_path)
    from graphclust.models import AEKMeans
    from graphclust.training import PretrainConfig, build_pretrained_autoencoder

    x = load_digits().x[:120]
    script, _ = baselines.seed_autoencoder(x, "digits", 3, 2, verbose=False)
    manual, _ = build_pretrained_autoencoder(x, config=PretrainConfig(epochs=2),
                                             generator=torch.Generator().manual_seed(3), verbose=False)
    own = AEKMeans(3, pretrain_epochs=2, n_init=1, random_state=3, verbose=False).fit(x).autoencoder_

    def weights(ae: torch.nn.Module) -> torch.Tensor:
        return torch.cat([w.flatten() for w in ae.state_dict().values()])

    assert torch.equal(weights(script), weights(manual))
    assert not torch.allclose(weights(script), weights(own))


FAST_AE = {"pretrain_epochs": 2, "n_init": 2}


@pytest.fixture
def seeding(tmp_path, monkeypatch):
    """``ae_seeding.py`` writing under ``tmp_path``, on 120 digits (as the dataset ``digits``) and a
    2-epoch autoencoder (:data:`FAST_AE`)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("GRAPHCLUST_HUGEPAGES", "0")
    seeding = importlib.import_module("ae_seeding")
    monkeypatch.setattr(seeding, "RESULTS", tmp_path)
    monkeypatch.setattr(seeding, "OUT", tmp_path / "ae_seeding.jsonl")
    monkeypatch.setattr(sys.modules["_common"], "CHECKPOINTS", tmp_path / "checkpoints")
    digits = load_digits()
    data = type(digits)(x=digits.x[:120], y=digits.y[:120], image_shape=digits.image_shape, name="digits")
    monkeypatch.setattr(seeding, "load_dataset", lambda name, root=None, graph=False: data)
    make = seeding.make_method
    monkeypatch.setattr(seeding, "make_method", lambda name, **params: make(name, **params, **FAST_AE))
    return seeding


def test_ae_seeding_fits_the_estimator_itself_and_tests_both_seedings(seeding, tmp_path, monkeypatch, capsys):
    """``ae_seeding.py`` records what ``AEKMeans(random_state=s).fit`` gives (the estimator's own
    seeding) and sets it against reproduce_baselines' rows with a U test: manual ACC 0.1, 0.2, 0.3
    against 0.4, 0.5, 0.8 is U = 9 of 9 pairs, two-sided exact p = 2 / C(6, 3) = 0.1."""
    data = seeding.load_dataset("digits")
    monkeypatch.setattr(sys, "argv", ["ae_seeding.py", "--dataset", "digits", "--seeds", "2", "--quiet"])
    seeding.main()
    made = records(tmp_path / "ae_seeding.jsonl")
    assert [(r["seed"], r["seeding"], r["method"]) for r in made] == [(0, "fit", "ae_kmeans"), (1, "fit", "ae_kmeans")]
    from graphclust.models import AEKMeans
    from graphclust.metrics import evaluate
    own = AEKMeans(10, random_state=1, verbose=False, **FAST_AE).fit(data)
    assert made[1]["acc"] == evaluate(data.y.numpy(), own.labels_)["acc"]
    assert made[1]["pretrain_loss"] == own.history_[-1]["loss"] and made[1]["time"] > 0
    assert "fewer than 2 seeds of a seeding: no test" in capsys.readouterr().out  # no script rows yet

    for path, accs in ((tmp_path / "baselines_digits.jsonl", (0.1, 0.2, 0.3)),
                       (tmp_path / "ae_seeding.jsonl", (0.4, 0.5, 0.8))):
        path.unlink(missing_ok=True)
        for seed, acc in enumerate(accs):
            seeding.append_run(path, {"dataset": "digits", "method": "ae_kmeans", "seed": seed, "acc": acc})
    table = seeding.write_table(["digits"])
    assert "| digits | manual_seed(s) (reproduce_baselines.py, Table 3) | 3 | 0.2000 ± 0.0816 |" in table
    assert "U = 9 of 9 pairs (pairs in which the estimator's seeding scores higher), two-sided p = 0.1;" in table
    # Brown-Forsythe: |x - median| is 0.1, 0, 0.1 (mean 1/15) and 0.1, 0, 0.3 (mean 2/15), grand mean 0.1:
    # W = 4 · 6 (1/30)² / (2 (1/30)² + (1/15)² + (1/30)² + (2/15)² + (1/6)²) = 4 · (1/150) / (8/150) = 0.5 on
    # F(1, 4), and F = t² with t = √0.5 on 4 degrees of freedom gives two-sided p = 0.519
    assert "equal spreads (Brown-Forsythe) two-sided p = 0.519." in table
    assert "difference of the means +36.7 points" in table
    assert (tmp_path / "ae_seeding.md").read_text() == table


def test_an_ae_seeding_run_keeps_the_other_datasets_in_its_table(seeding, tmp_path, monkeypatch, capsys):
    """A run on one dataset rewrites ``ae_seeding.md`` with every dataset recorded, not its own
    alone: a USPS run once dropped MNIST's rows."""
    for name, acc in (("baselines_mnist.jsonl", 0.78), ("ae_seeding.jsonl", 0.80)):
        seeding.append_run(tmp_path / name, {"dataset": "mnist", "method": "ae_kmeans", "seed": 0, "acc": acc})
    assert seeding.recorded_datasets("digits") == ["mnist", "digits"]
    assert seeding.recorded_datasets("mnist") == ["mnist"]
    monkeypatch.setattr(sys, "argv", ["ae_seeding.py", "--dataset", "digits", "--seeds", "1", "--quiet"])
    seeding.main()
    table = (tmp_path / "ae_seeding.md").read_text()
    assert "| mnist | fit(random_state=s) (the estimator, the grid) | 1 | 0.8000 |" in table
    assert "| digits | fit(random_state=s) (the estimator, the grid) | 1 |" in table
    assert table.index("| mnist |") < table.index("| digits |")
    assert seeding.recorded_datasets("usps") == ["mnist", "digits", "usps"]


def test_sddecc_tables_say_how_the_ae_rows_are_seeded_once_both_seedings_ran(script, tmp_path):
    assert "manual_seed(s)" not in script.write_tables(["usps"])  # no estimator-seeded runs yet: no note
    for name, accs in (("baselines_usps.jsonl", (0.70, 0.72)), ("ae_seeding.jsonl", (0.74, 0.78))):
        for seed, acc in enumerate(accs):
            script.append_run(tmp_path / name, {"dataset": "usps", "method": "ae_kmeans", "seed": seed, "acc": acc,
                                                "nmi": acc, "ari": acc, "f1": acc, "time": 1.0})
    note = script.write_tables(["usps"])
    assert "pretrain seed s's autoencoder from `torch.Generator().manual_seed(s)`" in note
    assert ("usps: 0.7600 ± 0.0200 (2 seeds) against Table 3's 0.7100 ± 0.0100 (2 seeds), +5.0 points, "
            "Mann-Whitney two-sided p = 0.333.") in note  # U = 4 of 4 pairs: exact p = 2 / C(4, 2); no spread test at 2


def test_a_dataset_option_takes_the_catalogs_name(script, capsys):
    """--dataset of the scripts that read it: an alias or another case is the catalog's name (one row per
    dataset); an unknown name stops with the valid ones."""
    parser = argparse.ArgumentParser(prog="script")
    catalog_dataset = sys.modules["_common"].catalog_dataset
    assert [catalog_dataset(parser, n) for n in ("FMNIST", "fashion_mnist", "usps")] == ["fashion-mnist"] * 2 + ["usps"]
    with pytest.raises(SystemExit):
        catalog_dataset(parser, "usps2")
    assert "unknown dataset 'usps2'; valid names: " in capsys.readouterr().err


def test_baseline_first_seed_runs_only_the_later_seeds(tmp_path, monkeypatch, capsys):
    """``reproduce_baselines.py --first-seed`` lets two processes split a dataset's seeds."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("GRAPHCLUST_HUGEPAGES", "0")
    baselines = importlib.import_module("reproduce_baselines")
    monkeypatch.setattr(baselines, "RESULTS", tmp_path)
    digits = load_digits()
    monkeypatch.setattr(baselines, "load_dataset", lambda name, root=None, graph=False: type(digits)(
        x=digits.x[:150], y=digits.y[:150], image_shape=digits.image_shape, name="digits"))

    def main(*args: str) -> None:
        monkeypatch.setattr(sys, "argv", ["reproduce_baselines.py", "--dataset", "digits", "--methods", "kmeans",
                                          "--quiet", *args])
        baselines.main()

    main("--seeds", "3", "--first-seed", "1")
    assert [r["seed"] for r in records(tmp_path / "baselines_digits.jsonl")] == [1, 2]
    main("--seeds", "3")  # the seeds before the first one
    assert [r["seed"] for r in records(tmp_path / "baselines_digits.jsonl")] == [1, 2, 0]
    for bad in ("3", "-1"):
        with pytest.raises(SystemExit):
            main("--seeds", "3", "--first-seed", bad)
        assert "--first-seed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main("--seeds", "0")
    assert "--seeds 0: it must be at least 1" in capsys.readouterr().err
    for methods in ("IDEC", "kmeans,sdcn", ","):  # not a name the records and the shared AE key on: nothing runs
        with pytest.raises(SystemExit):
            main("--seeds", "4", "--methods", methods)
        assert ("--methods is empty" if methods == "," else "unknown method(s)") in capsys.readouterr().err
    assert len(records(tmp_path / "baselines_digits.jsonl")) == 3
    main("--seeds", "4", "--first-seed", "3", "--dataset", "Digits")  # an alias or another case: the catalog's name
    assert [(r["dataset"], r["seed"]) for r in records(tmp_path / "baselines_digits.jsonl")][-1] == ("digits", 3)
    assert sorted(p.name for p in tmp_path.glob("baselines_*.jsonl")) == ["baselines_digits.jsonl"]
    table = (tmp_path / "baselines_digits.md").read_text()
    assert "ran in separate processes (`--methods`) pretrained its AE again" in table


def test_code_stats_objective_is_eq_19_without_mi_at_the_code_mean(script):
    import types

    from graphclust.losses import frobenius_reconstruction_loss, gaussian_prior_kl, joint_clustering_loss
    from graphclust.models import SDDECC

    x = torch.rand(40, 16, generator=torch.Generator().manual_seed(0))  # flat: padded into 1×4×4 images
    model = SDDECC(n_clusters=2, channels=(4, 8), latent=3, hidden=8, lambda2=1.25, kl_reduction=("mean", "sum"),
                   pretrain_epochs=1, gcn_warmup_steps=2, epochs=1, batch_size=16, n_init=2, random_state=0,
                   verbose=False).fit(x.numpy())
    stats = script.code_stats(model, types.SimpleNamespace(x=x), chunk=7)  # 6 parts, the last of 5 rows
    module = model.module_
    with torch.no_grad():
        enc = module.encode(x)
        rec = frobenius_reconstruction_loss(module.decode(enc.mu), x)
        clu = joint_clustering_loss(torch.as_tensor(model.soft_labels_), enc.mu, enc.logvar,
                                    module.cluster_means, reduction="sum")
        rate = gaussian_prior_kl(enc.mu, enc.logvar)
    assert stats["objective"] == pytest.approx(float(rec + 1.25 * clu), rel=1e-5)
    assert stats["rate_nats"] == pytest.approx(float(rate), rel=1e-5)
    # the mean entropy of Y's rows and of the posterior softmax(-½||μ(x) - μ_y||²), against one written out
    y = torch.as_tensor(model.soft_labels_, dtype=torch.float64)
    post = torch.softmax(-0.5 * torch.cdist(enc.mu.double(), module.cluster_means.detach().double()) ** 2, dim=1)
    for key, p in (("y_entropy", y), ("posterior_entropy", post)):
        assert stats[key] == pytest.approx(float(-(p * p.log()).sum(dim=1).mean()), rel=1e-4)
        assert 0 <= stats[key] <= math.log(2) + 1e-6  # between one-hot and uniform


@pytest.fixture
def sweep(script, monkeypatch):
    """``sddecc_lambda`` on the tiny digits of ``script`` (its results under the same ``tmp_path``)."""
    module = importlib.import_module("sddecc_lambda")
    monkeypatch.setattr(module, "load_dataset", script.load_dataset)
    return module


def run_sweep(module, monkeypatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["sddecc_lambda.py", "--quiet", *args])
    module.main()


def test_lambda_sweep_runs_each_cell_once_and_takes_the_centre_from_the_default_runs(script, sweep, tmp_path,
                                                                                      monkeypatch, capsys):
    run(script, monkeypatch, "--only", "sddecc")  # the default's seed 0: the grid's centre cell
    (default,) = records(tmp_path / "sddecc.jsonl")
    assert "## SDDECC over the paper's λ grid" not in (tmp_path / "sddecc.md").read_text()  # no sweep yet
    run_sweep(sweep, monkeypatch, "--lambda1", "0.01,0.1", "--lambda2", "1.5")
    out = capsys.readouterr().out
    assert "[1/1] usps λ1 = 0.1, λ2 = 1.5, seed 0" in out and "[2/" not in out  # the centre is not run again
    (cell,) = records(tmp_path / "sddecc_lambda.jsonl")
    assert (cell["method"], cell["lambda1"], cell["lambda2"]) == ("sddecc_lambda1=0.1_lambda2=1.5", 0.1, 1.5)
    assert (cell["full_config"]["lambda1"], cell["full_config"]["lambda2"]) == (0.1, 1.5)
    assert cell["full_config"]["epochs"] == TINY_SDDECC["epochs"] and cell["code"]["rate_nats"] > 0

    table = (tmp_path / "sddecc_lambda.md").read_text()
    acc = table.split("ACC, final model")[1].split("NMI:")[0]
    assert f"| 0.01 | {default['acc']:.4f} (1) |" in acc and f"| 0.1 | {cell['acc']:.4f} (1) |" in acc
    assert "2 cells run, 2 runs (seeds 0)" in table and f"the defaults' cell: {default['acc']:.4f}" in table
    note = (tmp_path / "sddecc.md").read_text().split("## SDDECC over the paper's λ grid (Fig. 7)")[1]
    assert "**usps**\n\n- 2 cells run, 2 runs (seeds 0)" in note

    for dataset in ("usps", "USPS"):  # recorded: nothing runs again (another case is the catalog's name)
        run_sweep(sweep, monkeypatch, "--lambda1", "0.1", "--lambda2", "1.5", "--dataset", dataset)
        assert "[1/" not in capsys.readouterr().out and len(records(tmp_path / "sddecc_lambda.jsonl")) == 1
    for bad, named in ((("--lambda1", "0.01,x"), "--lambda1"), (("--lambda2", "-1"), "--lambda2"),
                       (("--lambda2", ""), "--lambda2"), (("--dataset", "cora"), "unknown dataset(s) ['cora']"),
                       (("--dataset", "usps2"), "unknown dataset 'usps2'; valid names: "),
                       (("--seeds", "2", "--first-seed", "2"), "--first-seed")):
        with pytest.raises(SystemExit):
            run_sweep(sweep, monkeypatch, *bad)
        assert named in capsys.readouterr().err


def test_lambda_sweep_cells_hold_mean_and_std_over_their_seeds(sweep):
    runs = {(0.01, 1.0): {0: {"acc": 0.5, "nmi": 0.4}, 1: {"acc": 0.7, "nmi": 0.6}},
            (0.1, 2.0): {0: {"acc": 0.25, "nmi": 0.2}}}
    lines = sweep.grid_table(runs, sweep.with_seeds("acc")).splitlines()
    assert lines[0] == "| λ1 \\ λ2 | 1 | 2 |"
    assert lines[2] == "| 0.01 | 0.6000 ± 0.1000 (2) | — |"  # population std of 0.5 and 0.7
    assert lines[3] == "| 0.1 | — | 0.2500 (1) |"
    paired = sweep.grid_table({**runs, (0.01, 1.5): {1: {"acc": 0.65}, 2: {"acc": 0.1}}},
                              sweep.against(runs[(0.01, 1.0)])).splitlines()
    assert paired[0] == "| λ1 \\ λ2 | 1 | 1.5 | 2 |"
    assert paired[2:] == ["| 0.01 | the defaults | -5.0 (1) | — |",  # 0.65 - 0.7 on seed 1, the one both ran
                          "| 0.1 | — | — | -25.0 (1) |"]  # 0.25 - 0.5 on seed 0
    code = {(0.01, 1.0): {0: {"code": {"rate_nats": 10.0, "rec_explained": 0.5}},
                          1: {"code": {"rate_nats": 20.0, "rec_explained": 0.7}}}}
    assert sweep.grid_table(code, sweep.code_text).splitlines()[2] == "| 0.01 | 15.0 nats / 60% |"
    for by_seed in runs.values():
        for seed, run in by_seed.items():
            run.update(seed=seed, time=100.0)
    runs[(0.01, 1.5)] = {0: {"acc": 0.9, "nmi": 0.8, "seed": 0, "time": 400.0}}  # the defaults' cell
    section = sweep.dataset_section("usps", runs)
    assert "3 cells run, 4 runs (seeds 0, 1), 175 s per run" in section
    assert ("lowest 0.2500 at λ1 = 0.1, λ2 = 2, highest 0.9000 at λ1 = 0.01, λ2 = 1.5" in section
            and "the defaults' cell: 0.9000 at λ1 = 0.01, λ2 = 1.5" in section and "reports 79.86" in section)
    paired = section.split("ACC against the defaults on the same seeds")[1].split("NMI:")[0]
    assert "| 0.01 | -40.0 (1) | the defaults | — |" in paired and "| 0.1 | — | — | -65.0 (1) |" in paired


def test_worker_jobs_keep_a_seeds_baselines_together_and_pass_the_parents_options(script):
    todo = {("usps", 0): ["kmeans", "sddecc", "ae_kmeans", "convae"], ("usps", 1): ["sddecc"]}
    jobs = script.worker_jobs(todo)
    assert jobs == [("usps", 0, ["kmeans", "ae_kmeans"]), ("usps", 0, ["sddecc"]), ("usps", 0, ["convae"]),
                    ("usps", 1, ["sddecc"])]
    args = argparse.Namespace(device="cuda", data_root="/data", threads=2, quiet=True, rerun=False)
    command = script.worker_command(args, *jobs[3])
    assert command[0] == sys.executable and command[1].endswith("reproduce_sddecc.py")
    assert command[2:] == ["--datasets", "usps", "--only", "sddecc", "--seeds", "2", "--first-seed", "1",
                           "--device", "cuda", "--data-root", "/data", "--threads", "2", "--quiet", "--worker"]
    args = argparse.Namespace(device="cpu", data_root=None, threads=None, quiet=False, rerun=True)
    assert script.worker_command(args, *jobs[0])[2:] == ["--datasets", "usps", "--only", "kmeans,ae_kmeans",
                                                         "--seeds", "1", "--first-seed", "0", "--device", "cpu",
                                                         "--rerun", "--worker"]


def test_workers_run_side_by_side_with_a_log_each_and_failures_counted(script, tmp_path, capsys):
    # each of the first two waits for the other's flag: both finish only if they run at the same time
    wait = ("import pathlib, sys, time; d = pathlib.Path(sys.argv[1]); (d / sys.argv[2]).touch(); "
            "t = time.time() + 60\nwhile not (d / sys.argv[3]).exists() and time.time() < t: time.sleep(0.05)\n"
            "print('saw', sys.argv[3]); sys.exit(0 if (d / sys.argv[3]).exists() else 3)")
    commands = [[sys.executable, "-c", wait, str(tmp_path), "a", "b"],
                [sys.executable, "-c", wait, str(tmp_path), "b", "a"],
                [sys.executable, "-c", "import sys; print('broken'); sys.exit(2)"]]
    jobs = [("usps", 0, ["sddecc"]), ("usps", 0, ["convae"]), ("mnist", 1, ["kmeans", "dec"])]
    assert script.run_workers(jobs, commands, 2, tmp_path / "logs", poll=0.05) == 1
    for name, other in (("usps_sddecc_seed0", "b"), ("usps_convae_seed0", "a")):  # each log: its command, its output
        log = (tmp_path / "logs" / f"{name}.log").read_text()
        assert log.startswith(f"$ {sys.executable} -c ") and log.endswith(f"saw {other}\n")
    # a pool started again appends to the logs: the earlier try's output stays
    assert script.run_workers(jobs[2:], commands[2:], 1, tmp_path / "logs", poll=0.05) == 1
    assert (tmp_path / "logs" / "mnist_kmeans+dec_seed1.log").read_text().count("broken\n") == 2
    out = capsys.readouterr().out
    assert "[started 1/3] usps SDDECC (ConvAE+MI+GCN) seed 0 (log: " in out
    assert "[started 3/3] mnist K-means, DEC seed 1" in out and "usps ConvAE seed 0: saw a" in out
    log = tmp_path / "logs" / "mnist_kmeans+dec_seed1.log"
    assert f"mnist K-means, DEC seed 1: FAILED (exit 2): broken; see {log}" in out


def test_sddecc_is_set_beside_the_paper_with_its_other_schedules(script, monkeypatch):
    monkeypatch.setattr(script, "SDDECC_EPOCHS", {})

    def rows(method, dataset, accs, device=None):
        return [{"dataset": dataset, "method": method, "seed": s, "acc": a, **({"device": device} if device else {})}
                for s, a in enumerate(accs)]

    assert script.standing_note(rows("convae", "usps", [0.7])) == ""  # SDDECC has not run
    note = script.standing_note(rows("sddecc", "usps", [0.72, 0.74]) + rows("sddecc_steps_gcn", "usps", [0.77])
                                + rows("sddecc_short", "mnist", [0.80, 0.82, 0.78], "cuda (NVIDIA H200)"))
    assert ("- usps: paper 0.7986; ours 0.7300 ± 0.0100 at 30 + 50 epochs (2 seeds, CPU); 0.7700 at 222 + 370 "
            "epochs, as few GCN steps per DDECN step as on MNIST (1 seed, CPU).") in note
    # MNIST: no run of the tables' row yet, only the shorter schedule; mean 0.80, std of (0, 2, -2) points: 1.63
    assert "- mnist: paper 0.9022; ours 0.8000 ± 0.0163 at 10 + 20 epochs (3 seeds, NVIDIA H200)." in note
    assert "fashion-mnist" not in note


def test_rows_of_the_tables_with_fewer_seeds_than_the_default_are_named(script):
    def rows(method, dataset, seeds):
        return [{"dataset": dataset, "method": method, "seed": seed} for seed in seeds]

    runs = (rows("sdcn", "mnist", [0, 1]) + rows("sdcn", "mnist", [1])  # a seed recorded twice counts once
            + rows("idec", "fashion-mnist", [1]) + rows("sddecc", "mnist", [0, 1, 2, 3])
            + rows("sddecc_short", "mnist", [0])  # not a row of Table 3 or 4
            + rows("convae", "usps", range(10)))
    assert script.few_seeds_note(runs, ["usps", "mnist", "fashion-mnist"]) == (
        "Fewer seeds than this script's default (usps 10, mnist 3, fashion-mnist 3), seeds so far in brackets: "
        "mnist: SDCN (2); fashion-mnist: IDEC (1). Run without `--seeds`, the script runs the missing ones.\n")
    assert script.few_seeds_note(runs, ["usps"]) == ""
    assert script.few_seeds_note(rows("convae", "usps", range(9)), ["usps"]).startswith("Fewer seeds")


def test_cpu_runs_on_more_than_one_thread_are_named(script):
    cpu = {"full_config": {"device": "cpu"}}
    runs = [{"dataset": "mnist", "method": "sdcn", "seed": 2, "torch_threads": 2, **cpu},
            {"dataset": "mnist", "method": "sdcn", "seed": 1, "torch_threads": 1, **cpu},
            {"dataset": "mnist", "method": "sdcn", "seed": 0, **cpu},  # older record: threads unrecorded
            {"dataset": "mnist", "method": "sddecc", "seed": 0, "torch_threads": 2, "device": "cuda (NVIDIA H200)"}]
    assert script.threads_note(runs) == (
        "CPU runs on more than one thread, whose s / run is not one core's: mnist SDCN, seed 2 (2 threads).\n")
    assert script.threads_note(runs[1:]) == ""


def test_rows_not_yet_run_on_the_tables_schedule_are_named_and_short_rows_need_their_datasets(script, monkeypatch,
                                                                                              capsys):
    runs = [{"dataset": "mnist", "method": method, "seed": 0}
            for method in ("sddecc", "convae", "convae_mi", "convae_gcn", "deepcluster", "convae_rec_short")]
    assert script.unrun_note(runs, ["usps", "mnist"]) == (  # usps: nothing ran, nothing named
        "Not yet run on the tables' schedule, so not in the tables: mnist: ConvAE, reconstruction only + k-means.\n")
    assert script.unrun_note(runs + [dict(runs[0], method="convae_rec")], ["mnist"]) == ""
    with pytest.raises(SystemExit):
        run(script, monkeypatch, "--only", "convae_short")  # on "usps", which has no shorter schedule
    assert "row(s) ['convae_short'] have a shorter schedule only on mnist, fashion-mnist; not on usps" in \
        capsys.readouterr().err


def test_the_scripts_paper_figures_are_the_reference_files(script, monkeypatch):
    """Table 3 of the SDDECC paper: reproduce_sddecc.py's figures are those of graphclust/bench/papers.yaml,
    which reproduce_baselines.py reads (Fashion-MNIST included)."""
    from graphclust.bench.aggregate import load_reference

    monkeypatch.syspath_prepend(str(BENCHMARKS))
    baselines = importlib.import_module("reproduce_baselines")
    reference = {key: (e["acc"], e["nmi"]) for key, entries in load_reference().items()
                 for e in entries if e["source"] == "sddecc"}
    rows = (*script.BASELINES, "deepcluster", "sdcn", "sddecc")
    table3 = {key: values[:2] for key, values in script.PAPER.items() if key[1] in rows}
    assert len(table3) == 3 * len(rows) and table3 == {key: reference[key] for key in table3}
    assert baselines.PAPER[("fashion-mnist", "ae_kmeans")] == (58.53, 61.42, None, None)
    assert {key: values[:2] for key, values in baselines.PAPER.items()} == reference


def test_the_readme_names_every_row_beside_the_tables(script):
    """Each row that ``--only`` adds beside Table 3 and Table 4 is described in the README's list of the script."""
    readme = (BENCHMARKS.parent / "README.md").read_text()
    section = readme.split("- `benchmarks/reproduce_sddecc.py`")[1].split("\n- `benchmarks/")[0]
    extra = [row for row in script.ROW_NAMES if row not in script.TABLE_ROWS]
    assert extra and [row for row in extra if not re.search(rf"\b{row}\b", section)] == []
