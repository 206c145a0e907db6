import math

import numpy as np
import pytest
import torch

from graphclust.graphs import gcn_norm, knn_graph, propagate, row_norm, to_csr, transition_proximity

# Path 0 - 1 - 2, both directions.
PATH = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


def dense(adj):
    # Dense only here, on tiny graphs, to compare with hand-computed values.
    assert adj.layout == torch.sparse_csr and adj.dtype == torch.float32
    return adj.to_dense()


def test_to_csr_sums_duplicates():
    a = dense(to_csr(torch.tensor([[0, 0, 1], [1, 1, 0]]), torch.tensor([1.0, 2.0, 5.0]), 3))
    assert a.tolist() == [[0.0, 3.0, 0.0], [5.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert to_csr(PATH).shape == (3, 3)  # n inferred


def test_gcn_norm_path_by_hand():
    # A + I has degrees (2, 3, 2): entries 1 / sqrt(d_i d_j).
    s6 = 1 / math.sqrt(6)
    expected = torch.tensor([[1 / 2, s6, 0], [s6, 1 / 3, s6], [0, s6, 1 / 2]])
    assert torch.allclose(dense(gcn_norm(PATH, None, 3)), expected)


def test_gcn_norm_without_self_loops_and_isolated_node():
    a = dense(gcn_norm(PATH, None, 4, add_self_loops=False))  # node 3 isolated
    s2 = 1 / math.sqrt(2)
    assert torch.allclose(a[:3, :3], torch.tensor([[0, s2, 0], [s2, 0, s2], [0, s2, 0]]))
    assert torch.all(a[3] == 0) and torch.isfinite(a).all()
    assert dense(gcn_norm(PATH, None, 4))[3].tolist() == [0, 0, 0, 1]


def test_row_norm_path_by_hand_and_existing_self_loops_not_doubled():
    expected = torch.tensor([[1 / 2, 1 / 2, 0], [1 / 3, 1 / 3, 1 / 3], [0, 1 / 2, 1 / 2]])
    assert torch.allclose(dense(row_norm(PATH, None, 3)), expected)
    with_loop = torch.cat([PATH, torch.tensor([[0], [0]])], dim=1)
    w = torch.tensor([1.0, 1.0, 1.0, 1.0, 7.0])
    assert torch.allclose(dense(row_norm(with_loop, w, 3)), expected)
    assert torch.allclose(dense(gcn_norm(with_loop, w, 3)), dense(gcn_norm(PATH, None, 3)))


def test_row_norm_matches_sdcn_load_graph():
    # SDCN: A = max(A, A^T) of its directed kNN edges, then D^-1 (A + I).
    x = np.random.default_rng(0).standard_normal((30, 4))
    directed, _ = knn_graph(x, 3, symmetrize=None)
    a = np.zeros((30, 30))
    a[directed[0].numpy(), directed[1].numpy()] = 1
    a = np.maximum(a, a.T) + np.eye(30)
    expected = a / a.sum(1, keepdims=True)
    union, w = knn_graph(x, 3)
    assert np.allclose(dense(row_norm(union, w, 30)).numpy(), expected, atol=1e-6)


def test_row_norm_rows_sum_to_one_weighted():
    x = np.random.default_rng(1).standard_normal((500, 8))
    ei, w = knn_graph(x, 6, weight="heat")
    adj = row_norm(ei, w, 500)
    assert adj.layout == torch.sparse_csr
    assert torch.allclose(propagate(adj, torch.ones(500, 1)), torch.ones(500, 1), atol=1e-5)


def test_transition_proximity_path_by_hand():
    # B = [[0,1,0],[.5,0,.5],[0,1,0]], B^2 = [[.5,0,.5],[0,1,0],[.5,0,.5]]; M = (B + B^2) / 2.
    m = dense(transition_proximity(PATH, None, 3, t=2))
    assert torch.allclose(m, torch.tensor([[0.25, 0.5, 0.25]]).repeat(3, 1))
    b = dense(transition_proximity(PATH, None, 3, t=1))
    assert torch.allclose(b, torch.tensor([[0, 1, 0], [0.5, 0, 0.5], [0, 1, 0]]))


def test_transition_proximity_rows_sum_to_one_and_isolated_rows_zero():
    x = np.random.default_rng(2).standard_normal((400, 5))
    ei, _ = knn_graph(x, 5)
    m = transition_proximity(ei, None, 401, t=2)  # node 400 isolated
    rows = propagate(m, torch.ones(401))
    assert torch.allclose(rows[:400], torch.ones(400), atol=1e-5)
    assert rows[400] == 0


def test_propagate_matches_dense_and_backpropagates():
    adj = gcn_norm(PATH, None, 3)
    h = torch.randn(3, 4, requires_grad=True)
    out = propagate(adj, h)
    assert torch.allclose(out, dense(adj) @ h.detach(), atol=1e-6)
    out.sum().backward()
    assert h.grad is not None and h.grad.shape == (3, 4)


def test_errors():
    with pytest.raises(ValueError, match="t=0 should be an integer >= 1"):
        transition_proximity(PATH, None, 3, t=0)
    with pytest.raises(ValueError, match="node index 2, outside"):
        gcn_norm(PATH, None, 2)
    with pytest.raises(ValueError, match="non-negative"):
        row_norm(PATH, torch.tensor([1.0, -1.0, 1.0, 1.0]), 3)
    with pytest.raises(ValueError, match="cannot infer n"):
        to_csr(torch.zeros(2, 0, dtype=torch.long))
    adj = gcn_norm(PATH, None, 3)
    with pytest.raises(ValueError, match=r"h must have shape \[N, d\] with N=3"):
        propagate(adj, torch.ones(4, 2))
    with pytest.raises(ValueError, match="sparse"):
        propagate(torch.eye(3), torch.ones(3, 2))
