"""k-nearest-neighbour graphs over feature vectors, built by index search (never an N x N matrix).

For each node ``i`` the builder finds its ``k`` nearest other nodes ``N_k(i)`` and emits directed edges
``i -> j`` for ``j`` in ``N_k(i)``; the edge set is then optionally symmetrised:

- ``"union"``:  ``E = {(i, j) : j in N_k(i) or i in N_k(j)}`` (the usual kNN graph),
- ``"mutual"``: ``E = {(i, j) : j in N_k(i) and i in N_k(j)}`` (mutual kNN, a subset of the union),
- ``None``:     ``E = {(i, j) : j in N_k(i)}``, directed, exactly ``k`` out-edges per node.

Search is done by faiss (exact ``IndexFlat*``, or approximate HNSW / IVF) or by scikit-learn's
brute-force ``NearestNeighbors``; exact faiss and scikit-learn return the same neighbours.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce

from .inputs import _features

__all__ = ["knn_graph", "KNNGraph", "knn_recall", "DEFAULT_NEIGHBORS", "METRICS", "WEIGHTS", "BACKENDS",
           "EXACT_BACKENDS", "RECIPES", "SYMMETRIZE"]

DEFAULT_NEIGHBORS = 10  # k when neither the caller nor a dataset's recipe sets one
METRICS = ("euclidean", "cosine", "ip")
WEIGHTS = ("binary", "heat", "cosine")
BACKENDS = ("faiss", "faiss-hnsw", "faiss-ivf", "sklearn")
EXACT_BACKENDS = ("faiss", "sklearn")  # the same neighbours whatever the seed; the others depend on it
RECIPES = ("heat", "ncos")
SYMMETRIZE = ("union", "mutual", None)

_FAISS_METHOD = {"faiss": "exact", "faiss-hnsw": "hnsw", "faiss-ivf": "ivf"}
_CHUNK_ELEMENTS = 1 << 24  # bound on temporary [chunk, F] arrays when scoring edges (64 MB)


def knn_graph(
    x: Any,
    n_neighbors: int = DEFAULT_NEIGHBORS,
    *,
    metric: str = "euclidean",
    weight: str = "binary",
    recipe: str | None = None,
    backend: str = "faiss",
    symmetrize: str | None = "union",
    heat_t: float = 2.0,
    random_state: Any = None,
    return_distances: bool = False,
    ef_search: int = 64,
    nprobe: int | None = None,
):
    r"""Build the k-nearest-neighbour graph of the rows of ``x``.

    Neighbours of node ``i`` are the ``k`` rows ``j != i`` that minimise

    - ``"euclidean"``: :math:`\|x_i - x_j\|_2`,
    - ``"cosine"``:    :math:`1 - \frac{x_i^\top x_j}{\|x_i\| \|x_j\|}`,
    - ``"ip"``:        :math:`-x_i^\top x_j` (maximum inner product; ``i`` need not be its own best
      match, so exclusion of self is by index, not by rank).

    Self is never one of its own neighbours, even with duplicate points: ``k + 1`` candidates are
    searched, ``i`` is dropped by index, and when ``i`` is not among them (more than ``k``
    duplicates of ``x_i``) the last candidate is dropped, so every node gets exactly ``k``
    (approximate backends may return fewer when their search finds fewer).

    Edge weights :math:`w_{ij}` (computed exactly from ``x``, whatever the backend):

    - ``"binary"``: :math:`w_{ij} = 1`,
    - ``"heat"``:   :math:`w_{ij} = \exp(-\|x_i - x_j\|^2 / t)` with ``t = heat_t``,
    - ``"cosine"``: :math:`w_{ij} = \max(0, \cos(x_i, x_j))`.

    Recipes reproduce SDCN's ``calcu_graph.py`` (Bo et al., *Structural Deep Clustering Network*,
    WWW 2020) without its ``N x N`` similarity matrix; both use binary weights:

    - ``"heat"``: top-``k`` by :math:`S_{ij} = \exp(-\|x_i - x_j\|^2 / 2)`; since ``exp`` is
      monotone this is exactly the Euclidean kNN, found by L2 search;
    - ``"ncos"``: binarise :math:`b_i = [x_i > 0]`, L1-normalise :math:`\tilde b_i = b_i / \|b_i\|_1`
      (all-zero rows stay zero), top-``k`` by :math:`S_{ij} = \tilde b_i^\top \tilde b_j`, found by
      inner-product search on :math:`\tilde b` (used for bag-of-words text such as Reuters).

    SDCN writes directed edges ``i -> j`` and makes them symmetric (element-wise max) when loading,
    so ``symmetrize="union"`` (the default) gives SDCN's graph and ``symmetrize=None`` gives its
    ``graph/*.txt`` edge list. Two deliberate differences: SDCN's float32 ``exp`` underflows to 0
    for far-apart points, which ties them, whereas the distance ranking here has no such ties; and
    SDCN keeps ``k + 1`` edges for a row whose own index is not in its top ``k + 1`` (ties), where
    this keeps exactly ``k``.

    Args:
        x: features ``[N, F]`` (tensor, array or scipy.sparse; image batches are flattened).
        n_neighbors: ``k``, with ``1 <= k < N``.
        metric: ``"euclidean"``, ``"cosine"`` or ``"ip"``.
        weight: ``"binary"``, ``"heat"`` or ``"cosine"``.
        recipe: ``None``, ``"heat"`` or ``"ncos"``; a recipe fixes ``metric`` and ``weight``, so
            passing other values for them with a recipe is an error.
        backend: ``"faiss"`` (exact), ``"faiss-hnsw"``, ``"faiss-ivf"`` or ``"sklearn"`` (exact
            brute force).
        symmetrize: ``"union"``, ``"mutual"`` or ``None`` (see module docstring). Where both
            ``i -> j`` and ``j -> i`` exist they merge into one entry per direction (weight: max).
        heat_t: ``t > 0`` of the heat kernel.
        random_state: seed (``int``, ``numpy.random.Generator``, ``torch.Generator`` or ``None``)
            for the approximate backends; exact backends ignore it.
        return_distances: also return per-edge distances ``d_ij``: Euclidean distance for
            ``"euclidean"`` / ``"heat"``, ``1 - cos`` for ``"cosine"``, ``-S_ij`` for ``"ip"`` /
            ``"ncos"`` (smaller is closer in every case).
        ef_search: HNSW candidate-list size (raised to ``k + 1`` if smaller).
        nprobe: IVF cells visited per query; ``None`` visits 1/32 of the cells (at least 8).

    Returns:
        ``(edge_index, edge_weight)``: int64 ``[2, E]`` sorted by (row, col) without duplicates,
        and float32 ``[E]``; plus float32 ``distances [E]`` when ``return_distances``.

    Raises:
        ValueError: unknown option, ``n_neighbors`` out of ``[1, N)``, non-finite ``x``, bad
            ``heat_t`` / ``ef_search`` / ``nprobe``, or a recipe combined with ``metric`` / ``weight``.

    Example:
        >>> import torch
        >>> x = torch.tensor([[0.0], [1.0], [3.0]])
        >>> knn_graph(x, 1, symmetrize=None)[0]
        tensor([[0, 1, 2],
                [1, 0, 1]])
    """
    _check_options(metric, weight, recipe, backend, symmetrize, heat_t, ef_search, nprobe)
    feats = _features(x, "x")[0].numpy()  # [N, F] float32
    n = feats.shape[0]
    k = _check_k(n_neighbors, n)
    if recipe is not None:
        metric = "euclidean" if recipe == "heat" else "ip"
    space, search_metric = _search_space(feats, metric, recipe)  # [N, F'], "l2" | "ip"

    ids = _neighbors(space, k, search_metric, backend, _seed(random_state), ef_search, nprobe)  # [N, k]
    valid = ids >= 0
    row = np.broadcast_to(np.arange(n)[:, None], ids.shape)[valid]  # [E]
    col = ids[valid]  # [E]

    if weight == "binary":
        w = np.ones(row.shape[0], dtype=np.float32)
    elif weight == "heat":
        w = np.exp(-_sq_dist(feats, row, col) / np.float32(heat_t))
    else:  # cosine, clipped so that weights stay non-negative
        unit = _unit_rows(feats)
        w = np.maximum(_row_dot(unit, row, col), 0.0)
    attrs = [torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))]
    if return_distances:
        if search_metric == "l2" and metric == "euclidean":
            d = np.sqrt(_sq_dist(feats, row, col))
        elif metric == "cosine":
            d = 1.0 - _row_dot(space, row, col)  # `space` holds unit rows
        else:
            d = -_row_dot(space, row, col)
        attrs.append(torch.from_numpy(np.ascontiguousarray(d, dtype=np.float32)))

    edge_index = torch.from_numpy(np.stack([row, col])).long()  # [2, E]
    edge_index, attrs = _symmetrize(edge_index, attrs, n, symmetrize)
    if return_distances:
        return edge_index, attrs[0], attrs[1]
    return edge_index, attrs[0]


class KNNGraph:
    """Stores :func:`knn_graph` options; calling it on features ``x`` ``[N, F]`` (or a ``Data``,
    whose ``x`` is used) returns ``(edge_index [2, E], edge_weight [E])``.

    Example:
        >>> KNNGraph(10)
        KNNGraph(k=10, metric='euclidean', backend='faiss')
    """

    def __init__(
        self,
        n_neighbors: int = DEFAULT_NEIGHBORS,
        *,
        metric: str = "euclidean",
        weight: str = "binary",
        recipe: str | None = None,
        backend: str = "faiss",
        symmetrize: str | None = "union",
        heat_t: float = 2.0,
        random_state: Any = None,
        ef_search: int = 64,
        nprobe: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.weight = weight
        self.recipe = recipe
        self.backend = backend
        self.symmetrize = symmetrize
        self.heat_t = heat_t
        self.random_state = random_state
        self.ef_search = ef_search
        self.nprobe = nprobe

    def __call__(self, x: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(x, Data):
            x = x.x
        return knn_graph(
            x,
            self.n_neighbors,
            metric=self.metric,
            weight=self.weight,
            recipe=self.recipe,
            backend=self.backend,
            symmetrize=self.symmetrize,
            heat_t=self.heat_t,
            random_state=self.random_state,
            ef_search=self.ef_search,
            nprobe=self.nprobe,
        )

    def __repr__(self) -> str:
        how = f"recipe={self.recipe!r}" if self.recipe is not None else f"metric={self.metric!r}"
        parts = [f"k={self.n_neighbors}", how, f"backend={self.backend!r}"]
        if self.weight != "binary":
            parts.append(f"weight={self.weight!r}")
        if self.symmetrize != "union":
            parts.append(f"symmetrize={self.symmetrize!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def knn_recall(
    x: Any,
    n_neighbors: int,
    backend: str,
    sample: int = 1000,
    random_state: Any = 0,
    *,
    metric: str = "euclidean",
    ef_search: int = 64,
    nprobe: int | None = None,
) -> float:
    r"""Recall@k of ``backend`` against exact faiss search, on a sample of query points.

    .. math:: \text{recall@}k = \frac{1}{|Q|} \sum_{i \in Q} \frac{|A_k(i) \cap N_k(i)|}{k}

    with ``Q`` a seeded sample of ``min(sample, N)`` nodes, ``A_k(i)`` the neighbours ``backend``
    returns for ``i`` (self excluded, as in :func:`knn_graph`) and ``N_k(i)`` the exact ones
    (scikit-learn brute force stands in when faiss is not installed). Ties at the k-th distance
    can make an exact backend score slightly below 1.

    Args:
        x: features ``[N, F]``.
        n_neighbors: ``k``.
        backend: one of :data:`BACKENDS`.
        sample: number of query points.
        random_state: seed for the sample and the approximate index.
        metric: ``"euclidean"``, ``"cosine"`` or ``"ip"``.
        ef_search, nprobe: as in :func:`knn_graph`.

    Returns:
        Recall in ``[0, 1]``.
    """
    _check_options(metric, "binary", None, backend, "union", 2.0, ef_search, nprobe)
    if isinstance(sample, bool) or not isinstance(sample, numbers.Integral) or sample < 1:
        raise ValueError(f"sample={sample!r} should be an integer >= 1")
    feats = _features(x, "x")[0].numpy()
    n = feats.shape[0]
    k = _check_k(n_neighbors, n)
    seed = _seed(random_state)
    space, search_metric = _search_space(feats, metric, None)
    queries = np.sort(np.random.default_rng(seed).choice(n, size=min(int(sample), n), replace=False))

    try:
        from . import _faiss  # noqa: F401

        reference = "faiss"
    except ImportError:
        reference = "sklearn"
    exact = _neighbors(space, k, search_metric, reference, seed, ef_search, nprobe, queries)  # [Q, k]
    approx = _neighbors(space, k, search_metric, backend, seed, ef_search, nprobe, queries)  # [Q, k]
    hits = (approx[:, :, None] == exact[:, None, :]) & (approx[:, :, None] >= 0)  # [Q, k, k]
    return float(hits.any(axis=2).sum() / (len(queries) * k))


# ----------------------------------------------------------------------------------------------
# helpers


def _check_options(metric, weight, recipe, backend, symmetrize, heat_t, ef_search, nprobe) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; valid: {', '.join(METRICS)}")
    if weight not in WEIGHTS:
        raise ValueError(f"unknown weight {weight!r}; valid: {', '.join(WEIGHTS)}")
    if recipe is not None and recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; valid: None, {', '.join(RECIPES)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if symmetrize not in SYMMETRIZE:
        raise ValueError(f"unknown symmetrize {symmetrize!r}; valid: 'union', 'mutual', None")
    if recipe is not None and (metric != "euclidean" or weight != "binary"):
        raise ValueError(
            f"recipe={recipe!r} fixes the metric and binary weights; got metric={metric!r}, "
            f"weight={weight!r} (leave them at their defaults, or drop the recipe)"
        )
    if isinstance(heat_t, bool) or not isinstance(heat_t, numbers.Real) or not (0 < heat_t < float("inf")):
        raise ValueError(f"heat_t={heat_t!r} should be a finite number > 0")
    if isinstance(ef_search, bool) or not isinstance(ef_search, numbers.Integral) or ef_search < 1:
        raise ValueError(f"ef_search={ef_search!r} should be an integer >= 1")
    if nprobe is not None and (isinstance(nprobe, bool) or not isinstance(nprobe, numbers.Integral) or nprobe < 1):
        raise ValueError(f"nprobe={nprobe!r} should be None or an integer >= 1")


def _check_k(n_neighbors: Any, n: int) -> int:
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, numbers.Integral):
        raise ValueError(f"n_neighbors={n_neighbors!r} should be an integer")
    if n_neighbors < 1:
        raise ValueError(f"n_neighbors={n_neighbors} should be >= 1")
    if n_neighbors >= n:
        raise ValueError(f"n_neighbors={n_neighbors} should be < n_samples={n}")
    return int(n_neighbors)


def _seed(random_state: Any) -> int | None:
    """One integer seed from ``None`` / ``int`` / ``numpy.random.Generator`` / ``torch.Generator``."""
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    if isinstance(random_state, torch.Generator):
        return int(torch.randint(2**31 - 1, (1,), generator=random_state))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0:
        return int(random_state) % (2**31 - 1)
    raise ValueError(
        f"random_state={random_state!r} should be None, a non-negative int, "
        "a numpy.random.Generator or a torch.Generator"
    )


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; all-zero rows stay zero (cosine 0 to everything)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)  # [N, 1]
    return (x / np.maximum(norms, np.finfo(np.float32).tiny)).astype(np.float32)


def _search_space(feats: np.ndarray, metric: str, recipe: str | None) -> tuple[np.ndarray, str]:
    """The vectors actually searched and the faiss metric that ranks them like ``metric``."""
    if recipe == "ncos":
        b = (feats > 0).astype(np.float32)  # [N, F] binarised
        b /= np.maximum(b.sum(axis=1, keepdims=True), 1.0)  # L1 rows; zero rows stay zero
        return b, "ip"
    if metric == "euclidean":
        return feats, "l2"
    if metric == "cosine":
        return _unit_rows(feats), "ip"  # cosine == inner product of unit vectors
    return feats, "ip"


def _neighbors(
    space: np.ndarray,
    k: int,
    search_metric: str,
    backend: str,
    seed: int | None,
    ef_search: int,
    nprobe: int | None,
    queries: np.ndarray | None = None,
) -> np.ndarray:
    """``k`` nearest other rows of ``space`` for each query row (all rows when ``queries`` is None).

    Returns int64 ``[Q, k]`` ids, best first, ``-1`` where a backend found fewer.
    """
    q_idx = np.arange(space.shape[0]) if queries is None else np.asarray(queries)  # [Q]
    q = space[q_idx] if queries is not None else space  # [Q, F]
    if backend == "sklearn":
        ids = _sklearn_search(space, q, k + 1, search_metric)  # [Q, k+1]
    else:
        try:
            from . import _faiss
        except ImportError as err:  # pragma: no cover - faiss is a declared dependency
            raise ImportError(f"backend={backend!r} needs faiss ({err}); use backend='sklearn'") from None
        index = _faiss.build_index(
            space,
            metric=search_metric,
            method=_FAISS_METHOD[backend],
            seed=seed,
            ef_search=max(int(ef_search), k + 1),
            nprobe=nprobe,
        )
        _, ids = _faiss.search(index, q, k + 1)  # [Q, k+1]
    return _drop_self(ids, q_idx)


def _drop_self(ids: np.ndarray, q_idx: np.ndarray) -> np.ndarray:
    """From ``[Q, k+1]`` candidates keep ``k`` per row: drop the query itself, else the last one."""
    is_self = ids == q_idx[:, None]  # [Q, k+1]
    drop = is_self & (np.cumsum(is_self, axis=1) == 1)  # first occurrence only
    no_self = ~drop.any(axis=1)
    drop[no_self, -1] = True
    k = ids.shape[1] - 1
    return ids[~drop].reshape(-1, k)  # [Q, k]


def _sklearn_search(space: np.ndarray, q: np.ndarray, k: int, search_metric: str) -> np.ndarray:
    """Exact brute-force search with scikit-learn's ``NearestNeighbors``; ``[Q, k]`` ids."""
    from sklearn.neighbors import NearestNeighbors

    if search_metric == "ip":
        # Maximum inner product as Euclidean search (Bachrach et al., RecSys 2014): append
        # sqrt(M^2 - ||x_j||^2) to the database and 0 to queries, so
        # ||[q, 0] - [x_j, .]||^2 = ||q||^2 + M^2 - 2 q.x_j, which ranks j exactly as -q.x_j.
        sq = np.einsum("ij,ij->i", space.astype(np.float64), space.astype(np.float64))  # [N]
        extra = np.sqrt(np.maximum(sq.max() - sq, 0.0))[:, None]
        space = np.hstack([space, extra]).astype(np.float32)
        q = np.hstack([q, np.zeros((q.shape[0], 1), dtype=np.float32)])
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="euclidean")
    nn.fit(space)
    return nn.kneighbors(q, return_distance=False).astype(np.int64)


def _chunks(n_items: int, width: int):
    step = max(1, _CHUNK_ELEMENTS // max(1, width))
    for start in range(0, n_items, step):
        yield slice(start, min(start + step, n_items))


def _sq_dist(x: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """``||x_row - x_col||^2`` per edge, from differences (no cancellation for near-duplicates)."""
    out = np.empty(row.shape[0], dtype=np.float32)
    for s in _chunks(row.shape[0], x.shape[1]):
        diff = x[row[s]] - x[col[s]]  # [chunk, F]
        out[s] = np.einsum("ij,ij->i", diff, diff)
    return out


def _row_dot(x: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """``x_row . x_col`` per edge."""
    out = np.empty(row.shape[0], dtype=np.float32)
    for s in _chunks(row.shape[0], x.shape[1]):
        out[s] = np.einsum("ij,ij->i", x[row[s]], x[col[s]])
    return out


def _symmetrize(
    edge_index: torch.Tensor, attrs: list[torch.Tensor], n: int, how: str | None
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Union / mutual / no symmetrisation, then sort by (row, col) and merge duplicates (max)."""
    if how == "union":
        edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)  # [2, 2E]
        attrs = [torch.cat([a, a]) for a in attrs]
    elif how == "mutual":
        key = edge_index[0] * n + edge_index[1]  # [E]
        reverse = edge_index[1] * n + edge_index[0]  # [E]
        keep = torch.isin(key, reverse)
        edge_index = edge_index[:, keep]
        attrs = [a[keep] for a in attrs]
    edge_index, attrs = coalesce(edge_index, attrs, num_nodes=n, reduce="max")
    return edge_index, list(attrs)
