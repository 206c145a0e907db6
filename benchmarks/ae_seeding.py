"""AE+K-means seeded as the estimator seeds itself, beside ``reproduce_baselines.py``'s rows.

``reproduce_baselines.py`` pretrains seed s's autoencoder from ``torch.Generator().manual_seed(s)``;
``AEKMeans(random_state=s).fit`` (and the grid of ``graphclust bench``) first draws its numpy seed
from that generator and pretrains from there on. Both are seeded draws of one schedule, so their
ACC should agree up to the spread over seeds. This script fits the estimator itself, defaults and
``random_state=s``, for the seeds asked, appends each run to
``benchmarks/results/ae_seeding.jsonl`` at once (a rerun skips the recorded seeds) and writes
``ae_seeding.md``: both seedings' ACC side by side and a two-sided Mann-Whitney U test of the
hypothesis that they score alike. Final models only; no label reaches a fit.

    python benchmarks/ae_seeding.py --data-root ../shared/data --dataset mnist --first-seed 0 --seeds 4
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (RESULTS, append_run, catalog_dataset, check_seed_range, checkpointed_fit, done_keys,  # noqa: E402
                     mean_std, model_config, parse_run_args, peak_rss_mib, read_runs, run_parser)

from graphclust.cli import versions  # noqa: E402
from graphclust.data import load_dataset  # noqa: E402
from graphclust.metrics import evaluate  # noqa: E402
from graphclust.registry import make_method  # noqa: E402

OUT = RESULTS / "ae_seeding.jsonl"
SEEDINGS = {"manual_seed(s) (reproduce_baselines.py, Table 3)": "baselines_{dataset}.jsonl",
            "fit(random_state=s) (the estimator, the grid)": "ae_seeding.jsonl"}


def main() -> None:
    parser = run_parser(__doc__)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--seeds", type=int, default=4, help="run seeds below this (default: 4)")
    parser.add_argument("--first-seed", type=int, default=0, help="run seeds from this one on (default: 0)")
    args = parse_run_args(parser)
    check_seed_range(parser, args.first_seed, args.seeds)
    args.dataset = catalog_dataset(parser, args.dataset)
    data = load_dataset(args.dataset, root=args.data_root, graph=False)
    y = data.y.numpy()
    done = done_keys(OUT)
    env = versions()
    for seed in range(args.first_seed, args.seeds):
        if (args.dataset, "ae_kmeans", seed) in done:
            continue
        model = make_method("ae_kmeans", n_clusters=int(y.max()) + 1, random_state=seed, device=args.device,
                            verbose=not args.quiet)
        seconds, _ = checkpointed_fit(model, data, f"ae_seeding_{args.dataset}_seed{seed}")
        scores = evaluate(y, model.labels_)
        append_run(OUT, {"dataset": args.dataset, "method": "ae_kmeans", "seed": seed, "seeding": "fit", **scores,
                         "time": seconds, "pretrain_loss": model.history_[-1]["loss"], "config": repr(model),
                         "full_config": model_config(model), "peak_rss_mib": peak_rss_mib(), "versions": env})
        print(f"ae_kmeans seed {seed} (fit seeding): " + " ".join(f"{k}={v:.4f}" for k, v in scores.items())
              + f" ({seconds:.0f}s)", flush=True)
    print(write_table(recorded_datasets(args.dataset)), flush=True)


def recorded_datasets(also: str) -> list[str]:
    """The datasets with estimator-seeded runs in ``ae_seeding.jsonl``, in the order first recorded,
    and ``also`` last where it has none: the table of a run on one dataset keeps the others'."""
    names = dict.fromkeys(r["dataset"] for r in read_runs(OUT))
    names.setdefault(also, None)
    return list(names)


def seeding_accs(dataset: str) -> dict[str, dict[int, float]]:
    """seed -> ACC of AE+K-means on ``dataset`` under each seeding of :data:`SEEDINGS`."""
    return {name: {r["seed"]: r["acc"] for r in read_runs(RESULTS / path.format(dataset=dataset))
                   if r.get("dataset") == dataset and r.get("method") == "ae_kmeans"}
            for name, path in SEEDINGS.items()}


def seeding_test(accs: dict[str, dict[int, float]]) -> dict | None:
    """Both seedings' ACC (:func:`seeding_accs` of a dataset) set against each other (None while
    either has fewer than 2 seeds): ``u`` and ``p`` of the two-sided Mann-Whitney U test (the estimator's seeding as the
    first sample), ``pairs`` (n_script × n_estimator), ``diff`` (difference of the means, points of
    ACC) and ``p_spread``, Brown-Forsythe's two-sided test of equal spreads (Levene's about the
    median; None unless both have 3 seeds or more)."""
    from scipy.stats import levene, mannwhitneyu

    script, estimator = (list(v.values()) for v in accs.values())
    if len(script) < 2 or len(estimator) < 2:
        return None
    u, p = mannwhitneyu(estimator, script, alternative="two-sided")
    return {"u": float(u), "p": float(p), "pairs": len(script) * len(estimator),
            "diff": 100 * (float(np.mean(estimator)) - float(np.mean(script))),
            "p_spread": (float(levene(estimator, script, center="median").pvalue)  # with 2, |x - median| is one value
                         if min(len(script), len(estimator)) >= 3 else None)}


def spread_text(test: dict) -> str:
    """", equal spreads (Brown-Forsythe) two-sided p = ..." of a :func:`seeding_test`; "" where it has none."""
    return "" if test["p_spread"] is None else f", equal spreads (Brown-Forsythe) two-sided p = {test['p_spread']:.3g}"


def seeding_note(datasets) -> str:
    """The paragraph under ``sddecc.md``'s Table 3: how its AE rows seed their autoencoder and, per
    dataset where both seedings have 2 seeds or more, what AE+K-means scores under the estimator's
    own (:func:`seeding_test`); "" where none has."""
    found = []
    for dataset in datasets:
        accs = seeding_accs(dataset)
        test = seeding_test(accs)
        if test is not None:
            script, estimator = (list(v.values()) for v in accs.values())
            found.append(f"{dataset}: {mean_std(estimator)} ({len(estimator)} seeds) "
                         f"against Table 3's {mean_std(script)} ({len(script)} seeds), "
                         f"{test['diff']:+.1f} points, Mann-Whitney two-sided p = {test['p']:.3g}{spread_text(test)}")
    if not found:
        return ""
    return ("The AE rows (AE+K-means, DEC, IDEC) of `reproduce_baselines.py` pretrain seed s's autoencoder from "
            "`torch.Generator().manual_seed(s)`, not as `fit(random_state=s)` seeds it (the estimator draws its "
            "numpy seed first). AE+K-means fitted as the estimator seeds itself (`ae_seeding.md`): "
            + "; ".join(found) + ".\n")


def write_table(datasets) -> str:
    """``ae_seeding.md`` from the records: per dataset, each seeding's ACC and :func:`seeding_test`."""
    lines = ["# AE+K-means: the autoencoder seeded as reproduce_baselines.py seeds it, or as the estimator does\n",
             "Produced by `benchmarks/ae_seeding.py` (its docstring says why); AE+K-means with the estimator's "
             "defaults, final model; the script's seeding is Table 3's rows (`baselines_<dataset>.jsonl`), the "
             "estimator's is recorded in `ae_seeding.jsonl`.\n",
             "| dataset | seeding | seeds | ACC | each seed's ACC |", "|---|---|---|---|---|"]
    tests = []
    for dataset in datasets:
        accs = seeding_accs(dataset)
        for name, by_seed in accs.items():
            lines.append(f"| {dataset} | {name} | {len(by_seed)} | {mean_std(list(by_seed.values()))} | "
                         + ", ".join(f"{s}: {by_seed[s]:.4f}" for s in sorted(by_seed)) + " |")
        test = seeding_test(accs)
        if test is not None:
            tests.append(f"- {dataset}: U = {test['u']:g} of {test['pairs']} pairs (pairs in which the estimator's "
                         f"seeding scores higher), two-sided p = {test['p']:.3g}; difference of the means "
                         f"{test['diff']:+.1f} points of ACC{spread_text(test)}.")
    text = "\n".join(lines) + "\n\nThe estimator's seeding against the script's (Mann-Whitney U; Brown-Forsythe):\n\n" \
        + "\n".join(tests or ["- fewer than 2 seeds of a seeding: no test."]) + "\n\n" \
        + ("The U test was the question this script was written for (do the two seedings score alike?); the test "
           "of equal spreads was added after the first estimator-seeded runs had been seen, so its p is not a "
           "planned test's.\n")
    OUT.with_suffix(".md").write_text(text)
    return text


if __name__ == "__main__":
    main()
