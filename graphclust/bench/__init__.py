"""The benchmark harness: every method × dataset × seed in one resumable run, honest tables, figures.

    grid.py       YAML config or CLI lists -> validated run specs (dataset, method, seed, params)
    runner.py     runs the specs, one JSONL record per finished run, skips what is recorded
    aggregate.py  records -> mean ± std tables (Markdown, CSV) with the papers' numbers beside
    plots.py      t-SNE scatter, per-dataset bars, training curves (matplotlib: the ``viz`` extra)
    report.py     the report (REPRODUCTION.md): protocol, environment, tables, figures, what was left out
    cli.py        ``graphclust bench``

>>> from graphclust.bench import grid_from_lists, run_grid, write_outputs
>>> grid = grid_from_lists("kmeans,spectral", "digits", seeds=2)   # doctest: +SKIP
>>> run_grid(grid, "results/")                                     # doctest: +SKIP
>>> write_outputs("results/", grid.name, grid=grid)                # doctest: +SKIP
"""
from .aggregate import load_reference, markdown_tables, summarise, write_tables
from .grid import Grid, RunSpec, build_grid, grid_from_lists, load_config
from .report import write_outputs
from .runner import BEST_EPOCH_KEY, read_records, run_grid, run_spec

__all__ = [
    "BEST_EPOCH_KEY",
    "Grid",
    "RunSpec",
    "build_grid",
    "grid_from_lists",
    "load_config",
    "load_reference",
    "markdown_tables",
    "read_records",
    "run_grid",
    "run_spec",
    "summarise",
    "write_outputs",
    "write_tables",
]
