"""DCN (Yang, Fu, Sidiropoulos, Hong, ICML 2017)."""
from __future__ import annotations

import torch

from ..base import BaseClusterer, FitContext, FitResult
from ..losses import kmeans_loss, reconstruction_loss
from ..training import make_optimizer, train
from ..training.checkpoint import SaveEveryEpoch
from ._autoencoder import AutoEncoderMixin, embed


def nearest_centre(z: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """argmin_k ||z_i − mu_k||² for each row of z [N, d] against mu [K, d] -> [N] long."""
    return torch.cdist(z, mu).argmin(dim=1)


class DCN(AutoEncoderMixin, BaseClusterer):
    """Deep Clustering Network, from *Towards K-means-friendly Spaces: Simultaneous Deep Learning
    and Clustering* (Yang et al., ICML 2017).

    Objective (Eq. 5), minimised jointly over the autoencoder (f, g), the centres M [K, d] and
    the hard assignments s_i:

        L = 1/N Σ_i ||x_i − g(f(x_i))||² + (λ/2) · 1/N Σ_i ||f(x_i) − M s_i||²

    The reconstruction is each sample's squared error summed over its F features
    (``rec_reduction="sample"``), as in Eq. 5, where the loss ℓ(g(f(x_i)), x_i) is on the whole
    vector, and in the authors' code (per-sample sums of both terms). ``"mean"`` (also over the F
    features, the reduction of the other AE methods here) makes the reconstruction F times
    lighter against the k-means term. What that did, label-free: every sample in one cluster
    (NMI 0) on DBLP (F = 334, seeds 0 and 1) and CiteSeer (F = 3,703, seed 0), and near-chance
    Cora (26.5% ACC over 3 seeds). With ``"sample"``, seed 0: DBLP 4 non-empty clusters (ACC 0.377,
    NMI 0.138) and Cora 7 (ACC 0.399, NMI 0.226), beside AE+K-means on the same seed: DBLP
    0.405 / 0.154, Cora 0.393 / 0.224.

    Optimised by alternation on each mini-batch (Sec. 3.2): (1) assign each sample to its
    nearest centre; (2) move each assigned centre towards its samples with the online step
    size 1/c_k, c_k the running count of samples assigned to k (initialised to 100 as in the
    authors' code); (3) one gradient step on the network with s and M fixed. Centres and
    assignments start from k-means on the pretrained embedding. Labels: nearest centre of
    the final embedding.

    Args:
        n_clusters: K.
        lam: λ, weight of the k-means term (1.0).
        hidden, latent, pretrain_epochs, pretrain_lr, batch_size, pretrained, n_init: as in AE+KMeans.
        epochs: clustering epochs (50).
        lr: Adam learning rate of the network updates (1e-4).
        rec_reduction: ``"sample"`` (default, Eq. 5) or ``"mean"`` (above).
        checkpoint: a file path or None. When given, the fit saves its state there after the
            pretraining and k-means initialisation and after every clustering epoch (network,
            centres, their counts, optimiser, both RNGs), and a fit with the same settings and
            data resumes from it to the same model
            (:class:`~graphclust.training.checkpoint.FitCheckpoint`). The file stays after the
            fit; ``resumed_`` says from where a fit resumed (None otherwise).
    """

    def __init__(self, n_clusters: int = 8, *, lam: float = 1.0, hidden=(500, 500, 2000), latent: int = 10,
                 pretrain_epochs: int = 50, pretrain_lr: float = 1e-3, batch_size: int = 256, epochs: int = 50,
                 lr: float = 1e-4, rec_reduction: str = "sample", pretrained=None, n_init: int = 20,
                 checkpoint=None, random_state=None, device="cpu", verbose: bool = True):
        self.n_clusters = n_clusters
        self.lam = lam
        self.hidden = hidden
        self.latent = latent
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.lr = lr
        self.rec_reduction = rec_reduction
        self.pretrained = pretrained
        self.n_init = n_init
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        self._check_autoencoder_params()
        if self.lam < 0:
            raise ValueError(f"lam must be >= 0, got {self.lam}")
        if self.rec_reduction not in ("sample", "mean"):
            raise ValueError(f"rec_reduction must be 'sample' or 'mean', got {self.rec_reduction!r}")

    def _fit(self, data, ctx: FitContext) -> FitResult:
        x = data.x.to(ctx.device)  # [N, F]
        ckpt, ae, history = self._autoencoder_or_checkpoint(x, ctx)
        counts = torch.full((self.n_clusters,), 100.0, device=ctx.device)  # c_k
        optimizer = make_optimizer(ae.parameters(), "adam", lr=self.lr)
        epochs_done = 0
        if ckpt.stage is None:
            _, mu = self._kmeans_init(embed(ae, x), ctx)  # [K, d]
            ckpt.save("initialised", ae, history, mu=mu, counts=counts)
        else:  # the network, the centres and their counts as the checkpoint left them
            ckpt.restore(ae, {"adam": optimizer})
            mu, counts = ckpt.state["mu"].to(ctx.device), ckpt.state["counts"].to(ctx.device)
            epochs_done = int(ckpt.state.get("epochs_done", 0))

        def step(idx: torch.Tensor | None) -> dict[str, torch.Tensor]:
            idx = idx.to(ctx.device)
            xb = x[idx]
            out = ae(xb)
            with torch.no_grad():
                s = nearest_centre(out.z, mu)  # (1) assignment update of the batch
                for i, k in zip(range(len(idx)), s.tolist()):  # (2) online centre update
                    counts[k] += 1
                    mu[k] -= (mu[k] - out.z[i]) / counts[k]
            rec = reconstruction_loss(out.x_hat, xb, reduction=self.rec_reduction)
            km = kmeans_loss(out.z, mu, s)
            return {"loss": rec + 0.5 * self.lam * km, "rec": rec, "kmeans": km}  # (3) network update

        def predict():
            return nearest_centre(embed(ae, x), mu).cpu().numpy()

        callbacks = self._monitors(ctx, predict)
        if self.checkpoint is not None:
            callbacks.append(SaveEveryEpoch(lambda done, epochs: ckpt.save(
                "joint", ae, history + done, {"adam": optimizer}, mu=mu, counts=counts, epochs_done=epochs)))
        ae.train()
        history += train(step, optimizer, epochs=self.epochs, n_samples=x.shape[0], batch_size=self.batch_size,
                         generator=ctx.generator, callbacks=callbacks, verbose=ctx.verbose, desc="DCN",
                         start_epoch=epochs_done)
        ae.eval()
        z = embed(ae, x)
        return FitResult(nearest_centre(z, mu).cpu().numpy(), embedding=z, history=history,
                         extra={"autoencoder_": ae, "cluster_centers_": mu.cpu().numpy(), "resumed_": ckpt.resumed})
