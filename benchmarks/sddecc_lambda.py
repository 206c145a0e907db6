"""SDDECC's sensitivity to λ1 and λ2 (the paper's Fig. 7): ACC and NMI of the final model over a
grid of λ1 (the weight of the MI terms) × λ2 (the weight of L_c).

The paper searches λ1 ∈ {0.001, 0.005, 0.01, 0.05, 0.1} and λ2 ∈ {1, 1.25, 1.5, 1.75, 2} on
Fashion-MNIST and finds ACC and NMI "relatively stable under most combinations", without saying
which setting its tables report. SDDECC's defaults are the grids' centres (λ1 = 0.01, λ2 = 1.5),
not chosen from this sweep. This script runs any part of the grid on one dataset (default USPS,
about 8 min a run on one core; a 70,000-image run takes about 2 h, 7,213 s on MNIST) with SDDECC's defaults
otherwise, on the schedule ``reproduce_sddecc.py`` gives the dataset (``SDDECC_EPOCHS``):

    python benchmarks/sddecc_lambda.py --data-root ../shared/data --lambda2 1.5
    python benchmarks/sddecc_lambda.py --data-root ../shared/data --lambda1 0.01 --seeds 3

(the first runs λ1's grid at λ2 = 1.5, the second λ2's grid at λ1 = 0.01, three seeds each).

Each finished run is appended at once to ``results/sddecc_lambda.jsonl`` (one record per dataset,
cell and seed, with the code's label-free state); rerunning skips what is recorded, and a run
killed half-way resumes from its checkpoint. The centre cell also takes the default SDDECC runs of
``reproduce_sddecc.py`` (``sddecc.jsonl``: the same estimator, settings and schedule). The tables
go to ``results/sddecc_lambda.md`` after every run: ACC, NMI and the code's state as λ1 × λ2
grids. The highest cell there is picked by looking at labels: a comparison figure, never a setting.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reproduce_sddecc as sddecc  # noqa: E402
from _common import (catalog_dataset, check_known, check_seed_range, mean_std, parse_run_args,  # noqa: E402
                     read_runs, run_parser)

from graphclust.cli import versions  # noqa: E402
from graphclust.data import load_dataset  # noqa: E402
from graphclust.registry import make_method  # noqa: E402

LAMBDA1, LAMBDA2 = sddecc.LAMBDA1_GRID, sddecc.LAMBDA2_GRID  # the paper's grids (Fig. 7)


def out_file(suffix: str = "jsonl") -> Path:
    """``sddecc_lambda.<suffix>`` beside ``reproduce_sddecc.py``'s results."""
    return sddecc.RESULTS / f"sddecc_lambda.{suffix}"


def cell_label(lambda1: float, lambda2: float) -> str:
    """The ``method`` field of a run of cell (λ1, λ2)."""
    return f"sddecc_lambda1={lambda1:g}_lambda2={lambda2:g}"


def cells(dataset: str) -> dict[tuple[float, float], dict[int, dict]]:
    """The recorded runs on ``dataset`` by cell (λ1, λ2) and seed: this script's, and the default
    SDDECC runs of ``reproduce_sddecc.py`` (their cell is read from their settings), this script's
    kept where both hold a seed."""
    default = [r for r in read_runs(sddecc.RESULTS / "sddecc.jsonl")
               if (r["dataset"], r["method"]) == (dataset, "sddecc")]
    found: dict[tuple[float, float], dict[int, dict]] = {}
    for run in default + [r for r in read_runs(out_file()) if r["dataset"] == dataset]:
        config = run["full_config"]
        found.setdefault((config["lambda1"], config["lambda2"]), {})[run["seed"]] = run
    return found


def default_cell() -> tuple[float, float]:
    """(λ1, λ2) of SDDECC's defaults: the centre of the grid."""
    default = make_method("sddecc")
    return default.lambda1, default.lambda2


def swept_cells() -> dict[str, dict]:
    """:func:`cells` of every dataset this script has run on, in ``DATASETS`` order."""
    ran = {r["dataset"] for r in read_runs(out_file())}
    return {dataset: cells(dataset) for dataset in sddecc.DATASETS if dataset in ran}


def grid_table(found: dict, cell_text) -> str:
    """A Markdown λ1 (rows) × λ2 (columns) table over the cells in ``found``; ``cell_text(by_seed)``
    writes a cell from its runs by seed, "—" where the cell has none."""
    lambda1s = sorted({l1 for l1, _ in found})
    lambda2s = sorted({l2 for _, l2 in found})
    lines = ["| λ1 \\ λ2 | " + " | ".join(f"{l2:g}" for l2 in lambda2s) + " |",
             "|---|" + "---|" * len(lambda2s)]
    for l1 in lambda1s:
        row = [cell_text(found[(l1, l2)]) if (l1, l2) in found else "—" for l2 in lambda2s]
        lines.append(f"| {l1:g} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def with_seeds(metric: str):
    """A cell writer: mean ± std of ``metric`` and, in brackets, the number of seeds."""
    return lambda by_seed: f"{mean_std([r[metric] for r in by_seed.values()])} ({len(by_seed)})"


def against(reference: dict[int, dict]):
    """A cell writer: the points of ACC by which the cell's runs beat those of ``reference`` (the
    defaults' cell) on the same seeds, their mean and, in brackets, how many seeds both ran."""
    def text(by_seed: dict[int, dict]) -> str:
        if by_seed is reference:
            return "the defaults"
        shared = sorted(set(by_seed) & set(reference))
        if not shared:
            return "—"
        gain = np.mean([by_seed[s]["acc"] - reference[s]["acc"] for s in shared])
        return f"{100 * gain:+.1f} ({len(shared)})"
    return text


def code_text(by_seed: dict[int, dict]) -> str:
    """A cell of the code's label-free state: mean KL to N(0, I) (nats) / share of the pixel
    variance the decoder recovers from μ(x), means over the runs that recorded it."""
    code = [r["code"] for r in by_seed.values() if r.get("code")]
    if not code:
        return "—"
    return (f"{np.mean([c['rate_nats'] for c in code]):.1f} nats / "
            f"{100 * np.mean([c['rec_explained'] for c in code]):.0f}%")


def summary(dataset: str, found: dict) -> list[str]:
    """Two Markdown bullets on one dataset's sweep: what ran, and ACC's range over the cells."""
    means = {cell: float(np.mean([r["acc"] for r in runs.values()])) for cell, runs in found.items()}
    low, high = min(means, key=means.get), max(means, key=means.get)
    runs = [r for by_seed in found.values() for r in by_seed.values()]
    paper_acc = sddecc.PAPER[(dataset, "sddecc")][0]

    def at(cell):
        return f"{means[cell]:.4f} at λ1 = {cell[0]:g}, λ2 = {cell[1]:g}"

    centre = default_cell()
    seeds = sddecc.seed_list(sorted({r["seed"] for r in runs}))
    lines = [f"- {len(found)} cells run, {len(runs)} runs (seeds {seeds}), {np.mean([r['time'] for r in runs]):.0f} s "
             "per run on average.",
             f"- ACC over the cells' means: lowest {at(low)}, highest {at(high)} (the highest picked by looking at "
             f"labels: a comparison figure, not a setting); the defaults' cell: "
             + (at(centre) if centre in found else "not run") + f". The paper reports {paper_acc:.2f} for SDDECC "
             "(Table 3) at a setting it does not state."]
    return lines


def dataset_section(dataset: str, found: dict) -> str:
    """The tables and the summary of one dataset's sweep."""
    centre = default_cell()
    return (f"## {dataset}\n\n" + "\n".join(summary(dataset, found)) + "\n\n"
            "ACC, final model, mean ± std over seeds (seeds in brackets):\n\n" + grid_table(found, with_seeds("acc"))
            + ("\n\nACC against the defaults on the same seeds (points, seed-paired mean; seeds in brackets):\n\n"
               + grid_table(found, against(found[centre])) if centre in found else "")
            + "\n\nNMI:\n\n" + grid_table(found, with_seeds("nmi"))
            + "\n\nThe code at the final model (label-free: mean KL(p(z|x) ‖ N(0, I)) / share of the pixel variance "
            "the decoder recovers from μ(x)):\n\n" + grid_table(found, code_text) + "\n")


def lambda_note() -> str:
    """The section of ``sddecc.md`` on the sweep ("" before any run): each dataset's summary."""
    swept = swept_cells()
    if not swept:
        return ""
    lines = [f"**{dataset}**\n\n" + "\n".join(summary(dataset, found)) for dataset, found in swept.items()]
    return ("## SDDECC over the paper's λ grid (Fig. 7)\n\nThe defaults are the centres of the grids the paper "
            "searches; `sddecc_lambda.py` runs other cells with everything else unchanged. The tables are in "
            "`sddecc_lambda.md`.\n\n" + "\n\n".join(lines) + "\n")


def write_tables() -> str:
    """``sddecc_lambda.md``: one section per dataset this script has run on; ``sddecc.md`` again, with
    its section on the sweep."""
    centre = default_cell()
    parts = ["# SDDECC over the paper's λ1 × λ2 grid (Fig. 7)\n",
             "Produced by `benchmarks/sddecc_lambda.py`; per-run records in `sddecc_lambda.jsonl`, the centre cell "
             f"(the defaults, λ1 = {centre[0]:g}, λ2 = {centre[1]:g}) also from `sddecc.jsonl`. SDDECC's other "
             "settings are its defaults, on the schedule of `reproduce_sddecc.py`. The paper's Fig. 7 is on "
             "Fashion-MNIST and gives no numbers in its text; the defaults were not chosen from these tables.\n"]
    parts += [dataset_section(dataset, found) for dataset, found in swept_cells().items()]
    text = "\n".join(parts)
    out_file("md").write_text(text)
    sddecc.write_tables(sddecc.DATASETS)  # its section on the sweep (lambda_note)
    return text


def parse_values(parser, name: str, text: str) -> list[float]:
    """The comma-separated values of option ``--name``, numbers >= 0 and finite, or a parser error."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        parser.error(f"--{name} {text!r}: comma-separated numbers expected")
    if not values or any(not math.isfinite(v) or v < 0 for v in values):
        parser.error(f"--{name} {text!r}: finite numbers >= 0 expected")
    return list(dict.fromkeys(values))


def main() -> None:
    parser = run_parser(__doc__)
    parser.add_argument("--dataset", default="usps", help=f"one of {', '.join(sddecc.DATASETS)}")
    parser.add_argument("--lambda1", default=",".join(f"{v:g}" for v in LAMBDA1),
                        help="comma-separated λ1 values (default: the paper's grid)")
    parser.add_argument("--lambda2", default=",".join(f"{v:g}" for v in LAMBDA2),
                        help="comma-separated λ2 values (default: the paper's grid)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per cell (default 1)")
    parser.add_argument("--first-seed", type=int, default=0, help="runs seeds FIRST_SEED .. SEEDS-1 (default 0)")
    args = parse_run_args(parser)
    args.dataset = catalog_dataset(parser, args.dataset)  # an alias or another case names the same dataset
    check_known(parser, "dataset", [args.dataset], sddecc.DATASETS)
    lambda1s = parse_values(parser, "lambda1", args.lambda1)
    lambda2s = parse_values(parser, "lambda2", args.lambda2)
    check_seed_range(parser, args.first_seed, args.seeds)
    recorded = cells(args.dataset)
    todo = [(seed, l1, l2) for seed in range(args.first_seed, args.seeds) for l1 in lambda1s for l2 in lambda2s
            if seed not in recorded.get((l1, l2), {})]  # every cell gets its first seeds before any its last
    env, data = versions(), None
    for done, (seed, l1, l2) in enumerate(todo, 1):
        print(f"[{done}/{len(todo)}] {args.dataset} λ1 = {l1:g}, λ2 = {l2:g}, seed {seed}", flush=True)
        data = load_dataset(args.dataset, root=args.data_root) if data is None else data
        model = make_method("sddecc", n_clusters=int(data.y.max()) + 1, random_state=seed, device=args.device,
                            verbose=not args.quiet, **{**sddecc.SDDECC_EPOCHS.get(args.dataset, {}),
                                                       "lambda1": l1, "lambda2": l2})
        sddecc.fit_and_record(model, data, args.dataset, cell_label(l1, l2), "sddecc", seed, out_file(), env=env,
                              extra={"lambda1": l1, "lambda2": l2})
        write_tables()
    print(write_tables())


if __name__ == "__main__":
    main()
