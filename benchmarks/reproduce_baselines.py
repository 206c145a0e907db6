"""Graph-free baselines on USPS (issue: foundation): KMeans, AE+KMeans, DEC, IDEC over 10 seeds.

Final-model results only (no epoch or seed chosen by labels). For each seed one autoencoder is
pretrained and handed to AE+KMeans, DEC and IDEC through ``pretrained=`` — the same weights
each of them would have pretrained for itself with that seed and schedule, computed once.
Every finished run is appended to ``benchmarks/results/baselines_<dataset>.jsonl`` at once;
rerunning skips what is there. The table goes to ``benchmarks/results/baselines_<dataset>.md``.

    python benchmarks/reproduce_baselines.py --data-root ../shared/data --seeds 10
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (RESULTS, append_run, done_keys, model_config, parse_run_args, peak_rss_mib, read_runs,  # noqa: E402
                     reset_peak_rss, run_parser, summary_table)

from graphclust.cli import versions  # noqa: E402
from graphclust.data import load_dataset  # noqa: E402
from graphclust.metrics import evaluate  # noqa: E402
from graphclust.registry import make_method  # noqa: E402
from graphclust.training import PretrainConfig, build_pretrained_autoencoder  # noqa: E402

PAPER = {  # SDDECC paper (seed 003) Table 3: ACC / NMI in % (ARI, F1 not reported)
    ("usps", "kmeans"): (66.82, 62.70, None, None), ("usps", "ae_kmeans"): (69.31, 66.20, None, None),
    ("usps", "dec"): (74.08, 75.29, None, None), ("usps", "idec"): (76.05, 78.46, None, None),
    ("usps", "deepcluster"): (56.23, 54.03, None, None),
    ("mnist", "kmeans"): (53.22, 50.04, None, None), ("mnist", "ae_kmeans"): (80.76, 73.03, None, None),
    ("mnist", "dec"): (86.55, 83.72, None, None), ("mnist", "idec"): (88.06, 86.72, None, None),
    ("mnist", "deepcluster"): (79.71, 66.15, None, None),
}
METHODS = ("kmeans", "ae_kmeans", "dec", "idec")
AE_METHODS = ("ae_kmeans", "dec", "idec", "dcn")


def write_table(path: Path, dataset: str, pretrain_epochs: int) -> str:
    text = (f"# Graph-free baselines on {dataset} (final model, mean ± std over seeds)\n\n"
            f"AE d-500-500-2000-10, {pretrain_epochs} pretraining epochs, batch 256, Adam 1e-3; k-means n_init=20; "
            "time per run includes the AE pretraining. Paper: SDDECC Table 3.\n\n"
            + summary_table(read_runs(path), PAPER) + "\n")
    path.with_suffix(".md").write_text(text)
    return text


def main() -> None:
    parser = run_parser(__doc__)
    parser.add_argument("--dataset", default="usps")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--pretrain-epochs", type=int, default=None, help="default: the estimators' default")
    args = parse_run_args(parser)

    methods = args.methods.split(",")
    pretrain_epochs = args.pretrain_epochs or make_method("ae_kmeans").pretrain_epochs
    data = load_dataset(args.dataset, root=args.data_root, graph=False)
    out = RESULTS / f"baselines_{args.dataset}.jsonl"
    RESULTS.mkdir(parents=True, exist_ok=True)
    done = {(m, seed) for _, m, seed in done_keys(out)}
    env = versions()
    for seed in range(args.seeds):
        if run_baseline_seed(data, args.dataset, seed, [m for m in methods if (m, seed) not in done], out,
                             pretrain_epochs=pretrain_epochs, device=args.device, env=env,
                             verbose=not args.quiet):
            print(write_table(out, args.dataset, pretrain_epochs), flush=True)


def run_baseline_seed(data, dataset: str, seed: int, methods, out: Path, *, pretrain_epochs: int,
                      device: str = "cpu", env: dict | None = None, verbose: bool = True) -> int:
    """Fit ``methods`` with ``seed`` on ``data``, the AE-based ones from one autoencoder pretrained
    here; append each record to ``out`` as it finishes. Returns the number of runs."""
    ae, pretrain_time = None, 0.0
    reset_peak_rss()  # the seed's peak: its shared AE and every method on it
    if any(m in AE_METHODS for m in methods):
        start = time.perf_counter()
        ae, _ = build_pretrained_autoencoder(data.x.to(device), config=PretrainConfig(epochs=pretrain_epochs),
                                             generator=torch.Generator().manual_seed(seed), verbose=verbose)
        pretrain_time = time.perf_counter() - start
        print(f"seed {seed}: pretrained AE in {pretrain_time:.0f}s", flush=True)
    y = data.y.numpy()
    for method in methods:
        params = {"n_clusters": int(y.max()) + 1, "random_state": seed, "device": device, "verbose": verbose}
        if method in AE_METHODS:
            params |= {"pretrained": ae, "pretrain_epochs": pretrain_epochs}
        model = make_method(method, **params)
        start = time.perf_counter()
        model.fit(data)
        elapsed = time.perf_counter() - start + (pretrain_time if method in AE_METHODS else 0.0)
        scores = evaluate(y, model.labels_)
        config = repr(model).replace(f"pretrained={ae!r}", "pretrained=<this seed's AE>")
        append_run(out, {"dataset": dataset, "method": method, "seed": seed, **scores, "time": elapsed,
                         "epochs_run": len(model.history_), "config": config, "full_config": model_config(model),
                         "peak_rss_mib": peak_rss_mib(),
                         "versions": env or versions()})
        print(f"{method} seed {seed}: " + " ".join(f"{k}={v:.4f}" for k, v in scores.items())
              + f" ({elapsed:.0f}s, {len(model.history_)} epochs)", flush=True)
    return len(methods)

if __name__ == "__main__":
    main()
