"""Helpers shared by the benchmark scripts: resumable JSONL results and mean ± std tables."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from graphclust.bench.aggregate import format_mean_std, group_by_device, load_reference, mean_std as aggregate_mean_std
from graphclust.bench.runner import (BEST_EPOCH_KEY, append_record, fit_resumable, model_config,  # noqa: F401
                                     peak_rss_mib, read_records, reset_peak_rss, status_kib)
from graphclust.data.catalog import get_entry
from graphclust.graphs.cache import CACHE_ENV
from graphclust.runtime import reexec_with_hugepage_malloc
from graphclust.training.checkpoint import code_version

RESULTS = Path(__file__).resolve().parent / "results"
CHECKPOINTS = RESULTS / "checkpoints"  # fits in progress of the methods that checkpoint (*.pt, not committed)
METRICS = ("acc", "nmi", "ari", "f1")
MONITOR_KEY = "acc_per_epoch (monitored, diagnosis only)"  # a record's field: see monitored_acc


def run_parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with the options every reproduction script takes: --data-root,
    --device, --threads (apply them with :func:`parse_run_args`), --quiet (the estimators'
    ``verbose`` is ``not args.quiet``: a run of an hour or more shows its stage and epoch bars,
    refreshed every 30 s in a log file)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=os.environ.get("GRAPHCLUST_DATA"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (1 per process is fastest when two benchmarks share 2 cores)")
    parser.add_argument("--quiet", action="store_true",
                        help="no per-epoch progress bars (the line each finished run prints stays)")
    parser.add_argument("--graph-cache", default=None, metavar="DIR",
                        help="store the kNN graphs the estimators build in DIR and read them back for the next seed, "
                             "row or process (sets $GRAPHCLUST_GRAPH_CACHE; exact search: one graph for every seed)")
    return parser


def parse_run_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line, point ``$GRAPHCLUST_GRAPH_CACHE`` at --graph-cache when given, start again with
    huge pages for large tensors where that helps (:func:`graphclust.runtime.reexec_with_hugepage_malloc`) and set
    torch's thread count when --threads is given."""
    args = parser.parse_args()
    if args.graph_cache:  # before the re-exec, which keeps the environment
        os.environ[CACHE_ENV] = str(Path(args.graph_cache).resolve())
    reexec_with_hugepage_malloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


def check_seed_range(parser: argparse.ArgumentParser, first_seed: int, seeds: int, name: str = "--seeds") -> None:
    """Stop with a parser error unless --first-seed .. --seeds - 1 is a range of at least one seed, none below 0
    (the --first-seed and --seeds options of the reproduction scripts). ``name``: what the error calls ``seeds``
    (a default where --seeds was not given)."""
    if seeds < 1:
        parser.error(f"{name} {seeds}: it must be at least 1 (seeds FIRST_SEED .. SEEDS-1 run)")
    if not 0 <= first_seed < seeds:
        parser.error(f"--first-seed {first_seed} leaves no seed to run: it must be >= 0 and below {name} {seeds}")


def comma_names(text: str, key: Callable[[str], str] = str) -> list[str]:
    """The names of a comma-separated option, each stripped and mapped by ``key``, blanks dropped and each kept
    once, in order (``key`` maps the spellings of one name to one, e.g. :func:`catalog_dataset`)."""
    return list(dict.fromkeys(key(part.strip()) for part in text.split(",") if part.strip()))


def check_known(parser: argparse.ArgumentParser, kind: str, given, valid) -> None:
    """Stop with a parser error naming what of ``given`` is not in ``valid``, and the valid names (``kind``:
    "dataset", "method", "row")."""
    bad = [v for v in given if v not in valid]
    if bad:
        parser.error(f"unknown {kind}(s) {bad}; valid: {', '.join(valid)}")


def catalog_dataset(parser: argparse.ArgumentParser, name: str) -> str:
    """The catalog's name of a --dataset (any case, or an alias such as ``fmnist``), or a parser error naming the
    valid ones: the records, files and table rows of the scripts key on it, so one dataset is one row."""
    try:
        return get_entry(name)["name"]
    except ValueError as err:
        parser.error(str(err))


def checkpoint_file(name: str) -> Path:
    """Where run ``name`` keeps its checkpoint (or a seed its pretrained autoencoder) until recorded."""
    return CHECKPOINTS / f"{name}.pt"


def checkpointed_fit(model, data, name: str) -> tuple[float, dict | None]:
    """Fit ``model`` on ``data``; a method that takes a ``checkpoint`` checkpoints to
    ``CHECKPOINTS/<name>.pt`` and, killed half-way, resumes there the next time. Returns the fit's
    seconds (with, for a resumed fit, those up to its last checkpoint) and its ``resumed_``. The
    checkpoint path is then unset (it is not a setting to record); delete the file with
    :func:`drop_checkpoint` once the run is recorded. The process's peak-RSS counter is reset
    first, so :func:`peak_rss_mib` afterwards is this run's (the loaded data included)."""
    reset_peak_rss()
    seconds = fit_resumable(model, data, checkpoint=checkpoint_file(name))
    if "checkpoint" in model.get_params():
        model.set_params(checkpoint=None)
    return seconds, getattr(model, "resumed_", None)


def drop_checkpoint(name: str) -> None:
    """Delete the checkpoint of run ``name`` (see :func:`checkpointed_fit`), once it is recorded."""
    checkpoint_file(name).unlink(missing_ok=True)


def read_runs(path: Path) -> list[dict]:
    """Every record of a JSONL results file (none if it does not exist), one per (dataset, method,
    seed): the last, when two processes recorded the same run. A torn line (a process killed while
    writing) is skipped with a warning (:func:`graphclust.bench.runner.read_records`)."""
    latest = {(r.get("dataset"), r.get("method"), r.get("seed")): r for r in read_records(path)}
    return list(latest.values())


def done_keys(path: Path, fields=("dataset", "method", "seed")) -> set[tuple]:
    """The (dataset, method, seed) keys already in ``path``: a rerun skips them."""
    return {tuple(run[f] for f in fields) for run in read_runs(path)}


def append_run(path: Path, record: dict) -> None:
    """Append one finished run at once, so an interrupted benchmark loses nothing: one line,
    fsync'ed, under a file lock, on a fresh line after a torn one
    (:func:`graphclust.bench.runner.append_record`; NaN is written as null). The record gets the
    ``code_version`` the process runs (:func:`graphclust.training.checkpoint.code_version`) and its
    ``torch_threads`` (as the grid's records do): a run repeats exactly only under both."""
    append_record(path, {**record, "code_version": code_version(), "torch_threads": torch.get_num_threads()})


def best_epoch_acc(history: list[dict]) -> float | None:
    """The largest monitored per-epoch ACC of a run (None when nothing was monitored): the epoch a
    paper that reports the best epoch would pick by looking at the labels. A comparison figure,
    never a result."""
    values = epoch_accs(history)
    return max(values) if values else None


def epoch_accs(history: list[dict]) -> list[float]:
    """The monitored ACC of every epoch of ``history`` that has one, in order (none when nothing was monitored)."""
    return [r["acc"] for r in history if isinstance(r.get("acc"), (int, float))]


def monitored_acc(history: list[dict]) -> list[float] | None:
    """The monitored ACC of every epoch that has one, in order, at 4 digits (None when nothing was monitored):
    how the clusters moved against the labels during training, recorded to diagnose a run (where a stage
    gains or loses), never read to choose an epoch, a setting or a result."""
    return [round(float(acc), 4) for acc in epoch_accs(history)] or None


def mean_std(values: list[float], digits: int = 4) -> str:
    """"0.7026 ± 0.0317" over the values; a lone value without "± 0.0000" (it has no spread). The
    harness's own formatter (:func:`graphclust.bench.aggregate.mean_std`), at ``digits`` digits."""
    return format_mean_std(*aggregate_mean_std(values), digits)


def paper_figures(source: str) -> dict[tuple[str, str], tuple]:
    """(dataset, method) -> the published (ACC, NMI, ARI, F1) in % (None where not reported) of one
    source of ``graphclust/bench/papers.yaml`` (``"sddecc"``: the SDDECC paper's Table 3)."""
    return {key: tuple(entry[m] for m in ("acc", "nmi", "ari", "f1"))
            for key, entries in load_reference().items() for entry in entries if entry["source"] == source}


def per_device(runs: list[dict], cell, device_of=None) -> str:
    """``cell(runs)``, or where ``device_of`` puts a row's runs on more than one device, ``cell`` of each device's
    runs followed by the device and how many runs it holds, in the runs' order: "136.1 (NVIDIA H200, 3) /
    3210.4 (CPU, 2)". Time and memory of a run on a GPU do not compare with a CPU run's, so a row whose seeds
    ran on both keeps them apart."""
    groups = group_by_device(runs, device_of or (lambda run: ""))
    if len(groups) == 1:
        return cell(runs)
    return " / ".join(f"{cell(mine)} ({device}, {len(mine)})" for device, mine in groups.items())


def summary_table(runs: list[dict], paper: dict | None = None, device_of=None) -> str:
    """Markdown: one row per (dataset, method) with mean ± std of each metric over seeds.

    ``paper[(dataset, method)]`` is the published (ACC, NMI, ARI, F1) in %, any entry None. When
    some runs carry :data:`BEST_EPOCH_KEY` (see :func:`best_epoch_acc`), a last column gives its
    mean ± std over those runs, and how many they are. ``device_of(run)`` names the device a run was
    made on: a row with runs on more than one gives its s / run and peak RSS per device (:func:`per_device`).
    """
    paper = paper or {}
    best_column = any(r.get(BEST_EPOCH_KEY) is not None for r in runs)
    head = "| dataset | method | seeds | ACC | NMI | ARI | F1 | paper ACC / NMI / ARI / F1 | s / run | peak RSS (MiB) |"
    rule = "|---|---|---|---|---|---|---|---|---|---|"
    if best_column:
        head += " best-epoch ACC (label-selected, comparison only) |"
        rule += "---|"
    lines = [head, rule]
    for key in dict.fromkeys((r["dataset"], r["method"]) for r in runs):
        mine = [r for r in runs if (r["dataset"], r["method"]) == key]
        cells = [mean_std([r[m] for r in mine]) for m in METRICS]
        ref = paper.get(key)
        ref_text = " / ".join("—" if v is None else f"{v:.2f}" for v in ref) if ref else "—"
        seconds = per_device(mine, lambda rs: f"{np.mean([r['time'] for r in rs]):.1f}", device_of)
        rss = per_device(mine, lambda rs: f"{max(r.get('peak_rss_mib', 0) for r in rs):.0f}", device_of)
        line = f"| {key[0]} | {key[1]} | {len(mine)} | " + " | ".join(cells) + f" | {ref_text} | {seconds} | {rss} |"
        if best_column:
            best = [r[BEST_EPOCH_KEY] for r in mine if r.get(BEST_EPOCH_KEY) is not None]
            line += (f" {mean_std(best)} ({len(best)} runs) |" if best else " — |")
        lines.append(line)
    return "\n".join(lines)
