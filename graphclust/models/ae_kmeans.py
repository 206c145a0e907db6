"""AE+KMeans: k-means on the bottleneck of a pretrained autoencoder."""
from __future__ import annotations

from ..base import BaseClusterer, FitContext, FitResult
from ._autoencoder import AutoEncoderMixin, embed


class AEKMeans(AutoEncoderMixin, BaseClusterer):
    """Pretrain an MLP autoencoder d-500-500-2000-10 with MSE, then k-means on z.

    Args:
        n_clusters: K.
        hidden, latent: autoencoder widths (d-500-500-2000-10).
        pretrain_epochs: autoencoder epochs (Adam, ``pretrain_lr``, ``batch_size``).
        batch_size: mini-batch size (256).
        pretrain_lr: Adam learning rate (1e-3).
        pretrained: an already trained autoencoder to use instead of pretraining (copied).
        n_init: k-means restarts (20).
    """

    def __init__(self, n_clusters: int = 8, *, hidden=(500, 500, 2000), latent: int = 10, pretrain_epochs: int = 50,
                 batch_size: int = 256, pretrain_lr: float = 1e-3, pretrained=None, n_init: int = 20,
                 random_state=None, device="cpu", verbose: bool = True):
        self.n_clusters = n_clusters
        self.hidden = hidden
        self.latent = latent
        self.pretrain_epochs = pretrain_epochs
        self.batch_size = batch_size
        self.pretrain_lr = pretrain_lr
        self.pretrained = pretrained
        self.n_init = n_init
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        self._check_autoencoder_params()

    def _fit(self, data, ctx: FitContext) -> FitResult:
        x = data.x.to(ctx.device)
        ae, history = self._pretrained_autoencoder(x, ctx)
        z = embed(ae, x)
        labels, centers = self._kmeans_init(z, ctx)
        return FitResult(labels.cpu().numpy(), embedding=z, history=history,
                         extra={"autoencoder_": ae, "cluster_centers_": centers.cpu().numpy()})
