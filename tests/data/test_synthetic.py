"""Synthetic data: stochastic block model and blobs."""
from __future__ import annotations

import resource

import numpy as np
import pytest
import torch

from graphclust.data import load_dataset, make_blobs_graph, make_sbm
from graphclust.data.synthetic import _unrank_upper_triangle


def _edge_set(data) -> set[tuple[int, int]]:
    return set(map(tuple, data.edge_index.t().tolist()))


def _assert_simple_undirected(data) -> None:
    ei = data.edge_index
    n = data.num_nodes
    assert ei.dtype == torch.long and ei.shape[0] == 2
    assert not (ei[0] == ei[1]).any()
    keys = ei[0] * n + ei[1]
    assert keys.unique().numel() == keys.numel()
    assert _edge_set(data) == {(j, i) for i, j in _edge_set(data)}


@pytest.mark.parametrize("n", [2, 3, 4, 7, 50])
def test_unrank_upper_triangle_enumerates_every_pair_once(n):
    i, j = _unrank_upper_triangle(np.arange(n * (n - 1) // 2), n)
    assert list(zip(i.tolist(), j.tolist())) == [(a, b) for a in range(n) for b in range(a + 1, n)]


def test_unrank_upper_triangle_large_n():
    n = 200_003
    k = np.array([0, 1, n - 2, n - 1, n * (n - 1) // 2 - 1])
    i, j = _unrank_upper_triangle(k, n)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (0, n - 1), (1, 2), (n - 2, n - 1)]


def test_sbm_defaults():
    data = make_sbm()
    assert data.x.shape == (150, 16) and data.x.dtype == torch.float32
    assert data.y.tolist() == [0] * 50 + [1] * 50 + [2] * 50
    assert data.name == "sbm" and getattr(data, "image_shape", None) is None
    _assert_simple_undirected(data)
    same = data.y[data.edge_index[0]] == data.y[data.edge_index[1]]
    # expected undirected edges: within 3 * C(50, 2) * 0.3 = 1102.5, between 3 * 2500 * 0.02 = 150
    n_in, n_out = int(same.sum()) // 2, int((~same).sum()) // 2
    assert abs(n_in - 1102.5) < 5 * np.sqrt(3675 * 0.3 * 0.7)
    assert abs(n_out - 150) < 5 * np.sqrt(7500 * 0.02 * 0.98)


def test_sbm_extreme_probabilities_give_exact_graphs():
    blocks = make_sbm((3, 4), p_in=1.0, p_out=0.0)
    assert _edge_set(blocks) == {(i, j) for i in range(3) for j in range(3) if i != j} | \
        {(i, j) for i in range(3, 7) for j in range(3, 7) if i != j}
    bipartite = make_sbm((3, 4), p_in=0.0, p_out=1.0)
    assert _edge_set(bipartite) == {(i, j) for i in range(3) for j in range(3, 7)} | \
        {(j, i) for i in range(3) for j in range(3, 7)}
    empty = make_sbm((5,), p_in=0.0)
    assert empty.edge_index.shape == (2, 0) and empty.edge_index.dtype == torch.long


def test_sbm_is_deterministic_and_leaves_global_rngs_alone():
    np_state, torch_state = np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    a, b = make_sbm(random_state=7), make_sbm(random_state=7)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.x, b.x)
    c = make_sbm(random_state=8)
    assert not torch.equal(a.x, c.x)
    g1, g2 = make_sbm(random_state=np.random.default_rng(3)), make_sbm(random_state=np.random.default_rng(3))
    assert torch.equal(g1.edge_index, g2.edge_index)
    assert np.array_equal(np.random.get_state()[1], np_state) and torch.equal(torch.get_rng_state(), torch_state)


def test_sbm_features_are_centred_per_block():
    data = make_sbm((200, 200), n_features=8, feature_noise=0.1, random_state=1)
    means = torch.stack([data.x[data.y == b].mean(0) for b in (0, 1)])
    spread = torch.stack([data.x[data.y == b].std(0) for b in (0, 1)])
    assert torch.allclose(spread, torch.full_like(spread, 0.1), atol=0.03)
    assert torch.linalg.norm(means[0] - means[1]) > 1.0


def test_sbm_is_sparse_at_scale():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    data = make_sbm((20_000,) * 5, p_in=5e-4, p_out=1e-5, n_features=4, random_state=0)
    expected = 2 * (5 * 20_000 * 19_999 / 2 * 5e-4 + 10 * 20_000**2 * 1e-5)  # directed pairs
    assert abs(data.edge_index.shape[1] - expected) < 0.02 * expected
    # the 100k x 100k block-probability matrix alone would take 40 GB in float32
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 2**20 < 1.0


@pytest.mark.parametrize("kwargs, match", [
    ({"p_in": 1.5}, "p_in=1.5"),
    ({"p_out": -0.1}, "p_out=-0.1"),
    ({"n_per_block": ()}, "n_per_block"),
    ({"n_per_block": (5, 0)}, "n_per_block"),
    ({"n_features": 0}, "n_features=0"),
    ({"feature_noise": -1.0}, "feature_noise=-1.0"),
])
def test_sbm_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_sbm(**kwargs)


def test_sbm_rejects_bad_random_state():
    with pytest.raises(TypeError, match="random_state"):
        make_sbm(random_state="seed")


def test_blobs():
    data = make_blobs_graph()
    assert data.x.shape == (300, 8) and data.x.dtype == torch.float32
    assert data.edge_index is None and data.name == "blobs"
    assert torch.bincount(data.y).tolist() == [100, 100, 100]
    assert torch.equal(make_blobs_graph(random_state=3).x, make_blobs_graph(random_state=3).x)
    assert not torch.equal(make_blobs_graph(random_state=3).x, make_blobs_graph(random_state=4).x)
    small = make_blobs_graph(n_samples=10, n_clusters=5, n_features=2, random_state=np.random.default_rng(0))
    assert small.x.shape == (10, 2) and small.y.unique().numel() == 5
    with pytest.raises(ValueError, match="n_clusters=0"):
        make_blobs_graph(n_clusters=0)


def test_catalog_synthetic_entries():
    sbm = load_dataset("sbm")
    assert torch.equal(sbm.edge_index, make_sbm().edge_index)
    assert getattr(sbm, "graph_recipe", None) is None
    blobs = load_dataset("blobs")
    assert torch.equal(blobs.x, make_blobs_graph().x)
    assert blobs.edge_index is None and blobs.graph_recipe == {"n_neighbors": 10}
