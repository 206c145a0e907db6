"""Clustering metrics: external (ACC, NMI, ARI, macro-F1), graph (modularity, conductance), silhouette.

External metrics compare predicted cluster ids ``y_pred`` with ground-truth classes ``y_true``; they
are for evaluation only (SPEC section 5: no epoch or seed is ever chosen by looking at labels).
Label-free metrics read the sparse graph (``edge_index`` [2, E], ``edge_weight`` [E]) or the
features ``x`` [N, F]; nothing here builds an N x N matrix.

Every ``*_score`` is higher-is-better. ``conductance`` is the exception in name and direction:
lower is better, hence no ``_score`` suffix. ``silhouette`` is higher-is-better but sampled.

Labels may be Python lists, numpy arrays or torch tensors of arbitrary integers (negative ids such
as ``-1`` for noise included; ``-1`` is an ordinary cluster id here). Floats are accepted when every
value is integral.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score

__all__ = [
    "cluster_acc_score",
    "match_labels",
    "nmi_score",
    "ari_score",
    "f1_macro_score",
    "modularity_score",
    "conductance",
    "silhouette",
    "evaluate",
]


# --------------------------------------------------------------------------- input handling


def _to_numpy(a) -> np.ndarray:
    # Duck-typed so that this module never imports torch.
    if hasattr(a, "detach") and hasattr(a, "cpu"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _as_labels(y, name: str) -> np.ndarray:
    """Validate one label vector and return it as int64 numpy ``[N]``."""
    arr = _to_numpy(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: at least one label is needed")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            idx = np.flatnonzero(bad)
            raise ValueError(
                f"{name} contains {idx.size} NaN/inf value(s) (first at index {idx[0]}: {arr[idx[0]]})"
            )
        frac = arr != np.round(arr)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise ValueError(f"{name} must hold integer labels, got {arr[i]!r} at index {i}")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _check_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = _as_labels(y_true, "y_true")
    y_pred = _as_labels(y_pred, "y_pred")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred must have the same length, got len(y_true)={y_true.shape[0]} "
            f"and len(y_pred)={y_pred.shape[0]}"
        )
    return y_true, y_pred


def _check_graph(edge_index, labels, edge_weight, n):
    """Validate a sparse graph against ``labels``; return (src, dst, w, compact labels, K)."""
    labels = _as_labels(labels, "labels")
    n_nodes = labels.shape[0]
    if n is not None and int(n) != n_nodes:
        raise ValueError(f"n={n} does not match len(labels)={n_nodes}")
    ei = _to_numpy(edge_index)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {ei.shape}")
    if ei.size and ei.dtype.kind not in "iu":
        raise ValueError(f"edge_index must hold integers, got dtype {ei.dtype}")
    ei = ei.astype(np.int64)
    if ei.size and (ei.min() < 0 or ei.max() >= n_nodes):
        raise ValueError(
            f"edge_index values must lie in [0, {n_nodes}) for {n_nodes} labelled nodes, "
            f"got min={ei.min()} and max={ei.max()}"
        )
    n_edges = ei.shape[1]
    if edge_weight is None:
        w = np.ones(n_edges, dtype=np.float64)
    else:
        w = _to_numpy(edge_weight).astype(np.float64)
        if w.shape != (n_edges,):
            raise ValueError(f"edge_weight must have shape [E]=({n_edges},), got {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError("edge_weight contains NaN or inf")
        if (w < 0).any():
            raise ValueError(f"edge_weight must be non-negative, got min={w.min()}")
    _, comm = np.unique(labels, return_inverse=True)  # [N] ids in 0..K-1
    return ei[0], ei[1], w, comm.reshape(-1), int(comm.max()) + 1


# --------------------------------------------------------------------------- Hungarian matching


def _contingency(y_true: np.ndarray, y_pred: np.ndarray):
    """Contingency counts ``C`` [K_true, K_pred] with ``C[k, c] = |{i : y_true_i = k, y_pred_i = c}|``."""
    classes, t = np.unique(y_true, return_inverse=True)
    clusters, p = np.unique(y_pred, return_inverse=True)
    k_true, k_pred = classes.size, clusters.size
    counts = np.bincount(t.reshape(-1) * k_pred + p.reshape(-1), minlength=k_true * k_pred)
    return classes, clusters, counts.reshape(k_true, k_pred)


def _hungarian(cont: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one class/cluster matching that maximises the number of matched samples.

    Ties between assignments with the same number of matches are broken by the larger sum of
    per-pair F1 ``2 C[k,c] / (n_k + m_c)``, added with weight ``eps = 1/(min(K_true, K_pred)+1)``
    so it can never outweigh one matched sample. This keeps ``f1_macro_score`` a function of the
    partitions alone (invariant to renaming clusters) and leaves ACC unchanged.
    """
    n_k = cont.sum(axis=1, keepdims=True)  # [K_true, 1] class sizes
    m_c = cont.sum(axis=0, keepdims=True)  # [1, K_pred] cluster sizes
    pair_f1 = 2.0 * cont / (n_k + m_c)  # [K_true, K_pred]
    eps = 1.0 / (min(cont.shape) + 1)
    rows, cols = linear_sum_assignment(cont + eps * pair_f1, maximize=True)
    return rows, cols


def _fill_value(classes: np.ndarray) -> int:
    return int(min(classes.min(), 0)) - 1


def match_labels(y_true, y_pred) -> np.ndarray:
    """Map predicted cluster ids onto class ids by the Hungarian matching used for ACC.

    Args:
        y_true: ground-truth classes ``[N]`` (list, numpy array or torch tensor of ints).
        y_pred: predicted cluster ids ``[N]``.

    Returns:
        int64 numpy ``[N]``: ``y_pred`` with every matched cluster replaced by its class. Clusters
        left unmatched (when there are more clusters than classes) are mapped to
        ``min(min(classes), 0) - 1``, i.e. ``-1`` for non-negative classes, a value never among the
        classes, so they count as errors.

    >>> match_labels([0, 0, 0, 1, 1, 1], [7, 7, 3, 5, 5, 5]).tolist()
    [0, 0, -1, 1, 1, 1]
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    classes, clusters, cont = _contingency(y_true, y_pred)
    rows, cols = _hungarian(cont)
    lookup = np.full(clusters.size, _fill_value(classes), dtype=np.int64)
    lookup[cols] = classes[rows]
    return lookup[np.searchsorted(clusters, y_pred)]


# --------------------------------------------------------------------------- external metrics


def cluster_acc_score(y_true, y_pred) -> float:
    """Clustering accuracy under the best one-to-one matching of clusters to classes.

    ``ACC = max_{g} (1/N) sum_i 1[y_true_i = g(y_pred_i)]``, where ``g`` ranges over one-to-one maps
    from clusters to classes, found by the Hungarian algorithm on the contingency matrix
    ``C`` [K_true, K_pred] (``C[k, c]`` = samples of class ``k`` in cluster ``c``).

    ``y_true``: [N] classes, ``y_pred``: [N] cluster ids, any integers. ``K_true`` and ``K_pred``
    may differ: with more clusters than classes the unmatched clusters count as errors, with
    fewer, the unmatched classes do. Range (0, 1]; symmetric in its arguments.

    >>> round(cluster_acc_score([0, 0, 0, 1, 1, 2], [1, 1, 0, 0, 0, 2]), 4)
    0.8333
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    _, _, cont = _contingency(y_true, y_pred)
    rows, cols = _hungarian(cont)
    return float(cont[rows, cols].sum() / y_true.shape[0])


def f1_macro_score(y_true, y_pred) -> float:
    """Macro-F1 over the true classes after Hungarian matching.

    ``F1 = (1/K_true) sum_k 2 C[k, g(k)] / (n_k + m_{g(k)})``, where ``g(k)`` is the cluster matched
    to class ``k`` (as in ``cluster_acc_score``), ``n_k`` [K_true] the class sizes, ``m_c``
    [K_pred] the cluster sizes and ``C`` [K_true, K_pred] the contingency matrix. A class left
    unmatched (fewer clusters than classes) contributes F1 = 0; samples in unmatched clusters are
    false negatives of their class. Equals sklearn's ``f1_score(y_true, match_labels(y_true,
    y_pred), labels=classes, average="macro")``. Among assignments with equally many matches the
    one with the largest summed F1 is used, so the value does not depend on cluster ids.

    >>> round(f1_macro_score([0, 0, 0, 1, 1, 2], [1, 1, 0, 0, 0, 2]), 4)
    0.8667
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    _, _, cont = _contingency(y_true, y_pred)
    rows, cols = _hungarian(cont)
    n_k = cont.sum(axis=1)  # [K_true]
    m_c = cont.sum(axis=0)  # [K_pred]
    f1 = 2.0 * cont[rows, cols] / (n_k[rows] + m_c[cols])
    return float(f1.sum() / cont.shape[0])


def nmi_score(y_true, y_pred) -> float:
    """Normalised mutual information with the arithmetic-mean normaliser.

    ``NMI = I(Y; C) / ((H(Y) + H(C)) / 2)``, with ``I`` the mutual information and ``H`` the
    entropy of the partitions given by ``y_true`` [N] and ``y_pred`` [N]. Wraps
    ``sklearn.metrics.normalized_mutual_info_score(average_method="arithmetic")``.
    Range [0, 1]; symmetric.

    >>> round(nmi_score([0, 0, 1, 1], [1, 1, 0, 0]), 4)
    1.0
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(normalized_mutual_info_score(y_true, y_pred, average_method="arithmetic"))


def ari_score(y_true, y_pred) -> float:
    """Adjusted Rand index.

    ``ARI = (RI - E[RI]) / (max(RI) - E[RI])``, the Rand index of the partitions ``y_true`` [N] and
    ``y_pred`` [N] corrected for chance under the permutation model. Wraps
    ``sklearn.metrics.adjusted_rand_score``. Range [-1, 1] (0 for random labels); symmetric.

    >>> round(ari_score([0, 0, 1, 1], [0, 1, 0, 1]), 4)
    -0.5
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(adjusted_rand_score(y_true, y_pred))


# --------------------------------------------------------------------------- graph metrics


def modularity_score(edge_index, labels, edge_weight=None, n=None) -> float:
    """Newman modularity of a partition, from the sparse edge list.

    ``Q = sum_c [ L_c / m - (d_c / (2m))^2 ]`` with
    ``m = (1/2) sum_ij A_ij`` (total edge weight), ``L_c = (1/2) sum_{i,j in c} A_ij`` (weight
    inside community ``c``) and ``d_c = sum_{i in c} sum_j A_ij`` (its total degree).

    Args:
        edge_index: ``[2, E]`` ints, the directed entries of a symmetric adjacency ``A``: each
            undirected edge ``{i, j}`` appears as both ``(i, j)`` and ``(j, i)``. Numpy or torch.
        labels: ``[N]`` community id per node.
        edge_weight: ``[E]`` non-negative weights ``A_ij``; ones when ``None``.
        n: number of nodes; checked against ``len(labels)`` when given.

    Returns:
        ``Q`` in [-1/2, 1); ``nan`` for a graph without edges (``m = 0``). Matches
        ``networkx.community.modularity`` on graphs without self-loops.

    >>> two_triangles = [[0, 1, 1, 2, 0, 2, 3, 4, 4, 5, 3, 5, 2, 3],
    ...                  [1, 0, 2, 1, 2, 0, 4, 3, 5, 4, 5, 3, 3, 2]]
    >>> round(modularity_score(two_triangles, [0, 0, 0, 1, 1, 1]), 4)  # 2 (3/7 - 1/4) = 5/14
    0.3571
    """
    src, dst, w, comm, k = _check_graph(edge_index, labels, edge_weight, n)
    two_m = w.sum()
    if two_m == 0:
        return float("nan")
    inside = comm[src] == comm[dst]  # [E]
    l_c = np.bincount(comm[src][inside], weights=w[inside], minlength=k) / 2.0  # [K]
    d_c = np.bincount(comm[src], weights=w, minlength=k)  # [K]
    return float((l_c / (two_m / 2.0) - (d_c / two_m) ** 2).sum())


def conductance(edge_index, labels, edge_weight=None, n=None) -> float:
    """Mean conductance of the clusters. LOWER is better (hence no ``_score`` suffix).

    ``phi = (1/|K'|) sum_{c in K'} cut(c) / min(vol(c), vol(V \\ c))`` with
    ``cut(c) = sum_{i in c, j not in c} A_ij`` and ``vol(c) = sum_{i in c} sum_j A_ij``; ``K'`` are
    the clusters whose denominator is positive: clusters with zero volume (isolated nodes only),
    or a single cluster holding every edge, are skipped.

    Args:
        edge_index: ``[2, E]`` directed entries of a symmetric adjacency ``A`` (numpy or torch).
        labels: ``[N]`` cluster id per node.
        edge_weight: ``[E]`` non-negative weights; ones when ``None``.
        n: number of nodes; checked against ``len(labels)`` when given.

    Returns:
        Mean conductance in [0, 1]; ``nan`` when every cluster is skipped.

    >>> two_triangles = [[0, 1, 1, 2, 0, 2, 3, 4, 4, 5, 3, 5, 2, 3],
    ...                  [1, 0, 2, 1, 2, 0, 4, 3, 5, 4, 5, 3, 3, 2]]
    >>> round(conductance(two_triangles, [0, 0, 0, 1, 1, 1]), 4)  # cut 1, volumes 7 and 7
    0.1429
    """
    src, dst, w, comm, k = _check_graph(edge_index, labels, edge_weight, n)
    vol = np.bincount(comm[src], weights=w, minlength=k)  # [K]
    inside = comm[src] == comm[dst]  # [E]
    within = np.bincount(comm[src][inside], weights=w[inside], minlength=k)  # [K]
    cut = vol - within  # [K]
    total = w.sum()
    denom = np.minimum(vol, total - vol)  # [K]
    # vol(V \ c) = total - vol(c) is a difference of float sums: a cluster holding every edge can
    # leave rounding noise (~1e-16) instead of 0, so denominators that small count as zero
    keep = denom > 1e-12 * total
    if not keep.any():
        return float("nan")
    return float(np.mean(cut[keep] / denom[keep]))


# --------------------------------------------------------------------------- feature metric


def silhouette(x, labels, sample_size=5000, random_state=0) -> float:
    """Mean silhouette coefficient on a random sample of at most ``sample_size`` points.

    ``s_i = (b_i - a_i) / max(a_i, b_i)``, with ``a_i`` the mean Euclidean distance from point
    ``i`` to the other members of its cluster and ``b_i`` the smallest mean distance to another
    cluster; the score is the mean of ``s_i`` over the sample. Higher is better, range [-1, 1].

    Args:
        x: ``[N, F]`` features (numpy or torch).
        labels: ``[N]`` cluster ids.
        sample_size: points drawn without replacement when ``N > sample_size`` (cost is
            quadratic in the sample, never in ``N``).
        random_state: seed or ``numpy.random.Generator`` for the sample.

    Returns:
        The sampled silhouette; ``nan`` when the sample holds fewer than 2 clusters or as many
        clusters as points (where the silhouette is undefined).

    >>> x = [[0.0], [0.1], [5.0], [5.1]]
    >>> round(silhouette(x, [0, 0, 1, 1]), 2)
    0.98
    """
    labels = _as_labels(labels, "labels")
    x = _to_numpy(x).astype(np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must have shape [N, F], got {x.shape}")
    if x.shape[0] != labels.shape[0]:
        raise ValueError(f"x and labels must have the same length, got {x.shape[0]} and {labels.shape[0]}")
    if sample_size < 1:
        raise ValueError(f"sample_size must be >= 1, got {sample_size}")
    if x.shape[0] > sample_size:
        idx = np.random.default_rng(random_state).choice(x.shape[0], size=sample_size, replace=False)
        x, labels = x[idx], labels[idx]
    n_clusters = np.unique(labels).size
    if n_clusters < 2 or n_clusters >= labels.shape[0]:
        return float("nan")
    return float(silhouette_score(x, labels, metric="euclidean"))


# --------------------------------------------------------------------------- all at once


def _unpack_graph(graph):
    """``edge_index`` | ``(edge_index, edge_weight)`` | PyG ``Data`` -> (edge_index, edge_weight)."""
    if hasattr(graph, "edge_index"):  # torch_geometric Data, duck-typed
        return graph.edge_index, getattr(graph, "edge_weight", None)
    if isinstance(graph, tuple):
        if len(graph) != 2:
            raise ValueError(f"graph tuple must be (edge_index, edge_weight), got {len(graph)} items")
        return graph
    return graph, None


def evaluate(y_true, y_pred, graph=None, x=None) -> dict:
    """Every applicable metric in one dict of floats.

    Args:
        y_true: ``[N]`` classes, or ``None`` for a label-free evaluation.
        y_pred: ``[N]`` predicted cluster ids.
        graph: ``edge_index`` ``[2, E]``, or ``(edge_index, edge_weight)``, or a
            ``torch_geometric.data.Data`` (its ``edge_index`` and ``edge_weight``; a ``Data``
            whose ``edge_index`` is ``None`` adds no graph metric).
        x: ``[N, F]`` features for the sampled silhouette.

    Returns:
        ``acc``, ``nmi``, ``ari``, ``f1`` when ``y_true`` is given; ``modularity`` and
        ``conductance`` (lower is better) when a graph is given; ``silhouette`` when ``x`` is given.

    >>> evaluate([0, 0, 1, 1], [1, 1, 0, 0])
    {'acc': 1.0, 'nmi': 1.0, 'ari': 1.0, 'f1': 1.0}
    """
    y_pred = _as_labels(y_pred, "y_pred")
    out = {}
    if y_true is not None:
        y_true, y_pred = _check_pair(y_true, y_pred)
        out["acc"] = cluster_acc_score(y_true, y_pred)
        out["nmi"] = nmi_score(y_true, y_pred)
        out["ari"] = ari_score(y_true, y_pred)
        out["f1"] = f1_macro_score(y_true, y_pred)
    if graph is not None:
        edge_index, edge_weight = _unpack_graph(graph)
        if edge_index is not None:
            out["modularity"] = modularity_score(edge_index, y_pred, edge_weight)
            out["conductance"] = conductance(edge_index, y_pred, edge_weight)
    if x is not None:
        out["silhouette"] = silhouette(x, y_pred)
    return out
