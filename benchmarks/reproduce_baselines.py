"""Graph-free baselines on USPS (issue: foundation): KMeans, AE+KMeans, DEC, IDEC over 10 seeds.

Final-model results only (no epoch or seed chosen by labels). For each seed one autoencoder is
pretrained, from ``torch.Generator().manual_seed(seed)``, and handed to AE+KMeans, DEC and IDEC
through ``pretrained=``, so the three share it. It is not the autoencoder that
``DEC(random_state=seed).fit`` pretrains for itself: ``fit`` first draws its numpy seed from that
generator, so its pretraining starts further along the stream (the grid of ``graphclust bench``
replays that draw; its seed s is not this script's seed s). Either is one seeded draw of the same
schedule; to make a run of these tables again, run this script (a run repeats exactly only on
the code and thread count its record keeps).
Every finished run is appended to ``benchmarks/results/baselines_<dataset>.jsonl`` at once;
rerunning skips what is there. The table goes to ``benchmarks/results/baselines_<dataset>.md``.
Killed half-way, a rerun loses little: the seed's pretrained autoencoder is kept in
``benchmarks/results/checkpoints/`` until every method of the seed is recorded, and DEC, IDEC
and DCN checkpoint every clustering epoch there and resume to the uninterrupted result.

    python benchmarks/reproduce_baselines.py --data-root ../shared/data --seeds 10
    python benchmarks/reproduce_baselines.py --data-root ../shared/data --dataset mnist --seeds 10 --first-seed 7
"""
from __future__ import annotations

import dataclasses
import inspect
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (RESULTS, append_run, catalog_dataset, check_known, check_seed_range, checkpoint_file,  # noqa: E402
                     checkpointed_fit, comma_names, done_keys, drop_checkpoint, model_config, paper_figures,
                     parse_run_args, peak_rss_mib, read_runs, reset_peak_rss, run_parser, summary_table)

from graphclust.cli import versions  # noqa: E402
from graphclust.data import load_dataset  # noqa: E402
from graphclust.metrics import evaluate  # noqa: E402
from graphclust.nn import MLPAutoEncoder  # noqa: E402
from graphclust.registry import make_method  # noqa: E402
from graphclust.training import PretrainConfig, build_pretrained_autoencoder  # noqa: E402
from graphclust.training import checkpoint as ckpt  # noqa: E402

PAPER = paper_figures("sddecc")  # SDDECC paper (seed 003) Table 3, in %
METHODS = ("kmeans", "ae_kmeans", "dec", "idec")
WIDTHS = inspect.signature(build_pretrained_autoencoder).parameters  # the seed's AE has the default widths
AE_METHODS = ("ae_kmeans", "dec", "idec", "dcn")
CHOICES = tuple(dict.fromkeys(METHODS + AE_METHODS))  # --methods, by exact name: records and AE sharing key on it


def write_table(path: Path, dataset: str, pretrain_epochs: int) -> str:
    text = (f"# Graph-free baselines on {dataset} (final model, mean ± std over seeds)\n\n"
            f"AE d-500-500-2000-10, {pretrain_epochs} pretraining epochs, batch 256, Adam 1e-3; k-means n_init=20; "
            "one AE per seed s, pretrained from `torch.Generator().manual_seed(s)` and shared by AE+K-means, DEC "
            "and IDEC (not the AE that `fit(random_state=s)` pretrains: the script's docstring); "
            "time per run includes the AE pretraining. A seed whose methods ran in separate processes (`--methods`) "
            "pretrained its AE again in each, from the same draw; that is the same AE only on the same code and thread "
            "count (`code_version`, `torch_threads` in the records). Paper: SDDECC Table 3.\n\n"
            + summary_table(read_runs(path), PAPER) + "\n")
    path.with_suffix(".md").write_text(text)
    return text


def main() -> None:
    parser = run_parser(__doc__)
    parser.add_argument("--dataset", default="usps")
    parser.add_argument("--seeds", type=int, default=10, help="run seeds below this (default: 10)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="run seeds from this one on (default: 0), so that two processes can share a dataset's "
                             "seeds without running one twice")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"comma-separated, of {', '.join(CHOICES)} "
                             f"(default: {','.join(METHODS)})")
    parser.add_argument("--pretrain-epochs", type=int, default=None, help="default: the estimators' default")
    args = parse_run_args(parser)
    check_seed_range(parser, args.first_seed, args.seeds)

    methods = comma_names(args.methods)
    check_known(parser, "method", methods, CHOICES)
    if not methods:
        parser.error("--methods is empty")
    pretrain_epochs = args.pretrain_epochs or make_method("ae_kmeans").pretrain_epochs
    dataset = catalog_dataset(parser, args.dataset)
    data = load_dataset(dataset, root=args.data_root, graph=False)
    out = RESULTS / f"baselines_{dataset}.jsonl"
    RESULTS.mkdir(parents=True, exist_ok=True)
    done = {(m, seed) for _, m, seed in done_keys(out)}
    env = versions()
    for seed in range(args.first_seed, args.seeds):
        if run_baseline_seed(data, dataset, seed, [m for m in methods if (m, seed) not in done], out,
                             pretrain_epochs=pretrain_epochs, device=args.device, env=env,
                             verbose=not args.quiet):
            print(write_table(out, dataset, pretrain_epochs), flush=True)


def seed_autoencoder(x: torch.Tensor, dataset: str, seed: int, pretrain_epochs: int,
                     verbose: bool = True) -> tuple[MLPAutoEncoder, float]:
    """The seed's autoencoder (pretrained from ``torch.Generator().manual_seed(seed)``) and the
    seconds its pretraining took. It is kept in the checkpoint folder under a fingerprint of schedule,
    seed, device and data until :func:`run_baseline_seed` has recorded every method of the seed,
    so a killed run does not pretrain it again (70,000 images: 17-28 min on one core)."""
    path = checkpoint_file(f"baselines_{dataset}_ae_seed{seed}")
    config = PretrainConfig(epochs=pretrain_epochs)
    fingerprint = ckpt.fit_fingerprint({"schedule": dataclasses.asdict(config), "seed": seed, "device": str(x.device),
                                        "widths": [WIDTHS[k].default for k in ("hidden", "latent")]}, x)
    found = ckpt.kept_module(path, fingerprint, lambda: MLPAutoEncoder(x.shape[1]), "the autoencoder")
    if found is not None:  # else none, or another schedule's or data's (or damaged): pretrained again, replaced
        ae, kept = found
        print(f"seed {seed}: the pretrained AE kept in {path} ({kept['seconds']:.0f}s of pretraining)", flush=True)
        return ae.to(x.device), float(kept["seconds"])
    start = time.perf_counter()
    ae, _ = build_pretrained_autoencoder(x, config=config,
                                         generator=torch.Generator().manual_seed(seed), verbose=verbose)
    seconds = time.perf_counter() - start
    ckpt.keep_module(path, fingerprint, ae, "pretrained autoencoder", seconds=seconds)
    print(f"seed {seed}: pretrained AE in {seconds:.0f}s", flush=True)
    return ae, seconds


def run_baseline_seed(data, dataset: str, seed: int, methods, out: Path, *, pretrain_epochs: int,
                      device: str = "cpu", env: dict | None = None, verbose: bool = True) -> int:
    """Fit ``methods`` with ``seed`` on ``data``, the AE-based ones from one autoencoder pretrained
    here (:func:`seed_autoencoder`); append each record to ``out`` as it finishes. A method that
    takes a ``checkpoint`` (DEC, IDEC, DCN) resumes from it when a run of it was killed. Returns
    the number of runs."""
    ae, pretrain_time, pretrain_peak = None, 0.0, 0.0
    if any(m in AE_METHODS for m in methods):
        reset_peak_rss()
        ae, pretrain_time = seed_autoencoder(data.x.to(device), dataset, seed, pretrain_epochs, verbose)
        pretrain_peak = peak_rss_mib()  # counted in the peak of each method on this AE
    y = data.y.numpy()
    for method in methods:
        params = {"n_clusters": int(y.max()) + 1, "random_state": seed, "device": device, "verbose": verbose}
        if method in AE_METHODS:
            params |= {"pretrained": ae, "pretrain_epochs": pretrain_epochs}
        model = make_method(method, **params)
        name = f"baselines_{dataset}_{method}_seed{seed}"
        elapsed, resumed = checkpointed_fit(model, data, name)  # resets the peak-RSS counter first
        elapsed += pretrain_time if method in AE_METHODS else 0.0
        peak = max(peak_rss_mib(), pretrain_peak if method in AE_METHODS else 0.0)
        scores = evaluate(y, model.labels_)
        config = repr(model).replace(f"pretrained={ae!r}", "pretrained=<this seed's AE>")
        append_run(out, {"dataset": dataset, "method": method, "seed": seed, **scores, "time": elapsed,
                         "epochs_run": len(model.history_), "config": config, "full_config": model_config(model),
                         "peak_rss_mib": peak, "versions": env or versions(),
                         **({"resumed": resumed} if resumed else {})})
        drop_checkpoint(name)  # recorded
        print(f"{method} seed {seed}: " + " ".join(f"{k}={v:.4f}" for k, v in scores.items())
              + f" ({elapsed:.0f}s, {len(model.history_)} epochs)", flush=True)
    drop_checkpoint(f"baselines_{dataset}_ae_seed{seed}")  # every method of the seed recorded
    return len(methods)


if __name__ == "__main__":
    main()
