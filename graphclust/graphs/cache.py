"""A disk cache of kNN graphs, for runs that build the same graph again and again.

An estimator that builds its own kNN graph (SDDECC on the raw images, SDCN where the input has no
edges) builds it on every fit: for MNIST's 70,000 images an exact search takes about 45 s on two
cores, the same graph for every seed and every ablation. With ``$GRAPHCLUST_GRAPH_CACHE`` set to a
folder (or ``cache_dir`` given), :func:`cached_knn_graph` stores each graph it builds there and
returns a stored one when the same features and settings come again.

The key is a SHA-256 of the float32 features (shape and bytes) and of every setting of
:func:`graphclust.graphs.knn.knn_graph`. ``random_state`` enters it only for the approximate
backends (``faiss-hnsw``, ``faiss-ivf``); exact search ignores it, so every seed shares one file.
A file is written under a temporary name and renamed, so processes that share the folder never read
half a graph; one that cannot be read is built again and replaced.
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import torch

from .inputs import _features
from .knn import knn_graph

__all__ = ["CACHE_ENV", "cached_knn_graph", "graph_cache_dir"]

CACHE_ENV = "GRAPHCLUST_GRAPH_CACHE"
_APPROXIMATE = ("faiss-hnsw", "faiss-ivf")


def graph_cache_dir() -> Path | None:
    """The folder of ``$GRAPHCLUST_GRAPH_CACHE``, or None when it is unset or empty (no caching)."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value) if value else None


def _key(feats: torch.Tensor, settings: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(repr(tuple(feats.shape)).encode())
    digest.update(feats.contiguous().numpy().tobytes())
    digest.update(repr(sorted(settings.items())).encode())
    return digest.hexdigest()[:32]


def cached_knn_graph(x: Any, *, cache_dir: str | Path | None = None, verbose: bool = False, **kwargs):
    """:func:`~graphclust.graphs.knn.knn_graph` of ``x`` with ``kwargs``, read from ``cache_dir`` (default
    :func:`graph_cache_dir`; None: no caching) when the same graph was stored there, else built and stored.

    Returns what ``knn_graph`` returns (``return_distances`` is not cached: with it the graph is built).
    ``verbose``: say on stderr whether the graph was read or built and stored."""
    folder = Path(cache_dir) if cache_dir is not None else graph_cache_dir()
    if folder is None or kwargs.get("return_distances"):
        return knn_graph(x, **kwargs)
    settings = dict(kwargs)
    if settings.get("backend", "faiss") not in _APPROXIMATE:
        settings.pop("random_state", None)  # exact search: the same graph for every seed
    else:
        settings["random_state"] = repr(settings.get("random_state"))
    feats = _features(x, "x")[0]
    path = folder / f"knn_{_key(feats, settings)}.pt"
    if path.exists():
        try:
            saved = torch.load(path, weights_only=True)
            if verbose:
                print(f"kNN graph read from {path}", file=sys.stderr, flush=True)
            return saved["edge_index"], saved["edge_weight"]
        except Exception as err:  # a file that cannot be read is built again
            warnings.warn(f"kNN graph cache {path} unreadable ({err}); building the graph again", stacklevel=2)
    edge_index, edge_weight = knn_graph(x, **kwargs)
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save({"edge_index": edge_index, "edge_weight": edge_weight}, partial)
    os.replace(partial, path)
    if verbose:
        print(f"kNN graph built and stored in {path}", file=sys.stderr, flush=True)
    return edge_index, edge_weight
