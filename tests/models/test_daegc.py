"""DAEGC and its proximity-weighted graph attention layer."""
from __future__ import annotations

import resource

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.utils import coalesce, scatter

from graphclust.data import make_blobs_graph, make_sbm
from graphclust.graphs.normalize import transition_proximity
from graphclust.metrics import evaluate
from graphclust.models.daegc import DAEGC, AttentionEncoder, proximity_edges, restrict_to_adjacency
from graphclust.nn.attention import ProximityAttentionLayer, edge_aggregate

SMALL = {"hidden": 16, "latent": 4, "pretrain_epochs": 5, "epochs": 10, "n_init": 2, "verbose": False}


@pytest.fixture(scope="module")
def sbm():
    return make_sbm(n_per_block=(40, 40, 40), p_in=0.3, p_out=0.01, n_features=8, feature_noise=3.0, random_state=0)


def _unlabelled(data):
    return data.x, data.edge_index


# -- the attention layer -------------------------------------------------------------------------

def _layer(in_features=3, out_features=2, seed=0):
    layer = ProximityAttentionLayer(in_features, out_features)
    layer.reset_parameters(torch.Generator().manual_seed(seed))
    return layer


def test_attention_matches_the_formula_edge_by_edge():
    # α_ij = softmax_j LeakyReLU(M_ij (a_selfᵀ W h_i + a_neighᵀ W h_j)); h'_i = Σ_j α_ij W h_j
    layer = _layer()
    h = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    edge_index = torch.tensor([[0, 0, 1, 1, 1, 2, 3], [0, 1, 0, 2, 3, 2, 1]])
    weight = torch.tensor([0.5, 0.5, 0.2, 0.3, 0.5, 1.0, 1.0])
    out, (att_index, alpha) = layer(h, edge_index, weight, return_attention=True)
    with torch.no_grad():
        wh = h @ layer.weight.t()
        expected_out = torch.zeros(4, 2)
        for i in range(4):
            nbrs = [(int(j), float(m)) for (r, j), m in zip(edge_index.t(), weight) if r == i]
            scores = torch.tensor([F.leaky_relu(torch.tensor(m * float(wh[i] @ layer.att_self + wh[j] @ layer.att_neigh)),
                                                0.2).item() for j, m in nbrs])
            a = torch.softmax(scores, dim=0)
            for (j, _), a_ij in zip(nbrs, a):
                expected_out[i] += a_ij * wh[j]
                e = ((att_index[0] == i) & (att_index[1] == j)).nonzero().item()
                assert alpha[e].item() == pytest.approx(a_ij.item(), rel=1e-5)
    torch.testing.assert_close(out, expected_out, rtol=1e-5, atol=1e-6)


def test_attention_sums_to_one_over_each_neighbourhood():
    gen = torch.Generator().manual_seed(0)
    n = 50
    edge_index = coalesce(torch.randint(0, n - 5, (2, 300), generator=gen), num_nodes=n)  # nodes 45..49: no edges
    weight = torch.rand(edge_index.shape[1], generator=gen)
    layer = _layer(6, 4)
    out, (att_index, alpha) = layer(torch.randn(n, 6, generator=gen), edge_index, weight, return_attention=True)
    sums = scatter(alpha, att_index[0], dim=0, dim_size=n, reduce="sum")
    has_edges = torch.bincount(att_index[0], minlength=n) > 0
    torch.testing.assert_close(sums[has_edges], torch.ones(int(has_edges.sum())))
    assert (alpha > 0).all()
    assert torch.equal(out[~has_edges], torch.zeros(int((~has_edges).sum()), 4))  # no neighbours: h' = 0


def test_attention_does_not_depend_on_edge_order():
    gen = torch.Generator().manual_seed(2)
    edge_index = coalesce(torch.randint(0, 20, (2, 80), generator=gen), num_nodes=20)
    weight = torch.rand(edge_index.shape[1], generator=gen)
    h = torch.randn(20, 3, generator=gen)
    perm = torch.randperm(edge_index.shape[1], generator=gen)
    layer = _layer()
    torch.testing.assert_close(layer(h, edge_index, weight), layer(h, edge_index[:, perm], weight[perm]))


def test_attention_gradients_reach_every_parameter():
    gen = torch.Generator().manual_seed(3)
    edge_index = coalesce(torch.randint(0, 10, (2, 40), generator=gen), num_nodes=10)
    layer = _layer()
    layer(torch.randn(10, 3, generator=gen), edge_index, torch.rand(edge_index.shape[1], generator=gen)).pow(2).sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_edge_aggregate_gradcheck_and_sorted_input():
    edge_index = coalesce(torch.tensor([[0, 0, 1, 2, 2, 3, 3], [1, 2, 0, 0, 3, 3, 1]]), num_nodes=5)
    w = torch.rand(edge_index.shape[1], dtype=torch.double, requires_grad=True)
    h = torch.randn(5, 3, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda w, h: edge_aggregate(edge_index, w, h, 5), (w, h))
    with pytest.raises(ValueError, match="sorted"):
        edge_aggregate(edge_index.flip(1), w, h, 5)


def test_layer_init_is_driven_by_the_generator():
    a, b, c = _layer(seed=0), _layer(seed=0), _layer(seed=1)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb) and not torch.equal(pa, pc)
    assert "ProximityAttentionLayer(3, 2)" == repr(a)


# -- proximity edges and the encoder ---------------------------------------------------------------

def test_proximity_edges_keep_the_support_of_m_and_loop_isolated_nodes():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # path 0-1-2, node 3 isolated
    m = transition_proximity(edge_index, None, 4, t=2)
    att_index, att_weight = proximity_edges(m)
    dense = m.to_dense()
    pairs = set(map(tuple, att_index.t().tolist()))
    assert pairs == {tuple(p) for p in dense.nonzero().tolist()} | {(3, 3)}
    for (i, j), w in zip(att_index.t().tolist(), att_weight.tolist()):
        assert w == pytest.approx(1.0 if (i, j) == (3, 3) else dense[i, j].item())
    z = AttentionEncoder(5, 8, 3).reset_parameters(torch.Generator().manual_seed(0))(torch.randn(4, 5), att_index, att_weight)
    torch.testing.assert_close(z.norm(dim=1), torch.ones(4))  # the isolated node embeds its own features


def test_adjacency_support_keeps_the_one_hop_edges_with_their_proximity_weights():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # path 0-1-2, node 3 isolated
    m = transition_proximity(edge_index, None, 4, t=2)
    att_index, att_weight = restrict_to_adjacency(*proximity_edges(m), edge_index, 4)
    pairs = [tuple(p) for p in att_index.t().tolist()]
    # M also links 0 and 2 (two steps); A + I does not
    assert sorted(pairs) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2), (3, 3)]
    dense = m.to_dense()
    # hand-computed: B = D^-1 A, M = (B + B^2) / 2; M_01 = (1 + 0) / 2, M_00 = (0 + 1/2) / 2, M_10 = (1/2 + 0) / 2
    assert dense[0, 1].item() == pytest.approx(0.5) and dense[0, 0].item() == pytest.approx(0.25)
    for (i, j), w in zip(pairs, att_weight.tolist()):
        assert w == pytest.approx(1.0 if (i, j) == (3, 3) else dense[i, j].item())


# -- the estimator ------------------------------------------------------------------------------

def test_recovers_sbm_blocks_with_default_hyperparameters(sbm):
    model = DAEGC(n_clusters=3, random_state=0, verbose=False).fit(_unlabelled(sbm))
    assert evaluate(sbm.y.numpy(), model.labels_)["acc"] >= 0.9
    np.testing.assert_array_equal(model.labels_, model.soft_labels_.argmax(1))
    np.testing.assert_allclose(model.soft_labels_.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(model.embedding_, axis=1), 1.0, rtol=1e-5)
    assert model.cluster_centers_.shape == (3, 16)
    assert len(model.history_) == 30 + 100
    assert {"rec", "kl", "delta_label"} <= set(model.history_[-1])


def test_balanced_reconstruction_weighting_also_recovers_the_blocks(sbm):
    model = DAEGC(n_clusters=3, random_state=0, rec_weighting="balanced", verbose=False).fit(_unlabelled(sbm))
    assert evaluate(sbm.y.numpy(), model.labels_)["acc"] >= 0.9
    dense = DAEGC(n_clusters=3, random_state=0, pretrain_epochs=1, epochs=0, verbose=False).fit(_unlabelled(sbm))
    # the dense-weighted loss is dominated by the non-edges: ~log 2 at start, not ~2 log 2
    assert dense.history_[0]["loss"] < 1.0 < model.history_[0]["loss"]


def test_adjacency_attention_support_also_recovers_the_blocks(sbm):
    model = DAEGC(n_clusters=3, random_state=0, attention_support="adjacency", verbose=False).fit(_unlabelled(sbm))
    assert evaluate(sbm.y.numpy(), model.labels_)["acc"] >= 0.9
    default = DAEGC(n_clusters=3, random_state=0, pretrain_epochs=1, epochs=0, verbose=False).fit(_unlabelled(sbm))
    one_hop = DAEGC(n_clusters=3, random_state=0, pretrain_epochs=1, epochs=0, attention_support="adjacency",
                    verbose=False).fit(_unlabelled(sbm))
    assert not np.allclose(default.embedding_, one_hop.embedding_)  # a different neighbourhood, a different encoder


def test_same_random_state_same_result_and_different_state_differs(sbm):
    a = DAEGC(n_clusters=3, random_state=4, **SMALL).fit(_unlabelled(sbm))
    b = DAEGC(n_clusters=3, random_state=4, **SMALL).fit(_unlabelled(sbm))
    c = DAEGC(n_clusters=3, random_state=5, **SMALL).fit(_unlabelled(sbm))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    assert not np.allclose(a.embedding_, c.embedding_)


def test_monitoring_logs_metrics_without_changing_the_result(sbm):
    plain = DAEGC(n_clusters=3, random_state=6, **SMALL).fit(_unlabelled(sbm))
    monitored = DAEGC(n_clusters=3, random_state=6, **SMALL).fit(sbm)
    np.testing.assert_array_equal(plain.labels_, monitored.labels_)
    assert "acc" in monitored.history_[-1] and "acc" not in plain.history_[-1]


def test_builds_a_knn_graph_from_plain_features():
    blobs = make_blobs_graph(n_samples=90, n_clusters=3, n_features=8, random_state=0)
    model = DAEGC(n_clusters=3, random_state=0, n_neighbors=8, verbose=False).fit(blobs.x.numpy())
    assert evaluate(blobs.y.numpy(), model.labels_)["acc"] >= 0.9


def sparse_block_graph(n: int = 20_000, k: int = 3, partners: int = 5, seed: int = 0):
    """n nodes in k blocks, each node linked to ``partners`` random nodes of its block (then symmetrised)."""
    gen = torch.Generator().manual_seed(seed)
    src = torch.arange(n).repeat_interleave(partners)
    offset = torch.randint(1, n // k, (n * partners,), generator=gen) * k  # same residue mod k: same block
    dst = (src + offset) % (n - n % k)
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    return torch.randn(n, 16, generator=gen), edge_index


def test_runs_sparse_on_20k_nodes():
    x, edge_index = sparse_block_graph()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    model = DAEGC(n_clusters=3, random_state=0, hidden=8, latent=4, pretrain_epochs=1, epochs=1, n_init=1,
                  verbose=False).fit((x, edge_index))
    # a dense 20k x 20k float32 matrix alone would take 1.6 GB
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 2**20 < 1.0
    assert model.labels_.shape == (20_000,)


@pytest.mark.parametrize("param, value", [("hidden", 0), ("t", 0), ("update_interval", 0), ("gamma", -1.0),
                                          ("weight_decay", -0.1), ("pretrain_lr", 0.0), ("negative_slope", -0.2),
                                          ("rec_weighting", "full"),
                                          ("attention_support", "two-hop")])
def test_bad_parameters_are_clear_errors(param, value, sbm):
    with pytest.raises(ValueError, match=param):
        DAEGC(n_clusters=3, verbose=False, **{param: value}).fit(sbm)
