"""All use of faiss (Johnson, Douze & Jegou, *Billion-scale similarity search with GPUs*, 2017).

This is the only module that imports ``faiss``; :mod:`graphclust.graphs.knn` imports it lazily so
that the package works (with ``backend="sklearn"``) where faiss is not installed.

Three index kinds, all over the rows of one float32 matrix ``x`` ``[N, F]``:

- ``"exact"``: ``IndexFlatL2`` / ``IndexFlatIP``, brute force, exact;
- ``"hnsw"``: ``IndexHNSWFlat`` with ``M = 32`` links per node (Malkov & Yashunin, TPAMI 2018),
  approximate; recall grows with ``ef_search``;
- ``"ivf"``: ``IndexIVFFlat`` with ``nlist ~ 4 sqrt(N)`` k-means cells, trained on a seeded sample;
  approximate; recall grows with ``nprobe`` (cells visited per query).

Determinism: given ``seed``, results are identical from run to run. The HNSW level draw is seeded,
and because threads inserting nodes concurrently can link them in a different order, a seeded HNSW
index is built on one thread (searching stays multi-threaded: each query is independent). The IVF
training sample and the k-means initialisation are seeded.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from typing import Iterator

import numpy as np
import torch


def _openblas_coretype() -> str | None:
    """The OpenBLAS kernel family this x86 CPU supports, from ``/proc/cpuinfo`` flags.

    The faiss-cpu wheels bundle OpenBLAS 0.3.15, which does not recognise recent Xeons
    (e.g. Sapphire Rapids) and falls back to its SSE3 "Prescott" kernels: exact search then runs
    ~4.5x slower (measured: 8.5 s vs 1.9 s for 8192 x 20000 x 784 on this project's CI machine).
    """
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return None
    flags = set(flags)
    if {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def _import_faiss():
    """Import faiss with its bundled OpenBLAS told the CPU type (unless the user already set
    ``OPENBLAS_CORETYPE``). OpenBLAS reads the variable once, when the library loads, so it is set
    around the import only and other BLAS libraries in the process are unaffected."""
    if "faiss" in sys.modules or "OPENBLAS_CORETYPE" in os.environ:
        import faiss

        return faiss
    coretype = _openblas_coretype()
    if coretype is not None:
        os.environ["OPENBLAS_CORETYPE"] = coretype
    try:
        import faiss
    finally:
        if coretype is not None:
            del os.environ["OPENBLAS_CORETYPE"]
    return faiss


faiss = _import_faiss()

__all__ = ["METHODS", "build_index", "search", "faiss_kmeans", "faiss_version"]

METHODS = ("exact", "hnsw", "ivf")
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 64
DEFAULT_EF_SEARCH = 64


def faiss_version() -> str:
    return str(faiss.__version__)


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    """Run faiss on ``n`` OpenMP threads, restoring the previous setting afterwards."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def default_nlist(n: int) -> int:
    """``nlist = round(4 sqrt(N))`` cells, capped so that each cell gets >= 39 training points
    (below that faiss's k-means is poorly conditioned and warns)."""
    return int(max(1, min(round(4 * math.sqrt(n)), n // 39)))


def default_nprobe(nlist: int) -> int:
    """Visit 1/32 of the cells (at least 8): recall@10 ~0.995 on MNIST (nlist=1058, nprobe=33)
    at about a third of the exact cost; hard, unclustered data (Gaussian noise) needs more."""
    return int(min(nlist, max(8, nlist // 32)))


def build_index(
    x: np.ndarray,
    *,
    metric: str = "l2",
    method: str = "exact",
    seed: int | None = None,
    ef_search: int = DEFAULT_EF_SEARCH,
    nprobe: int | None = None,
) -> "faiss.Index":
    """Build a faiss index over the rows of ``x``.

    Args:
        x: float32 C-contiguous ``[N, F]`` database vectors.
        metric: ``"l2"`` (squared Euclidean distance, smaller is closer) or ``"ip"`` (inner
            product, larger is closer).
        method: ``"exact"``, ``"hnsw"`` or ``"ivf"``.
        seed: seeds HNSW levels, the IVF training sample and k-means; ``None`` keeps faiss defaults
            and builds HNSW multi-threaded.
        ef_search: HNSW candidate-list size during search.
        nprobe: IVF cells visited per query; ``None`` -> :func:`default_nprobe`.

    Returns:
        A populated ``faiss.Index``.
    """
    x = _as_f32(x)
    n, d = x.shape
    faiss_metric = {"l2": faiss.METRIC_L2, "ip": faiss.METRIC_INNER_PRODUCT}[metric]
    n_threads = torch.get_num_threads()

    if method == "exact":
        index = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
        index.add(x)
        return index

    if method == "hnsw":
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss_metric)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = int(ef_search)
        if seed is not None:
            index.hnsw.rng = faiss.RandomGenerator(int(seed))
        with _threads(1 if seed is not None else n_threads):
            index.add(x)
        return index

    if method == "ivf":
        nlist = default_nlist(n)
        quantizer = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss_metric)
        index.cp.seed = int(seed) if seed is not None else index.cp.seed
        # 40 points per cell are enough for the k-means (faiss warns below 39); more only costs time.
        n_train = min(n, 40 * nlist)
        rng = np.random.default_rng(seed)
        sample = x if n_train == n else x[np.sort(rng.choice(n, size=n_train, replace=False))]
        with _threads(n_threads):
            index.train(np.ascontiguousarray(sample))
            index.add(x)
        index.nprobe = int(nprobe) if nprobe is not None else default_nprobe(nlist)
        index.nprobe = min(index.nprobe, nlist)
        return index  # faiss's Python wrapper keeps `quantizer` alive through `index`

    raise ValueError(f"unknown faiss method {method!r}; valid: {', '.join(METHODS)}")


def search(index: "faiss.Index", queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best database rows for each query.

    Args:
        index: from :func:`build_index`.
        queries: float32 ``[Q, F]``.
        k: results per query.

    Returns:
        ``(scores [Q, k] float32, ids [Q, k] int64)``, best first; ``scores`` are squared L2
        distances or inner products; ``ids`` is ``-1`` where fewer than ``k`` results were found.
    """
    with _threads(torch.get_num_threads()):
        scores, ids = index.search(_as_f32(queries), int(k))
    return scores, ids.astype(np.int64, copy=False)


def faiss_kmeans(
    x: np.ndarray, n_clusters: int, *, n_init: int = 20, max_iter: int = 300, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Lloyd's k-means with faiss: minimise :math:`\sum_i \|x_i - \mu_{s_i}\|^2`.

    ``faiss.Kmeans`` with random initialisation (``n_clusters`` distinct points drawn with
    ``seed``), ``max_iter`` Lloyd iterations, best of ``n_init`` restarts by that objective. All
    points are used (faiss's default subsampling to 256 points per centroid is switched off).

    Args:
        x: float32 ``[N, d]``.
        n_clusters: ``K <= N``.
        n_init: restarts.
        max_iter: Lloyd iterations per restart.
        seed: integer seed.

    Returns:
        ``(labels [N] int64, centres [K, d] float32)``.
    """
    x = _as_f32(x)
    n, d = x.shape
    if not 1 <= int(n_clusters) <= n:
        raise ValueError(f"n_clusters={n_clusters} should be in [1, n_samples={n}]")
    km = faiss.Kmeans(
        d,
        int(n_clusters),
        niter=int(max_iter),
        nredo=int(n_init),
        seed=int(seed) % (2**31 - 1),
        verbose=False,
        min_points_per_centroid=1,  # no "please provide at least ..." warning on small data
        max_points_per_centroid=max(1, -(-n // int(n_clusters))),  # never subsample
    )
    with _threads(torch.get_num_threads()):
        km.train(x)
        _, labels = km.index.search(x, 1)  # [N, 1]
    return labels.reshape(-1).astype(np.int64), np.asarray(km.centroids, dtype=np.float32).reshape(int(n_clusters), d)


def _as_f32(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32)
