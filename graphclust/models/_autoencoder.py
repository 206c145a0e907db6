"""What the AE-based estimators (AE+KMeans, DEC, IDEC, DCN) share: pretraining and k-means init."""
from __future__ import annotations

from typing import Callable

import torch

from ..base import FitContext
from ..nn import MLPAutoEncoder
from ..training import MonitorLabels, PretrainConfig, build_pretrained_autoencoder
from ..training.checkpoint import FitCheckpoint
from .kmeans import kmeans


class AutoEncoderMixin:
    """Needs attributes ``hidden``, ``latent``, ``pretrain_epochs``, ``batch_size``, ``pretrain_lr``,
    ``pretrained`` and ``n_init`` (set by the estimator's ``__init__``)."""

    def _check_autoencoder_params(self) -> None:
        if self.pretrained is not None and not isinstance(self.pretrained, torch.nn.Module):
            raise TypeError("pretrained must be a torch.nn.Module (an autoencoder), "
                            f"got {type(self.pretrained).__name__}")
        if int(self.latent) < 1 or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"layer widths must be positive, got hidden={self.hidden}, latent={self.latent}")

    def _pretrained_autoencoder(self, x: torch.Tensor, ctx: FitContext) -> tuple[MLPAutoEncoder, list[dict]]:
        config = PretrainConfig(epochs=self.pretrain_epochs, batch_size=self.batch_size, lr=self.pretrain_lr)
        return build_pretrained_autoencoder(x, hidden=self.hidden, latent=self.latent, config=config,
                                            pretrained=self.pretrained, generator=ctx.generator, verbose=ctx.verbose)

    def _autoencoder_or_checkpoint(self, x: torch.Tensor, ctx: FitContext,
                                   *tensors: torch.Tensor | None) -> tuple[FitCheckpoint, MLPAutoEncoder, list[dict]]:
        """This fit's :class:`~graphclust.training.checkpoint.FitCheckpoint` (of the settings, ``x``
        and ``tensors``; a no-op when the estimator's ``checkpoint`` is None) and the autoencoder
        with the history so far: pretrained (or the given ``pretrained``) in a fresh fit; when
        resuming, a blank one on ``x``'s device whose weights ``ckpt.restore`` then loads."""
        ckpt = FitCheckpoint(getattr(self, "checkpoint", None), self, ctx, x, *tensors)
        if ckpt.stage is None:
            ae, history = self._pretrained_autoencoder(x, ctx)
        else:
            ae, history = MLPAutoEncoder(x.shape[1], self.hidden, self.latent).to(x.device), ckpt.history
        return ckpt, ae, history

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
    return embed_with(lambda chunk: ae.encode(chunk)[0], x, batch_size)


def embed_with(features: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
               batch_size: int = 4096) -> torch.Tensor:
    """``features`` [B, F] -> [B, d] of every row of ``x`` without gradients, in chunks to bound memory."""
    with torch.no_grad():
        return torch.cat([features(chunk) for chunk in x.split(batch_size)])
