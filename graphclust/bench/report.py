"""The benchmark report (e.g. ``benchmarks/results/REPRODUCTION.md``): protocol, environment, tables
with the papers' numbers, figures, what was not run and why, and the exact configuration.

:func:`write_outputs` is the one entry point: JSONL -> tables (Markdown + CSV) -> figures -> report.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import warnings
from pathlib import Path

from .aggregate import (BEST_EPOCH_HEADER, TABLE_NOTE, device_label, latest_records, load_reference, markdown_table,
                        summarise, write_tables)
from .grid import Grid
from .runner import describe_stale, jsonl_path, read_records, record_key, stale_runs

__all__ = ["write_outputs", "write_report"]


def _hours(seconds: float) -> str:
    """3,600 s and more in hours, else in minutes: ``"59.2 h"``, ``"41.0 min"``."""
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def _environments(records: list[dict]) -> list[tuple[dict, dict, int]]:
    """Distinct (versions, device) pairs of the records, with how many runs each."""
    seen: dict[str, list] = {}
    for record in records:
        device = {k: v for k, v in (record.get("device") or {}).items() if k != "platform"}
        key = json.dumps([record.get("versions") or {}, device], sort_keys=True)
        seen.setdefault(key, [record.get("versions") or {}, record.get("device") or {}, 0])[2] += 1
    return [tuple(v) for v in seen.values()]


def _pairs_text(pairs: list[tuple[str, str]]) -> str:
    """[(mnist, sdcn), (mnist, daegc), (fmnist, sdcn), (fmnist, daegc)] -> 'mnist, fmnist: sdcn, daegc'."""
    by_dataset: dict[str, list[str]] = {}
    for dataset, method in pairs:
        by_dataset.setdefault(dataset, []).append(method)
    by_methods: dict[tuple, list[str]] = {}
    for dataset, methods in by_dataset.items():
        by_methods.setdefault(tuple(methods), []).append(dataset)
    return "; ".join(f"{', '.join(ds)}: {', '.join(ms)}" for ms, ds in by_methods.items())


def _left_out(grid: Grid | None) -> list[str]:
    """Skipped pairs and pairs with other seeds, one line per reason."""
    if grid is None:
        return []
    groups: dict[tuple, list[tuple[str, str]]] = {}
    for entry in grid.skipped:
        groups.setdefault(("skip", (), entry["reason"]), []).append((entry["dataset"], entry["method"]))
    for entry in grid.reduced:
        key = ("seeds", tuple(entry["seeds"]), entry["reason"])
        groups.setdefault(key, []).append((entry["dataset"], entry["method"]))
    lines = []
    for (kind, seeds, reason), pairs in groups.items():
        what = "not run" if kind == "skip" else f"seeds {_seed_list(list(seeds))} instead of {_seed_list(grid.seeds)}"
        lines.append(f"- {_pairs_text(pairs)} — {what}: {reason}")
    return lines


def _pending(grid: Grid | None, records: list[dict], data_root) -> list[str]:
    """One line per dataset for the grid's runs without a record yet."""
    if grid is None:
        return []
    from ..data import dataset_available

    have = {record_key(r) for r in records if "params_hash" in r}
    missing: dict[str, dict[str, list[int]]] = {}
    totals: dict[tuple[str, str], int] = {}
    for spec in grid.specs:
        totals[(spec.dataset, spec.method)] = totals.get((spec.dataset, spec.method), 0) + 1
        if spec.key not in have:
            missing.setdefault(spec.dataset, {}).setdefault(spec.method, []).append(spec.seed)
    lines = []
    for dataset, methods in missing.items():
        try:
            available = dataset_available(dataset, data_root)
        except (ValueError, OSError):
            available = False
        items = [m if len(seeds) == totals[(dataset, m)] else f"{m} (seeds {_seed_list(seeds)})"
                 for m, seeds in methods.items()]
        why = "" if available else f" — its data is not under the data root"
        lines.append(f"- {dataset}: not run yet — {', '.join(items)}{why}")
    return lines


def _seed_list(seeds: list[int]) -> str:
    if len(seeds) > 3 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _figure_lines(rows: list[dict], dataset: str, figures: dict, base: Path) -> str:
    parts = []
    bars = figures.get("bars", {}).get(dataset)
    if bars:
        parts.append(f"![{dataset}: methods, mean ± std]({_rel(bars, base)})")
    links = []
    for row in rows:
        if row["dataset"] != dataset:
            continue
        group = (row["dataset"], row["method"], row["params_hash"])
        items = []
        if group in figures.get("scatter", {}):
            items.append(f"[t-SNE]({_rel(figures['scatter'][group], base)})")
        if group in figures.get("curves", {}):
            items.append(f"[training curves]({_rel(figures['curves'][group], base)})")
        if items:
            links.append(f"{row['label']}: " + " · ".join(items))
    if links:
        parts.append("Figures — " + "; ".join(links) + ".")
    return "\n\n".join(parts)


def write_report(path, *, rows: list[dict], records: list[dict], grid: Grid | None, figures: dict,
                 tables: tuple[Path, Path], jsonl: Path, command: str | None = None,
                 data_root=None, notes: list[str] | None = None) -> Path:
    """Write the Markdown report to ``path``."""
    path = Path(path)
    base = path.parent
    settings = grid.settings if grid else {}
    shown = {(r["dataset"], r["method"], r["params_hash"]) for r in rows}
    ok = [r for key, r in latest_records(records)[0].items() if (key[0], key[1], key[3]) in shown]  # the tables' runs
    others = sum(r.get("status") == "ok" for r in records) - len(ok)
    failed_rows = [r for r in rows if r["failed"]]
    title = "Reproduction" if path.stem.upper() == "REPRODUCTION" else f"Benchmark {grid.name if grid else path.stem}"
    out = [f"# {title}", ""]
    if settings.get("description"):
        out += [settings["description"], ""]
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out += [f"Generated {now} from `{_rel(jsonl, base)}` ({len(ok)} finished runs in the tables"
            + (f", {sum(r['failed'] for r in rows)} failed" if failed_rows else "")
            + (f"; the file holds {others} more finished record{'s' * (others != 1)}, superseded by a later run of "
               "the same settings or made with settings this report does not tabulate" if others else "") + "). "
            f"Tables also as [CSV]({_rel(tables[1], base)}) and [Markdown]({_rel(tables[0], base)}).", ""]
    if command:
        out += ["Produced, and resumed after any interruption (finished runs are skipped), by:", "",
                f"    {command}", "",
                "Add `--report-only` to rebuild the tables, figures and this file from the JSONL without running.", ""]

    out += ["## Protocol", ""]
    out += ["- Every figure is the **final model** of a run: no epoch and no seed is chosen by looking at labels.",
            "- Mean ± std (population, ddof=0) over seeds; the seeds are the same for every method of a dataset, "
            "and so is the graph (built once per dataset from its catalog recipe, or the dataset's own graph), "
            "except for a method that sets another kNN `n_neighbors` than the recipe's: it builds its own graph "
            "with that k, and its records say so.",
            "- Hyperparameters are the estimators' defaults (the published ones) except where the configuration "
            "below states a per-dataset value."]
    if settings.get("monitor", True):
        out.append("- Labels are passed to `fit` only to log per-epoch metrics for the training curves "
                   "(a test checks that this never changes the result); monitoring time is included in *s / run*.")
    shared = sorted({s.method for s in grid.specs if s.shared_pretraining}) if grid else []
    if shared:
        out.append(f"- {', '.join(shared)} share, per (dataset, seed), one autoencoder pretrained with that seed and "
                   "schedule — the weights each would have pretrained for itself (tested); its pretraining time is "
                   "counted in each method's *s / run*.")
    out.append(f"- *{BEST_EPOCH_HEADER}* is a label-selected figure, shown only to compare with papers that "
               "report it.")
    out.append("")

    envs = _environments(ok)
    if envs:
        out += ["## Environment", ""]
        for versions, device, count in envs:
            ver = ", ".join(f"{k} {v}" for k, v in versions.items())
            dev = ", ".join(f"{k}: {v}" for k, v in device.items() if k != "platform")
            out.append(f"- {count} run{'' if count == 1 else 's'} — {ver}; {dev}")
        totals: dict[str, float] = {}
        for record in ok:
            label = device_label(record)
            totals[label] = totals.get(label, 0.0) + (record.get("time_s") or 0.0)
        amounts = [_hours(seconds) + ("" if len(totals) == 1 else f" on {'the CPU' if label == 'CPU' else label}")
                   for label, seconds in totals.items()]
        out += [f"- Recorded compute: {', '.join(amounts)} (sum of *s / run*; a shared pretraining counts in every "
                "method that used it).", ""]

    out += ["## Results", ""]
    if not rows:
        out += ["No finished runs yet.", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == dataset]
        out += [f"### {dataset}", "", markdown_table(mine), ""]
        figs = _figure_lines(rows, dataset, figures, base)
        if figs:
            out += [figs, ""]
    if rows:
        out += [TABLE_NOTE, ""]

    left_out = _left_out(grid) + _pending(grid, records, data_root)
    if grid is not None:  # e.g. a rerun under the new default failed or has not been made yet
        left_out += describe_stale(stale_runs(records, grid), "- {dataset} / {method} seeds {seeds}: shown as "
                                   "recorded, with other settings than the estimator's now ({what}); the next "
                                   "`graphclust bench` runs them again")
    for row in rows:
        if row.get("imported"):
            left_out.append(f"- {row['dataset']} / {row['label']}: {row['imported']} of {row['n']} runs taken over "
                            "from the earlier reproduce_* scripts (same protocol; no modularity, conductance, "
                            "curves or embedding for those)")
    for row in failed_rows:
        errors = "; ".join(e for e in row["errors"] if e)[:300]
        left_out.append(f"- {row['dataset']} / {row['label']}: {row['failed']} run(s) failed — {errors}")
    if left_out:
        out += ["## Not run, fewer seeds, failures", ""] + left_out + [""]
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]

    cited = {}
    for row in rows:
        if row["paper"]:
            cited[row["paper"]["source"]] = row["paper"]["citation"]
    if cited:
        out += ["## Published numbers", ""] + [f"- **{k}**: {v}" for k, v in cited.items()] + [""]

    if grid is not None:
        import yaml

        out += ["## Configuration", ""]
        source = Path(grid.source) if grid.source else None
        if source is not None and source.is_file():
            out += [f"`{grid.source}`" + (", as filtered or extended by the command above" if command else "") + ":",
                    "", "```yaml", source.read_text(encoding="utf-8").rstrip(), "```", ""]
        else:
            out += ["```yaml", yaml.safe_dump(grid.config, sort_keys=False, allow_unicode=True).rstrip(), "```", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def write_outputs(out_dir, name: str, *, grid: Grid | None = None, reference_path=None, plots: bool = True,
                  command: str | None = None, data_root=None, report_name: str | None = None,
                  tsne_points: int = 5000, log=print) -> dict:
    """JSONL -> ``<name>_tables.md``, ``<name>.csv``, ``figures/<name>/*.png`` and the report.

    With a ``grid``, only its runs are tabulated, in its order, and the report lists what it left
    out. A missing matplotlib skips the figures with a warning (the tables are still written).

    Returns: the paths written, by kind.
    """
    out_dir = Path(out_dir)
    jsonl = jsonl_path(out_dir, name)
    records = read_records(jsonl)
    reference = load_reference(reference_path)
    order = None
    if grid is not None:
        order = list(dict.fromkeys(s.group for s in grid.specs))
    rows = summarise(records, reference, order=order)
    tables = write_tables(rows, out_dir / f"{name}_tables.md", out_dir / f"{name}.csv",
                          title=f"{name}: final model, mean ± std over seeds")
    figures: dict = {}
    if plots and rows:
        from .plots import write_figures

        try:
            figures = write_figures(rows, out_dir, out_dir / "figures" / name, tsne_points=tsne_points, log=log)
        except ImportError as err:
            warnings.warn(f"figures skipped: {err}", stacklevel=2)
    report = out_dir / (report_name or (grid.settings.get("report") if grid else None) or f"{name}.md")
    write_report(report, rows=rows, records=records, grid=grid, figures=figures, tables=tables,
                 jsonl=jsonl, command=command, data_root=data_root,
                 notes=(grid.settings.get("notes") if grid else None))
    return {"jsonl": jsonl, "tables_md": tables[0], "csv": tables[1], "report": report, "figures": figures,
            "rows": rows}
