"""Hand-computed values for the graph autoencoder losses (edge BCE, Gaussian KL)."""
from __future__ import annotations

import math

import pytest
import torch

from graphclust.losses.graph import edge_bce_loss, gaussian_kl_loss

# z_0 = (1, 0), z_1 = (0, 1), z_2 = (1, 1): z_0·z_1 = 0, z_0·z_2 = 1, z_1·z_2 = 1, z_2·z_2 = 2
Z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_edge_bce_loss_by_hand():
    # positives (0,2), (1,2): logits 1, 1 -> mean of -log σ(1) = log(1 + e^-1)
    # negative (0,1): logit 0 -> -log(1 - σ(0)) = log 2
    pos = torch.tensor([[0, 1], [2, 2]])
    neg = torch.tensor([[0], [1]])
    expected = math.log(1 + math.exp(-1)) + math.log(2)
    assert edge_bce_loss(Z, pos, neg).item() == pytest.approx(expected, rel=1e-6)


def test_edge_bce_loss_means_each_edge_set_separately():
    # positives: logits 0 and 2 -> (log 2 + log(1 + e^-2)) / 2
    # negatives: logits 2, 2, 1 -> (2 log(1 + e^2) + log(1 + e)) / 3
    pos = torch.tensor([[0, 2], [1, 2]])
    neg = torch.tensor([[2, 2, 0], [2, 2, 2]])
    expected = (math.log(2) + math.log(1 + math.exp(-2))) / 2 + (2 * math.log(1 + math.exp(2)) + math.log(1 + math.e)) / 3
    assert edge_bce_loss(Z, pos, neg).item() == pytest.approx(expected, rel=1e-6)


def test_edge_bce_loss_dense_weighted_by_hand():
    # rho = 0.25: 0.25 * log(1 + e^-1) (positive logit 1) + 0.75 * log 2 (negative logit 0)
    pos = torch.tensor([[0, 1], [2, 2]])
    neg = torch.tensor([[0], [1]])
    expected = 0.25 * math.log(1 + math.exp(-1)) + 0.75 * math.log(2)
    assert edge_bce_loss(Z, pos, neg, pos_fraction=0.25).item() == pytest.approx(expected, rel=1e-6)


def test_edge_bce_loss_dense_weighted_matches_the_full_mean_in_expectation():
    # every non-edge as the "sample": the estimate equals the mean BCE over all N^2 entries
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(6, 3, generator=gen)
    target = torch.zeros(6, 6)
    target[[0, 1, 2, 3, 4, 5, 0, 1], [0, 1, 2, 3, 4, 5, 1, 0]] = 1.0  # A + I
    logits = z @ z.T
    full = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
    pos = target.nonzero().T
    neg = (target == 0).nonzero().T
    rho = pos.shape[1] / 36
    assert edge_bce_loss(z, pos, neg, pos_fraction=rho).item() == pytest.approx(full.item(), rel=1e-6)
    with pytest.raises(ValueError, match="pos_fraction"):
        edge_bce_loss(z, pos, neg, pos_fraction=1.5)


def test_edge_bce_loss_is_finite_for_saturated_logits():
    z = torch.tensor([[100.0, 0.0], [100.0, 0.0]], requires_grad=True)  # z_0·z_1 = 1e4
    edge = torch.tensor([[0], [1]])
    loss = edge_bce_loss(z, edge, edge)  # -log σ(1e4) ≈ 0, -log(1 - σ(1e4)) ≈ 1e4
    assert loss.item() == pytest.approx(1e4, rel=1e-6)
    loss.backward()
    assert torch.isfinite(z.grad).all()


def test_edge_bce_loss_empty_negative_set_contributes_zero():
    pos = torch.tensor([[0], [1]])
    empty = torch.zeros(2, 0, dtype=torch.long)
    assert edge_bce_loss(Z, pos, empty).item() == pytest.approx(math.log(2))


def test_edge_bce_loss_rejects_bad_shapes():
    with pytest.raises(ValueError, match="pos_edge_index"):
        edge_bce_loss(Z, torch.tensor([0, 1]), torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match=r"\[N, d\]"):
        edge_bce_loss(torch.zeros(3), torch.tensor([[0], [1]]), torch.tensor([[0], [1]]))


def test_gaussian_kl_loss_is_zero_at_the_prior():
    assert gaussian_kl_loss(torch.zeros(5, 3), torch.zeros(5, 3)).item() == 0.0


def test_gaussian_kl_loss_one_dimension_by_hand():
    # mu = 1, σ = 1: -½ (1 + 0 - 1 - 1) = ½
    assert gaussian_kl_loss(torch.tensor([[1.0]]), torch.tensor([[0.0]])).item() == pytest.approx(0.5)
    # mu = 0, σ = 2: -½ (1 + 2 log 2 - 0 - 4) = 3/2 - log 2
    logstd = torch.tensor([[math.log(2.0)]])
    assert gaussian_kl_loss(torch.zeros(1, 1), logstd).item() == pytest.approx(1.5 - math.log(2), rel=1e-6)


def test_gaussian_kl_loss_sums_dimensions_and_averages_nodes():
    # node 0: mu = (1, 2), σ = 1 -> ½ (1 + 4) = 2.5 ; node 1: at the prior -> 0 ; mean = 1.25
    mu = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    assert gaussian_kl_loss(mu, torch.zeros(2, 2)).item() == pytest.approx(1.25)


def test_gaussian_kl_loss_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mu, logstd = torch.randn(7, 4, generator=gen), 0.5 * torch.randn(7, 4, generator=gen)
    q = torch.distributions.Normal(mu, logstd.exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(dim=1).mean()
    torch.testing.assert_close(gaussian_kl_loss(mu, logstd), expected)


def test_gaussian_kl_loss_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        gaussian_kl_loss(torch.zeros(2, 3), torch.zeros(2, 2))
