"""Reconstruction losses."""
from __future__ import annotations

import torch


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Squared reconstruction error of an autoencoder.

    reduction="mean":    L_rec = 1/(N F) * sum_i ||x_i - x_hat_i||^2
    reduction="sample":  L_rec = 1/N     * sum_i ||x_i - x_hat_i||^2

    Args:
        x_hat: [N, F] reconstruction.
        x: [N, F] input.
        reduction: ``"mean"`` over all N*F entries (``F.mse_loss`` with mean reduction; SDCN and
            IDEC's PyTorch code use it), or ``"sample"``: each sample's squared error summed over
            its F features, then the mean over samples (DCN, Yang et al. 2017, Eq. 5, whose
            per-sample loss is on the whole vector x_i). The two differ by the factor F, which
            matters wherever the loss is weighed against another term.

    Returns:
        Scalar tensor.
    """
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat has shape {tuple(x_hat.shape)} but x has shape {tuple(x.shape)}")
    if reduction == "mean":
        return torch.nn.functional.mse_loss(x_hat, x)
    if reduction == "sample":
        return (x_hat - x).pow(2).sum() / x.shape[0]
    raise ValueError(f"reduction must be 'mean' or 'sample', got {reduction!r}")
