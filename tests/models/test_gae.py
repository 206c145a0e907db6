"""GAE / VGAE: block recovery on an SBM, determinism, kNN fallback, sparse scaling, helpers."""
from __future__ import annotations

import resource

import numpy as np
import pytest
import torch

from graphclust.data import make_blobs_graph, make_sbm
from graphclust.metrics import evaluate
from graphclust.models.gae import GAE, VGAE, reconstruction_edges, sample_negative_edges
from graphclust.models.kmeans import kmeans

METHODS = [GAE, VGAE]
SMALL = {"hidden": 16, "latent": 4, "epochs": 20, "n_init": 2, "verbose": False}


@pytest.fixture(scope="module")
def sbm():
    # 3 blocks x 40 nodes; the features alone are weakly informative (k-means on x: ACC ~0.6)
    return make_sbm(n_per_block=(40, 40, 40), p_in=0.3, p_out=0.01, n_features=8, feature_noise=3.0, random_state=0)


def _unlabelled(data):
    return data.x, data.edge_index  # a tuple carries no labels: no monitoring cost


def sparse_block_graph(n: int = 20_000, k: int = 3, partners: int = 5, seed: int = 0):
    """n nodes in k blocks, each node linked to ``partners`` random nodes of its block (then symmetrised)."""
    gen = torch.Generator().manual_seed(seed)
    block = torch.arange(n) % k
    src = torch.arange(n).repeat_interleave(partners)
    offset = torch.randint(1, n // k, (n * partners,), generator=gen) * k  # same residue mod k: same block
    dst = (src + offset) % (n - n % k)
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    x = torch.randn(n, 16, generator=gen) + 2.0 * torch.nn.functional.one_hot(block, 16).float()
    return x, edge_index


def test_features_alone_do_not_recover_the_blocks(sbm):
    labels, _ = kmeans(sbm.x, 3, n_init=20, seed=0)
    assert evaluate(sbm.y.numpy(), labels)["acc"] < 0.8


@pytest.mark.parametrize("cls", METHODS)
def test_recovers_sbm_blocks_with_default_hyperparameters(cls, sbm):
    model = cls(n_clusters=3, random_state=0, verbose=False).fit(_unlabelled(sbm))
    assert evaluate(sbm.y.numpy(), model.labels_)["acc"] >= 0.9
    assert model.embedding_.shape == (120, 16)
    assert model.cluster_centers_.shape == (3, 16)
    assert len(model.history_) == 200


@pytest.mark.parametrize("cls", METHODS)
def test_same_random_state_same_result_and_different_state_differs(cls, sbm):
    a = cls(n_clusters=3, random_state=11, **SMALL).fit(_unlabelled(sbm))
    b = cls(n_clusters=3, random_state=11, **SMALL).fit(_unlabelled(sbm))
    c = cls(n_clusters=3, random_state=12, **SMALL).fit(_unlabelled(sbm))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    assert not np.allclose(a.embedding_, c.embedding_)


@pytest.mark.parametrize("cls", METHODS)
def test_monitoring_logs_metrics_without_changing_the_result(cls, sbm):
    plain = cls(n_clusters=3, random_state=3, **SMALL).fit(_unlabelled(sbm))
    monitored = cls(n_clusters=3, random_state=3, **SMALL).fit(sbm)  # sbm carries y
    np.testing.assert_array_equal(plain.labels_, monitored.labels_)
    assert "acc" in monitored.history_[0] and "acc" not in plain.history_[0]


@pytest.mark.parametrize("cls", METHODS)
def test_a_collapsed_embedding_is_a_clear_warning(cls, sbm):
    # dense positive features and a huge lr: the first Adam steps push every hidden unit below 0
    x = sbm.x.abs() + 5.0
    with pytest.warns(RuntimeWarning, match="embedding collapsed.*lr"):
        model = cls(n_clusters=3, random_state=0, **{**SMALL, "lr": 50.0}).fit((x, sbm.edge_index))
    assert (model.embedding_ == model.embedding_[0]).all()


@pytest.mark.parametrize("cls", METHODS)
def test_a_healthy_embedding_gives_no_collapse_warning(cls, sbm):
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*embedding collapsed")
        cls(n_clusters=3, random_state=0, **SMALL).fit(_unlabelled(sbm))


def test_vgae_logs_both_terms_and_embeds_mu(sbm):
    model = VGAE(n_clusters=3, random_state=0, **SMALL).fit(_unlabelled(sbm))
    record = model.history_[-1]
    assert record["loss"] == pytest.approx(record["rec"] + record["kl"] / 120, rel=1e-5)
    x, edge_index = _unlabelled(sbm)
    from graphclust.graphs.normalize import gcn_norm

    with torch.no_grad():
        mu, logstd = model.model_(x, gcn_norm(edge_index, None, 120))
    np.testing.assert_allclose(model.embedding_, mu.numpy(), rtol=1e-5, atol=1e-6)
    assert logstd is not None


@pytest.mark.parametrize("cls", METHODS)
def test_builds_a_knn_graph_from_plain_features(cls):
    blobs = make_blobs_graph(n_samples=90, n_clusters=3, n_features=8, random_state=0)
    model = cls(n_clusters=3, random_state=0, n_neighbors=8, epochs=100, verbose=False).fit(blobs.x.numpy())
    assert evaluate(blobs.y.numpy(), model.labels_)["acc"] >= 0.9


@pytest.mark.parametrize("cls", METHODS)
def test_runs_sparse_on_20k_nodes(cls):
    x, edge_index = sparse_block_graph()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    model = cls(n_clusters=3, random_state=0, hidden=8, latent=4, epochs=1, n_init=1, verbose=False)
    model.fit((x, edge_index))
    # a dense 20k x 20k float32 matrix alone would take 1.6 GB
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 2**20 < 1.0
    assert model.labels_.shape == (20_000,)


@pytest.mark.parametrize("param, value", [("hidden", 0), ("latent", -1), ("hidden", 2.5), ("n_neighbors", 0)])
def test_bad_widths_are_clear_errors(param, value, sbm):
    with pytest.raises(ValueError, match=param):
        GAE(n_clusters=3, verbose=False, **{param: value}).fit(sbm)


def test_reconstruction_edges_are_a_plus_i_without_duplicates():
    edge_index = torch.tensor([[0, 1, 1, 2, 2], [1, 0, 0, 2, 0]])  # a duplicate (1, 0), a self-loop (2, 2)
    expected = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 2), (3, 3)}
    got = reconstruction_edges(edge_index, 4)
    assert set(map(tuple, got.t().tolist())) == expected and got.shape[1] == len(expected)


def test_negative_sampler_is_uniform_off_diagonal_and_seeded():
    a = sample_negative_edges(5, 20_000, torch.Generator().manual_seed(0))
    b = sample_negative_edges(5, 20_000, torch.Generator().manual_seed(0))
    assert a.shape == (2, 20_000) and a.dtype == torch.long
    torch.testing.assert_close(a, b)
    assert (a[0] != a[1]).all() and a.min() >= 0 and a.max() < 5
    counts = torch.bincount(a[0] * 5 + a[1], minlength=25).reshape(5, 5).float()
    off = counts[~torch.eye(5, dtype=torch.bool)]
    assert off.min() > 0.8 * 1000 and off.max() < 1.2 * 1000  # 20 ordered pairs, 1000 draws each
