"""SDCN: the loss by hand, the transfer operator, and block recovery on a small SBM."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conftest import Killed, assert_same_fit, die_after_saves, spy_train
from graphclust.data import make_sbm
from graphclust.graphs import row_norm
from graphclust.metrics import cluster_acc_score
from graphclust.models import SDCN, SDCNQ
from graphclust.models.sdcn import SDCNModule, SDCNOutput, sdcn_loss
from graphclust.nn import MLPAutoEncoder


def test_sdcn_loss_by_hand():
    # rec = ((1-0)^2 + (0-0)^2)/2 = 0.5 ; KL(p||q) = 1*ln(1/0.5) = ln 2 ; KL(p||pred) = ln(1/0.25) = ln 4
    out = SDCNOutput(x_hat=torch.tensor([[0.0, 0.0]]), z=torch.zeros(1, 2), q=torch.tensor([[0.5, 0.5]]),
                     pred=torch.tensor([[0.25, 0.75]]))
    losses = sdcn_loss(out, torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]), alpha=0.1, beta=0.01)
    assert losses["rec"].item() == pytest.approx(0.5)
    assert losses["kl_q"].item() == pytest.approx(math.log(2))
    assert losses["kl_z"].item() == pytest.approx(math.log(4))
    assert losses["loss"].item() == pytest.approx(0.5 + 0.1 * math.log(2) + 0.01 * math.log(4))


def _small_module(delta):
    ae = MLPAutoEncoder(4, (6, 5), 3)
    ae.reset_parameters(torch.Generator().manual_seed(0))
    module = SDCNModule(ae, n_clusters=2, delta=delta)
    module.reset_parameters(torch.Generator().manual_seed(1))
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    return module, row_norm(edge_index, None, 4), torch.rand(4, 4, generator=torch.Generator().manual_seed(2))


def test_gcn_widths_mirror_the_encoder():
    module, _, _ = _small_module(0.5)
    widths = [(layer.linear.in_features, layer.linear.out_features) for layer in module.gcn]
    assert widths == [(4, 6), (6, 5), (5, 3), (3, 2)]


def test_transfer_operator_delta_one_reads_only_the_autoencoder():
    # with delta = 1 every GCN layer after the first reads only H^(l): the first layer is cut off
    module, adj, x = _small_module(delta=1.0)
    before = module(x, adj).pred
    with torch.no_grad():
        module.gcn[0].linear.weight.mul_(3.0)
    torch.testing.assert_close(module(x, adj).pred, before)


def test_transfer_operator_delta_half_mixes_both():
    module, adj, x = _small_module(delta=0.5)
    before = module(x, adj).pred
    with torch.no_grad():
        module.gcn[0].linear.weight.mul_(3.0)
    assert not torch.allclose(module(x, adj).pred, before)


def test_outputs_are_distributions():
    module, adj, x = _small_module(0.5)
    out = module(x, adj)
    torch.testing.assert_close(out.pred.sum(1), torch.ones(4))
    torch.testing.assert_close(out.q.sum(1), torch.ones(4))


@pytest.mark.parametrize("cls", [SDCN, SDCNQ])
def test_recovers_sbm_blocks(cls):
    data = make_sbm(n_per_block=(40, 40, 40), p_in=0.3, p_out=0.01, n_features=8, feature_noise=0.5, random_state=0)
    model = cls(n_clusters=3, hidden=(32,), latent=8, pretrain_epochs=100, batch_size=32, epochs=100,
                random_state=0, verbose=False).fit(data)
    assert cluster_acc_score(data.y.numpy(), model.labels_) >= 0.9
    assert [h["epoch"] for h in model.history_][-1] == 99
    assert {"rec", "kl_q", "kl_z"} <= set(model.history_[-1])


def test_builds_a_knn_graph_for_plain_features():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.3, (30, 5)), rng.normal(3, 0.3, (30, 5))]).astype(np.float32)
    model = SDCN(n_clusters=2, hidden=(16,), latent=4, pretrain_epochs=100, batch_size=16, epochs=100,
                 n_neighbors=5, random_state=0, verbose=False).fit(x)
    y = np.repeat([0, 1], 30)
    assert cluster_acc_score(y, model.labels_) == 1.0


@pytest.mark.parametrize("update_interval", [1, 3])
def test_a_fit_killed_after_any_checkpoint_resumes_to_the_same_model(tmp_path, monkeypatch, update_interval):
    import graphclust.models.sdcn as sdcn_module

    data = make_sbm(n_per_block=(20, 20, 20), p_in=0.3, p_out=0.01, n_features=8, feature_noise=0.5, random_state=0)
    params = dict(n_clusters=3, hidden=(16,), latent=4, pretrain_epochs=3, batch_size=16, epochs=4, n_init=2,
                  update_interval=update_interval, random_state=4, verbose=False)
    reference = SDCN(**params).fit(data, data.y.numpy())
    path = tmp_path / "sdcn.ckpt"
    for kill_after in range(1, 5):  # after the initialisation, after joint epochs 1, 2, 3
        path.unlink(missing_ok=True)
        with monkeypatch.context() as patch, pytest.raises(Killed):
            saved = die_after_saves(patch, kill_after)
            SDCN(**params, checkpoint=path).fit(data, data.y.numpy())
        with monkeypatch.context() as patch:
            calls = spy_train(patch, sdcn_module)
            patch.setattr(SDCN, "_pretrained_autoencoder", lambda *args: pytest.fail("pretrained again"))
            resumed = SDCN(**params, checkpoint=path).fit(data, data.y.numpy())
        assert calls == [("SDCN", kill_after - 1)]  # the joint epochs left, from where they stopped
        assert resumed.resumed_["epochs_done"] == kill_after - 1
        assert_same_fit(resumed, reference, "q_")
    assert [stage for stage, _ in saved] == ["initialised", "joint", "joint", "joint"] and reference.resumed_ is None
