"""DeepCluster (Caron, Bojanowski, Joulin, Douze, ECCV 2018)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..base import BaseClusterer, FitContext, FitResult
from ..metrics import evaluate
from ..nn import MLPAutoEncoder, init_linear_
from ..nn.sddecc import ConvGaussianEncoder, default_channels, rows_to_images, square_image_shape
from ..training import make_optimizer, train
from ..training.progress import progress_bar
from ._autoencoder import embed_with
from .kmeans import kmeans

BACKBONES = ("mlp", "conv")


def whiten_normalise(features: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """PCA-whiten then L2-normalise rows, DeepCluster's feature preprocessing before k-means."""
    centred = features - features.mean(axis=0, keepdims=True)
    cov = centred.T @ centred / max(len(centred) - 1, 1)  # [d, d]
    eigval, eigvec = np.linalg.eigh(cov)
    white = centred @ eigvec / np.sqrt(eigval + eps)
    return white / np.linalg.norm(white, axis=1, keepdims=True).clip(min=1e-12)


def reassign_empty(features: np.ndarray, labels: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """Give every empty cluster half of a random non-empty cluster (DeepCluster, Sec. 3.3).

    The split is made along the direction from the donor's centroid to a random member,
    which is what moving the empty centroid to a perturbed copy of the donor's and
    reassigning the donor's points amounts to.
    """
    labels = labels.copy()
    for empty in range(n_clusters):
        if np.any(labels == empty):
            continue
        sizes = np.bincount(labels, minlength=n_clusters)
        donors = np.flatnonzero(sizes > 1)
        donor = rng.choice(donors)
        members = np.flatnonzero(labels == donor)
        direction = features[rng.choice(members)] - features[members].mean(axis=0)
        side = (features[members] - features[members].mean(axis=0)) @ direction
        moved = members[side >= np.median(side)]
        if len(moved) == len(members):
            moved = moved[: len(members) // 2]
        labels[moved] = empty
    return labels


class DeepCluster(BaseClusterer):
    """DeepCluster, from *Deep Clustering for Unsupervised Learning of Visual Features* (Caron et al., ECCV 2018).

    Alternates, once per epoch: (1) features of all samples from the backbone f, PCA-whitened
    and L2-normalised, are clustered with k-means into K pseudo-labels y_i (empty clusters
    reassigned); (2) a freshly initialised linear head h is trained with f on

        L = −1/N Σ_i w_{y_i} log softmax(h(f(x_i)))_{y_i},   w_k ∝ 1/|{i : y_i = k}|

    (the class-balanced weighting stands in for the paper's uniform sampling over
    pseudo-labels). Labels: k-means on the final features. The backbone f is randomly initialised
    (no autoencoder pretraining) and trained with Adam ``lr``; its output, the d-dim feature, is
    what k-means clusters and the head reads:

    - ``backbone="mlp"`` (default): the encoder of the d-500-500-2000-10 MLP (``hidden``,
      ``latent``), as for DEC / IDEC.
    - ``backbone="conv"``: the DDECN's convolutional encoder (3×3 convolutions with ReLU, SDDECC's
      Table 2 channels: 16-32 for images up to 16×16, 16-16-32-32 above; ``channels``) and a
      linear layer to ``latent``, the μ head of :class:`~graphclust.nn.sddecc.ConvGaussianEncoder`
      (its log σ² head is not used). DeepCluster itself trains convnets (AlexNet, VGG-16), so this
      is the original method's kind of backbone on images. Flat features without an image shape
      are zero-padded into a 1×s×s image, as for SDDECC.

    Args:
        n_clusters: K.
        backbone: ``"mlp"`` or ``"conv"`` (above).
        hidden, latent: MLP widths; ``latent`` is also the conv backbone's feature width d.
        channels: the conv backbone's channels (None: SDDECC's, above).
        epochs: clustering/training alternations (50).
        batch_size: 256.
        lr: Adam learning rate (1e-3; the paper's SGD 0.05 targets convnets on ImageNet).
        kmeans_n_init: k-means restarts per epoch (3) and for the final labels.
    """

    def __init__(self, n_clusters: int = 8, *, backbone: str = "mlp", hidden=(500, 500, 2000), latent: int = 10,
                 channels=None, epochs: int = 50, batch_size: int = 256, lr: float = 1e-3, kmeans_n_init: int = 3,
                 random_state=None, device="cpu", verbose: bool = True):
        self.n_clusters = n_clusters
        self.backbone = backbone
        self.hidden = hidden
        self.latent = latent
        self.channels = channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.kmeans_n_init = kmeans_n_init
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {', '.join(BACKBONES)}, got {self.backbone!r}")

    def _backbone(self, data, generator: torch.Generator) -> tuple[torch.nn.Module, Callable, list]:
        """The backbone module, its feature function x [B, F] -> [B, d] and its trained parameters."""
        if self.backbone == "mlp":
            mlp = MLPAutoEncoder(data.x.shape[1], self.hidden, self.latent)
            mlp.reset_parameters(generator)
            return mlp, lambda x: mlp.encode(x)[0], [*mlp.encoder.parameters(), *mlp.bottleneck.parameters()]
        shape = getattr(data, "image_shape", None)
        shape = square_image_shape(data.x.shape[1]) if shape is None else tuple(int(s) for s in shape)
        channels = default_channels(shape) if self.channels is None else self.channels
        conv = ConvGaussianEncoder(shape, channels, self.latent, transfer_size=None)
        conv.reset_parameters(generator)
        return conv, lambda x: conv(rows_to_images(x, shape)).mu, [*conv.convs.parameters(), *conv.fc_mu.parameters()]

    def _fit(self, data, ctx: FitContext) -> FitResult:
        x = data.x.to(ctx.device)  # [N, F]
        backbone, features, trained = self._backbone(data, ctx.generator)
        backbone.to(ctx.device)
        head = torch.nn.Linear(self.latent, self.n_clusters).to(ctx.device)
        network = [*trained, *head.parameters()]

        def cluster_features() -> np.ndarray:
            feats = whiten_normalise(embed_with(features, x).cpu().numpy().astype(np.float64)).astype(np.float32)
            labels, _ = kmeans(feats, self.n_clusters, n_init=self.kmeans_n_init, seed=ctx.seed())
            return reassign_empty(feats, labels, self.n_clusters, ctx.rng)

        history = []
        for epoch in progress_bar(range(self.epochs), desc="DeepCluster", disable=not ctx.verbose, leave=False):
            pseudo = cluster_features()  # (1) [N] pseudo-labels
            targets = torch.from_numpy(pseudo).to(ctx.device)
            counts = np.bincount(pseudo, minlength=self.n_clusters)
            weight = torch.tensor(len(pseudo) / (self.n_clusters * np.maximum(counts, 1)), dtype=torch.float32,
                                  device=ctx.device)  # [K]
            init_linear_(head, ctx.generator)  # a new head for the new labelling
            optimizer = make_optimizer(network, "adam", lr=self.lr)

            def step(idx: torch.Tensor | None) -> dict[str, torch.Tensor]:  # (2)
                idx = idx.to(ctx.device)
                logits = head(features(x[idx]))
                return {"loss": torch.nn.functional.cross_entropy(logits, targets[idx], weight=weight)}

            record = train(step, optimizer, epochs=1, n_samples=x.shape[0], batch_size=self.batch_size,
                           generator=ctx.generator, verbose=False)[0]
            record["epoch"] = epoch
            if ctx.y is not None:  # monitoring only
                record.update(evaluate(ctx.y, pseudo))
            history.append(record)
        labels = cluster_features()
        return FitResult(labels, embedding=embed_with(features, x), history=history, extra={"backbone_": backbone})
