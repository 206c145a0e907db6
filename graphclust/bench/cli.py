"""``graphclust bench``: a resumable grid of methods × datasets × seeds, tables, figures and a report.

    graphclust bench --config benchmarks/configs/reproduction.yaml --data-root ../shared/data --out benchmarks/results/
    graphclust bench --methods kmeans,sdcn --datasets cora,usps --seeds 10
    graphclust bench --config benchmarks/configs/reproduction.yaml --datasets cora --seeds 3   # a part of it
    graphclust bench --config benchmarks/configs/reproduction.yaml --report-only              # tables/plots/report

Every finished run is appended at once to ``<out>/<name>.jsonl``; run the same command again after
an interruption and it skips what is done. Then ``<name>_tables.md``, ``<name>.csv``,
``figures/<name>/*.png`` and the report (``REPRODUCTION.md`` for the reproduction config) are
(re)written from the JSONL.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

__all__ = ["add_bench_parser", "cmd_bench"]


def add_bench_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``bench`` subcommand to ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    p = subparsers.add_parser("bench", help="benchmark grid: methods x datasets x seeds, resumable, with report",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    grid = p.add_argument_group("the grid")
    grid.add_argument("--config", default=None, help="YAML config (benchmarks/configs/*.yaml)")
    grid.add_argument("--methods", default=None,
                      help="comma-separated methods; with --config: run only these of its methods")
    grid.add_argument("--datasets", default=None,
                      help="comma-separated datasets; with --config: run only these of its datasets")
    grid.add_argument("--seeds", dest="seed_list", default=None, metavar="N|LIST",
                      help="N (seeds 0..N-1, default 10) or a list such as 0,3,7 (one seed k: 'k,'); "
                           "with --config: keep only these seeds")
    grid.add_argument("--param", action="append", default=[], metavar="[METHOD:]KEY=VALUE",
                      help="hyperparameter for every method that accepts it, or for METHOD only (repeatable)")
    grid.add_argument("--name", default=None, help="output base name (default: the config's name, else 'bench')")
    grid.add_argument("--share-pretraining", action="store_true", default=None,
                      help="AE-based methods of a (dataset, seed) share one pretrained autoencoder")
    grid.add_argument("--no-monitor", action="store_true",
                      help="do not pass labels to fit (no monitored curves, no best-epoch column)")
    run = p.add_argument_group("running")
    run.add_argument("--data-root", default=None,
                     help="data folder (default $GRAPHCLUST_DATA, else the repository's datasets/)")
    run.add_argument("--out", default="benchmarks/results", help="results folder (default benchmarks/results)")
    run.add_argument("--device", default=None, help="cpu, cuda, cuda:N or auto (default: the config's, else cpu)")
    run.add_argument("--threads", type=int, default=None,
                     help="torch intra-op threads (of each worker with --jobs; default 1 there)")
    run.add_argument("--jobs", type=int, default=1,
                     help="worker processes running (dataset, seed) units side by side (default 1); "
                          "on C cores, --jobs C is the fastest")
    run.add_argument("--max-runs", type=int, default=None, help="stop after this many runs (resume later)")
    run.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    run.add_argument("--dry-run", action="store_true", help="list what would run, run nothing")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument("--import-legacy", action="append", default=[], metavar="JSONL",
                     help="first take over the runs of this grid found in a JSONL of the earlier "
                          "benchmarks/reproduce_*.py scripts (same protocol), so they are not run again")
    out = p.add_argument_group("report")
    out.add_argument("--report-only", action="store_true",
                     help="rebuild tables, figures and the report from the JSONL without running")
    out.add_argument("--no-plots", action="store_true", help="tables and report without figures")
    out.add_argument("--reference", default=None,
                     help="published numbers (default graphclust/bench/papers.yaml, shipped with the package)")
    p.set_defaults(func=cmd_bench)
    return p


def _grids(args):
    """(whole, part): the grid the report covers and the part of it to run now. With a config,
    ``whole`` is the config's grid and ``part`` keeps its --methods / --datasets / --seeds; without
    one they are the same grid."""
    from ..cli import _parse_params
    from .grid import build_grid, load_config, with_params

    params = _parse_params(args.param)
    settings = {"device": args.device, "threads": args.threads, "share_pretraining": args.share_pretraining,
                "monitor": False if args.no_monitor else None, "name": args.name}
    settings = {k: v for k, v in settings.items() if v is not None}
    if args.config:
        config = {**load_config(args.config), **settings}
        whole = build_grid(with_params(config, params), source=args.config)
        return whole, whole.filter(methods=args.methods, datasets=args.datasets, seeds=_seeds(args.seed_list))
    if not (args.methods and args.datasets):
        raise ValueError("give --config FILE, or --methods and --datasets (see graphclust bench --help)")
    seeds = _seeds(args.seed_list) if args.seed_list is not None else 10
    config = {"name": "bench", "methods": _names(args.methods), "datasets": _names(args.datasets), "seeds": seeds,
              **settings}
    grid = build_grid(with_params(config, params))
    return grid, grid


def _seeds(text: str | None):
    """'10' -> 10 (seeds 0..9); '0,3' or '5,' -> that list; None -> None."""
    if text is None:
        return None
    return int(text) if text.strip().isdigit() else text


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _command(args) -> str:
    """The command that (re)produces the report of ``args``: with a config, without the options
    that pick a part of its grid."""
    whole = bool(args.config)
    parts = ["graphclust", "bench"]
    for flag, value in (("--config", args.config), ("--methods", None if whole else args.methods),
                        ("--datasets", None if whole else args.datasets),
                        ("--seeds", None if whole else args.seed_list), ("--name", args.name),
                        ("--data-root", args.data_root), ("--out", args.out), ("--device", args.device),
                        ("--threads", args.threads)):
        if value is not None:
            parts += [flag, str(value)]
    if getattr(args, "jobs", 1) > 1:
        parts += ["--jobs", str(args.jobs)]
    for item in args.param:
        parts += ["--param", item]
    for flag, on in (("--share-pretraining", args.share_pretraining), ("--no-monitor", args.no_monitor)):
        if on:
            parts.append(flag)
    return " ".join(shlex.quote(p) for p in parts)


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _dry_run(grid, out: Path, legacy_files: list, retry_failed: bool = False) -> str:
    """What a run of ``grid`` would do: runs done, taken over from the legacy files, left to run,
    and for each (dataset, method) row left the compute time at the mean measured "s / run" of
    that row's finished runs (none measured yet: said so)."""
    from .runner import (checkpoint_path, checkpoint_progress, describe_stale, done_keys, jsonl_path, legacy_records,
                         read_records, record_key, stale_runs)

    records = read_records(jsonl_path(out, grid.name))
    current = {record_key(r): r for r in records if "params_hash" in r}  # the latest per key
    taken: list[dict] = []
    for legacy in legacy_files:
        if Path(legacy).exists():
            taken += legacy_records(legacy, grid, set(current) | {record_key(r) for r in taken}, current)
    stale = stale_runs(records + taken, grid)  # a run taken over under an old default is run again too
    done = done_keys(records + taken, retry_failed=retry_failed) - set(stale)
    pending = [s for s in grid.specs if s.key not in done]
    times: dict[tuple, list[float]] = {}
    for r in records + taken:
        if r.get("status") == "ok" and isinstance(r.get("time_s"), (int, float)):
            times.setdefault((r["dataset"], r["method"], r["params_hash"]), []).append(float(r["time_s"]))
    rows: dict[tuple, list[int]] = {}
    for spec in pending:
        rows.setdefault((spec.dataset, spec.method, spec.params_hash), []).append(spec.seed)
    lines, known, unknown = [], 0.0, 0
    for (dataset, method, params_hash), seeds in rows.items():
        measured = times.get((dataset, method, params_hash))
        if measured:
            per_run = sum(measured) / len(measured)
            known += per_run * len(seeds)
            estimate = f"~{_duration(per_run * len(seeds))} ({per_run:.0f} s / run measured)"
        else:
            unknown += len(seeds)
            estimate = "no run measured yet"
        lines.append(f"  {dataset:14s} {method:12s} seeds {','.join(map(str, seeds))}: {estimate}")
    for spec in pending:  # killed half-way: they resume from there
        progress = checkpoint_progress(checkpoint_path(out, grid.name, spec))
        if progress:
            lines.append(f"  {spec.dataset} {spec.method} seed {spec.seed}: resumes from its checkpoint ({progress})")
    lines += describe_stale(stale)
    lines += [f"  skipped: {entry['dataset']} / {entry['method']}: {entry['reason']}" for entry in grid.skipped]
    head = (f"{grid.name}: {len(grid.specs)} runs, {len(grid.specs) - len(pending)} done"
            + (f" ({len(taken)} of them to take over from {', '.join(Path(f).name for f in legacy_files)})"
               if taken else "")
            + f", {len(pending)} to run")
    if pending:
        head += (f"; measured rows ~{_duration(known)} of compute"
                 + (f", {unknown} runs in rows with no measured run yet" if unknown else ""))
    return "\n".join([head, *lines])


def cmd_bench(args) -> int:
    from .report import write_outputs
    from .runner import import_legacy, run_grid

    if args.report_only and not args.config and not (args.methods and args.datasets):
        # tables, figures and report of whatever <out>/<name>.jsonl holds
        written = write_outputs(Path(args.out), args.name or "bench", reference_path=args.reference,
                                plots=not args.no_plots, data_root=args.data_root)
        print(f"report: {written['report']}\ntables: {written['tables_md']}, {written['csv']}")
        return 0
    whole, grid = _grids(args)
    threads = args.threads or grid.settings.get("threads")
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    if threads and args.jobs == 1:
        import torch

        torch.set_num_threads(int(threads))
    out = Path(args.out)
    data_root = args.data_root if args.data_root is not None else grid.settings.get("data_root")
    log = (lambda *a: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))

    legacy_files = [out / name for name in grid.settings.get("import_legacy", [])] + list(args.import_legacy)
    if args.dry_run:
        print(_dry_run(grid, out, legacy_files, retry_failed=args.retry_failed))
        return 0

    for legacy in legacy_files:
        if Path(legacy).exists():
            log(f"{import_legacy(legacy, grid, out)} runs taken over from {legacy}")
        else:
            log(f"no {legacy}: nothing to take over from it")
    if not args.report_only:
        summary = run_grid(grid, out, data_root=data_root, max_runs=args.max_runs, retry_failed=args.retry_failed,
                           progress=not args.quiet, jobs=args.jobs, threads=int(threads) if threads else None)
        log(f"{summary.ran} runs done now ({summary.failed} failed), {summary.already_done} were already done, "
            f"{summary.left} left; records in {summary.path}")
        for dataset, why in summary.unavailable.items():
            print(f"warning: {dataset} not available: {why}", file=sys.stderr)  # even with --quiet
    # a run of a part still writes the tables and the report of the whole config's grid
    written = write_outputs(out, whole.name, grid=whole,
                            reference_path=args.reference or whole.settings.get("reference"),
                            plots=not args.no_plots, command=_command(args), data_root=data_root,
                            tsne_points=whole.settings.get("tsne_points", 5000), log=log)
    print(f"report: {written['report']}\ntables: {written['tables_md']}, {written['csv']}")
    return 0
