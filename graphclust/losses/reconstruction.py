"""Reconstruction losses."""
from __future__ import annotations

import torch


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared reconstruction error of an autoencoder.

    L_rec = 1/(N F) * sum_i ||x_i - x_hat_i||^2

    Args:
        x_hat: [N, F] reconstruction.
        x: [N, F] input.

    Returns:
        Scalar, mean over all N*F entries (``F.mse_loss`` with mean reduction; SDCN and
        IDEC's PyTorch code use the same reduction).
    """
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat has shape {tuple(x_hat.shape)} but x has shape {tuple(x.shape)}")
    return torch.nn.functional.mse_loss(x_hat, x)
