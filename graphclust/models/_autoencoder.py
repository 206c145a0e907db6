"""What the AE-based estimators (AE+KMeans, DEC, IDEC, DCN) share: pretraining and k-means init."""
from __future__ import annotations

import torch

from ..base import FitContext
from ..nn import MLPAutoEncoder
from ..training import MonitorLabels, PretrainConfig, build_pretrained_autoencoder
from .kmeans import kmeans


class AutoEncoderMixin:
    """Needs attributes ``hidden``, ``latent``, ``pretrain_epochs``, ``batch_size``, ``pretrain_lr``,
    ``pretrained`` and ``n_init`` (set by the estimator's ``__init__``)."""

    def _check_autoencoder_params(self) -> None:
        if self.pretrained is not None and not isinstance(self.pretrained, torch.nn.Module):
            raise TypeError(f"pretrained must be a torch.nn.Module (an autoencoder), got {type(self.pretrained).__name__}")
        if int(self.latent) < 1 or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"layer widths must be positive, got hidden={self.hidden}, latent={self.latent}")

    def _pretrained_autoencoder(self, x: torch.Tensor, ctx: FitContext) -> tuple[MLPAutoEncoder, list[dict]]:
        config = PretrainConfig(epochs=self.pretrain_epochs, batch_size=self.batch_size, lr=self.pretrain_lr)
        return build_pretrained_autoencoder(x, hidden=self.hidden, latent=self.latent, config=config,
                                            pretrained=self.pretrained, generator=ctx.generator, verbose=ctx.verbose)

    def _kmeans_init(self, z: torch.Tensor, ctx: FitContext) -> tuple[torch.Tensor, torch.Tensor]:
        """k-means (``n_init`` restarts) on the embedding: (labels [N], centres [K, d]) as tensors."""
        labels, centers = kmeans(z, self.n_clusters, n_init=self.n_init, seed=ctx.seed())
        return torch.from_numpy(labels).to(z.device), torch.from_numpy(centers).to(z.device)

    @staticmethod
    def _monitors(ctx: FitContext, predict) -> list:
        """A label monitor for ``history_`` when labels were given (never used for training)."""
        return [] if ctx.y is None else [MonitorLabels(ctx.y, predict)]


def embed(ae: MLPAutoEncoder, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """The bottleneck z [N, d] of ``x`` without gradients, in chunks to bound memory."""
    with torch.no_grad():
        return torch.cat([ae.encode(chunk)[0] for chunk in x.split(batch_size)])
