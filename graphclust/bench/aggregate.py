"""Benchmark records -> mean ± std tables (Markdown and CSV), published numbers beside ours.

One row per (dataset, method, parameters): the final model's ACC / NMI / ARI / F1 in %, mean ±
population std (ddof=0) over the seeds that finished, each next to the paper's number when the
reference file has one; modularity and conductance of the predicted clusters on the dataset's
graph; wall time per run and peak RSS. The best-epoch-by-ACC figure (label-selected) sits in the
last column, named for what it is: a comparison with papers that report it, never the result.

The reference file (``graphclust/bench/papers.yaml``, package data, so installed copies have it too)::

    sources:
      sdcn: Bo et al., Structural Deep Clustering Network, WWW 2020
    results:                                   # in %; ari / f1 may be left out
      - {dataset: acm, method: sdcn, acc: 90.45, nmi: 68.31, ari: 73.91, f1: 90.42, source: sdcn}

The first entry of a (dataset, method) is the one shown.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from .runner import BEST_EPOCH_KEY, record_key

__all__ = ["LABEL_METRICS", "GRAPH_METRICS", "BEST_EPOCH_HEADER", "load_reference", "default_reference_path",
           "summarise", "mean_std", "format_mean_std", "markdown_table", "markdown_tables", "csv_text", "write_tables",
           "row_label", "latest_records", "device_label", "group_by_device"]

LABEL_METRICS = ("acc", "nmi", "ari", "f1")
GRAPH_METRICS = ("modularity", "conductance")
BEST_EPOCH_HEADER = "best-epoch ACC (label-selected, comparison only)"
DASH = "—"


# --------------------------------------------------------------------------- reference numbers


def default_reference_path() -> Path | None:
    """``papers.yaml`` beside this module: package data, in an installed copy as in the source checkout
    (None only where an installer left it out)."""
    path = Path(__file__).resolve().with_name("papers.yaml")
    return path if path.is_file() else None


def load_reference(path=None) -> dict[tuple[str, str], list[dict]]:
    """Published numbers by (dataset, method) — catalog and registry names — in file order.

    Each entry: ``acc``, ``nmi``, ``ari``, ``f1`` (%, or None), ``source`` (short key) and
    ``citation`` (its full text from ``sources``).
    """
    import yaml

    path = default_reference_path() if path is None else Path(path)
    if path is None:
        return {}
    if not path.is_file():
        raise FileNotFoundError(f"reference file not found: {path}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict) or not isinstance(raw.get("results", []), list):
        raise ValueError(f"{path}: expected a mapping with 'sources' and a list 'results'")
    sources = raw.get("sources") or {}
    out: dict[tuple[str, str], list[dict]] = {}
    for i, entry in enumerate(raw.get("results") or []):
        where = f"{path}: results[{i}]"
        if not isinstance(entry, dict) or not {"dataset", "method", "source"} <= set(entry):
            raise ValueError(f"{where}: needs dataset, method and source, got {entry!r}")
        if entry["source"] not in sources:
            raise ValueError(f"{where}: source {entry['source']!r} is not under 'sources' ({', '.join(sources)})")
        values = {}
        for metric in LABEL_METRICS:
            value = entry.get(metric)
            if value is not None and not (isinstance(value, (int, float)) and 0 <= value <= 100):
                raise ValueError(f"{where}: {metric} must be a percentage in [0, 100] or null, got {value!r}")
            values[metric] = None if value is None else float(value)
        key = (str(entry["dataset"]).lower(), str(entry["method"]).lower())
        out.setdefault(key, []).append({**values, "source": entry["source"], "citation": sources[entry["source"]]})
    return out


# --------------------------------------------------------------------------- rows


def row_label(method: str, params: dict) -> str:
    """``sdcn`` or ``sdcn (lr=0.0001)``: the method and its parameters beyond the defaults."""
    if not params:
        return method
    text = ", ".join(f"{k}={_short(v)}" for k, v in sorted(params.items()))
    return f"{method} ({text})"


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "-".join(_short(v) for v in value)
    return str(value)


def latest_records(records: list[dict]) -> tuple[dict[tuple, dict], dict[tuple, dict]]:
    """(latest successful record per key, latest failure per key that never succeeded)."""
    ok: dict[tuple, dict] = {}
    failed: dict[tuple, dict] = {}
    for record in records:
        if "params_hash" not in record:
            continue
        key = record_key(record)
        if record.get("status") == "ok":
            ok[key] = record
        elif record.get("status") == "failed":
            failed[key] = record
    return ok, {k: v for k, v in failed.items() if k not in ok}


def mean_std(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and population std of the finite values; the std is None for fewer than two (a lone
    run has no spread to show, and "± 0.00" would read as a measured one)."""
    values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not values:
        return None, None
    return float(np.mean(values)), (float(np.std(values)) if len(values) > 1 else None)


def device_label(record: dict) -> str:
    """Where a record's run was made, for a table: ``"CPU"``, or the GPU's name (``"NVIDIA H200"``)."""
    device = record.get("device") or {}
    if str(device.get("device", "cpu")).startswith("cuda"):
        return str(device.get("gpu") or device["device"])
    return "CPU"


def group_by_device(runs: list[dict], device_of=device_label) -> dict[str, list[dict]]:
    """The runs by the device ``device_of(run)`` names (default :func:`device_label`), in order of
    first appearance, each group in the runs' order."""
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(device_of(run), []).append(run)
    return groups


def by_device(runs: list[dict]) -> list[dict]:
    """The runs' wall time and peak RSS per device (:func:`group_by_device`): ``label``, ``n``,
    ``time_mean``, ``rss_max``. A GPU run's seconds do not compare with a CPU run's, so a row whose
    runs span devices shows them apart."""
    out = []
    for label, group in group_by_device(runs).items():
        rss = [r.get("peak_rss_mib") for r in group if r.get("peak_rss_mib") is not None]
        out.append({"label": label, "n": len(group), "time_mean": mean_std([r.get("time_s") for r in group])[0],
                    "rss_max": max(rss) if rss else None})
    return out


def summarise(records: list[dict], reference: dict | None = None, order: list[tuple] | None = None) -> list[dict]:
    """One row per (dataset, method, params hash) over its seeds.

    Args:
        records: JSONL records (:func:`graphclust.bench.runner.read_records`); for a key recorded
            twice the last successful record counts, and a failure counts only for a key that
            never succeeded.
        reference: from :func:`load_reference`.
        order: (dataset, method, params hash) groups in the order wanted (e.g. the grid's); only
            these groups are kept. Default: every group, in order of first appearance.

    Returns:
        dicts with ``dataset``, ``method``, ``params``, ``params_hash``, ``label``, ``seeds`` (the
        seeds that finished), ``n``, ``failed``, ``errors``, ``mean`` / ``std`` by metric (label
        metrics in %), ``best_mean`` / ``best_std`` / ``best_n`` (best-epoch ACC, %),
        ``time_mean``, ``time_total``, ``rss_max``, ``devices`` (:func:`by_device`), ``paper`` (the
        shown reference entry or None), ``embedding`` (of the lowest seed that stored one) and
        ``histories`` (seed -> history).
    """
    reference = reference or {}
    ok, failed = latest_records(records)
    groups: dict[tuple, dict] = {}
    for key, record in [*ok.items(), *failed.items()]:
        groups.setdefault((key[0], key[1], key[3]), {"ok": [], "failed": [], "params": record.get("params") or {}})
    for key, record in ok.items():
        groups[(key[0], key[1], key[3])]["ok"].append(record)
    for key, record in failed.items():
        groups[(key[0], key[1], key[3])]["failed"].append(record)
    if order is None:
        first = {}
        for record in records:
            if "params_hash" in record:
                first.setdefault((record["dataset"], record["method"], record["params_hash"]), len(first))
        keys = sorted(groups, key=lambda g: first[g])
    else:
        keys = [g for g in dict.fromkeys(order) if g in groups]

    rows = []
    for group in keys:
        dataset, method, phash = group
        runs = sorted(groups[group]["ok"], key=lambda r: r["seed"])
        row = {"dataset": dataset, "method": method, "params": groups[group]["params"], "params_hash": phash,
               "label": row_label(method, groups[group]["params"]), "seeds": [r["seed"] for r in runs],
               "n": len(runs), "failed": len(groups[group]["failed"]),
               "errors": sorted({r.get("error", "") for r in groups[group]["failed"]}), "mean": {}, "std": {}}
        for metric in LABEL_METRICS + GRAPH_METRICS:
            scale = 100.0 if metric in LABEL_METRICS else 1.0
            values = [r["metrics"][metric] * scale for r in runs if r.get("metrics", {}).get(metric) is not None]
            row["mean"][metric], row["std"][metric] = mean_std(values)
        best = [100.0 * r[BEST_EPOCH_KEY] for r in runs if r.get(BEST_EPOCH_KEY) is not None]
        row["best_mean"], row["best_std"] = mean_std(best)
        row["best_n"] = len(best)
        row["time_mean"], _ = mean_std([r.get("time_s") for r in runs])
        row["time_total"] = float(sum(r.get("time_s") or 0.0 for r in runs))
        rss = [r.get("peak_rss_mib") for r in runs if r.get("peak_rss_mib") is not None]
        row["rss_max"] = max(rss) if rss else None
        row["devices"] = by_device(runs)
        entries = reference.get((dataset, method)) or []
        row["paper"] = entries[0] if entries else None
        row["embedding"] = next((r["embedding"] for r in runs if r.get("embedding")), None)
        row["histories"] = {r["seed"]: r["history"] for r in runs if r.get("history")}
        row["imported"] = sum(1 for r in runs if r.get("imported_from"))
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- Markdown and CSV


def format_mean_std(mean, std, digits: int) -> str:
    """"mean ± std" at ``digits`` decimals; the mean alone when std is None (see :func:`mean_std`), a
    dash when there is no value."""
    if mean is None:
        return DASH
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def _num(value, digits: int) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def _seeds_cell(row: dict) -> str:
    return f"{row['n']}" + (f" (+{row['failed']} failed)" if row["failed"] else "")


HEADER = (["method", "seeds"]
          + [h for m in LABEL_METRICS for h in (m.upper(), f"{m.upper()} paper")]
          + ["paper source", "modularity", "conductance", "s / run", "peak RSS (MiB)", BEST_EPOCH_HEADER])


def _per_device(row: dict, field: str, digits: int) -> str:
    """``row[field]`` (``time_mean`` or ``rss_max``), per device where the row's runs span several:
    ``"233.1 (NVIDIA H200, 3) / 5836.1 (CPU, 7)"``."""
    devices = row.get("devices") or []
    if len(devices) < 2:
        return _num(row[field], digits)
    return " / ".join(f"{_num(d[field], digits)} ({d['label']}, {d['n']})" for d in devices)


def markdown_table(rows: list[dict]) -> str:
    """A Markdown table of ``rows`` (usually one dataset's)."""
    lines = ["| " + " | ".join(HEADER) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(HEADER) - 1)) + "|"]
    for row in rows:
        paper = row["paper"] or {}
        cells = [row["label"], _seeds_cell(row)]
        for metric in LABEL_METRICS:
            cells += [format_mean_std(row["mean"][metric], row["std"][metric], 2), _num(paper.get(metric), 2)]
        cells += [paper.get("source") or DASH,
                  format_mean_std(row["mean"]["modularity"], row["std"]["modularity"], 3),
                  format_mean_std(row["mean"]["conductance"], row["std"]["conductance"], 3),
                  _per_device(row, "time_mean", 1), _per_device(row, "rss_max", 0),
                  format_mean_std(row["best_mean"], row["best_std"], 2)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


TABLE_NOTE = (
    "ACC / NMI / ARI / F1 in %, mean ± std (population, ddof=0) over the seeds of the **final model** "
    "(no epoch or seed chosen by labels); *paper*: the published figure (%), source in *paper source*; "
    "modularity and conductance (lower is better) of the predicted clusters on the dataset's graph; "
    "*s / run*: wall time of `fit`, pretraining included; *peak RSS*: the largest over the seeds; "
    "both per device (device, runs) where a row's seeds ran on different devices. "
    f"*{BEST_EPOCH_HEADER}*: the maximum over epochs of the monitored ACC, i.e. an epoch picked by "
    "looking at the labels, as some papers report — for comparison with those papers only, never a result."
)


def markdown_tables(rows: list[dict], heading: str = "###", figures: dict | None = None) -> str:
    """One table per dataset under a ``heading`` with the dataset name, then the note on columns."""
    parts = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        parts.append(f"{heading} {dataset}\n\n" + markdown_table([r for r in rows if r["dataset"] == dataset]))
        if figures and figures.get(dataset):
            parts.append(figures[dataset])
    parts.append(TABLE_NOTE)
    return "\n\n".join(parts) + "\n"


CSV_COLUMNS = (["dataset", "method", "params", "params_hash", "seeds", "failed"]
               + [c for m in LABEL_METRICS for c in (f"{m}_pct_mean", f"{m}_pct_std", f"paper_{m}_pct")]
               + ["paper_source", "modularity_mean", "modularity_std", "conductance_mean", "conductance_std",
                  "time_s_mean", "peak_rss_mib_max", "best_epoch_acc_pct_label_selected_mean",
                  "best_epoch_acc_pct_label_selected_std", "time_s_by_device"])


def _csv_num(value, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def csv_text(rows: list[dict]) -> str:
    """The rows as CSV (one line per row; empty cell = no value)."""
    import json

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        paper = row["paper"] or {}
        cells = [row["dataset"], row["method"], json.dumps(row["params"], sort_keys=True) if row["params"] else "",
                 row["params_hash"], row["n"], row["failed"]]
        for metric in LABEL_METRICS:
            cells += [_csv_num(row["mean"][metric]), _csv_num(row["std"][metric]), _csv_num(paper.get(metric), 2)]
        cells += [paper.get("source", ""),
                  _csv_num(row["mean"]["modularity"]), _csv_num(row["std"]["modularity"]),
                  _csv_num(row["mean"]["conductance"]), _csv_num(row["std"]["conductance"]),
                  _csv_num(row["time_mean"], 2), _csv_num(row["rss_max"], 1),
                  _csv_num(row["best_mean"]), _csv_num(row["best_std"]),
                  "; ".join(f"{d['label']}: {_csv_num(d['time_mean'], 2)} ({d['n']})"
                            for d in row.get("devices") or [])]
        writer.writerow(cells)
    return buffer.getvalue()


def write_tables(rows: list[dict], md_path, csv_path, title: str | None = None) -> tuple[Path, Path]:
    """Write the Markdown tables and the CSV; returns their paths."""
    md_path, csv_path = Path(md_path), Path(csv_path)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    head = f"# {title}\n\n" if title else ""
    md_path.write_text(head + markdown_tables(rows), encoding="utf-8")
    csv_path.write_text(csv_text(rows), encoding="utf-8")
    return md_path, csv_path
