"""Synthetic data sets with known clusters: a stochastic block model graph and Gaussian blobs.

Both are deterministic given ``random_state`` (a seed or a ``numpy.random.Generator``; nothing
touches the global RNGs) and both return the same ``Data`` layout as the real loaders:
``x`` float32 ``[N, F]``, ``y`` long ``[N]``, ``edge_index`` long ``[2, E]`` or ``None`` and
``name``. They have no image shape; PyG ``Data`` cannot store a ``None`` attribute, so read it
as ``getattr(data, "image_shape", None)``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce

__all__ = ["make_sbm", "make_blobs_graph"]


def _as_generator(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise TypeError(
        f"random_state must be None, an int or a numpy.random.Generator, got {type(random_state).__name__}"
    )


def _unrank_upper_triangle(k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Map linear indices ``k`` in ``[0, n(n-1)/2)`` to pairs ``(i, j)``, ``i < j``, row by row.

    Row ``i`` holds the pairs ``(i, i+1) ... (i, n-1)`` and starts at ``s(i) = i*n - i*(i+1)/2``.
    The row is found with the closed form of the inverse of ``s`` and then corrected by one step
    either way, so float rounding cannot put a pair in the wrong row.
    """
    k = k.astype(np.int64)
    start = lambda i: i * n - i * (i + 1) // 2  # noqa: E731  [first index of row i]
    i = np.floor(n - 0.5 - np.sqrt((n - 0.5) ** 2 - 2.0 * k)).astype(np.int64)
    i = np.clip(i, 0, n - 2)
    i = np.where(start(i) > k, i - 1, i)
    i = np.where(start(i + 1) <= k, i + 1, i)
    j = k - start(i) + i + 1
    return i, j


def make_sbm(
    n_per_block: Sequence[int] = (50, 50, 50),
    p_in: float = 0.3,
    p_out: float = 0.02,
    n_features: int = 16,
    feature_noise: float = 1.0,
    random_state=0,
) -> Data:
    r"""An attributed stochastic block model (SBM) graph with Gaussian node features.

    Nodes ``0..N-1`` are split into consecutive blocks of sizes ``n_per_block``. Each unordered
    pair of distinct nodes is joined independently with probability ``p_in`` (same block) or
    ``p_out`` (different blocks). Features are
    :math:`x_i = \mu_{b(i)} + \sigma \varepsilon_i` with block centres
    :math:`\mu_b \sim \mathcal{N}(0, I_F)` and noise :math:`\varepsilon_i \sim \mathcal{N}(0, I_F)`,
    :math:`\sigma` = ``feature_noise``.

    Sampling is sparse, in O(N + E) memory: for every block pair the number of edges is drawn
    from ``Binomial(#pairs, p)`` and that many distinct pairs are drawn uniformly without
    replacement, which gives exactly the SBM distribution without an N x N matrix.

    Args:
        n_per_block: block sizes, each >= 1; ``N = sum(n_per_block)``, ``K = len(n_per_block)``.
        p_in: within-block edge probability in [0, 1].
        p_out: between-block edge probability in [0, 1].
        n_features: ``F`` >= 1.
        feature_noise: standard deviation ``sigma`` >= 0 of the per-node noise.
        random_state: int, None or ``numpy.random.Generator``.

    Returns:
        ``Data`` with ``x`` float32 ``[N, F]``, ``edge_index`` long ``[2, E]`` (undirected: both
        directions stored, coalesced, no self loops), ``y`` long ``[N]`` (the block),
        ``name="sbm"``.
    """
    sizes = np.asarray(n_per_block, dtype=np.int64).reshape(-1)
    if sizes.size == 0 or (sizes < 1).any():
        raise ValueError(f"n_per_block must be a non-empty sequence of positive sizes, got {tuple(n_per_block)}")
    for pname, p in (("p_in", p_in), ("p_out", p_out)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{pname}={p} should be in [0, 1]")
    if n_features < 1:
        raise ValueError(f"n_features={n_features} should be >= 1")
    if feature_noise < 0:
        raise ValueError(f"feature_noise={feature_noise} should be >= 0")
    rng = _as_generator(random_state)

    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n = int(offsets[-1])
    rows, cols = [], []
    for a in range(sizes.size):
        for b in range(a, sizes.size):
            na, nb = int(sizes[a]), int(sizes[b])
            n_pairs = na * (na - 1) // 2 if a == b else na * nb
            if n_pairs == 0:
                continue
            m = int(rng.binomial(n_pairs, p_in if a == b else p_out))
            if m == 0:
                continue
            k = rng.choice(n_pairs, size=m, replace=False)
            if a == b:
                i, j = _unrank_upper_triangle(k, na)
            else:
                i, j = k // nb, k % nb
            rows.append(i + offsets[a])
            cols.append(j + offsets[b])

    if rows:
        row = torch.from_numpy(np.concatenate(rows))
        col = torch.from_numpy(np.concatenate(cols))
        edge_index = coalesce(torch.stack([torch.cat([row, col]), torch.cat([col, row])]), num_nodes=n)
    else:
        edge_index = torch.empty(2, 0, dtype=torch.long)

    y = np.repeat(np.arange(sizes.size), sizes)  # [N]
    centres = rng.standard_normal((sizes.size, n_features))  # [K, F]
    x = centres[y] + feature_noise * rng.standard_normal((n, n_features))  # [N, F]
    return Data(
        x=torch.from_numpy(x.astype(np.float32)),
        edge_index=edge_index,
        y=torch.from_numpy(y).long(),
        name="sbm",
    )


def make_blobs_graph(n_samples: int = 300, n_clusters: int = 3, n_features: int = 8, random_state=0) -> Data:
    """Isotropic Gaussian blobs (``sklearn.datasets.make_blobs``, unit std, centres in [-10, 10]).

    Tabular data without edges: a graph is built from it by the kNN graph builder
    (``load_dataset("blobs")`` attaches the catalog's recipe as ``data.graph_recipe``).

    Args:
        n_samples: ``N`` >= 1, split as evenly as possible over the clusters.
        n_clusters: ``K`` >= 1.
        n_features: ``F`` >= 1.
        random_state: int, None or ``numpy.random.Generator`` (a Generator is used to draw the
            integer seed handed to scikit-learn).

    Returns:
        ``Data`` with ``x`` float32 ``[N, F]``, ``y`` long ``[N]``, ``edge_index=None``,
        ``name="blobs"``.
    """
    from sklearn.datasets import make_blobs

    for pname, v in (("n_samples", n_samples), ("n_clusters", n_clusters), ("n_features", n_features)):
        if int(v) < 1:
            raise ValueError(f"{pname}={v} should be >= 1")
    if isinstance(random_state, (int, np.integer)):
        seed = int(random_state)
    else:
        seed = int(_as_generator(random_state).integers(2**31 - 1))
    x, y = make_blobs(n_samples=n_samples, centers=n_clusters, n_features=n_features, random_state=seed)
    return Data(
        x=torch.from_numpy(x.astype(np.float32)),
        edge_index=None,
        y=torch.from_numpy(y).long(),
        name="blobs",
    )
