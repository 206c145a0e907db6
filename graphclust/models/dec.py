"""DEC (Xie et al., ICML 2016) and IDEC (Guo et al., IJCAI 2017)."""
from __future__ import annotations

import torch

from ..base import BaseClusterer, FitContext, FitResult
from ..losses import kl_clustering_loss, reconstruction_loss
from ..nn import student_t_assignment, target_distribution
from ..training import TargetRefresh, make_optimizer, train
from ..training.checkpoint import SaveEveryEpoch
from ._autoencoder import AutoEncoderMixin, embed


class DEC(AutoEncoderMixin, BaseClusterer):
    """Deep Embedded Clustering, from *Unsupervised Deep Embedding for Clustering Analysis*
    (Xie, Girshick, Farhadi, ICML 2016).

    A pretrained encoder f maps x_i to z_i [d]; centres mu [K, d] start from k-means on z.
    The soft assignment q_ij ∝ (1 + ||z_i − mu_j||²/α)^(−(α+1)/2) (Eq. 1, α=1) is sharpened
    towards the target p_ij ∝ q_ij² / f_j, f_j = Σ_i q_ij (Eq. 3) by minimising

        L = KL(P ‖ Q) = 1/N Σ_i Σ_j p_ij log(p_ij / q_ij)                      (Eq. 2)

    over the encoder and the centres. P is recomputed on all samples every
    ``update_interval`` iterations and training stops when fewer than ``tol`` of the labels
    changed between two refreshes (or after ``epochs`` epochs). Labels: argmax_j q_ij of the
    final model. Only the encoder is fine-tuned; the decoder is discarded.

    Args:
        n_clusters: K.
        hidden, latent: autoencoder widths (d-500-500-2000-10).
        pretrain_epochs, pretrain_lr, batch_size: autoencoder pretraining (Adam).
        epochs: maximum clustering epochs.
        lr: clustering learning rate (SGD with momentum 0.9 as in the paper: 0.01).
        optimizer: "sgd" (paper) or "adam".
        update_interval: iterations between target refreshes (140 in the paper).
        tol: stopping threshold on the fraction of changed labels (0.001).
        alpha: Student's t degrees of freedom (1).
        pretrained: an already trained autoencoder (copied, not modified).
        n_init: k-means restarts for the centre initialisation (20).
        checkpoint: a file path or None. When given, the fit saves its state there after the
            pretraining and k-means initialisation and after every clustering epoch (network,
            centres, optimiser, the target P and its label history, both RNGs), and a fit with
            the same settings and data resumes from it to the same model
            (:class:`~graphclust.training.checkpoint.FitCheckpoint`; MNIST-70k: about 30 s per
            epoch on one core). The file stays after the fit; ``resumed_`` says from where a fit
            resumed (None otherwise).
    """

    gamma = 0.0  # weight of the reconstruction term; IDEC sets it

    def __init__(self, n_clusters: int = 8, *, hidden=(500, 500, 2000), latent: int = 10, pretrain_epochs: int = 50,
                 pretrain_lr: float = 1e-3, batch_size: int = 256, epochs: int = 200, lr: float = 0.01,
                 optimizer: str = "sgd", update_interval: int = 140, tol: float = 0.001, alpha: float = 1.0,
                 pretrained=None, n_init: int = 20, checkpoint=None, random_state=None, device="cpu",
                 verbose: bool = True):
        self.n_clusters = n_clusters
        self.hidden = hidden
        self.latent = latent
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.lr = lr
        self.optimizer = optimizer
        self.update_interval = update_interval
        self.tol = tol
        self.alpha = alpha
        self.pretrained = pretrained
        self.n_init = n_init
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        self._check_autoencoder_params()
        if self.update_interval < 1:
            raise ValueError(f"update_interval must be >= 1, got {self.update_interval}")
        if not 0 <= self.tol < 1:
            raise ValueError(f"tol must be in [0, 1), got {self.tol}")
        if self.alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")

    def _fit(self, data, ctx: FitContext) -> FitResult:
        x = data.x.to(ctx.device)  # [N, F]
        ckpt, ae, history = self._autoencoder_or_checkpoint(x, ctx)
        if ckpt.stage is None:
            init_labels, centers = self._kmeans_init(embed(ae, x), ctx)
        else:  # the centres and the target's state come from the checkpoint
            init_labels, centers = None, ckpt.state["mu"].to(ctx.device)
        mu = torch.nn.Parameter(centers.clone())  # [K, d]

        def soft_assignment() -> torch.Tensor:
            return student_t_assignment(embed(ae, x), mu, self.alpha)  # [N, K]

        refresh = TargetRefresh(soft_assignment, target_distribution, interval=self.update_interval,
                                unit="step", tol=self.tol)
        gamma = float(self.gamma)
        params = list(ae.parameters()) if gamma > 0 else list(ae.encoder.parameters()) + list(ae.bottleneck.parameters())
        optimizer = make_optimizer([*params, mu], self.optimizer, lr=self.lr)
        epochs_done = 0
        if ckpt.stage is None:
            refresh.labels = init_labels.cpu().numpy()
            ckpt.save("initialised", ae, history, mu=mu.detach(), refresh=refresh.state_dict())
        else:
            ckpt.restore(ae, {"optimizer": optimizer})
            refresh.load_state_dict(ckpt.state["refresh"], ctx.device)
            epochs_done = int(ckpt.state.get("epochs_done", 0))

        def step(idx: torch.Tensor | None) -> dict[str, torch.Tensor]:
            idx = idx.to(ctx.device)
            xb = x[idx]
            z, _ = ae.encode(xb)
            q = student_t_assignment(z, mu, self.alpha)  # [B, K]
            kl = kl_clustering_loss(refresh.p[idx], q)
            if gamma == 0:
                return {"loss": kl, "kl": kl}
            rec = reconstruction_loss(ae.decode(z), xb)
            return {"loss": rec + gamma * kl, "rec": rec, "kl": kl}

        def predict():
            return soft_assignment().argmax(1).cpu().numpy()

        callbacks = [refresh, *self._monitors(ctx, predict)]
        if self.checkpoint is not None:
            callbacks.append(SaveEveryEpoch(lambda done, epochs: ckpt.save(
                "joint", ae, history + done, {"optimizer": optimizer}, mu=mu.detach(), refresh=refresh.state_dict(),
                epochs_done=epochs)))
        ae.train()
        if not refresh.converged:  # a fit resumed after it converged has nothing left to train
            history += train(step, optimizer, epochs=self.epochs, n_samples=x.shape[0], batch_size=self.batch_size,
                             generator=ctx.generator, callbacks=callbacks, verbose=ctx.verbose,
                             desc=type(self).__name__, start_epoch=epochs_done)
        ae.eval()
        with torch.no_grad():
            z = embed(ae, x)
            q = student_t_assignment(z, mu, self.alpha)
        return FitResult(q.argmax(1).cpu().numpy(), embedding=z, history=history,
                         extra={"autoencoder_": ae, "cluster_centers_": mu.detach().cpu().numpy(),
                                "soft_labels_": q.cpu().numpy(), "resumed_": ckpt.resumed})


class IDEC(DEC):
    """Improved DEC, from *Improved Deep Embedded Clustering with Local Structure Preservation*
    (Guo, Gao, Liu, Yin, IJCAI 2017).

    DEC's clustering loss plus the autoencoder's reconstruction, so the embedding keeps the
    local structure of the data (Eq. 5):

        L = L_rec + γ · KL(P ‖ Q),   L_rec = 1/(N F) Σ_i ||x_i − g(f(x_i))||²,   γ = 0.1

    with P, Q as in :class:`DEC`; encoder, decoder and centres are trained with Adam (1e-3),
    batch 256; P refreshed every ``update_interval`` iterations; stop at ``tol`` = 0.1 % of
    labels changing. Labels: argmax_j q_ij of the final model.

    Args:
        gamma: γ, weight of the clustering term (0.1).
        (others as in :class:`DEC`; defaults: optimizer "adam", lr 1e-3)
    """

    def __init__(self, n_clusters: int = 8, *, gamma: float = 0.1, hidden=(500, 500, 2000), latent: int = 10,
                 pretrain_epochs: int = 50, pretrain_lr: float = 1e-3, batch_size: int = 256, epochs: int = 200,
                 lr: float = 1e-3, optimizer: str = "adam", update_interval: int = 140, tol: float = 0.001,
                 alpha: float = 1.0, pretrained=None, n_init: int = 20, checkpoint=None, random_state=None,
                 device="cpu", verbose: bool = True):
        super().__init__(n_clusters, hidden=hidden, latent=latent, pretrain_epochs=pretrain_epochs,
                         pretrain_lr=pretrain_lr, batch_size=batch_size, epochs=epochs, lr=lr, optimizer=optimizer,
                         update_interval=update_interval, tol=tol, alpha=alpha, pretrained=pretrained, n_init=n_init,
                         checkpoint=checkpoint, random_state=random_state, device=device, verbose=verbose)
        self.gamma = gamma

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        if self.gamma <= 0:
            raise ValueError(f"gamma must be > 0 for IDEC (gamma=0 is DEC), got {self.gamma}")
