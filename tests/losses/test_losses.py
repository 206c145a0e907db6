"""Hand-computed values for every loss and assignment function."""
from __future__ import annotations

import math

import pytest
import torch

from graphclust.losses import kl_clustering_loss, kmeans_loss, reconstruction_loss
from graphclust.nn import student_t_assignment, target_distribution


def test_reconstruction_loss_by_hand():
    # ((1-0)^2 + (2-0)^2 + (0-0)^2 + (1-1)^2) / 4 = 5/4
    x = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    x_hat = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    assert reconstruction_loss(x_hat, x).item() == pytest.approx(1.25)
    # per sample, summed over the F = 2 features: (1 + 4) and (0 + 0), mean over N = 2 -> 5/2
    assert reconstruction_loss(x_hat, x, reduction="sample").item() == pytest.approx(2.5)
    with pytest.raises(ValueError, match="reduction"):
        reconstruction_loss(x_hat, x, reduction="sum")


def test_reconstruction_loss_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        reconstruction_loss(torch.zeros(2, 3), torch.zeros(2, 2))


def test_student_t_assignment_by_hand():
    # d^2 = (1, 4); (1 + d^2)^-1 = (1/2, 1/5); normalised: (5/7, 2/7)
    z = torch.tensor([[0.0, 0.0]])
    mu = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    q = student_t_assignment(z, mu, alpha=1.0)
    torch.testing.assert_close(q, torch.tensor([[5 / 7, 2 / 7]]))


def test_student_t_assignment_other_alpha():
    # alpha = 2: (1 + d^2/2)^(-3/2) = (1.5^-1.5, 3^-1.5)
    z = torch.tensor([[0.0, 0.0]])
    mu = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    a, b = 1.5 ** -1.5, 3.0 ** -1.5
    torch.testing.assert_close(student_t_assignment(z, mu, alpha=2.0), torch.tensor([[a / (a + b), b / (a + b)]]))


def test_target_distribution_by_hand():
    # q = [[0.8, 0.2], [0.4, 0.6]]; f = (1.2, 0.8)
    # row 1: (0.64/1.2, 0.04/0.8) = (0.5333, 0.05) -> (0.9143, 0.0857)
    # row 2: (0.16/1.2, 0.36/0.8) = (0.1333, 0.45) -> (0.2286, 0.7714)
    q = torch.tensor([[0.8, 0.2], [0.4, 0.6]])
    p = target_distribution(q)
    r1 = (0.64 / 1.2, 0.04 / 0.8)
    r2 = (0.16 / 1.2, 0.36 / 0.8)
    expected = torch.tensor([[r1[0] / sum(r1), r1[1] / sum(r1)], [r2[0] / sum(r2), r2[1] / sum(r2)]])
    torch.testing.assert_close(p, expected)
    assert not p.requires_grad


def test_kl_clustering_loss_by_hand():
    # row 1: 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75) ; row 2: 1 ln(1/0.5) + 0 (p=0 term vanishes)
    p = torch.tensor([[0.5, 0.5], [1.0, 0.0]])
    q = torch.tensor([[0.25, 0.75], [0.5, 0.5]])
    expected = (0.5 * math.log(2) + 0.5 * math.log(2 / 3) + math.log(2)) / 2
    assert kl_clustering_loss(p, q).item() == pytest.approx(expected, rel=1e-6)


def test_kl_of_distribution_with_itself_is_zero():
    q = torch.softmax(torch.randn(5, 3, generator=torch.Generator().manual_seed(0)), dim=1)
    assert kl_clustering_loss(q, q).item() == pytest.approx(0.0, abs=1e-7)


def test_kl_gradient_flows_to_q_only():
    p = torch.tensor([[0.5, 0.5]], requires_grad=True)
    logits = torch.zeros(1, 2, requires_grad=True)
    kl_clustering_loss(p, torch.softmax(logits, 1) * torch.tensor([[1.0, 1.0]])).backward()
    assert p.grad is None and logits.grad is not None


def test_kmeans_loss_by_hand():
    # ||(0,0)-(1,0)||^2 = 1 ; ||(2,2)-(2,3)||^2 = 1 ; mean = 1
    z = torch.tensor([[0.0, 0.0], [2.0, 2.0]])
    mu = torch.tensor([[1.0, 0.0], [2.0, 3.0]])
    assert kmeans_loss(z, mu, torch.tensor([0, 1])).item() == pytest.approx(1.0)
    # swapped assignment: ||(0,0)-(2,3)||^2 = 13 ; ||(2,2)-(1,0)||^2 = 5 ; mean 9
    assert kmeans_loss(z, mu, torch.tensor([1, 0])).item() == pytest.approx(9.0)
