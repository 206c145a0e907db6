#!/usr/bin/env python
"""kNN-graph construction on MNIST (70,000 x 784): faiss exact vs faiss HNSW vs faiss IVF vs sklearn.

For each backend the k = 10 graph is built with ``graphclust.graphs.knn_graph`` and we record

- wall time of ``knn_graph(x, 10, backend=..., symmetrize=None)`` (index build + search +
  self removal), and separately of the union symmetrisation that the default ``symmetrize="union"``
  adds;
- peak memory: every backend runs in its own freshly spawned process (``multiprocessing``
  ``"spawn"``), which loads the data and imports faiss / scikit-learn first. It then resets the
  kernel's peak-RSS counter (``echo 5 > /proc/self/clear_refs``, Linux >= 4.0) and after the build
  reads ``VmHWM`` from ``/proc/self/status``: the peak resident set during the build. "Peak growth"
  is that peak minus the RSS just before the build (``VmRSS``). ``ru_maxrss`` of the child is also
  recorded (peak over the child's whole life, data loading included). If ``clear_refs`` cannot be
  written, the peak is the lifetime ``VmHWM`` and the table says so;
- recall@10 versus faiss exact, over all N queries: ``|E_b & E_exact| / |E_exact|`` on the
  directed edge sets (exact faiss is 1 by definition; sklearn is measured, ties may differ);
- edge homophily (fraction of edges joining same-digit images) of the directed kNN graph and of
  the union graph.

Usage::

    python benchmarks/knn_speed.py                  # full MNIST, writes benchmarks/results/knn_speed.{md,json}
    python benchmarks/knn_speed.py --n 5000         # quick check on a seeded subsample
    GRAPHCLUST_DATA=/path/to/data python benchmarks/knn_speed.py --data-root /other/root

MNIST is read from ``<data-root>/mnist/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``
(``<data-root>`` = ``--data-root``, else ``$GRAPHCLUST_DATA``, else the repository's ``datasets/``, as
everywhere in the package) and
scaled to [0, 1] float32. This script is never imported by the package.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import reset_peak_rss, status_kib  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BACKENDS = ("faiss", "faiss-hnsw", "faiss-ivf", "sklearn")


# ---------------------------------------------------------------------------------------------- data


def load_mnist(root: Path | str | None, n: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST train then test through the package's loader: ``x`` float32 ``[70000, 784]`` in
    [0, 1], ``y`` int64; a seeded subsample of ``n`` rows when ``n`` is given."""
    from graphclust.data import load_dataset

    data = load_dataset("mnist", root=root, graph=False)
    x, y = data.x.numpy(), data.y.numpy()
    if n is not None and n < len(x):
        keep = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
        x, y = x[keep], y[keep]
    return np.ascontiguousarray(x), y


# ---------------------------------------------------------------------------------------------- worker


def run_backend(root: str | None, n: int | None, backend: str, k: int, seed: int, threads: int) -> dict:
    """Build one kNN graph in this (fresh) process; returns timings, memory and the directed edges."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)  # graphclust's faiss calls follow torch's thread count
    threadpool_limits(threads)  # BLAS / OpenMP pools used by scikit-learn and numpy
    sys.path.insert(0, str(ROOT))
    from graphclust.graphs import knn_graph
    from graphclust.graphs import _faiss  # noqa: F401  import cost is not build cost
    from graphclust.graphs.knn import _symmetrize
    import sklearn.neighbors  # noqa: F401

    x, _ = load_mnist(root, n, seed)
    tiny = torch.tensor([[0, 1], [1, 2]])
    _symmetrize(tiny, [torch.ones(2)], 3, "union")  # first-call overheads are not graph cost
    rss_before = status_kib("VmRSS")
    reset = reset_peak_rss()

    start = time.perf_counter()
    edge_index, edge_weight = knn_graph(x, k, backend=backend, symmetrize=None, random_state=seed)
    build_s = time.perf_counter() - start
    peak = status_kib("VmHWM")

    start = time.perf_counter()
    union, _ = _symmetrize(edge_index, [edge_weight], x.shape[0], "union")
    union_s = time.perf_counter() - start

    return {
        "backend": backend,
        "build_s": build_s,
        "union_s": union_s,
        "rss_before_mib": rss_before / 1024,
        "peak_rss_mib": peak / 1024,
        "peak_growth_mib": (peak - rss_before) / 1024,
        "peak_reset": reset,
        "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "edges": edge_index.numpy().astype(np.int32),
        "n_union_edges": int(union.shape[1]),
    }


# ---------------------------------------------------------------------------------------------- report


def _burn(_: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def parallel_throughput(workers: int) -> float:
    """How many cores' worth of CPU-bound work really run at once: ``workers`` processes each run
    the same pure-Python loop concurrently; returns ``workers * t_alone / t_concurrent``
    (``workers`` on dedicated cores, about 1 when the cores are time-shared)."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        pool.map(_burn, range(workers))  # warm the workers
        alone = pool.apply(_burn, (0,))
        start = time.perf_counter()
        pool.map(_burn, range(workers), chunksize=1)
        together = time.perf_counter() - start
    return workers * alone / together


def _faiss_coretype() -> str:
    sys.path.insert(0, str(ROOT))
    from graphclust.graphs._faiss import _openblas_coretype

    return f"{_openblas_coretype()} (set by graphclust.graphs._faiss at import)"


def machine_info() -> dict:
    import sklearn
    import torch
    import torch_geometric

    sys.path.insert(0, str(ROOT))
    from graphclust.graphs._faiss import faiss  # the package's one faiss import (sets the BLAS core type)

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "faiss_omp_threads": faiss.omp_get_max_threads(),
        "faiss_openblas_coretype": os.environ.get("OPENBLAS_CORETYPE") or _faiss_coretype(),
        "scikit-learn": sklearn.__version__,
        "torch_geometric": torch_geometric.__version__,
        "numpy": np.__version__,
    }


def write_markdown(path: Path, rows: list[dict], info: dict, args: argparse.Namespace, n: int) -> None:
    by = {r["backend"]: r for r in rows}
    lines = [
        f"# kNN graph construction on MNIST ({n:,} x 784, k={args.k})",
        "",
        "`knn_graph(x, 10, backend=..., symmetrize=None)` from `graphclust.graphs`; each backend in a fresh",
        "spawned process. Time = index build + search + self removal (wall clock). Peak growth = peak RSS",
        "during the build (`VmHWM` after resetting it via `/proc/self/clear_refs`) minus RSS just before it;",
        "the data matrix itself is {:.0f} MiB. Recall@10 = fraction of exact-faiss directed edges found,".format(
            n * 784 * 4 / 2**20
        ),
        "over all queries. Homophily = fraction of edges joining same-digit images (directed kNN / union graph).",
        "",
        "| backend | time (s) | + union (s) | peak growth (MiB) | peak RSS (MiB) | recall@10 | homophily kNN | homophily union | union edges |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['build_s']:.1f} | {r['union_s']:.2f} | {r['peak_growth_mib']:.0f} | "
            f"{r['peak_rss_mib']:.0f} | {r['recall']:.4f} | {r['homophily_knn']:.4f} | "
            f"{r['homophily_union']:.4f} | {r['n_union_edges']:,} |"
        )
    lines += ["", "## Ratios", ""]
    exact = by.get("faiss")
    for name, r in by.items():
        if exact is None or name == "faiss":
            continue
        lines.append(
            f"- {name} time / faiss exact time = **{r['build_s'] / exact['build_s']:.2f}** "
            f"(peak growth ratio {r['peak_growth_mib'] / max(exact['peak_growth_mib'], 1e-9):.2f}, "
            f"recall {r['recall']:.4f})"
        )
    for fast in ("faiss", "faiss-hnsw", "faiss-ivf"):
        if "sklearn" in by and fast in by:
            lines.append(
                f"- speedup of {fast} over sklearn brute force: **{by['sklearn']['build_s'] / by[fast]['build_s']:.2f}x**"
            )
    if "faiss" in by and "faiss-hnsw" in by:
        lines.append(f"- HNSW speedup over faiss exact: **{by['faiss']['build_s'] / by['faiss-hnsw']['build_s']:.2f}x**")
    if not all(r["peak_reset"] for r in rows):
        lines.append("- note: the peak-RSS counter could not be reset; peaks are process lifetime peaks")
    cores = info.get("measured_parallel_throughput_cores")
    lines += [
        "",
        "## Notes",
        "",
        f"- Measured parallel throughput: {cores} cores' worth of CPU-bound work at once (two busy",
        "  processes each run at about half speed when this is ~1), so extra threads add little here.",
        "- Timings on a time-shared machine vary between runs (up to ~1.6x seen for the slow",
        "  backends); compare rows of one run rather than runs.",
        "- Peak growth of faiss exact / HNSW includes the index's own float32 copy of the data.",
    ]
    lines += [
        "",
        "Settings: HNSW M=32, efConstruction=64, efSearch=64, seeded, so its index is built on one thread",
        "(deterministic); IVF nlist=round(4 sqrt(N)), nprobe=nlist/32, trained on 40 points per cell;",
        f"sklearn `NearestNeighbors(algorithm='brute')`. Seed {args.seed}.",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in info.items() if key != "command"]
    lines.append(f"- command: `{info.get('command', 'python benchmarks/knn_speed.py')}`")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default=None, help="default: $GRAPHCLUST_DATA, else <repo>/datasets")
    parser.add_argument("--n", type=int, default=None, help="seeded subsample size (default: all 70,000)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS))
    parser.add_argument("--threads", type=int, default=None, help="torch/faiss threads (default: all usable cores)")
    parser.add_argument("--out-dir", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--from-json", default=None, help="only re-render the Markdown from a previous JSON")
    args = parser.parse_args(argv)

    if args.from_json:
        payload = json.loads(Path(args.from_json).read_text())
        args.k, args.seed = payload["k"], payload["seed"]
        out = Path(args.out_dir)
        write_markdown(out / "knn_speed.md", payload["results"], payload["machine"], args, payload["n"])
        print(f"wrote {out / 'knn_speed.md'}")
        return 0

    sys.path.insert(0, str(ROOT))
    from graphclust.graphs import graph_report
    from graphclust.graphs.knn import _symmetrize
    import torch

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "faiss" in backends:  # exact first: it is the recall reference
        backends.remove("faiss")
    backends = ["faiss"] + backends
    threads = args.threads or len(os.sched_getaffinity(0))
    x, y = load_mnist(args.data_root, args.n, args.seed)
    n = x.shape[0]
    del x
    print(f"MNIST {n} x 784, k={args.k}, threads={threads}, backends={backends}", flush=True)

    ctx = mp.get_context("spawn")
    rows = []
    exact_keys = None
    for backend in backends:
        with ctx.Pool(1) as pool:
            r = pool.apply(run_backend, (args.data_root, args.n, backend, args.k, args.seed, threads))
        edges = r.pop("edges").astype(np.int64)  # [2, N*k] directed
        keys = edges[0] * n + edges[1]
        if exact_keys is None:
            exact_keys = keys
        r["recall"] = float(np.isin(exact_keys, keys).sum() / exact_keys.size)
        ei = torch.from_numpy(edges)
        r["homophily_knn"] = graph_report(ei, n, y=y).edge_homophily
        union, _ = _symmetrize(ei, [torch.ones(ei.shape[1])], n, "union")
        r["homophily_union"] = graph_report(union, n, y=y).edge_homophily
        r["label"] = {"faiss": "faiss exact (IndexFlatL2)", "faiss-hnsw": "faiss HNSW (M=32, ef=64)",
                      "faiss-ivf": "faiss IVF-Flat", "sklearn": "sklearn brute force"}.get(backend, backend)
        rows.append(r)
        print(f"{backend:11s} build {r['build_s']:7.1f}s  union {r['union_s']:.2f}s  peak growth "
              f"{r['peak_growth_mib']:7.0f} MiB  recall {r['recall']:.4f}  homophily {r['homophily_union']:.4f}",
              flush=True)

    info = machine_info()
    info["benchmark_threads"] = threads
    info["command"] = " ".join(["python benchmarks/knn_speed.py", *(argv if argv is not None else sys.argv[1:])])
    info["measured_parallel_throughput_cores"] = round(parallel_throughput(max(2, threads)), 2)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_markdown(out / "knn_speed.md", rows, info, args, n)
    payload = {"dataset": "mnist", "n": n, "d": 784, "k": args.k, "seed": args.seed, "machine": info, "results": rows}
    (out / "knn_speed.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out / 'knn_speed.md'} and {out / 'knn_speed.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
