"""Clustering objectives of the DEC family (DEC, IDEC, SDCN) and of DCN."""
from __future__ import annotations

import torch


def kl_clustering_loss(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """KL divergence between a target and a soft assignment (DEC, Xie et al. 2016, Eq. 2).

    L = KL(P || Q) = 1/N * sum_i sum_j p_ij * log(p_ij / q_ij)

    Args:
        p: [N, K] target distribution (treated as a constant: detached here).
        q: [N, K] soft assignment, rows sum to 1.
        eps: floor applied to q inside the log; terms with p_ij = 0 contribute 0.

    Returns:
        Scalar, summed over clusters and averaged over the N samples
        (``F.kl_div(q.log(), p, reduction="batchmean")``).
    """
    if p.shape != q.shape:
        raise ValueError(f"p has shape {tuple(p.shape)} but q has shape {tuple(q.shape)}")
    p = p.detach()
    terms = torch.where(p > 0, p * (torch.log(p.clamp_min(eps)) - torch.log(q.clamp_min(eps))), torch.zeros_like(p))
    return terms.sum() / p.shape[0]


def kmeans_loss(z: torch.Tensor, mu: torch.Tensor, assignment: torch.Tensor) -> torch.Tensor:
    """K-means term of DCN (Yang et al., ICML 2017, Eq. 5).

    L = 1/N * sum_i ||z_i - mu_{s_i}||^2

    Args:
        z: [N, d] embeddings.
        mu: [K, d] centres (a constant during the network update: detached here).
        assignment: [N] long, s_i in [0, K).

    Returns:
        Scalar, mean over samples of the squared distance to the assigned centre. The
        weight lambda/2 of the paper is applied by the caller.
    """
    return (z - mu.detach()[assignment]).pow(2).sum(dim=1).mean()
