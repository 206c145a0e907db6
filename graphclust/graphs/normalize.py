"""Sparse adjacency normalisations, returned as ``torch.sparse_csr_tensor`` float32 ``[N, N]``.

Notation: ``A`` is the weighted adjacency, ``A_ij = w`` for an edge ``i -> j`` (duplicate edges are
summed), ``I`` the identity, ``d_i = sum_j A_ij`` the (weighted, row) degree, ``D = diag(d)``.

- :func:`gcn_norm`: ``D~^-1/2 (A + I) D~^-1/2`` (Kipf & Welling, ICLR 2017), ``D~`` the degree of ``A + I``;
- :func:`row_norm`: ``D~^-1 (A + I)``, SDCN's propagation matrix (Bo et al., WWW 2020);
- :func:`transition_proximity`: ``M = (B + B^2 + ... + B^t) / t`` with ``B = D^-1 A``, DAEGC's
  t-order proximity (Wang et al., IJCAI 2019, Eq. 3).

Self-loops: when a normalisation adds ``I``, any self-loop already in ``A`` is first removed, so the
diagonal of ``A + I`` is exactly 1 (never 2). Isolated nodes: ``1/d`` and ``1/sqrt(d)`` are taken
as 0 where ``d = 0``, so their rows stay zero rather than inf/NaN.

Everything is computed with ``scipy.sparse`` and converted once; no ``N x N`` dense matrix is formed.
Propagation is :func:`propagate`, ``adj @ h`` on the CSR tensor.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from .inputs import _edge_index, _edge_weight

__all__ = ["to_csr", "gcn_norm", "row_norm", "transition_proximity", "propagate"]


def to_csr(edge_index: Any, edge_weight: Any = None, n: int | None = None) -> torch.Tensor:
    """The adjacency ``A`` ``[n, n]`` as a float32 CSR tensor, ``A_ij = sum of w over edges i -> j``.

    Args:
        edge_index: int ``[2, E]``, row = source ``i``, column = target ``j``.
        edge_weight: ``[E]`` non-negative, or ``None`` for all ones.
        n: number of nodes; ``None`` infers ``max(edge_index) + 1`` (which misses trailing
            isolated nodes, so pass ``n`` when you know it).

    Returns:
        ``torch.sparse_csr_tensor`` float32 ``[n, n]``.
    """
    return _to_torch(_adjacency(edge_index, edge_weight, n))


def gcn_norm(
    edge_index: Any, edge_weight: Any = None, n: int | None = None, add_self_loops: bool = True
) -> torch.Tensor:
    r"""Symmetric normalisation :math:`\hat A = \tilde D^{-1/2} \tilde A \tilde D^{-1/2}`.

    :math:`\tilde A = A + I` (existing self-loops replaced by weight 1) when ``add_self_loops``,
    else :math:`\tilde A = A`; :math:`\tilde D_{ii} = \sum_j \tilde A_{ij}`; entries:
    :math:`\hat A_{ij} = \tilde A_{ij} / \sqrt{\tilde d_i \tilde d_j}`, and 0 for a node with
    :math:`\tilde d_i = 0`. For a directed ``A`` the row (out-)degree is used on both sides.

    Args:
        edge_index: int ``[2, E]``.
        edge_weight: ``[E]`` or ``None`` (ones).
        n: number of nodes (``None``: ``max(edge_index) + 1``).
        add_self_loops: use ``A + I``.

    Returns:
        ``torch.sparse_csr_tensor`` float32 ``[n, n]``.
    """
    a = _adjacency(edge_index, edge_weight, n, self_loops=add_self_loops)
    inv_sqrt = _safe_power(np.asarray(a.sum(axis=1)).ravel(), -0.5)  # [n]
    a = a.tocoo()
    a.data *= inv_sqrt[a.row] * inv_sqrt[a.col]
    return _to_torch(a.tocsr())


def row_norm(
    edge_index: Any, edge_weight: Any = None, n: int | None = None, add_self_loops: bool = True
) -> torch.Tensor:
    r"""Row normalisation :math:`\hat A = \tilde D^{-1} \tilde A` (SDCN's ``normalize(adj + I)``).

    :math:`\tilde A = A + I` (existing self-loops replaced by weight 1) when ``add_self_loops``,
    else :math:`\tilde A = A`; :math:`\hat A_{ij} = \tilde A_{ij} / \tilde d_i`. Every row with
    :math:`\tilde d_i > 0` sums to 1; a row with :math:`\tilde d_i = 0` stays 0.

    Args and returns as in :func:`gcn_norm`.
    """
    a = _adjacency(edge_index, edge_weight, n, self_loops=add_self_loops)
    inv = _safe_power(np.asarray(a.sum(axis=1)).ravel(), -1.0)  # [n]
    return _to_torch(sp.diags(inv) @ a)


def transition_proximity(edge_index: Any, edge_weight: Any = None, n: int | None = None, t: int = 2) -> torch.Tensor:
    r"""DAEGC's t-order proximity :math:`M = \frac{1}{t} \sum_{s=1}^{t} B^s`, with :math:`B = D^{-1} A`.

    :math:`B_{ij} = A_{ij} / d_i` is the one-step random-walk transition matrix (``A`` as given: no
    self-loops are added, as in the paper), so :math:`M_{ij}` is the average probability of reaching
    ``j`` from ``i`` in ``1..t`` steps, and each row of ``M`` sums to 1 for a node with ``d_i > 0``
    (rows of isolated nodes stay 0). Reference: Wang et al., *Attributed Graph Clustering: A Deep
    Attentional Embedding Approach*, IJCAI 2019, Eq. 3. (The official DAEGC code instead builds
    ``B`` from the row-normalised ``A + I`` and then column-normalises it; for a symmetric ``A``
    without self-loops this function follows the paper.)

    :math:`B^s` is computed with sparse products, so ``M`` has the nonzeros of the ``t``-hop
    neighbourhoods (about ``k^t`` per row for a kNN graph): keep ``t`` small.

    Args:
        edge_index: int ``[2, E]``.
        edge_weight: ``[E]`` or ``None`` (ones).
        n: number of nodes (``None``: ``max(edge_index) + 1``).
        t: order ``t >= 1``.

    Returns:
        ``torch.sparse_csr_tensor`` float32 ``[n, n]``.
    """
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 1:
        raise ValueError(f"t={t!r} should be an integer >= 1")
    a = _adjacency(edge_index, edge_weight, n, self_loops=False)
    b = (sp.diags(_safe_power(np.asarray(a.sum(axis=1)).ravel(), -1.0)) @ a).tocsr()  # [n, n]
    power, total = b, b.copy()
    for _ in range(int(t) - 1):
        power = power @ b
        total = total + power
    return _to_torch(total / float(t))


def propagate(adj: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """One propagation step ``adj @ h``: ``[N, N]`` sparse times ``[N, d]`` (or ``[N]``) dense.

    Sparse-dense matmul on CSR; gradients flow to ``h``.

    Raises:
        ValueError: ``adj`` is not a 2-D sparse tensor, or its size does not match ``h``.
    """
    if not isinstance(adj, torch.Tensor) or adj.layout not in (torch.sparse_csr, torch.sparse_coo):
        raise ValueError(
            f"adj must be a sparse CSR/COO tensor (from gcn_norm, row_norm, ...), got "
            f"{type(adj).__name__ if not isinstance(adj, torch.Tensor) else adj.layout}"
        )
    if adj.dim() != 2 or adj.size(0) != adj.size(1):
        raise ValueError(f"adj must be square [N, N], got shape {list(adj.shape)}")
    if h.dim() not in (1, 2) or h.size(0) != adj.size(1):
        raise ValueError(f"h must have shape [N, d] with N={adj.size(1)}, got shape {list(h.shape)}")
    if h.dtype != adj.dtype:
        raise ValueError(f"h has dtype {h.dtype} but adj has dtype {adj.dtype}")
    if h.dim() == 1:
        return (adj @ h.unsqueeze(1)).squeeze(1)  # [N]
    return adj @ h  # [N, d]


# ----------------------------------------------------------------------------------------------
# helpers


def _adjacency(edge_index: Any, edge_weight: Any, n: int | None, self_loops: bool = False) -> sp.csr_matrix:
    """Validated float64 scipy CSR ``A`` ``[n, n]``; ``self_loops=True`` returns ``A - diag(A) + I``."""
    if n is None:
        ei = _edge_index(edge_index, np.iinfo(np.int64).max)
        if ei.size(1) == 0:
            raise ValueError("cannot infer n from an empty edge_index; pass n")
        n = int(ei.max()) + 1
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n={n!r} should be an integer >= 1")
    n = int(n)
    ei = _edge_index(edge_index, n).numpy()  # [2, E]
    w = np.ones(ei.shape[1]) if edge_weight is None else _edge_weight(edge_weight, ei.shape[1]).numpy()
    row, col, w = ei[0], ei[1], w.astype(np.float64)
    if self_loops:
        off = row != col
        loops = np.arange(n)
        row = np.concatenate([row[off], loops])
        col = np.concatenate([col[off], loops])
        w = np.concatenate([w[off], np.ones(n)])
    a = sp.csr_matrix((w, (row, col)), shape=(n, n))  # duplicates are summed
    a.sum_duplicates()
    return a


def _safe_power(d: np.ndarray, p: float) -> np.ndarray:
    """``d ** p`` with 0 where ``d == 0`` (isolated nodes get zero rows, not inf)."""
    out = np.zeros_like(d, dtype=np.float64)
    pos = d > 0
    out[pos] = d[pos] ** p
    return out


def _to_torch(a: sp.spmatrix) -> torch.Tensor:
    """scipy sparse -> ``torch.sparse_csr_tensor`` float32 with sorted column indices."""
    a = sp.csr_matrix(a)
    a.sum_duplicates()  # also sorts indices
    crow = torch.from_numpy(a.indptr.astype(np.int64))
    col = torch.from_numpy(a.indices.astype(np.int64))
    val = torch.from_numpy(a.data.astype(np.float32))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, col, val, size=a.shape, dtype=torch.float32, check_invariants=False)
