"""A short diagnostic summary of a graph, most usefully of a kNN graph built for clustering.

The single most telling number is the edge homophily (Zhu et al., NeurIPS 2020)

.. math:: h = \\frac{|\\{(i, j) \\in E : y_i = y_j\\}|}{|E|},

the fraction of edges joining same-label nodes (self-loops excluded): a graph-based clusterer can at
best propagate the signal a graph carries, and ``1 - h`` is the "error rate" SDCN prints when it
builds its kNN graphs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components

from torch_geometric.utils import coalesce

from .inputs import _edge_index, _edge_weight, _labels

__all__ = ["GraphReport", "graph_report"]


@dataclass(frozen=True)
class GraphReport:
    """Summary of a graph on ``n_nodes`` nodes.

    Attributes:
        n_nodes: ``N``.
        n_edges: undirected edges counted once when the graph is symmetric (a self-loop counts
            once), else equal to ``n_directed_edges``.
        n_directed_edges: distinct ordered pairs ``(i, j)`` in ``edge_index``, self-loops included.
        n_isolated: nodes with no neighbour other than themselves.
        degree_min, degree_mean, degree_max, degree_median: statistics of the degree
            ``deg(i) = |{j != i : (i, j) in E or (j, i) in E}|`` (the undirected view, so a directed
            kNN graph's in-edges count too; equal to the out-degree for a symmetric graph).
        self_loops: distinct ``(i, i)`` pairs.
        is_symmetric: every ``(i, j)`` has its ``(j, i)`` (with an equal weight when weights are given).
        n_components: connected components of the undirected view (isolated nodes count).
        edge_homophily: fraction of distinct non-self-loop edges ``(i, j)`` with ``y_i = y_j``;
            ``None`` without labels, ``nan`` when there are no such edges.
    """

    n_nodes: int
    n_edges: int
    n_directed_edges: int
    n_isolated: int
    degree_min: int
    degree_mean: float
    degree_max: int
    degree_median: float
    self_loops: int
    is_symmetric: bool
    n_components: int
    edge_homophily: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        kind = "undirected (symmetric)" if self.is_symmetric else "directed"
        lines = [
            f"graph: {self.n_nodes:,} nodes, {self.n_edges:,} edges, {kind}; "
            f"{self.n_directed_edges:,} directed entries",
            f"  degree: min {self.degree_min}, median {self.degree_median:g}, "
            f"mean {self.degree_mean:.2f}, max {self.degree_max}",
            f"  isolated nodes: {self.n_isolated:,}, self-loops: {self.self_loops:,}, "
            f"connected components: {self.n_components:,}",
        ]
        if self.edge_homophily is not None:
            lines.append(f"  edge homophily: {self.edge_homophily:.4f}")
        return "\n".join(lines)


def graph_report(edge_index: Any, n: int, y: Any = None, edge_weight: Any = None) -> GraphReport:
    """Summarise the graph ``edge_index`` ``[2, E]`` on ``n`` nodes.

    Duplicate entries of ``edge_index`` count once.

    Args:
        edge_index: int ``[2, E]``.
        n: number of nodes ``N`` (isolated nodes beyond the largest index count too).
        y: optional labels ``[N]`` for the edge homophily.
        edge_weight: optional ``[E]``; only used to decide symmetry (weights of ``(i, j)`` and
            ``(j, i)`` must agree up to float32 rounding).

    Returns:
        A :class:`GraphReport`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n={n!r} should be an integer >= 1")
    n = int(n)
    ei = _edge_index(edge_index, n).numpy()  # [2, E]
    labels = _labels(y, n)
    e = ei.shape[1]
    w = torch.ones(e) if edge_weight is None else _edge_weight(edge_weight, e)

    # Distinct ordered pairs, sorted by (row, col); a repeated pair keeps its largest weight.
    ei_t, w_t = coalesce(torch.from_numpy(ei), w, num_nodes=n, reduce="max")
    row, col, w = ei_t[0].numpy(), ei_t[1].numpy(), w_t.numpy()
    n_directed = int(row.shape[0])
    loop = row == col
    self_loops = int(loop.sum())

    key = row * n + col  # [E'] ascending, because pairs are sorted by (row, col)
    reverse = col * n + row  # [E']
    pos = np.minimum(np.searchsorted(key, reverse), max(n_directed - 1, 0))
    found = key[pos] == reverse if n_directed else np.ones(0, dtype=bool)
    is_symmetric = bool(found.all())
    if is_symmetric and edge_weight is not None and n_directed:
        is_symmetric = bool(np.allclose(w, w[pos], rtol=1e-6, atol=0.0))
    n_edges = (n_directed - self_loops) // 2 + self_loops if is_symmetric else n_directed

    # Undirected view without self-loops: each neighbouring pair {i, j} once.
    lo, hi = np.minimum(row[~loop], col[~loop]), np.maximum(row[~loop], col[~loop])
    pairs = np.unique(lo * n + hi)  # [P]
    lo, hi = pairs // n, pairs % n
    degree = np.bincount(np.concatenate([lo, hi]), minlength=n)  # [N]
    undirected = sp.coo_matrix((np.ones(pairs.shape[0]), (lo, hi)), shape=(n, n))
    n_components = int(connected_components(undirected, directed=False)[0])

    homophily = None
    if labels is not None:
        lab = labels.numpy()
        same = lab[row[~loop]] == lab[col[~loop]]
        homophily = float(same.mean()) if same.size else math.nan

    return GraphReport(
        n_nodes=n,
        n_edges=int(n_edges),
        n_directed_edges=n_directed,
        n_isolated=int((degree == 0).sum()),
        degree_min=int(degree.min()),
        degree_mean=float(degree.mean()),
        degree_max=int(degree.max()),
        degree_median=float(np.median(degree)),
        self_loops=self_loops,
        is_symmetric=is_symmetric,
        n_components=n_components,
        edge_homophily=homophily,
    )
