"""Per-epoch time and peak memory of full-batch graph clustering models: sparse vs dense adjacency.

For each dataset (USPS with its heat k=3 kNN graph, CiteSeer with its citation graph, MNIST-70k
with a k=10 kNN graph) and each model, one full-batch training epoch (forward, loss, backward,
Adam step) is timed in a fresh spawned process:

- ``sparse``: the package's model, propagation by sparse CSR matmul (O(E));
- ``dense``: the same model with the normalised adjacency densified to N x N (O(N^2)), run
  only where that matrix fits the memory budget (``--dense-limit-gib``);
- ``floor``: the autoencoder alone (the dense-layer cost every SDCN epoch pays anyway).

Peak memory is the growth of the process's peak RSS (VmHWM reset after the data and graph are
loaded) over the timed epochs. Results: ``benchmarks/results/epoch_speed.{md,json}``.

    python benchmarks/epoch_speed.py --data-root ../shared/data
    python benchmarks/epoch_speed.py --datasets usps,citeseer --models sdcn --epochs 3
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, reset_peak_rss, status_kib  # noqa: E402

GRAPHS = {"usps": {"n_neighbors": 3, "recipe": "heat"}, "citeseer": None, "mnist": {"n_neighbors": 10}}


def _sdcn_epoch(x, adj, n_clusters, generator):
    """One SDCN training epoch as SDCN.fit runs it (P from this forward's Q)."""
    import torch

    from graphclust.models.sdcn import SDCNModule, sdcn_loss
    from graphclust.nn import MLPAutoEncoder, target_distribution

    ae = MLPAutoEncoder(x.shape[1])
    ae.reset_parameters(generator)
    model = SDCNModule(ae, n_clusters)
    model.reset_parameters(generator)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        out = model(x, adj)
        loss = sdcn_loss(out, x, target_distribution(out.q))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()

    return epoch


def _ae_epoch(x, adj, n_clusters, generator):
    """The autoencoder alone, full batch: the dense-layer floor of an SDCN epoch."""
    import torch

    from graphclust.losses import reconstruction_loss
    from graphclust.nn import MLPAutoEncoder

    ae = MLPAutoEncoder(x.shape[1])
    ae.reset_parameters(generator)
    opt = torch.optim.Adam(ae.parameters(), lr=1e-3)

    def epoch():
        loss = reconstruction_loss(ae(x).x_hat, x)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return epoch


MODELS = {"sdcn": _sdcn_epoch, "ae": _ae_epoch}  # name -> builder(x, adj, K, generator) -> epoch()


def run_one(root: str, dataset: str, model: str, variant: str, epochs: int, threads: int) -> dict:
    """Time ``epochs`` epochs (after one warm-up) in this fresh process."""
    import torch

    torch.set_num_threads(threads)
    from graphclust.data import load_dataset
    from graphclust.graphs import knn_graph, row_norm

    data = load_dataset(dataset, root=root, graph=False)
    if GRAPHS[dataset] is None:
        data = load_dataset(dataset, root=root)
        edge_index = data.edge_index
    else:
        edge_index, _ = knn_graph(data.x, **GRAPHS[dataset])
    n = data.num_nodes
    adj = row_norm(edge_index, None, n)
    if variant == "dense":
        adj = adj.to_dense()  # the N x N matrix the sparse path never builds
    x, k = data.x, int(data.y.max()) + 1
    epoch = MODELS[model](x, adj, k, torch.Generator().manual_seed(0))
    epoch()  # warm-up: allocator and first-call costs
    rss_before = status_kib("VmRSS")
    reset = reset_peak_rss()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    peak = status_kib("VmHWM")
    return {"dataset": dataset, "model": model, "variant": variant, "n_nodes": n, "n_edges": int(edge_index.shape[1]),
            "epoch_s": sum(times) / len(times), "epoch_s_min": min(times), "epochs_timed": epochs,
            "peak_growth_mib": (peak - rss_before) / 1024, "peak_rss_mib": peak / 1024, "peak_reset": reset,
            "threads": threads}


def _in_child(args: tuple) -> dict:
    return run_one(*args)


def write_results(rows: list[dict], out_dir: Path, info: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "epoch_speed.json").write_text(json.dumps({"machine": info, "results": rows}, indent=2))
    lines = ["# Per-epoch time and peak memory: sparse CSR vs dense adjacency", "",
             "Produced by `benchmarks/epoch_speed.py`: full-batch epoch (forward + loss + backward + Adam), "
             "mean over the timed epochs after one warm-up, each configuration in a fresh process. Peak growth = "
             "peak RSS during the timed epochs minus RSS before them.", "",
             f"Machine: {info['cpu_count']} cores, torch {info['torch']}, threads {info['threads']}, {info['date']}.", "",
             "| dataset | N | E | model | variant | epoch (s) | peak growth (MiB) | dense / sparse time | vs AE floor |",
             "|---|---:|---:|---|---|---:|---:|---:|---:|"]
    for row in rows:
        same = {(r["model"], r["variant"]): r for r in rows if r["dataset"] == row["dataset"]}
        if row.get("skipped"):
            lines.append(f"| {row['dataset']} | {row['n_nodes']:,} | — | {row['model']} | {row['variant']} | "
                         f"not run: {row['skipped']} | — | — | — |")
            continue
        sparse = same.get((row["model"], "sparse"))
        ratio = (f"{row['epoch_s'] / sparse['epoch_s']:.2f}x" if row["variant"] == "dense" and sparse
                 and not sparse.get("skipped") else "")
        floor = same.get(("ae", "floor"))
        vs_floor = f"{row['epoch_s'] / floor['epoch_s']:.2f}x" if floor and not floor.get("skipped") else ""
        lines.append(f"| {row['dataset']} | {row['n_nodes']:,} | {row['n_edges']:,} | {row['model']} | {row['variant']} | "
                     f"{row['epoch_s']:.3f} | {row['peak_growth_mib']:.0f} | {ratio} | {vs_floor} |")
    (out_dir / "epoch_speed.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=os.environ.get("GRAPHCLUST_DATA", "../shared/data"))
    parser.add_argument("--datasets", default="usps,citeseer,mnist")
    parser.add_argument("--models", default=",".join(m for m in MODELS if m != "ae"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dense-limit-gib", type=float, default=4.0, help="largest N x N float32 matrix to try")
    parser.add_argument("--out-dir", default=str(RESULTS))
    args = parser.parse_args(argv)

    import torch

    info = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu_count": os.cpu_count(),
            "torch": torch.__version__, "threads": args.threads, "python": platform.python_version()}
    sizes = {"usps": 9298, "citeseer": 3327, "mnist": 70000}
    rows = []
    ctx = mp.get_context("spawn")
    for dataset in args.datasets.split(","):
        plan = [(m, v) for m in args.models.split(",") for v in ("sparse", "dense")] + [("ae", "floor")]
        for model, variant in plan:
            n = sizes[dataset]
            if variant == "dense" and n * n * 4 / 2**30 > args.dense_limit_gib:
                rows.append({"dataset": dataset, "model": model, "variant": variant, "n_nodes": n,
                             "skipped": f"N x N float32 = {n * n * 4 / 2**30:.1f} GiB > {args.dense_limit_gib} GiB"})
                continue
            with ctx.Pool(1) as pool:
                row = pool.apply(_in_child, ((args.data_root, dataset, model, variant, args.epochs, args.threads),))
            rows.append(row)
            print(f"{dataset:9s} {model:6s} {variant:6s} {row['epoch_s']:.3f}s/epoch  peak +{row['peak_growth_mib']:.0f} MiB",
                  flush=True)
            write_results(rows, Path(args.out_dir), info)
    write_results(rows, Path(args.out_dir), info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
