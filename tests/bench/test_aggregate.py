"""Aggregation: a hand-made JSONL -> the exact Markdown and CSV cells, papers' numbers beside ours."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import graphclust
import graphclust.bench
from graphclust.bench.aggregate import (csv_text, default_reference_path, format_mean_std, load_reference,
                                       markdown_table, markdown_tables, mean_std, summarise)
from graphclust.bench.runner import BEST_EPOCH_KEY, read_records

REFERENCE = """
sources:
  arga: ARGA paper
  sdcn: SDCN paper
  sddecc: SDDECC paper
results:
  - {dataset: cora, method: gae, acc: 59.6, nmi: 42.9, ari: 34.7, f1: 59.5, source: arga}
  - {dataset: usps, method: sdcn, acc: 78.08, nmi: 79.51, ari: 71.84, f1: 76.98, source: sdcn}
  - {dataset: usps, method: sdcn, acc: 77.89, nmi: 79.26, source: sddecc}
"""


def run(dataset, method, seed, phash, metrics=None, *, best=None, time_s=1.0, rss=100.0, params=None, error=None):
    record = {"dataset": dataset, "method": method, "seed": seed, "params_hash": phash, "params": params or {},
              "status": "failed" if error else "ok", "time_s": time_s, "peak_rss_mib": rss}
    if error:
        record["error"] = error
    else:
        record.update({"metrics": metrics, BEST_EPOCH_KEY: best, "history": []})
    return record


def gae(acc, nmi, ari, f1, mod, cond):
    return {"acc": acc, "nmi": nmi, "ari": ari, "f1": f1, "modularity": mod, "conductance": cond}


RECORDS = [
    run("cora", "gae", 0, "h1", gae(0.10, 0.10, 0.10, 0.10, 0.10, 0.90), best=0.2),  # superseded below
    run("cora", "kmeans", 0, "h2", gae(0.50, 0.30, 0.20, 0.45, 0.50, 0.20), rss=400, params={"n_init": 2}),
    run("cora", "gae", 0, "h1", gae(0.60, 0.40, 0.30, 0.50, 0.70, 0.10), best=0.65, time_s=10, rss=500),
    run("cora", "gae", 1, "h1", gae(0.70, 0.50, 0.40, 0.60, 0.72, 0.12), best=0.75, time_s=20, rss=600),
    run("cora", "gae", 2, "h1", error="FloatingPointError: loss became nan"),
    run("usps", "sdcn", 0, "h3", {"acc": 0.78, "nmi": 0.79, "ari": 0.70, "f1": 0.76}, best=0.80, time_s=100.5,
        rss=1000),
    run("usps", "sdcn", 1, "h3", error="RuntimeError: boom"),
    run("usps", "sdcn", 1, "h3", {"acc": 0.80, "nmi": 0.81, "ari": 0.72, "f1": 0.78}, best=0.82, time_s=100.5, rss=900),
]


@pytest.fixture
def rows(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    ref = tmp_path / "papers.yaml"
    ref.write_text(REFERENCE)
    return summarise(read_records(path), load_reference(ref))


def test_markdown_rows_are_mean_std_in_percent_with_the_paper_beside(rows):
    # rows in order of first appearance in the file; the later record of a key wins
    lines = markdown_table(rows).splitlines()
    assert lines[0].startswith("| method | seeds | ACC | ACC paper | NMI | NMI paper |")
    assert lines[0].endswith("| best-epoch ACC (label-selected, comparison only) |")
    assert lines[2] == ("| gae | 2 (+1 failed) | 65.00 ± 5.00 | 59.60 | 45.00 ± 5.00 | 42.90 | 35.00 ± 5.00 | "
                        "34.70 | 55.00 ± 5.00 | 59.50 | arga | 0.710 ± 0.010 | 0.110 ± 0.010 | 15.0 | 600 | 70.00 ± 5.00 |")
    assert lines[3] == ("| kmeans (n_init=2) | 1 | 50.00 | — | 30.00 | — | 20.00 | — | "  # one seed: no ± std
                        "45.00 | — | — | 0.500 | 0.200 | 1.0 | 400 | — |")
    # a failure later retried with success does not count; the first reference entry is shown
    assert lines[4] == ("| sdcn | 2 | 79.00 ± 1.00 | 78.08 | 80.00 ± 1.00 | 79.51 | 71.00 ± 1.00 | 71.84 | "
                        "77.00 ± 1.00 | 76.98 | sdcn | — | — | 100.5 | 1000 | 81.00 ± 1.00 |")


def test_tables_are_split_by_dataset_with_the_protocol_note(rows):
    text = markdown_tables(rows)
    assert text.index("### cora") < text.index("| gae |") < text.index("### usps") < text.index("| sdcn |")
    assert "final model" in text and "comparison with those papers only, never a result" in text


def test_csv_cells(rows):
    table = list(csv.DictReader(io.StringIO(csv_text(rows))))
    assert [(r["dataset"], r["method"]) for r in table] == [("cora", "gae"), ("cora", "kmeans"), ("usps", "sdcn")]
    gae_row = table[0]
    assert gae_row["seeds"] == "2" and gae_row["failed"] == "1" and gae_row["params"] == ""
    assert (gae_row["acc_pct_mean"], gae_row["acc_pct_std"], gae_row["paper_acc_pct"]) == ("65.0000", "5.0000", "59.60")
    assert (gae_row["modularity_mean"], gae_row["conductance_std"]) == ("0.7100", "0.0100")
    assert (gae_row["time_s_mean"], gae_row["peak_rss_mib_max"]) == ("15.00", "600.0")
    assert gae_row["best_epoch_acc_pct_label_selected_mean"] == "70.0000"
    assert gae_row["time_s_by_device"] == "CPU: 15.00 (2)"  # records without a device ran on the CPU
    assert json.loads(table[1]["params"]) == {"n_init": 2} and table[1]["paper_acc_pct"] == ""
    assert table[2]["modularity_mean"] == "" and table[2]["paper_source"] == "sdcn"


def test_order_selects_and_orders_the_groups(tmp_path):
    rows = summarise(RECORDS, order=[("usps", "sdcn", "h3"), ("cora", "gae", "h1"), ("pubmed", "gae", "x")])
    assert [(r["dataset"], r["method"]) for r in rows] == [("usps", "sdcn"), ("cora", "gae")]
    assert rows[1]["paper"] is None and rows[1]["errors"] == ["FloatingPointError: loss became nan"]


def test_reference_file_errors_name_the_entry(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("sources: {a: A}\nresults:\n  - {dataset: cora, method: gae, acc: 59.6, source: b}\n")
    with pytest.raises(ValueError, match=r"results\[0\]: source 'b'"):
        load_reference(path)
    path.write_text("sources: {a: A}\nresults:\n  - {dataset: cora, method: gae, acc: 0.596e3, source: a}\n")
    with pytest.raises(ValueError, match="percentage"):
        load_reference(path)


def test_the_repository_reference_file_loads():
    reference = load_reference()
    assert reference[("acm", "sdcn")][0]["acc"] == 90.45
    assert reference[("usps", "sdcn")][0]["source"] == "sdcn"  # the method's own paper first
    assert reference[("mnist", "idec")][0]["ari"] is None


def test_the_reference_file_ships_with_the_package():
    """An installed (not editable) copy reads the published numbers from its package data: the file sits in
    the package and pyproject.toml declares it, so a wheel carries it."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    assert default_reference_path() == Path(graphclust.bench.__file__).with_name("papers.yaml")
    pyproject = tomllib.loads((Path(graphclust.__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "papers.yaml" in pyproject["tool"]["setuptools"]["package-data"]["graphclust.bench"]


def test_mean_std_is_the_population_std_of_the_finite_values():
    mean, std = mean_std([0.6, 0.8, float("nan"), None, 1.0])  # NaN and None are left out
    assert mean == pytest.approx(0.8) and std == pytest.approx((0.08 / 3) ** 0.5)
    assert mean_std([0.7]) == (pytest.approx(0.7), None)  # a lone run has no spread
    assert mean_std([]) == (None, None)


def test_format_mean_std_shows_a_lone_value_without_a_spread():
    assert format_mean_std(0.75, 0.05, 4) == "0.7500 ± 0.0500"
    assert format_mean_std(0.5, None, 2) == "0.50"
    assert format_mean_std(None, None, 2) == "—"


def test_a_row_whose_seeds_ran_on_several_devices_gives_time_and_memory_per_device():
    gpu = {"device": "cuda", "gpu": "NVIDIA H200", "torch_threads": 2}
    records = [{**run("mnist", "sddecc", 0, "h", {"acc": 0.8}, time_s=230.0, rss=2700), "device": gpu},
               {**run("mnist", "sddecc", 1, "h", {"acc": 0.9}, time_s=240.0, rss=2800), "device": gpu},
               {**run("mnist", "sddecc", 2, "h", {"acc": 0.7}, time_s=6000.0, rss=3700), "device": {"device": "cpu"}}]
    (row,) = summarise(records)
    assert [(d["label"], d["n"], d["time_mean"], d["rss_max"]) for d in row["devices"]] == [
        ("NVIDIA H200", 2, 235.0, 2800), ("CPU", 1, 6000.0, 3700)]
    cells = markdown_table([row]).splitlines()[2].split(" | ")
    assert cells[-3:-1] == ["235.0 (NVIDIA H200, 2) / 6000.0 (CPU, 1)", "2800 (NVIDIA H200, 2) / 3700 (CPU, 1)"]
    (line,) = csv.DictReader(io.StringIO(csv_text([row])))
    assert line["time_s_by_device"] == "NVIDIA H200: 235.00 (2); CPU: 6000.00 (1)"
    assert line["time_s_mean"] == "2156.67"  # over every run, whatever its device
