"""k-means: the shared routine every method uses to initialise or read out clusters, and its estimator."""
from __future__ import annotations

import numpy as np
import torch

from ..base import BaseClusterer, FitContext, FitResult

KMEANS_BACKENDS = ("sklearn", "faiss")


def kmeans(x, n_clusters: int, *, n_init: int = 20, max_iter: int = 300, backend: str = "sklearn",
           seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ (scikit-learn) or random (faiss) initialisation.

    Minimises sum_i ||x_i - mu_{s_i}||^2 and keeps the best of ``n_init`` restarts by that
    objective (label-free).

    Args:
        x: [N, d] array or tensor.
        n_clusters: K.
        n_init: restarts (20 is the literature's default for reported baselines).
        max_iter: Lloyd iterations per restart.
        backend: "sklearn" or "faiss".
        seed: integer seed.

    Returns:
        (labels [N] int64, centres [K, d] float32).
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.ascontiguousarray(x, dtype=np.float32)
    if backend == "sklearn":
        from sklearn.cluster import KMeans as _SKKMeans

        km = _SKKMeans(n_clusters=n_clusters, n_init=n_init, max_iter=max_iter, random_state=seed).fit(x)
        return km.labels_.astype(np.int64), km.cluster_centers_.astype(np.float32)
    if backend == "faiss":
        from ..graphs._faiss import faiss_kmeans

        return faiss_kmeans(x, n_clusters, n_init=n_init, max_iter=max_iter, seed=seed)
    raise ValueError(f"unknown k-means backend {backend!r}; expected one of {KMEANS_BACKENDS}")


class KMeans(BaseClusterer):
    """k-means on the raw features (graph-free baseline; edges are ignored).

    Args:
        n_clusters: K.
        backend: "sklearn" (k-means++) or "faiss".
        n_init: restarts, best inertia kept (default 20).
        max_iter: Lloyd iterations per restart.
    """

    def __init__(self, n_clusters: int = 8, *, backend: str = "sklearn", n_init: int = 20, max_iter: int = 300,
                 random_state=None, device="cpu", verbose: bool = True):
        self.n_clusters = n_clusters
        self.backend = backend
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        if self.backend not in KMEANS_BACKENDS:
            raise ValueError(f"unknown k-means backend {self.backend!r}; expected one of {KMEANS_BACKENDS}")

    def _fit(self, data, ctx: FitContext) -> FitResult:
        labels, centers = kmeans(data.x, self.n_clusters, n_init=self.n_init, max_iter=self.max_iter,
                                 backend=self.backend, seed=ctx.seed())
        return FitResult(labels, embedding=None, extra={"cluster_centers_": centers})
