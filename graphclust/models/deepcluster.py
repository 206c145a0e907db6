"""DeepCluster (Caron, Bojanowski, Joulin, Douze, ECCV 2018)."""
from __future__ import annotations

import numpy as np
import torch

from ..base import BaseClusterer, FitContext, FitResult
from ..metrics import evaluate
from ..nn import MLPAutoEncoder, init_linear_
from ..training import make_optimizer, train
from ..training.progress import progress_bar
from ._autoencoder import embed
from .kmeans import kmeans


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
    pseudo-labels). The backbone is the encoder of the d-500-500-2000-10 MLP, randomly
    initialised (no autoencoder pretraining), trained with Adam ``lr``. Labels: k-means on
    the final features.

    Args:
        n_clusters: K.
        hidden, latent: backbone widths.
        epochs: clustering/training alternations (50).
        batch_size: 256.
        lr: Adam learning rate (1e-3; the paper's SGD 0.05 targets convnets on ImageNet).
        kmeans_n_init: k-means restarts per epoch (3) and for the final labels.
    """

    def __init__(self, n_clusters: int = 8, *, hidden=(500, 500, 2000), latent: int = 10, epochs: int = 50,
                 batch_size: int = 256, lr: float = 1e-3, kmeans_n_init: int = 3, random_state=None, device="cpu",
                 verbose: bool = True):
        self.n_clusters = n_clusters
        self.hidden = hidden
        self.latent = latent
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.kmeans_n_init = kmeans_n_init
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _fit(self, data, ctx: FitContext) -> FitResult:
        x = data.x.to(ctx.device)  # [N, F]
        backbone = MLPAutoEncoder(x.shape[1], self.hidden, self.latent)
        backbone.reset_parameters(ctx.generator)
        backbone.to(ctx.device)
        head = torch.nn.Linear(self.latent, self.n_clusters).to(ctx.device)
        network = [*backbone.encoder.parameters(), *backbone.bottleneck.parameters(), *head.parameters()]

        def cluster_features() -> np.ndarray:
            feats = whiten_normalise(embed(backbone, x).cpu().numpy().astype(np.float64)).astype(np.float32)
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
                z, _ = backbone.encode(x[idx])
                return {"loss": torch.nn.functional.cross_entropy(head(z), targets[idx], weight=weight)}

            record = train(step, optimizer, epochs=1, n_samples=x.shape[0], batch_size=self.batch_size,
                           generator=ctx.generator, verbose=False)[0]
            record["epoch"] = epoch
            if ctx.y is not None:  # monitoring only
                record.update(evaluate(ctx.y, pseudo))
            history.append(record)
        labels = cluster_features()
        return FitResult(labels, embedding=embed(backbone, x), history=history, extra={"backbone_": backbone})
