"""Differentiable building blocks that are neither modules nor losses."""
from __future__ import annotations

import torch


def student_t_assignment(z: torch.Tensor, mu: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Soft assignment of DEC (Xie et al., 2016, Eq. 1).

    q_ij = (1 + ||z_i - mu_j||^2 / alpha)^(-(alpha+1)/2) / sum_j' (1 + ||z_i - mu_j'||^2 / alpha)^(-(alpha+1)/2)

    Args:
        z: [N, d] embeddings.
        mu: [K, d] cluster centres.
        alpha: degrees of freedom of the Student's t kernel (1 in DEC/IDEC/SDCN).

    Returns:
        q: [N, K], rows sum to 1.
    """
    dist2 = torch.cdist(z, mu).pow(2)  # [N, K]
    logits = -(alpha + 1.0) / 2.0 * torch.log1p(dist2 / alpha)
    return torch.softmax(logits, dim=1)  # normalising in log space avoids underflow for far points


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """Auxiliary target of DEC (Xie et al., 2016, Eq. 3).

    p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'),   f_j = sum_i q_ij

    Args:
        q: [N, K] soft assignments.

    Returns:
        p: [N, K], detached from the graph (a fixed target), rows sum to 1.
    """
    q = q.detach()
    weight = q.pow(2) / q.sum(dim=0).clamp_min(1e-12)  # [N, K]
    return weight / weight.sum(dim=1, keepdim=True)
