"""A disk cache of kNN graphs, for runs that build the same graph again and again.

An estimator that builds its own kNN graph (SDDECC on the raw images, SDCN where the input has no
edges) builds it on every fit: for MNIST's 70,000 images an exact search takes about 45 s on two
cores, the same graph for every seed and every ablation. With ``$GRAPHCLUST_GRAPH_CACHE`` set to a
folder (or ``cache_dir`` given), :func:`cached_knn_graph` stores each graph it builds there and
returns a stored one when the same features and settings come again.

The key is a SHA-256 of the float32 features (shape and bytes), of every setting of
:func:`graphclust.graphs.knn.knn_graph` and of :data:`FORMAT` (raised when the builder's output
changes, so that no graph of older code is read back). ``random_state`` enters it only for the
approximate backends; exact search (``EXACT_BACKENDS``) ignores it, so every seed shares one file.
The seed is drawn from ``random_state`` once, before the cache is looked at, so a generator passed
in is advanced the same whether the graph is read or built. Processes that share the folder build a
graph once: the first takes a lock on it, the others wait and read what it wrote; a file is written
under a temporary name and renamed, and one that cannot be read is built again and replaced.
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import torch

from ..runtime import file_lock
from .inputs import _features
from .knn import EXACT_BACKENDS, _seed, knn_graph

__all__ = ["CACHE_ENV", "FORMAT", "cached_knn_graph", "graph_cache_dir"]

CACHE_ENV = "GRAPHCLUST_GRAPH_CACHE"
FORMAT = 1  # raise when knn_graph's output changes for the same input and settings


def graph_cache_dir() -> Path | None:
    """The folder of ``$GRAPHCLUST_GRAPH_CACHE``, or None when it is unset or empty (no caching)."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value) if value else None


def _key(feats: torch.Tensor, settings: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(repr((FORMAT, tuple(feats.shape), sorted(settings.items()))).encode())
    digest.update(memoryview(feats.contiguous().numpy()).cast("B"))  # the bytes, not a copy of them
    return digest.hexdigest()[:32]


def _read(path: Path):
    """The stored (edge_index, edge_weight), or None when there is none or it cannot be read."""
    if not path.exists():
        return None
    try:
        saved = torch.load(path, weights_only=True)
        return saved["edge_index"], saved["edge_weight"]
    except Exception as err:  # a file that cannot be read is built again
        warnings.warn(f"kNN graph cache {path} unreadable ({err}); building the graph again", stacklevel=3)
        return None


def cached_knn_graph(x: Any, *, cache_dir: str | Path | None = None, verbose: bool = False,
                     report: dict | None = None, **kwargs):
    """:func:`~graphclust.graphs.knn.knn_graph` of ``x`` with ``kwargs``, read from ``cache_dir`` (default
    :func:`graph_cache_dir`; None: no caching) when the same graph was stored there, else built and stored.

    Returns what ``knn_graph`` returns (``return_distances`` is not cached: with it the graph is built).
    ``verbose``: say on stderr whether the graph was read or built and stored. ``report``: a dict that gets
    ``"source"``, ``"cache"`` when the graph was read from the folder, else ``"built"``."""
    folder = Path(cache_dir) if cache_dir is not None else graph_cache_dir()
    if report is not None:
        report["source"] = "built"
    if folder is None or kwargs.get("return_distances"):
        return knn_graph(x, **kwargs)
    seed = _seed(kwargs.get("random_state"))  # drawn once, hit or miss
    kwargs["random_state"] = seed
    settings = {k: v for k, v in kwargs.items() if k != "random_state" or kwargs.get("backend", "faiss")
                not in EXACT_BACKENDS}
    feats = _features(x, "x")[0]  # [N, F] float32, hashed and, on a miss, searched
    path = folder / f"knn_{_key(feats, settings)}.pt"
    folder.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock, file_lock(lock):  # one builds, the others read
        stored = _read(path)
        if stored is not None:
            if report is not None:
                report["source"] = "cache"
            if verbose:
                print(f"kNN graph read from {path}", file=sys.stderr, flush=True)
            return stored
        edge_index, edge_weight = knn_graph(feats, **kwargs)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            torch.save({"edge_index": edge_index, "edge_weight": edge_weight}, partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    if verbose:
        print(f"kNN graph built and stored in {path}", file=sys.stderr, flush=True)
    return edge_index, edge_weight
