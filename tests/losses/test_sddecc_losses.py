"""SDDECC's losses on hand-computed values: JS MI estimator, Gaussian prior KL, joint clustering KL."""
from __future__ import annotations

import math

import pytest
import torch

from graphclust.losses.sddecc import (frobenius_reconstruction_loss, gaussian_prior_kl, joint_clustering_loss,
                                      js_mi_loss)

LN2 = math.log(2)


def test_js_mi_loss_at_zero_scores_is_two_log_two():
    # -log σ(0) - log(1 - σ(0)) = log 2 + log 2
    assert js_mi_loss(torch.zeros(1), torch.zeros(1)).item() == pytest.approx(2 * LN2)


def test_js_mi_loss_by_hand():
    # positives 1, -1: mean of softplus(-1), softplus(1) = (log(1 + e^-1) + log(1 + e)) / 2
    # negative 2: softplus(2) = log(1 + e^2)
    expected = (math.log(1 + math.exp(-1)) + math.log(1 + math.e)) / 2 + math.log(1 + math.exp(2))
    assert js_mi_loss(torch.tensor([1.0, -1.0]), torch.tensor([2.0])).item() == pytest.approx(expected, rel=1e-6)


def test_js_mi_loss_averages_local_maps_over_positions():
    # [B, M, M] scores: every position counts once; a perfect discriminator scores ~0
    pos = torch.full((2, 3, 3), 30.0)
    neg = torch.full((2, 3, 3), -30.0)
    assert js_mi_loss(pos, neg).item() == pytest.approx(2 * math.log1p(math.exp(-30)), abs=1e-12)
    mixed = torch.zeros(2, 3, 3)
    mixed[0] = 30.0  # half of the positives perfect, half at log 2
    assert js_mi_loss(mixed, torch.full((2, 3, 3), -30.0)).item() == pytest.approx(LN2 / 2, rel=1e-6)


def test_js_mi_loss_is_finite_for_saturated_scores():
    pos = torch.tensor([-1e4], requires_grad=True)
    neg = torch.tensor([1e4], requires_grad=True)
    loss = js_mi_loss(pos, neg)  # softplus(1e4) + softplus(1e4) = 2e4
    assert loss.item() == pytest.approx(2e4)
    loss.backward()
    assert torch.isfinite(pos.grad).all() and torch.isfinite(neg.grad).all()


def test_gaussian_prior_kl_is_zero_at_the_prior():
    assert gaussian_prior_kl(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0.0


def test_gaussian_prior_kl_one_dimensional_by_hand():
    # KL(N(1, 1) || N(0, 1)) = ½ (1 + 1 - 1 - 0) = ½
    assert gaussian_prior_kl(torch.tensor([[1.0]]), torch.tensor([[0.0]])).item() == pytest.approx(0.5)
    # KL(N(0, 2) || N(0, 1)) = ½ (0 + 2 - 1 - ln 2)
    assert gaussian_prior_kl(torch.tensor([[0.0]]), torch.tensor([[LN2]])).item() == pytest.approx(0.5 * (1 - LN2))
    # the mean over samples of the two
    mu, logvar = torch.tensor([[1.0], [0.0]]), torch.tensor([[0.0], [LN2]])
    assert gaussian_prior_kl(mu, logvar).item() == pytest.approx((0.5 + 0.5 * (1 - LN2)) / 2)


def test_joint_clustering_loss_two_samples_by_hand():
    # K = 2, d = 1, μ_0 = 0, μ_1 = 2.
    # sample 1: m = 0, σ² = 1, Y = (1, 0)
    #   mean ½ (1·0² + 0·2²) = 0 ; variance ½ (1 - 1 - 0) = 0 ; categorical 1·log(2·1) + 0 = ln 2
    # sample 2: m = 1, σ² = 2, Y = (½, ½)
    #   mean ½ (½·1² + ½·1²) = ½ ; variance ½ (2 - 1 - ln 2) ; categorical 2·½·log(2·½) = 0
    # L_c = (ln 2 + ½ + ½ (1 - ln 2)) / 2 = ½ + ¼ ln 2
    y = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    m = torch.tensor([[0.0], [1.0]])
    logvar = torch.tensor([[0.0], [LN2]])
    means = torch.tensor([[0.0], [2.0]])
    assert joint_clustering_loss(y, m, logvar, means).item() == pytest.approx(0.5 + 0.25 * LN2, rel=1e-6)
    # its parts, each the mean over the two samples
    loss, parts = joint_clustering_loss(y, m, logvar, means, return_parts=True)
    assert loss.item() == pytest.approx(0.5 + 0.25 * LN2, rel=1e-6)
    parts = {k: v.item() for k, v in parts.items()}
    assert parts == pytest.approx({"clu_dist": 0.25, "clu_var": 0.25 * (1 - LN2), "clu_cat": 0.5 * LN2}, rel=1e-6)
    _, halved = joint_clustering_loss(y, m, logvar, means, reduction="mean", return_parts=True)  # d = 1: the same
    assert {k: v.item() for k, v in halved.items()} == pytest.approx(parts, rel=1e-6)


def test_kl_terms_averaged_over_latent_dimensions_by_hand():
    # d = 2: dimension 1 is KL(N(1, 1) || N(0, 1)) = ½, dimension 2 is at the prior (0):
    # summed ½, averaged over the two dimensions ¼
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2)
    assert gaussian_prior_kl(mu, logvar).item() == pytest.approx(0.5)
    assert gaussian_prior_kl(mu, logvar, reduction="mean").item() == pytest.approx(0.25)
    # L_c with K = 2, μ_0 = (0, 0), μ_1 = (2, 0), Y = (1, 0), m = (1, 0), σ² = 1:
    # mean ½·1·1² = ½ ; variance 0 ; categorical ln 2 -> sum ½ + ln 2, mean (½ + ln 2) / 2
    y, means = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    assert joint_clustering_loss(y, mu, logvar, means).item() == pytest.approx(0.5 + LN2, rel=1e-6)
    assert joint_clustering_loss(y, mu, logvar, means, reduction="mean").item() == pytest.approx((0.5 + LN2) / 2,
                                                                                                   rel=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        gaussian_prior_kl(mu, logvar, reduction="max")


def test_joint_clustering_loss_is_zero_when_posterior_equals_model():
    # uniform Y, σ = 1 and m equal to every cluster mean: p(y|z)p(z|x) = q(z|y)q(y)
    y = torch.full((3, 2), 0.5)
    assert joint_clustering_loss(y, torch.ones(3, 2), torch.zeros(3, 2), torch.ones(2, 2)).item() == pytest.approx(0.0)


def test_joint_clustering_loss_matches_a_monte_carlo_kl():
    # E_{y ~ Y} E_{z ~ N(m, σ²)} [log Y_y + log N(z; m, σ²) - log(1/K) - log N(z; μ_y, I)]
    gen = torch.Generator().manual_seed(0)
    m, logvar = torch.tensor([[0.3, -1.0]]), torch.tensor([[-0.5, 0.4]])
    means = torch.tensor([[0.0, 0.0], [1.0, -1.0], [2.0, 1.0]])
    y = torch.tensor([[0.2, 0.5, 0.3]])
    std = torch.exp(0.5 * logvar)
    z = m + std * torch.randn(200_000, 2, generator=gen)  # [S, d]
    log_p = torch.distributions.Normal(m, std).log_prob(z).sum(1)  # [S]
    log_q = torch.distributions.Normal(means[None], 1.0).log_prob(z[:, None]).sum(2)  # [S, K]
    mc = (y * (torch.log(y) + math.log(3) + log_p[:, None] - log_q)).sum(1).mean()
    assert joint_clustering_loss(y, m, logvar, means).item() == pytest.approx(mc.item(), abs=0.02)


def test_joint_clustering_loss_gradients_are_finite_with_zero_probabilities():
    y = torch.tensor([[1.0, 0.0]], requires_grad=True)
    means = torch.zeros(2, 1, requires_grad=True)
    loss = joint_clustering_loss(y, torch.ones(1, 1), torch.zeros(1, 1), means)
    loss.backward()
    assert torch.isfinite(y.grad).all() and torch.isfinite(means.grad).all()


def test_joint_clustering_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="cluster_means"):
        joint_clustering_loss(torch.full((2, 3), 1 / 3), torch.zeros(2, 4), torch.zeros(2, 4), torch.zeros(3, 5))
    with pytest.raises(ValueError, match="logvar"):
        joint_clustering_loss(torch.full((2, 3), 1 / 3), torch.zeros(2, 4), torch.zeros(2, 5), torch.zeros(3, 4))


def test_frobenius_reconstruction_loss_by_hand():
    # ||X - X̂||²_F = 1 + 4 = 5 over N = 2 samples: 5 / (2·2)
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert frobenius_reconstruction_loss(torch.zeros(2, 2), x).item() == pytest.approx(1.25)
    with pytest.raises(ValueError, match="shape"):
        frobenius_reconstruction_loss(torch.zeros(2, 3), x)
