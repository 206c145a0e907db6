"""The runner: JSONL records, resume after a limit / a kill / a torn line, failures, monitoring."""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import FAST_PARAMS, die_after_saves
from graphclust.bench import runner
from graphclust.bench.aggregate import summarise
from graphclust.bench.grid import RunSpec, build_grid, grid_from_lists
from graphclust.bench.report import write_outputs
from graphclust.bench.runner import (BEST_EPOCH_KEY, append_record, embedding_sample, fit_spec, import_legacy,
                                     read_records, record_key, run_grid)
from graphclust.data import make_sbm
from graphclust.registry import METHODS

GAE_FAST = {"hidden": 16, "latent": 4, "epochs": 5}


@pytest.fixture
def grid():
    """2 datasets x 3 methods x 2 seeds = 12 runs of well under a second each."""
    return grid_from_lists("kmeans,spectral,gae", "sbm,blobs", seeds=2,
                           params={"n_init": 2, **{f"gae:{k}": v for k, v in GAE_FAST.items()}}, name="tiny")


@pytest.fixture(scope="module")
def sbm():
    return make_sbm(n_per_block=(30, 30, 30), p_in=0.3, p_out=0.01, n_features=8, random_state=0)


def ok_keys(path):
    return [record_key(r) for r in read_records(path) if r["status"] == "ok"]


def counting_fit(monkeypatch, fail_at: int | None = None) -> list:
    """Count the fits of the runner; raise KeyboardInterrupt (a kill) at call ``fail_at``."""
    calls = []
    real = runner.fit_spec

    def fit(spec, *args, **kwargs):
        calls.append(spec.key)
        if fail_at is not None and len(calls) == fail_at:
            raise KeyboardInterrupt
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(runner, "fit_spec", fit)
    return calls


def test_resume_after_a_limit_a_kill_and_a_torn_line_loses_and_repeats_nothing(grid, tmp_path, monkeypatch):
    summary = run_grid(grid, tmp_path, max_runs=5, progress=False)
    path = tmp_path / "tiny.jsonl"
    assert (summary.ran, summary.left) == (5, 7) and len(ok_keys(path)) == 5

    calls = counting_fit(monkeypatch, fail_at=3)
    with pytest.raises(KeyboardInterrupt):  # killed during its third run
        run_grid(grid, tmp_path, progress=False)
    assert len(ok_keys(path)) == 7  # two more finished before the kill, the third left no record
    with path.open("a") as fh:
        fh.write('{"key": "sbm|gae|1|x", "status": "o')  # a write cut short by the kill

    calls = counting_fit(monkeypatch)
    with pytest.warns(UserWarning, match="not valid JSON"):
        summary = run_grid(grid, tmp_path, progress=False)
    assert summary.already_done == 7 and summary.ran == 5 and len(calls) == 5
    with pytest.warns(UserWarning, match="not valid JSON"):
        keys = ok_keys(path)
    assert sorted(keys) == sorted(s.key for s in grid.specs)  # nothing lost, nothing twice

    calls = counting_fit(monkeypatch)
    with pytest.warns(UserWarning):
        assert run_grid(grid, tmp_path, progress=False).ran == 0
    assert calls == []


def test_a_record_holds_metrics_config_history_and_environment(grid, tmp_path):
    run_grid(grid.filter(datasets="sbm"), tmp_path, progress=False)
    records = {(r["method"], r["seed"]): r for r in read_records(tmp_path / "tiny.jsonl")}
    gae = records[("gae", 0)]
    assert gae["status"] == "ok" and gae["params"] == {"n_init": 2, **GAE_FAST}
    assert set(gae["metrics"]) == {"acc", "nmi", "ari", "f1", "modularity", "conductance"}
    assert gae["config"]["class"] == "GAE" and gae["config"]["random_state"] == 0 and gae["config"]["n_clusters"] == 3
    assert gae["epochs_run"] == len(gae["history"]) == 5 and "loss" in gae["history"][0]
    monitored = [h["acc"] for h in gae["history"] if "acc" in h]
    assert monitored and gae[BEST_EPOCH_KEY] == pytest.approx(max(monitored), rel=1e-5)  # a column apart
    assert "acc" not in gae  # the headline metrics live under "metrics" only
    assert records[("kmeans", 0)][BEST_EPOCH_KEY] is None
    for key in ("time_s", "peak_rss_mib", "versions", "device", "started", "n_samples"):
        assert key in gae
    assert gae["peak_rss_mib"] > 0 and "torch" in gae["versions"] and gae["device"]["device"] == "cpu"

    assert records[("gae", 1)]["embedding"] is None  # only the first seed keeps its embedding
    stored = np.load(tmp_path / gae["embedding"])
    assert stored["embedding"].dtype == np.float16 and stored["embedding"].shape == (150, 4)
    assert stored["labels"].shape == stored["y"].shape == stored["index"].shape == (150,)
    assert records[("kmeans", 0)]["embedding"] is None  # k-means has no embedding


def test_a_failing_run_is_recorded_and_the_grid_goes_on(tmp_path):
    grid = build_grid({"name": "fail", "datasets": ["sbm"], "methods": ["kmeans", "spectral"], "seeds": 1,
                       "params": {"kmeans": {"n_clusters": 1000, "n_init": 2}, "spectral": {"n_init": 2}}})
    summary = run_grid(grid, tmp_path, progress=False)
    assert (summary.ran, summary.failed) == (2, 1)
    records = {r["method"]: r for r in read_records(tmp_path / "fail.jsonl")}
    assert records["kmeans"]["status"] == "failed" and "n_clusters=1000" in records["kmeans"]["error"]
    assert records["spectral"]["status"] == "ok"
    assert run_grid(grid, tmp_path, progress=False).ran == 0  # a failure is not repeated by default
    assert run_grid(grid, tmp_path, progress=False, retry_failed=True).ran == 1


@pytest.mark.parametrize("method", sorted(METHODS))
def test_monitoring_labels_never_change_the_result(method, sbm):
    spec = RunSpec("sbm", method, 0, dict(FAST_PARAMS[method]))
    watched = fit_spec(spec, sbm, monitor=True).model
    blind = fit_spec(spec, sbm, monitor=False).model
    np.testing.assert_array_equal(watched.labels_, blind.labels_)
    if watched.embedding_ is not None:
        np.testing.assert_array_equal(watched.embedding_, blind.embedding_)
    assert not any("acc" in h for h in blind.history_)


def test_shared_pretraining_gives_each_method_its_own_autoencoder(sbm):
    params = {k: v for k, v in FAST_PARAMS["ae_kmeans"].items()}
    own = fit_spec(RunSpec("sbm", "ae_kmeans", 3, params), sbm)
    cache: dict = {}
    shared = fit_spec(RunSpec("sbm", "ae_kmeans", 3, params, shared_pretraining=True), sbm, pretrain_cache=cache)
    np.testing.assert_array_equal(own.model.labels_, shared.model.labels_)  # same AE weights, same k-means seed
    np.testing.assert_array_equal(own.model.embedding_, shared.model.embedding_)
    assert shared.pretraining["shared"] and not shared.pretraining["cache_hit"]
    assert [h["loss"] for h in shared.history] == [h["loss"] for h in own.history]  # pretraining curve kept
    again = fit_spec(RunSpec("sbm", "ae_kmeans", 3, params, shared_pretraining=True), sbm, pretrain_cache=cache)
    assert again.pretraining["cache_hit"]


def test_embedding_sample_is_fixed_sorted_and_capped():
    a, b = embedding_sample(12_000), embedding_sample(12_000)
    assert len(a) == 5000 and np.array_equal(a, b) and np.all(np.diff(a) > 0)
    assert np.array_equal(embedding_sample(40), np.arange(40))


def test_append_after_a_torn_line_starts_a_new_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"a": 1}\n{"b": ')
    append_record(path, {"c": float("nan"), "d": (1, 2)})
    lines = path.read_text().splitlines()
    assert json.loads(lines[-1]) == {"c": None, "d": [1, 2]}
    with pytest.warns(UserWarning):
        assert read_records(path) == [{"a": 1}, {"c": None, "d": [1, 2]}]


def test_the_bench_command_runs_resumes_and_reports(tmp_path, capsys):
    from graphclust.bench.cli import add_bench_parser

    parser = argparse.ArgumentParser(prog="graphclust")
    add_bench_parser(parser.add_subparsers(dest="command"))
    base = ["bench", "--methods", "kmeans,gae", "--datasets", "sbm", "--seeds", "2", "--param", "n_init=2",
            "--param", "gae:epochs=5", "--out", str(tmp_path), "--quiet"]
    args = parser.parse_args(base + ["--max-runs", "3", "--no-plots"])
    assert args.func(args) == 0
    assert len(read_records(tmp_path / "bench.jsonl")) == 3
    args = parser.parse_args(base)
    if importlib.util.find_spec("matplotlib") is not None:
        assert args.func(args) == 0
    else:  # the viz extra is absent: the tables are still written and the skip is said
        with pytest.warns(UserWarning, match="figures skipped"):
            assert args.func(args) == 0
    assert len(read_records(tmp_path / "bench.jsonl")) == 4
    report = (tmp_path / "bench.md").read_text()
    assert "| gae (epochs=5, n_init=2) | 2 |" in report
    plotted = (tmp_path / "figures" / "bench" / "bars_sbm.png").is_file()
    assert plotted == (importlib.util.find_spec("matplotlib") is not None)
    assert ("figures/bench/bars_sbm.png" in report) == plotted
    if plotted:
        assert (tmp_path / "figures" / "bench" / "bars_sbm.png").stat().st_size > 0
    assert (tmp_path / "bench.csv").read_text().startswith("dataset,method,")
    (tmp_path / "bench.md").unlink()
    args = parser.parse_args(base + ["--report-only", "--no-plots"])
    assert args.func(args) == 0 and (tmp_path / "bench.md").is_file()
    assert len(read_records(tmp_path / "bench.jsonl")) == 4
    (tmp_path / "bench.md").unlink()
    args = parser.parse_args(["bench", "--report-only", "--no-plots", "--out", str(tmp_path)])  # from the JSONL alone
    assert args.func(args) == 0 and "| kmeans (n_init=2) | 2 |" in (tmp_path / "bench.md").read_text()
    args = parser.parse_args(base + ["--dry-run"])
    assert args.func(args) == 0 and "0 to run" in capsys.readouterr().out
    smoke = str(Path(__file__).resolve().parents[2] / "benchmarks" / "configs" / "smoke.yaml")
    args = parser.parse_args(["bench", "--config", smoke, "--seeds", "1", "--out", str(tmp_path), "--dry-run"])
    assert args.func(args) == 0 and "smoke: 2 runs, 0 done, 2 to run" in capsys.readouterr().out


def test_runs_of_the_earlier_scripts_are_taken_over_when_the_protocol_matches(tmp_path, monkeypatch):
    grid = build_grid({"name": "g", "datasets": ["sbm"], "methods": ["kmeans", "sdcn", "dec"], "seeds": 2,
                       "params": {"sdcn": {"lr": 1e-4}}, "share_pretraining": ["dec"]})
    legacy = tmp_path / "old.jsonl"
    old = {"dataset": "sbm", "acc": 0.9, "nmi": 0.8, "ari": 0.7, "f1": 0.85, "time": 3.0, "versions": {"torch": "x"}}
    lines = [{**old, "method": "kmeans", "seed": 0, "config": "KMeans(n_clusters=3, random_state=0)",
              "code_version": "abc1234"},
             {**old, "method": "sdcn", "seed": 0,
              "config": "SDCN(n_clusters=3, lr=0.0001, random_state=0, verbose=False)"},
             {**old, "method": "sdcn", "seed": 1, "config": "SDCN(n_clusters=3, random_state=1)"},  # other lr
             {**old, "method": "dec", "seed": 0, "config": "DEC(n_clusters=3, pretrained=<AE>, random_state=0)"},
             {**old, "method": "kmeans", "seed": 7, "config": "KMeans(n_clusters=3, random_state=7)"}]  # not in grid
    legacy.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert import_legacy(legacy, grid, tmp_path) == 2
    assert import_legacy(legacy, grid, tmp_path) == 0  # nothing twice
    records = read_records(tmp_path / "g.jsonl")
    assert {(r["method"], r["seed"]) for r in records} == {("kmeans", 0), ("sdcn", 0)}
    assert records[0]["metrics"] == {"acc": 0.9, "nmi": 0.8, "ari": 0.7, "f1": 0.85} and records[0]["imported_from"]
    assert records[0]["code_version"] == "abc1234" and "code_version" not in records[1]  # the script's, where it had one
    assert records[0]["device"] == records[1]["device"] == {"device": "cpu"}  # older records: made on the CPU
    calls = counting_fit(monkeypatch)
    summary = run_grid(grid.filter(methods="kmeans,sdcn"), tmp_path, progress=False, max_runs=0)
    assert summary.already_done == 2 and calls == []

    rerun = {**lines[0], "acc": 0.95, "time": 4.0}  # the script ran k-means seed 0 again (its --rerun)
    with legacy.open("a") as fh:
        fh.write(json.dumps(rerun) + "\n")
    assert import_legacy(legacy, grid, tmp_path) == 1 and import_legacy(legacy, grid, tmp_path) == 0
    (row,) = [r for r in summarise(read_records(tmp_path / "g.jsonl")) if r["method"] == "kmeans"]
    assert row["mean"]["acc"] == pytest.approx(95.0)  # the rerun supersedes the first take-over


def test_a_config_takes_over_its_legacy_files_from_the_output_folder(tmp_path, monkeypatch, capsys):
    from graphclust.bench.cli import add_bench_parser

    config = tmp_path / "g.yaml"
    config.write_text("name: g\ndatasets: [sbm]\nmethods: [kmeans]\nseeds: 2\n"
                      "import_legacy: [old.jsonl, absent.jsonl]\n")
    old = {"dataset": "sbm", "method": "kmeans", "seed": 0, "acc": 0.9, "nmi": 0.8, "ari": 0.7, "f1": 0.85,
           "time": 3.0, "config": "KMeans(n_clusters=3, random_state=0)", BEST_EPOCH_KEY: None}
    (tmp_path / "old.jsonl").write_text(json.dumps(old) + "\n")
    calls = counting_fit(monkeypatch)
    parser = argparse.ArgumentParser(prog="graphclust")
    add_bench_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", "--config", str(config), "--out", str(tmp_path), "--dry-run"])
    assert args.func(args) == 0 and not (tmp_path / "g.jsonl").exists()  # a dry run writes nothing
    said = capsys.readouterr().out.splitlines()
    assert said[0] == ("g: 2 runs, 1 done (1 of them to take over from old.jsonl, absent.jsonl), 1 to run; "
                       "measured rows ~3 s of compute")
    assert said[1].split() == ["sbm", "kmeans", "seeds", "1:", "~3", "s", "(3", "s", "/", "run", "measured)"]
    args = parser.parse_args(["bench", "--config", str(config), "--out", str(tmp_path), "--quiet", "--no-plots"])
    assert args.func(args) == 0
    records = read_records(tmp_path / "g.jsonl")
    assert [(r["seed"], r.get("imported_from")) for r in records] == [(0, "old.jsonl"), (1, None)]
    assert len(calls) == 1  # only seed 1 was fitted
    capsys.readouterr()
    args = parser.parse_args(["bench", "--config", str(config), "--out", str(tmp_path), "--dry-run"])
    assert args.func(args) == 0 and capsys.readouterr().out == "g: 2 runs, 2 done, 0 to run\n"
    with pytest.raises(ValueError, match="import_legacy"):
        build_grid({"name": "g", "datasets": ["sbm"], "methods": ["kmeans"], "import_legacy": "x.csv"})


def test_worker_processes_give_the_runs_of_one_process_and_resume(grid, tmp_path):
    """jobs=2: the same records (metrics, keys) as one process, nothing twice after a limit."""
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    run_grid(grid, serial, progress=False)
    first = run_grid(grid, parallel, max_runs=4, progress=False, jobs=2)
    assert (first.ran, first.left) == (4, 8) and len(ok_keys(parallel / "tiny.jsonl")) == 4
    rest = run_grid(grid, parallel, progress=False, jobs=2)
    assert (rest.already_done, rest.ran, rest.failed, rest.left) == (4, 8, 0, 0)
    one = {r["key"]: r for r in read_records(serial / "tiny.jsonl")}
    two = {r["key"]: r for r in read_records(parallel / "tiny.jsonl")}
    assert len(read_records(parallel / "tiny.jsonl")) == len(two) == len(grid.specs)
    assert two.keys() == one.keys()
    for key, record in one.items():
        assert two[key]["metrics"] == pytest.approx(record["metrics"], nan_ok=True), key


def test_worker_processes_report_an_unavailable_dataset_and_leave_its_runs_pending(tmp_path):
    grid = grid_from_lists("kmeans", "sbm,cora", seeds=2, params={"n_init": 2}, name="missing")
    summary = run_grid(grid, tmp_path, data_root=tmp_path / "no-data", progress=False, jobs=2)
    assert (summary.ran, summary.left) == (2, 2) and set(summary.unavailable) == {"cora"}
    with pytest.raises(ValueError, match="jobs must be a positive int"):
        run_grid(grid, tmp_path, progress=False, jobs=0)


def test_running_a_part_of_a_config_still_reports_the_whole_grid(tmp_path):
    """--datasets / --methods pick what runs now; the tables and the report cover the config."""
    from graphclust.bench.cli import add_bench_parser

    config = tmp_path / "two.yaml"
    config.write_text("name: two\nreport: TWO.md\nseeds: 1\ndatasets: [sbm, blobs]\nmethods: [kmeans]\n"
                      "params: {kmeans: {n_init: 2}}\n")
    parser = argparse.ArgumentParser(prog="graphclust")
    add_bench_parser(parser.add_subparsers(dest="command"))
    for dataset in ("sbm", "blobs"):
        args = parser.parse_args(["bench", "--config", str(config), "--datasets", dataset, "--out", str(tmp_path),
                                  "--quiet", "--no-plots"])
        assert args.func(args) == 0
        report = (tmp_path / "TWO.md").read_text()
        assert "### sbm" in report and "--datasets" not in report
    assert "### blobs" in report and "### blobs" in (tmp_path / "two_tables.md").read_text()


def test_a_taken_over_run_with_its_full_config_is_checked_for_stale_settings(tmp_path):
    """Script records that keep ``full_config`` (model_config) are compared like the grid's own."""
    from graphclust.models import KMeans

    grid = build_grid({"name": "g", "datasets": ["sbm"], "methods": ["kmeans"], "seeds": 2})
    current = runner.model_config(KMeans(n_clusters=3))
    assert current["class"] == "KMeans" and current["max_iter"] == KMeans().max_iter
    old = {"dataset": "sbm", "method": "kmeans", "acc": 0.9, "nmi": 0.8, "ari": 0.7, "f1": 0.85, "time": 1.0}
    lines = [{**old, "seed": 0, "config": "KMeans(n_clusters=3, random_state=0)",
              "full_config": {**current, "random_state": 0}},
             {**old, "seed": 1, "config": "KMeans(n_clusters=3, random_state=1)",  # made under another default
              "full_config": {**current, "max_iter": current["max_iter"] + 1, "random_state": 1}}]
    legacy = tmp_path / "old.jsonl"
    legacy.write_text("".join(json.dumps(line) + "\n" for line in lines))
    from graphclust.bench.cli import _dry_run

    assert _dry_run(grid, tmp_path, [legacy]).startswith("g: 2 runs, 1 done (2 of them to take over from old.jsonl), "
                                                         "1 to run")  # the stale one, before the take-over too
    assert import_legacy(legacy, grid, tmp_path) == 2
    records = read_records(tmp_path / "g.jsonl")
    assert records[0]["config"]["repr"] == "KMeans(n_clusters=3, random_state=0)"
    stale = runner.stale_runs(records, grid)
    assert list(stale.values()) == [{"max_iter": (current["max_iter"] + 1, current["max_iter"])}]
    assert [key[2] for key in stale] == [1]


def test_a_run_made_under_another_default_is_run_again(tmp_path, monkeypatch, capsys):
    grid = grid_from_lists("kmeans,spectral", "sbm", seeds=1, params={"n_init": 2}, name="stale")
    run_grid(grid, tmp_path, progress=False)
    path = tmp_path / "stale.jsonl"
    records = read_records(path)
    for record in records:  # as if k-means had been run when its default max_iter was 100, and a
        if record["method"] == "kmeans":  # parameter since removed (old_knob) and one since added (backend)
            record["config"].update(max_iter=100, old_knob=1)
            del record["config"]["backend"]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))

    kmeans_key = next(s.key for s in grid.specs if s.method == "kmeans")
    assert runner.stale_runs(read_records(path), grid) == {kmeans_key: {"max_iter": (100, 300)}}
    assert runner.describe_stale({kmeans_key: {"max_iter": (100, 300)}}) == [
        "  sbm kmeans seeds 0: recorded with other settings than the estimator's now (max_iter 100 -> 300); run again"]
    report = write_outputs(tmp_path, "stale", grid=grid, plots=False)["report"]
    assert "- sbm / kmeans seeds 0: shown as recorded, with other settings than the estimator's now " \
           "(max_iter 100 -> 300)" in report.read_text()  # the report says so until the rerun is made
    assert "(2 finished runs in the tables). " in report.read_text()
    calls = counting_fit(monkeypatch)
    summary = run_grid(grid, tmp_path, progress=True)
    assert calls == [kmeans_key] and summary.ran == 1  # the spectral run is current and kept
    shown = capsys.readouterr()
    assert "max_iter 100 -> 300" in shown.out + shown.err  # said before it runs
    assert runner.stale_runs(read_records(path), grid) == {}  # the new record is the one that counts
    text = write_outputs(tmp_path, "stale", grid=grid, plots=False)["report"].read_text()
    assert "shown as recorded" not in text
    # the header counts the runs in the tables (2), not the file's 3 records: the replaced one is said apart
    assert "(2 finished runs in the tables; the file holds 1 more finished record, superseded" in text
    assert run_grid(grid, tmp_path, progress=False).ran == 0


def test_failed_and_taken_over_records_have_nothing_to_compare():
    spec = RunSpec("sbm", "kmeans", 0, {"n_init": 2})
    assert runner.config_changes({"status": "failed", "config": {"class": "KMeans", "max_iter": 1}}, spec) == {}
    assert runner.config_changes({"status": "ok", "config": {"repr": "KMeans(max_iter=1)"}}, spec) == {}
    assert runner.config_changes({"status": "ok", "n_clusters": 3,
                                  "config": {"class": "KMeans", "max_iter": 300, "n_clusters": 3}}, spec) == {}


def test_a_grid_that_sets_n_clusters_compares_configs_with_it():
    spec = RunSpec("sbm", "kmeans", 0, {"n_clusters": 4, "n_init": 2})
    record = {"status": "ok", "n_clusters": 3, "config": {"class": "KMeans", "max_iter": 300, "n_clusters": 4}}
    assert runner.config_changes(record, spec) == {}
    assert runner.config_changes({**record, "config": {**record["config"], "max_iter": 100}}, spec) == {
        "max_iter": (100, 300)}


def test_a_run_killed_half_way_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    """SDDECC takes a checkpoint: the grid gives each run one; a killed run resumes there, and
    its record adds the time before the kill and says so."""
    grid = grid_from_lists("sddecc", "blobs", seeds=1, params=FAST_PARAMS["sddecc"], name="ck")
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        saves = die_after_saves(patch, 3, KeyboardInterrupt)  # after pretraining, the warm-up, joint epoch 1
        run_grid(grid, tmp_path, progress=False)
    path = saves[-1][1]
    assert read_records(tmp_path / "ck.jsonl") == [] and path == runner.checkpoint_path(tmp_path, "ck", grid.specs[0])
    assert runner.checkpoint_progress(path) == "after stage joint, 1 epochs"
    from graphclust.bench.cli import _dry_run

    assert "blobs sddecc seed 0: resumes from its checkpoint (after stage joint, 1 epochs)" in _dry_run(grid, tmp_path, [])
    assert run_grid(grid, tmp_path, progress=False).ran == 1
    (record,) = read_records(tmp_path / "ck.jsonl")
    assert record["status"] == "ok" and record["resumed"]["stage"] == "joint"
    assert record["resumed"]["epochs_done"] == 1 and record["time_s"] > record["resumed"]["elapsed_s"] > 0
    assert "checkpoint" not in record["config"]  # a path of this machine, not a setting
    assert not path.exists()  # removed once the run is recorded


def test_a_dec_run_on_the_shared_autoencoder_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    """DEC checkpoints too, and the grid keeps the shared autoencoder until the seed's runs are
    recorded: killed half-way, the run resumes without pretraining again, to the uninterrupted result."""
    import graphclust.training as training

    config = {"name": "ae", "datasets": ["blobs"], "methods": ["dec", "idec"], "seeds": 1,
              "share_pretraining": ["dec", "idec"],
              "params": {m: {**FAST_PARAMS[m], "epochs": 3} for m in ("dec", "idec")}}
    run_grid(build_grid(config), tmp_path / "whole", progress=False)
    whole = read_records(tmp_path / "whole" / "ae.jsonl")
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        saved = die_after_saves(patch, 3, KeyboardInterrupt)  # the shared AE, DEC's initialisation, its epoch 1
        run_grid(build_grid(config), tmp_path, progress=False)
    dec_spec = build_grid(config).specs[0]
    store = runner.shared_ae_store(tmp_path, "ae", dec_spec)
    assert saved[0][1].parent == store and saved[1][1] == runner.checkpoint_path(tmp_path, "ae", dec_spec)
    with monkeypatch.context() as patch:
        patch.setattr(training, "build_pretrained_autoencoder", lambda *a, **k: pytest.fail("pretrained again"))
        assert run_grid(build_grid(config), tmp_path, progress=False).ran == 2
    dec, idec = read_records(tmp_path / "ae.jsonl")
    assert dec["resumed"]["epochs_done"] == 1 and "resumed" not in idec
    assert [r["metrics"] for r in (dec, idec)] == [r["metrics"] for r in whole]
    assert [r["pretraining"]["cache_hit"] for r in (dec, idec)] == [True, True] and not store.exists()


def test_the_shared_autoencoder_is_kept_until_every_run_of_its_seed_is_recorded(tmp_path, monkeypatch):
    import graphclust.training as training
    import graphclust.training.checkpoint as checkpoint_module

    config = {"name": "ae", "datasets": ["blobs"], "methods": ["ae_kmeans", "dec"], "seeds": 1,
              "share_pretraining": ["ae_kmeans", "dec"], "params": {m: FAST_PARAMS[m] for m in ("ae_kmeans", "dec")}}
    grid = build_grid(config)
    store = runner.shared_ae_store(tmp_path, "ae", grid.specs[0])
    assert run_grid(grid, tmp_path, progress=False, max_runs=1).ran == 1
    (kept,) = store.glob("shared_ae_seed0_*.pt")  # DEC is still to run
    with monkeypatch.context() as patch, pytest.warns(UserWarning, match="this process runs code newer.*used as it is"):
        patch.setattr(training, "build_pretrained_autoencoder", lambda *a, **k: pytest.fail("pretrained again"))
        patch.setattr(checkpoint_module, "code_version", lambda: "newer")  # the code changed in between
        assert run_grid(grid, tmp_path, progress=False).ran == 1
    assert not store.exists()  # both recorded

    other = build_grid({**config, "datasets": ["sbm"]})  # a file of other data under the same name is replaced
    sbm_store = runner.shared_ae_store(tmp_path, "ae", other.specs[0])
    sbm_store.mkdir(parents=True)
    checkpoint_module.save_checkpoint(sbm_store / kept.name, "another dataset's autoencoder", {"stage": "x"})
    assert run_grid(other, tmp_path, progress=False, max_runs=1).ran == 1
    (record,) = [r for r in read_records(tmp_path / "ae.jsonl") if r["dataset"] == "sbm"]
    assert record["status"] == "ok" and record["pretraining"]["cache_hit"] is False
    assert checkpoint_module.peek_checkpoint(sbm_store / kept.name)["stage"] == "shared autoencoder"


def test_a_checkpoint_left_by_other_settings_is_deleted_and_the_run_starts_afresh(tmp_path):
    import graphclust.training.checkpoint as checkpoint_module

    grid = grid_from_lists("sddecc", "blobs", seeds=1, params=FAST_PARAMS["sddecc"], name="ck")
    spec = grid.specs[0]
    ref = f"{spec.dataset}_{spec.method}_{spec.params_hash}_seed{spec.seed}.pt"
    stale = tmp_path / "checkpoints" / "ck" / ref
    checkpoint_module.save_checkpoint(stale, "a fit made under older defaults", {"stage": "pretrained"})
    with pytest.warns(RuntimeWarning, match="it is deleted and the run starts afresh .*other settings or data"):
        assert run_grid(grid, tmp_path, progress=False).failed == 0
    (record,) = read_records(tmp_path / "ck.jsonl")
    assert record["status"] == "ok" and "resumed" not in record and not stale.exists()


def test_a_method_with_another_k_runs_on_its_own_knn_graph_and_says_so(tmp_path):
    grid = grid_from_lists("gae", "blobs", seeds=1, params={f"gae:{k}": v for k, v in GAE_FAST.items()}, name="k")
    run_grid(grid, tmp_path, progress=False)
    grid3 = grid_from_lists("gae", "blobs", seeds=1, params={"gae:n_neighbors": 3,
                                                             **{f"gae:{k}": v for k, v in GAE_FAST.items()}}, name="k3")
    run_grid(grid3, tmp_path, progress=False)
    shared, = read_records(tmp_path / "k.jsonl")
    own, = read_records(tmp_path / "k3.jsonl")
    assert shared["status"] == own["status"] == "ok"
    assert "graph" not in shared and own["graph"].startswith("own kNN graph, k = 3")
    assert shared["graph_build"]["source"] == "input"  # the harness's shared graph came with the data
    assert own["graph_build"]["source"] == "built" and own["graph_build"]["seconds"] >= 0
    assert own["history"] != shared["history"]  # another graph, another training


def test_a_taken_over_run_keeps_the_device_and_threads_it_ran_on(tmp_path):
    grid = build_grid({"name": "g", "datasets": ["sbm"], "methods": ["kmeans"], "seeds": 3})
    old = {"dataset": "sbm", "method": "kmeans", "acc": 0.9, "nmi": 0.8, "ari": 0.7, "f1": 0.85, "time": 3.0}
    lines = [{**old, "seed": 0, "config": "KMeans(n_clusters=3, random_state=0, device='cuda')",
              "device": "cuda (NVIDIA H200)", "torch_threads": 2},
             {**old, "seed": 1, "config": "KMeans(n_clusters=3, random_state=1)", "device": "cpu", "torch_threads": 1},
             {**old, "seed": 2, "config": "KMeans(n_clusters=3, random_state=2)", "full_config": {"device": "cuda:1"}}]
    legacy = tmp_path / "old.jsonl"
    legacy.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert import_legacy(legacy, grid, tmp_path) == 3
    devices = {r["seed"]: r["device"] for r in read_records(tmp_path / "g.jsonl")}
    assert devices == {0: {"device": "cuda", "gpu": "NVIDIA H200", "torch_threads": 2},
                       1: {"device": "cpu", "torch_threads": 1}, 2: {"device": "cuda:1"}}
