"""SDCN (Bo, Wang, Shi, Zhu, Lu, Cui, WWW 2020) and its SDCN_Q read-out."""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..base import BaseClusterer, FitContext, FitResult
from ..graphs import row_norm
from ..losses import kl_clustering_loss, reconstruction_loss
from ..nn import GCNLayer, MLPAutoEncoder, student_t_assignment, target_distribution
from ..training import make_optimizer, train
from ..training.checkpoint import SaveEveryEpoch
from ._autoencoder import AutoEncoderMixin


class SDCNOutput(NamedTuple):
    """``x_hat`` [N, F] reconstruction, ``z`` [N, d] AE bottleneck, ``q`` [N, K] Student-t
    assignment on z, ``pred`` [N, K] GCN softmax output Z."""

    x_hat: torch.Tensor
    z: torch.Tensor
    q: torch.Tensor
    pred: torch.Tensor


class SDCNModule(nn.Module):
    """The SDCN network: an MLP autoencoder and a GCN whose layers read the AE's layers.

    With AE encoder activations H^(1..L) (H^(L) = z) and GCN representations Z^(l):

        Z^(1)   = ReLU(Â X W^(1))
        Z^(l+1) = ReLU(Â ((1 − δ) Z^(l) + δ H^(l)) W^(l+1))         (transfer operator, Eq. 4)
        Z       = softmax(Â ((1 − δ) Z^(L) + δ H^(L)) W^(L+1))          (Eq. 6)

    Â = D^−1 (A + I) (sparse CSR), δ = 0.5. The GCN widths mirror the encoder
    (d→500→500→2000→10) and a last layer maps to K.

    Args:
        autoencoder: the (pretrained) :class:`MLPAutoEncoder`; its weights are trained further.
        n_clusters: K.
        delta: δ, the weight of the AE representation in each GCN layer's input.
    """

    def __init__(self, autoencoder: MLPAutoEncoder, n_clusters: int, delta: float = 0.5):
        super().__init__()
        self.ae = autoencoder
        self.delta = float(delta)
        widths = (autoencoder.in_features, *autoencoder.hidden_sizes, autoencoder.latent, n_clusters)
        self.gcn = nn.ModuleList(GCNLayer(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.mu = nn.Parameter(torch.zeros(n_clusters, autoencoder.latent))  # [K, d], set from k-means

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-initialise the GCN layers (the autoencoder keeps its pretrained weights)."""
        for layer in self.gcn:
            layer.reset_parameters(generator)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> SDCNOutput:
        x_hat, z, hidden = self.ae(x)
        ae_layers = (*hidden, z)  # H^(1..L): what each GCN layer after the first mixes in
        h = torch.relu(self.gcn[0](x, adj))
        for layer, ae_h in zip(self.gcn[1:-1], ae_layers[:-1]):
            h = torch.relu(layer((1 - self.delta) * h + self.delta * ae_h, adj))
        logits = self.gcn[-1]((1 - self.delta) * h + self.delta * ae_layers[-1], adj)  # [N, K]
        q = student_t_assignment(z, self.mu)  # [N, K]
        return SDCNOutput(x_hat, z, q, torch.softmax(logits, dim=1))


def sdcn_loss(out: SDCNOutput, x: torch.Tensor, p: torch.Tensor, alpha: float = 0.1,
              beta: float = 0.01) -> dict[str, torch.Tensor]:
    """SDCN's objective (Bo et al. 2020, Eq. 12).

        L = L_res + α · KL(P ‖ Q) + β · KL(P ‖ Z)

    L_res = 1/(N F) ||X − X̂||²_F (mean squared error); Q [N, K] Student-t assignment of the AE
    embedding; Z [N, K] GCN softmax; P [N, K] the target distribution of Q (a constant);
    α = 0.1, β = 0.01. Returns the total as ``"loss"`` and each term.
    """
    rec = reconstruction_loss(out.x_hat, x)
    kl_q = kl_clustering_loss(p, out.q)
    kl_z = kl_clustering_loss(p, out.pred)
    return {"loss": rec + alpha * kl_q + beta * kl_z, "rec": rec, "kl_q": kl_q, "kl_z": kl_z}


class SDCN(AutoEncoderMixin, BaseClusterer):
    """Structural Deep Clustering Network, from *Structural Deep Clustering Network*
    (Bo et al., WWW 2020).

    An autoencoder d-500-500-2000-10 (pretrained ``pretrain_epochs`` = 30 epochs, batch 256,
    Adam 1e-3) and a GCN d→500→500→2000→10→K on Â = D^−1(A + I) are trained jointly; each GCN
    layer reads (1 − δ)·Z^(l) + δ·H^(l), δ = 0.5 (see :class:`SDCNModule`). Objective:

        L = L_res + α·KL(P ‖ Q) + β·KL(P ‖ Z),   α = 0.1, β = 0.01

    with Q the Student-t assignment of z to centres μ (k-means init, n_init=20), Z the GCN
    softmax and P = target(Q) recomputed every ``update_interval`` epochs (1) from the
    current model. Full-batch Adam, ``lr`` 1e-3 (the paper uses 1e-4 on CiteSeer and
    Reuters), 200 epochs. Labels: argmax Z of the final model (:class:`SDCNQ`: argmax Q).
    Both read-outs come from the same training: ``soft_labels_`` holds Z and ``q_`` holds Q.

    The graph is the input's, or a kNN graph from the dataset recipe / ``n_neighbors``.

    Deviation: P is computed from the same forward pass as the loss of that epoch (the
    authors' code runs a second, identical forward in eval mode first; there is no dropout
    or batch norm, so both give the same P) — half the cost per epoch. When labels are given
    for monitoring, each epoch's record scores the labels of that same forward pass, i.e. the
    model at the start of the epoch, as the authors' code logs them (no extra pass).

    ``checkpoint`` (a file path, default None): the fit saves its state there after pretraining
    and the k-means initialisation and after every joint epoch, and a fit with the same settings
    and data resumes from it to the same model (MNIST-70k: 2.7 h on one core; see
    :class:`~graphclust.training.checkpoint.FitCheckpoint`). The file stays after the fit;
    ``resumed_`` says from where a fit resumed (None otherwise).
    """

    uses_graph = True
    readout = "pred"

    def __init__(self, n_clusters: int = 8, *, alpha: float = 0.1, beta: float = 0.01, delta: float = 0.5,
                 hidden=(500, 500, 2000), latent: int = 10, pretrain_epochs: int = 30, pretrain_lr: float = 1e-3,
                 batch_size: int = 256, epochs: int = 200, lr: float = 1e-3, update_interval: int = 1,
                 n_neighbors: int | None = None, pretrained=None, n_init: int = 20, checkpoint=None,
                 random_state=None, device="cpu", verbose: bool = True):
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.beta = beta
        self.delta = delta
        self.hidden = hidden
        self.latent = latent
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.lr = lr
        self.update_interval = update_interval
        self.n_neighbors = n_neighbors
        self.pretrained = pretrained
        self.n_init = n_init
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        self._check_autoencoder_params()
        if not 0 <= self.delta <= 1:
            raise ValueError(f"delta must be in [0, 1], got {self.delta}")
        if self.alpha < 0 or self.beta < 0:
            raise ValueError(f"alpha and beta must be >= 0, got alpha={self.alpha}, beta={self.beta}")
        if self.update_interval < 1:
            raise ValueError(f"update_interval must be >= 1, got {self.update_interval}")

    def _fit(self, data, ctx: FitContext) -> FitResult:
        edge_index, edge_weight = self._graph(data, ctx)
        adj = row_norm(edge_index, edge_weight, data.num_nodes).to(ctx.device)  # sparse CSR [N, N]
        x = data.x.to(ctx.device)  # [N, F]
        ckpt, ae, history = self._autoencoder_or_checkpoint(x, ctx, edge_index, edge_weight)
        model = SDCNModule(ae, self.n_clusters, self.delta)
        model.reset_parameters(ctx.generator)
        model.to(ctx.device)
        optimizer = make_optimizer(model.parameters(), "adam", lr=self.lr)
        state: dict = {"epoch": 0, "p": None}
        if ckpt.stage is None:
            with torch.no_grad():
                _, centers = self._kmeans_init(model.ae.encode(x)[0], ctx)
                model.mu.copy_(centers)
            ckpt.save("initialised", model, history)  # pretrained, μ from k-means
        else:
            ckpt.restore(model, {"adam": optimizer})
            if ckpt.stage == "joint":
                p = ckpt.state["p"]
                state.update(epoch=int(ckpt.state["epochs_done"]), p=None if p is None else p.to(ctx.device))

        def step(idx) -> dict[str, torch.Tensor]:
            out = model(x, adj)
            if state["epoch"] % self.update_interval == 0 or state["p"] is None:
                state["p"] = target_distribution(out.q)  # detached
            state["epoch"] += 1
            state["labels"] = self._readout(out).cpu().numpy()  # for monitoring: no second forward pass
            return sdcn_loss(out, x, state["p"], self.alpha, self.beta)

        def predict():
            return state["labels"]

        callbacks = self._monitors(ctx, predict)
        if self.checkpoint is not None:
            callbacks.append(SaveEveryEpoch(lambda done, epochs_done: ckpt.save(
                "joint", model, history + done, {"adam": optimizer}, p=state["p"], epochs_done=epochs_done)))
        history += train(step, optimizer, epochs=self.epochs, n_samples=x.shape[0], batch_size=None,
                         generator=ctx.generator, callbacks=callbacks, verbose=ctx.verbose,
                         desc=type(self).__name__, start_epoch=state["epoch"])
        with torch.no_grad():
            out = model(x, adj)
        return FitResult(self._readout(out).cpu().numpy(), embedding=out.z, history=history,
                         extra={"module_": model, "soft_labels_": out.pred.cpu().numpy(), "resumed_": ckpt.resumed,
                                "q_": out.q.cpu().numpy(), "cluster_centers_": model.mu.detach().cpu().numpy()})

    def _readout(self, out: SDCNOutput) -> torch.Tensor:
        return (out.pred if self.readout == "pred" else out.q).argmax(dim=1)


class SDCNQ(SDCN):
    """SDCN read out by argmax Q (the AE branch's Student-t assignment) instead of argmax Z;
    the paper reports both. Same training as :class:`SDCN`."""

    readout = "q"
