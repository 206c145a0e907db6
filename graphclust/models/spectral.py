"""Spectral clustering on a sparse graph (Ng, Jordan, Weiss, NIPS 2001)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

from ..base import BaseClusterer, FitContext, FitResult
from .kmeans import kmeans


def spectral_embedding(edge_index, edge_weight, n: int, n_components: int, seed: int = 0) -> np.ndarray:
    """Top eigenvectors of the normalised adjacency, rows L2-normalised.

    S = D^−1/2 A D^−1/2 with A symmetrised (A + Aᵀ)/2 and no self loops; the eigenvectors of
    its ``n_components`` largest eigenvalues (those of the smallest of L_sym = I − S) are
    computed with ARPACK (``eigsh``) on the sparse matrix, never densified. Isolated nodes
    get a zero row. Returns U [n, n_components] with unit-norm rows (NJW).
    """
    row, col = np.asarray(edge_index[0]), np.asarray(edge_index[1])
    weight = np.ones(len(row)) if edge_weight is None else np.asarray(edge_weight, dtype=np.float64)
    keep = row != col
    adj = sp.csr_matrix((weight[keep], (row[keep], col[keep])), shape=(n, n))
    adj = (adj + adj.T) * 0.5
    degree = np.asarray(adj.sum(axis=1)).ravel()
    inv_sqrt = np.zeros_like(degree)
    inv_sqrt[degree > 0] = degree[degree > 0] ** -0.5
    norm_adj = sp.diags(inv_sqrt) @ adj @ sp.diags(inv_sqrt)
    v0 = np.random.default_rng(seed).uniform(-1, 1, n)  # ARPACK's start vector, seeded
    _, vectors = eigsh(norm_adj, k=n_components, which="LA", v0=v0, tol=1e-6, maxiter=n * 20)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


class Spectral(BaseClusterer):
    """Spectral clustering on the given graph, or on a kNN graph of the features when there is none.

    Embeds the nodes with the K leading eigenvectors of D^−1/2 A D^−1/2 (sparse eigensolver)
    and runs k-means on the row-normalised embedding.

    Args:
        n_clusters: K.
        n_neighbors: k of the kNN graph built when the input has no edges (default: the
            dataset's recipe, else 10).
        n_init: k-means restarts (20).
    """

    uses_graph = True

    def __init__(self, n_clusters: int = 8, *, n_neighbors: int | None = None, n_init: int = 20, random_state=None,
                 device="cpu", verbose: bool = True):
        self.n_clusters = n_clusters
        self.n_neighbors = n_neighbors
        self.n_init = n_init
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        if self.n_clusters >= n_samples:
            raise ValueError(f"Spectral needs n_clusters < n_samples for the eigensolver, got "
                             f"n_clusters={self.n_clusters}, n_samples={n_samples}")

    def _fit(self, data, ctx: FitContext) -> FitResult:
        edge_index, edge_weight = self._graph(data, ctx)
        u = spectral_embedding(edge_index.cpu().numpy(), None if edge_weight is None else edge_weight.cpu().numpy(),
                               data.num_nodes, self.n_clusters, seed=ctx.seed())
        labels, centers = kmeans(u, self.n_clusters, n_init=self.n_init, seed=ctx.seed())
        return FitResult(labels, embedding=u.astype(np.float32), extra={"cluster_centers_": centers})
