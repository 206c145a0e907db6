"""Per-epoch time and peak memory of full-batch graph clustering models: sparse vs dense adjacency.

For each dataset (USPS with its heat k=3 kNN graph, CiteSeer with its citation graph, MNIST-70k
with a k=10 kNN graph) and each model, one full-batch training epoch (forward, loss, backward,
Adam step) is timed in a fresh spawned process:

- ``sparse``: the package's model, propagation by sparse CSR matmul (O(E));
- ``dense``: the same model with the graph densified to N x N (O(N^2)): SDCN propagates with
  the dense normalised adjacency; DAEGC scores all N² pairs for attention (masked to M > 0) and
  takes its reconstruction BCE over all N² entries, as the official code does. Run only where
  an N x N float32 matrix fits the budget (``--dense-limit-gib``);
- ``floor``: the autoencoder alone (the dense-layer cost every SDCN epoch pays anyway).

Models: SDCN and DAEGC epochs, and ``sddecc_gcn``, one full-graph step of SDDECC's GCN (its
warm-up and per-epoch GCN steps). Each sparse and floor configuration is measured twice
(``--malloc``): with the default malloc and in a process started with glibc's huge-page malloc
(``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``, see :mod:`graphclust.runtime`).

Peak memory is the growth of the process's peak RSS (VmHWM reset after the data and graph are
loaded) over the timed epochs. Results: ``benchmarks/results/epoch_speed.{md,json}``.

    python benchmarks/epoch_speed.py --data-root ../shared/data
    python benchmarks/epoch_speed.py --datasets usps,citeseer --models sdcn --epochs 3
    python benchmarks/epoch_speed.py --models daegc     # adds DAEGC rows, keeps the others
    python benchmarks/epoch_speed.py --datasets mnist --models sddecc_gcn,sdcn --threads 1 --epochs 2

Rows already in the results file are kept and not measured again (``--force`` remeasures them).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
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


def _sdcn_epoch(x, graph, n_clusters, generator):
    """One SDCN training epoch as SDCN.fit runs it (P from this forward's Q)."""
    import torch

    from graphclust.models.sdcn import SDCNModule, sdcn_loss
    from graphclust.nn import MLPAutoEncoder, target_distribution

    ae = MLPAutoEncoder(x.shape[1])
    ae.reset_parameters(generator)
    model = SDCNModule(ae, n_clusters)
    model.reset_parameters(generator)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    adj = graph["adj"]

    def epoch():
        out = model(x, adj)
        loss = sdcn_loss(out, x, target_distribution(out.q))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()

    return epoch


def _ae_epoch(x, graph, n_clusters, generator):
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


def _dense_attention(layer, h, m):
    """DAEGC's attention layer with a dense N x N proximity matrix ``m`` (the official code's way):
    the same parameters and formula as ``ProximityAttentionLayer``, scores for all N² pairs, masked
    to M_ij > 0."""
    import torch
    import torch.nn.functional as F

    wh = F.linear(h, layer.weight)  # [N, out]
    scores = (wh @ layer.att_self)[:, None] + (wh @ layer.att_neigh)[None, :]  # [N, N]
    scores = F.leaky_relu(m * scores, layer.negative_slope).masked_fill(m <= 0, float("-inf"))
    return torch.softmax(scores, dim=1) @ wh  # [N, out]


def _daegc_epoch(x, graph, n_clusters, generator):
    """One DAEGC joint epoch (L_rec + γ KL(P ‖ Q), P from this forward's Q) as DAEGC.fit runs it.

    Sparse: attention over the edges of M, reconstruction on the edges of A + I and as many
    sampled non-edges (dense-weighted). Dense: M as an N x N matrix, attention scores for all
    pairs, reconstruction BCE over all N² entries of σ(z zᵀ) against the dense A + I.
    """
    import torch
    import torch.nn.functional as F

    from graphclust.losses import kl_clustering_loss
    from graphclust.losses.graph import edge_bce_loss
    from graphclust.models.daegc import AttentionEncoder, proximity_edges
    from graphclust.models.gae import reconstruction_edges, sample_negative_edges
    from graphclust.nn import student_t_assignment, target_distribution

    n = x.shape[0]
    encoder = AttentionEncoder(x.shape[1]).reset_parameters(generator)
    mu = torch.nn.Parameter(torch.randn(n_clusters, encoder.att2.out_features, generator=generator))
    opt = torch.optim.Adam([*encoder.parameters(), mu], lr=1e-4, weight_decay=5e-3)
    pos = reconstruction_edges(graph["edge_index"], n)  # [2, E+]
    if graph["dense"]:
        m = graph["m"]  # [N, N]
        target = torch.zeros(n, n)
        target[pos[0], pos[1]] = 1.0  # A + I, dense

        def encode():
            h = F.elu(_dense_attention(encoder.att1, x, m))
            return F.normalize(F.elu(_dense_attention(encoder.att2, h, m)), p=2, dim=1)

        def reconstruction(z):
            return F.binary_cross_entropy_with_logits(z @ z.T, target)
    else:
        att_index, att_weight = proximity_edges(graph["m"])
        rho = pos.shape[1] / float(n) ** 2

        def encode():
            return encoder(x, att_index, att_weight)

        def reconstruction(z):
            return edge_bce_loss(z, pos, sample_negative_edges(n, pos.shape[1], generator), pos_fraction=rho)

    def epoch():
        z = encode()
        q = student_t_assignment(z, mu)
        loss = reconstruction(z) + 10.0 * kl_clustering_loss(target_distribution(q), q)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return epoch


def _sddecc_gcn_epoch(x, graph, n_clusters, generator):
    """One full-graph step of SDDECC's GCN on L_c (the DDECN fixed), as SDDECC.fit runs its warm-up
    and per-epoch GCN steps: widths mirroring the conv encoder (MNIST 784-256-256-512-512-10-K),
    the transferred features and Â X computed once, Adam on the GCN only."""
    import torch

    from graphclust.losses.sddecc import joint_clustering_loss
    from graphclust.nn.sddecc import SDDECCModule

    side = int(round(x.shape[1] ** 0.5))
    model = SDDECCModule(x.shape[1], (1, side, side) if side * side == x.shape[1] else None, n_clusters)
    model.reset_parameters(generator)
    adj = graph["adj"]
    with torch.no_grad():
        encs = [model.encode(chunk) for chunk in x.split(2048)]
        mu, logvar = torch.cat([e.mu for e in encs]), torch.cat([e.logvar for e in encs])
        transfer = tuple(torch.cat(parts) for parts in zip(*(model.transfer(e) for e in encs)))
        x_prop = adj @ x
    opt = torch.optim.Adam(model.gcn.parameters(), lr=1e-2)

    def epoch():
        y = model.cluster_posterior(x_prop, transfer, lambda layer, h: adj @ h)[0]
        loss = joint_clustering_loss(y, mu, logvar, model.cluster_means.detach(), reduction="mean")
        opt.zero_grad()
        loss.backward()
        opt.step()

    return epoch


MODELS = {"sdcn": _sdcn_epoch, "daegc": _daegc_epoch, "sddecc_gcn": _sddecc_gcn_epoch, "ae": _ae_epoch}  # name -> builder(x, graph, K, gen) -> epoch()


def run_one(root: str, dataset: str, model: str, variant: str, epochs: int, threads: int) -> dict:
    """Time ``epochs`` epochs (after one warm-up) in this fresh process."""
    import torch

    torch.set_num_threads(threads)
    from graphclust.data import load_dataset
    from graphclust.graphs import gcn_norm, knn_graph, row_norm, transition_proximity
    from graphclust.runtime import malloc_mode

    data = load_dataset(dataset, root=root, graph=False)
    if GRAPHS[dataset] is None:
        data = load_dataset(dataset, root=root)
        edge_index = data.edge_index
    else:
        edge_index, _ = knn_graph(data.x, **GRAPHS[dataset])
    n = data.num_nodes
    dense = variant == "dense"
    graph = {"edge_index": edge_index, "dense": dense}
    if model == "daegc":
        graph["m"] = transition_proximity(edge_index, None, n, t=2)  # sparse CSR [N, N]
    elif model == "sddecc_gcn":
        graph["adj"] = gcn_norm(edge_index, None, n)  # SDDECC's Eq. 14
    else:
        graph["adj"] = row_norm(edge_index, None, n)
    if dense:  # the N x N matrix the sparse path never builds
        graph = {k: v.to_dense() if isinstance(v, torch.Tensor) and v.layout != torch.strided else v
                 for k, v in graph.items()}
    x, k = data.x, int(data.y.max()) + 1
    epoch = MODELS[model](x, graph, k, torch.Generator().manual_seed(0))
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
            "threads": threads, "malloc": malloc_mode()}


def _in_child(args: tuple) -> dict:
    return run_one(*args)


def _key(row: dict) -> tuple:
    return (row["dataset"], row["model"], row["variant"], row.get("malloc", "default"), row.get("threads"))


def _previous_rows(out_dir: Path) -> list[dict]:
    path = out_dir / "epoch_speed.json"
    return json.loads(path.read_text())["results"] if path.is_file() else []


def _same_setting(rows: list[dict], row: dict) -> dict[tuple, dict]:
    """The rows of ``row``'s dataset measured with its malloc and threads, by (model, variant)."""
    return {(r["model"], r["variant"]): r for r in rows if r["dataset"] == row["dataset"]
            and r.get("malloc", "default") == row.get("malloc", "default") and r.get("threads") == row.get("threads")}


def _ratio(a: dict | None, b: dict | None) -> str:
    ok = a and b and not a.get("skipped") and not b.get("skipped")
    return f"{a['epoch_s'] / b['epoch_s']:.2f}x" if ok else ""


def write_results(rows: list[dict], out_dir: Path, info: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "epoch_speed.json").write_text(json.dumps({"machine": info, "results": rows}, indent=2))
    lines = ["# Per-epoch time and peak memory: sparse CSR vs dense adjacency; default malloc vs huge pages", "",
             "Produced by `benchmarks/epoch_speed.py`: full-batch epoch (forward + loss + backward + Adam; for "
             "`sddecc_gcn` one full-graph step of SDDECC's GCN on L_c), mean over the timed epochs after one "
             "warm-up, each configuration in a fresh process. Peak growth = "
             "peak RSS during the timed epochs minus RSS before them (the data and the graph, dense or sparse, are "
             "already loaded); peak RSS = the process's peak, graph included. *malloc* `hugepages`: the process "
             "ran with `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, as the `graphclust` command and the reproduction "
             "scripts now start themselves (`graphclust.runtime`); *default / huge pages* is the default-malloc "
             "time over this row's, same threads and day. Compare rows within one thread count and date: "
             "the machine's load differed between them.", "",
             f"Machine: {info['cpu_count']} cores, torch {info['torch']}. Load while measuring (*measured* column): "
             + "; ".join(f"{date}: {load}" for date, load in sorted({(r.get("date"), r.get("load")) for r in rows
                                                                    if r.get("date") and r.get("load")})) + ".", "",
             "| dataset | N | E | model | variant | malloc | threads | epoch (s) | peak growth (MiB) | peak RSS (MiB) | "
             "dense / sparse time | vs AE floor | default / huge pages | measured |",
             "|---|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    order = {"usps": 0, "citeseer": 1, "mnist": 2}
    rows = sorted(rows, key=lambda r: (order.get(r["dataset"], 9), -(r.get("threads") or 0), r["model"] == "ae",
                                       r["model"], r["variant"] != "sparse", r.get("malloc", "default") != "default"))
    for row in rows:
        malloc, threads = row.get("malloc", "default"), row.get("threads", "—")
        if row.get("skipped"):
            lines.append(f"| {row['dataset']} | {row['n_nodes']:,} | — | {row['model']} | {row['variant']} | {malloc} | "
                         f"{threads} | not run: {row['skipped']} | — | — | — | — | — | — |")
            continue
        same = _same_setting(rows, row)
        ratio = _ratio(row, same.get((row["model"], "sparse"))) if row["variant"] == "dense" else ""
        vs_floor = _ratio(row, same.get(("ae", "floor"))) if row["model"] in ("sdcn", "ae") else ""  # SDCN's floor
        default = _same_setting(rows, {**row, "malloc": "default"}).get((row["model"], row["variant"]))
        speedup = _ratio(default, row) if malloc == "hugepages" else ""
        lines.append(f"| {row['dataset']} | {row['n_nodes']:,} | {row['n_edges']:,} | {row['model']} | {row['variant']} | "
                     f"{malloc} | {threads} | {row['epoch_s']:.3f} | {row['peak_growth_mib']:.0f} | "
                     f"{row['peak_rss_mib']:.0f} | {ratio} | {vs_floor} | {speedup} | {row.get('date', '')} |")
    (out_dir / "epoch_speed.md").write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def _malloc_env(malloc: str):
    """os.environ as a spawned child should see it: GLIBC_TUNABLES with the huge-page tunable for
    ``"hugepages"``, without it for ``"default"``."""
    from graphclust.runtime import HUGEPAGE_TUNABLE

    saved = os.environ.get("GLIBC_TUNABLES")
    parts = [t for t in (saved or "").split(":") if t and not t.startswith("glibc.malloc.hugetlb")]
    parts += [HUGEPAGE_TUNABLE] if malloc == "hugepages" else []
    os.environ["GLIBC_TUNABLES"] = ":".join(parts)
    try:
        yield
    finally:
        if saved is None:
            del os.environ["GLIBC_TUNABLES"]
        else:
            os.environ["GLIBC_TUNABLES"] = saved


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="default: $GRAPHCLUST_DATA, else <repo>/datasets")
    parser.add_argument("--datasets", default="usps,citeseer,mnist")
    parser.add_argument("--models", default=",".join(m for m in MODELS if m != "ae"))
    parser.add_argument("--malloc", default="default,hugepages",
                        help="default and/or hugepages (sparse and floor variants; see graphclust.runtime)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dense-limit-gib", type=float, default=4.0, help="largest N x N float32 matrix to try")
    parser.add_argument("--load", default="", help="what else ran on the machine meanwhile, for the results file")
    parser.add_argument("--out-dir", default=str(RESULTS))
    parser.add_argument("--force", action="store_true", help="measure again what the results file already has")
    args = parser.parse_args(argv)
    mallocs = args.malloc.split(",")
    if not set(mallocs) <= {"default", "hugepages"}:
        parser.error(f"--malloc takes default and/or hugepages, got {args.malloc!r}")

    import torch

    info = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu_count": os.cpu_count(),
            "torch": torch.__version__, "python": platform.python_version(), "load": args.load}
    sizes = {"usps": 9298, "citeseer": 3327, "mnist": 70000}
    rows = _previous_rows(Path(args.out_dir))  # kept: a rerun measures only what is missing
    ctx = mp.get_context("spawn")
    for dataset in args.datasets.split(","):
        plan = [(m, v) for m in args.models.split(",") for v in ("sparse", "dense")] + [("ae", "floor")]
        for (model, variant), malloc in itertools.product(plan, mallocs):
            if variant == "dense" and malloc != "default":
                continue
            key = (dataset, model, variant, malloc, args.threads)
            if any(_key(r) == key for r in rows):
                if not args.force:
                    continue
                rows = [r for r in rows if _key(r) != key]
            n = sizes[dataset]
            if variant == "dense" and n * n * 4 / 2**30 > args.dense_limit_gib:
                rows.append({"dataset": dataset, "model": model, "variant": variant, "n_nodes": n, "malloc": malloc,
                             "threads": args.threads,
                             "skipped": f"N x N float32 = {n * n * 4 / 2**30:.1f} GiB > {args.dense_limit_gib} GiB"})
                continue
            with _malloc_env(malloc), ctx.Pool(1) as pool:
                row = pool.apply(_in_child, ((args.data_root, dataset, model, variant, args.epochs, args.threads),))
            row["date"], row["load"] = info["date"], args.load
            rows.append(row)
            print(f"{dataset:9s} {model:10s} {variant:6s} {row['malloc']:9s} {row['epoch_s']:.3f}s/epoch  "
                  f"peak +{row['peak_growth_mib']:.0f} MiB", flush=True)
            write_results(rows, Path(args.out_dir), info)
    write_results(rows, Path(args.out_dir), info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
