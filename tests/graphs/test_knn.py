import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphclust.graphs import BACKENDS, KNNGraph, graph_report, knn_graph, knn_recall

# Six points on a line: nearest neighbours can be read off by eye.
LINE = torch.tensor([[0.0], [1.0], [3.0], [6.0], [10.0], [15.0]])


def edges(edge_index):
    return set(map(tuple, edge_index.t().tolist()))


def neighbour_sets(edge_index, n):
    out = [set() for _ in range(n)]
    for i, j in edge_index.t().tolist():
        out[i].add(j)
    return out


def test_line_k1_directed_and_union():
    ei, w = knn_graph(LINE, 1, symmetrize=None)
    assert edges(ei) == {(0, 1), (1, 0), (2, 1), (3, 2), (4, 3), (5, 4)}
    assert ei.dtype == torch.long and w.dtype == torch.float32 and torch.all(w == 1)
    ei, _ = knn_graph(LINE, 1)
    path = {(i, i + 1) for i in range(5)}
    assert edges(ei) == path | {(j, i) for i, j in path}


def test_line_k2_every_backend():
    expected = {0: {1, 2}, 1: {0, 2}, 2: {1, 0}, 3: {2, 4}, 4: {3, 5}, 5: {4, 3}}
    for backend in BACKENDS:
        ei, _ = knn_graph(LINE, 2, backend=backend, symmetrize=None, random_state=0)
        assert neighbour_sets(ei, 6) == [expected[i] for i in range(6)], backend


def test_output_sorted_without_duplicates():
    x = torch.randn(200, 5, generator=torch.Generator().manual_seed(0))
    ei, w = knn_graph(x, 7)
    key = ei[0] * 200 + ei[1]
    assert torch.all(key[1:] > key[:-1])
    assert ei.shape[1] == w.shape[0]


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "ip"])
def test_faiss_and_sklearn_agree(metric):
    x = np.random.default_rng(1).standard_normal((400, 12)).astype(np.float32)
    a, _ = knn_graph(x, 8, metric=metric, backend="faiss", symmetrize=None)
    b, _ = knn_graph(x, 8, metric=metric, backend="sklearn", symmetrize=None)
    assert a.shape[1] == 400 * 8
    assert torch.equal(a, b)


def test_self_never_a_neighbour_with_duplicates():
    rng = np.random.default_rng(2)
    x = np.vstack([np.ones((12, 3)), rng.standard_normal((20, 3))]).astype(np.float32)  # 12 copies > k + 1
    for backend in BACKENDS:
        ei, _ = knn_graph(x, 4, backend=backend, symmetrize=None, random_state=0)
        assert not torch.any(ei[0] == ei[1]), backend
        assert torch.equal(torch.bincount(ei[0], minlength=32), torch.full((32,), 4)), backend
        for i in range(12):  # the copies are each other's neighbours
            assert neighbour_sets(ei, 32)[i] <= set(range(12)) - {i}


def test_ip_excludes_self_by_index():
    # Under inner product, point 0 prefers point 1 (larger norm) to itself.
    x = torch.tensor([[1.0, 0.0], [3.0, 0.1], [-1.0, 0.0], [0.0, 1.0]])
    for backend in ("faiss", "sklearn"):
        ei, _ = knn_graph(x, 1, metric="ip", symmetrize=None, backend=backend)
        assert edges(ei) == {(0, 1), (1, 0), (2, 3), (3, 1)}, backend


def test_mutual_subset_of_union_and_both_symmetric():
    x = np.random.default_rng(3).standard_normal((300, 6))
    directed, _ = knn_graph(x, 5, symmetrize=None)
    union, _ = knn_graph(x, 5, symmetrize="union")
    mutual, _ = knn_graph(x, 5, symmetrize="mutual")
    d, u, m = edges(directed), edges(union), edges(mutual)
    assert m <= d <= u
    assert u == d | {(j, i) for i, j in d}
    assert m == {(i, j) for i, j in d if (j, i) in d}
    for s in (u, m):
        assert s == {(j, i) for i, j in s}


def test_weights_and_distances_on_the_line():
    ei, w, dist = knn_graph(LINE, 1, weight="heat", heat_t=2.0, return_distances=True)
    gap = (LINE[ei[0], 0] - LINE[ei[1], 0]).abs()
    assert torch.allclose(dist, gap)
    assert torch.allclose(w, torch.exp(-gap**2 / 2.0))
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0], [-1.0, 0.1], [-1.0, -0.1]])
    ei, w = knn_graph(x, 2, weight="cosine", symmetrize=None)
    u = x / x.norm(dim=1, keepdim=True)
    assert torch.allclose(w, (u[ei[0]] * u[ei[1]]).sum(1).clamp(min=0), atol=1e-6)
    assert float(w.min()) == 0.0  # (0, 2) is a neighbour with negative cosine


def test_recipe_heat_equals_euclidean_knn():
    x = np.random.default_rng(4).random((150, 10))
    a, wa = knn_graph(x, 6, recipe="heat", symmetrize=None)
    b, _ = knn_graph(x, 6, symmetrize=None)
    assert torch.equal(a, b) and torch.all(wa == 1)


def test_recipe_ncos_matches_dense_definition():
    # Dense S is built here only, on a tiny input, as the reference.
    rng = np.random.default_rng(5)
    x = rng.poisson(0.4, size=(40, 25)).astype(np.float64)
    x[7] = 0.0  # an empty document
    b = (x > 0).astype(np.float64)
    b /= np.maximum(b.sum(1, keepdims=True), 1)
    s = b @ b.T  # [N, N]
    np.fill_diagonal(s, -np.inf)
    k = 4
    ei, w = knn_graph(x, k, recipe="ncos", symmetrize=None)
    assert torch.all(w == 1) and not torch.any(ei[0] == ei[1])
    got = neighbour_sets(ei, 40)
    for i in range(40):
        best = np.sort(s[i])[::-1][:k]  # ties make ids ambiguous, so compare similarity values
        assert np.allclose(np.sort(s[i, sorted(got[i])])[::-1], best), i


def test_seeded_approximate_backends_are_deterministic():
    x = np.random.default_rng(6).standard_normal((1500, 16)).astype(np.float32)
    for backend in ("faiss-hnsw", "faiss-ivf"):
        a, _ = knn_graph(x, 5, backend=backend, random_state=3)
        b, _ = knn_graph(x, 5, backend=backend, random_state=3)
        assert torch.equal(a, b), backend
    g1, g2 = np.random.default_rng(0), torch.Generator().manual_seed(0)
    knn_graph(x[:50], 3, backend="faiss-hnsw", random_state=g1)
    knn_graph(x[:50], 3, backend="faiss-hnsw", random_state=g2)


def test_hnsw_recall_on_random_points():
    x = np.random.default_rng(7).standard_normal((2000, 32)).astype(np.float32)
    assert knn_recall(x, 10, "faiss-hnsw", sample=500) >= 0.9
    assert knn_recall(x, 10, "faiss", sample=200) == 1.0
    assert knn_recall(x, 10, "sklearn", sample=200) >= 0.99


def test_knngraph_class():
    g = KNNGraph(2, symmetrize=None)
    assert repr(KNNGraph(10)) == "KNNGraph(k=10, metric='euclidean', backend='faiss')"
    assert repr(KNNGraph(5, recipe="ncos")) == "KNNGraph(k=5, recipe='ncos', backend='faiss')"
    assert g.n_neighbors == 2 and g.symmetrize is None
    a, _ = g(LINE)
    b, _ = knn_graph(LINE, 2, symmetrize=None)
    assert torch.equal(a, b)
    assert torch.equal(g(Data(x=LINE))[0], b)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_neighbors": 0}, "n_neighbors=0 should be >= 1"),
        ({"n_neighbors": 6}, "n_neighbors=6 should be < n_samples=6"),
        ({"n_neighbors": 2.5}, "n_neighbors=2.5 should be an integer"),
        ({"metric": "manhattan"}, "unknown metric 'manhattan'; valid: euclidean, cosine, ip"),
        ({"weight": "gauss"}, "unknown weight 'gauss'; valid: binary, heat, cosine"),
        ({"backend": "annoy"}, "unknown backend 'annoy'; valid: faiss, faiss-hnsw, faiss-ivf, sklearn"),
        ({"recipe": "cos"}, "unknown recipe 'cos'; valid: None, heat, ncos"),
        ({"symmetrize": "max"}, "unknown symmetrize 'max'"),
        ({"recipe": "ncos", "weight": "heat"}, "recipe='ncos' fixes the metric"),
        ({"heat_t": 0.0}, "heat_t=0.0 should be a finite number > 0"),
        ({"random_state": "seed"}, "random_state='seed'"),
    ],
)
def test_bad_options(kwargs, message):
    kwargs = {"n_neighbors": 2, **kwargs}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        knn_graph(LINE, **kwargs)


def test_bad_features():
    with pytest.raises(ValueError, match="NaN"):
        knn_graph(np.array([[0.0], [np.nan], [1.0]]), 1)
    with pytest.raises(TypeError):
        knn_graph([[0.0], [1.0]], 1)


def test_faiss_kmeans_separates_blobs_and_is_seeded():
    from graphclust.graphs._faiss import faiss_kmeans

    rng = np.random.default_rng(8)
    x = np.vstack([rng.normal(c, 0.1, size=(30, 2)) for c in (0.0, 5.0, 10.0)]).astype(np.float32)
    labels, centres = faiss_kmeans(x, 3, n_init=3, max_iter=20, seed=1)
    assert labels.dtype == np.int64 and labels.shape == (90,) and centres.shape == (3, 2)
    assert all(len(set(labels[i * 30:(i + 1) * 30])) == 1 for i in range(3))
    assert len(set(labels)) == 3
    again, _ = faiss_kmeans(x, 3, n_init=3, max_iter=20, seed=1)
    assert np.array_equal(labels, again)
    with pytest.raises(ValueError, match="n_clusters=91 should be in"):
        faiss_kmeans(x, 91)


DATA = Path(os.environ.get("GRAPHCLUST_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "sdcn" / "data" / "usps.txt").exists(), reason="SDCN USPS data not present")
def test_recipe_heat_reproduces_sdcn_usps3_graph():
    x = np.loadtxt(DATA / "sdcn" / "data" / "usps.txt", dtype=np.float32)
    y = np.loadtxt(DATA / "sdcn" / "data" / "usps_label.txt", dtype=np.int64)
    reference = np.loadtxt(DATA / "sdcn" / "graph" / "usps3_graph.txt", dtype=np.int64)
    ei, _ = knn_graph(x, 3, recipe="heat", symmetrize=None)
    assert edges(ei) == set(map(tuple, reference.tolist()))
    # SDCN prints 'error rate' = 1 - homophily of this directed graph.
    assert graph_report(ei, len(x), y).edge_homophily > 0.95
