"""GAE and VGAE (Kipf & Welling, 2016): graph autoencoders, then k-means on the embedding."""
from __future__ import annotations

import numbers

import torch
from torch import nn
from torch_geometric.utils import coalesce, remove_self_loops

from ..base import BaseClusterer, FitContext, FitResult
from ..graphs.normalize import gcn_norm
from ..losses.graph import edge_bce_loss, gaussian_kl_loss
from ..nn import GCNLayer
from ..training import MonitorLabels, make_optimizer, train
from .kmeans import kmeans

MAX_LOGSTD = 10.0  # log σ is clamped from above, as in PyG's VGAE, so exp(2 log σ) cannot overflow
MONITOR_EVERY = 10  # epochs between monitored k-means read-outs (monitoring only, when labels are given)


def reconstruction_edges(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    """The positive edges of the reconstruction target A + I: [2, E'] coalesced, each pair once.

    Existing self-loops are dropped and one self-loop per node added, so the target is the
    binary ``A + I`` of Kipf & Welling's code (``adj_label = adj + I``), which DAEGC's official
    code also reconstructs.
    """
    edge_index, _ = remove_self_loops(edge_index)
    loops = torch.arange(n, device=edge_index.device).repeat(2, 1)  # [2, n]
    return coalesce(torch.cat([edge_index, loops], dim=1), num_nodes=n)


def sample_negative_edges(n: int, num: int, generator: torch.Generator) -> torch.Tensor:
    """``num`` node pairs (i, j), i ≠ j, drawn uniformly from ``generator``: [2, num] long (CPU).

    O(num) and independent of the graph: a sampled pair is a true edge with probability
    ≈ E / N², which is not filtered (PyG's ``negative_sampling`` rejects them but draws from
    the global RNG).
    """
    src = torch.randint(n, (num,), generator=generator)  # [num]
    dst = torch.randint(n - 1, (num,), generator=generator)  # [num], shifted past src: never a self pair
    return torch.stack([src, dst + (dst >= src).long()])


class GCNAutoEncoder(nn.Module):
    """The encoder of GAE / VGAE: two GCN layers on Â = D̃^-1/2 (A + I) D̃^-1/2.

        GAE:   z = Â ReLU(Â X W0) W1
        VGAE:  h = ReLU(Â X W0),  mu = Â h W_mu,  log σ = Â h W_σ   (shared first layer)

    The decoder is the parameter-free inner product σ(z_i · z_j), evaluated only on sampled
    edges by :func:`graphclust.losses.graph.edge_bce_loss`. No biases, Glorot-uniform weights
    (as in Kipf & Welling's code).

    Args:
        in_features: F.
        hidden: width of the first layer (256).
        latent: d (16).
        variational: add the log σ head (VGAE).
    """

    def __init__(self, in_features: int, hidden: int = 256, latent: int = 16, variational: bool = False):
        super().__init__()
        self.conv1 = GCNLayer(in_features, hidden)
        self.conv_mu = GCNLayer(hidden, latent)
        self.conv_logstd = GCNLayer(hidden, latent) if variational else None

    def reset_parameters(self, generator: torch.Generator | None = None) -> "GCNAutoEncoder":
        for conv in (self.conv1, self.conv_mu, self.conv_logstd):
            if conv is not None:
                conv.reset_parameters(generator)
        return self

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x [N, F], adj sparse [N, N] -> (mu [N, d], log σ [N, d] or None for GAE)."""
        h = torch.relu(self.conv1(x, adj))  # [N, hidden]
        mu = self.conv_mu(h, adj)  # [N, d]
        if self.conv_logstd is None:
            return mu, None
        return mu, self.conv_logstd(h, adj).clamp(max=MAX_LOGSTD)

    def __repr__(self) -> str:
        kind = "variational" if self.conv_logstd is not None else "deterministic"
        return (f"GCNAutoEncoder({self.conv1.linear.in_features}-{self.conv1.linear.out_features}-"
                f"{self.conv_mu.linear.out_features}, {kind})")


class GAE(BaseClusterer):
    """Graph autoencoder, from *Variational Graph Auto-Encoders* (Kipf & Welling, NIPS Bayesian
    Deep Learning workshop 2016), as a clustering baseline: k-means on its embedding.

    A two-layer GCN encodes the nodes, z = Â ReLU(Â X W0) W1 with Â = D̃^-1/2 (A + I) D̃^-1/2
    (Eqs. 2 and 5), and the inner product σ(z_i · z_j) decodes the edges (Eq. 3). Training
    minimises the edge binary cross-entropy

        L = − 1/|E+| Σ_{(i,j) ∈ E+} log σ(z_i · z_j) − 1/|E−| Σ_{(i,j) ∈ E−} log(1 − σ(z_i · z_j))

    where E+ are the edges of A + I and E− as many node pairs drawn uniformly afresh every epoch
    from the estimator's generator (O(E) per epoch; the paper's BCE runs over all N² pairs).
    Full batch, Adam, 200 epochs, lr 0.01 (the paper's schedule); widths 256-16 as in the
    SDCN / DAEGC comparisons (the paper: 32-16). Labels: k-means (``n_init`` restarts) on z of
    the final model.

    Args:
        n_clusters: K.
        hidden: width of the first GCN layer (256).
        latent: d, width of z (16).
        epochs: training epochs (200).
        lr: Adam learning rate (0.01).
        n_neighbors: k of the kNN graph built when the input has no edges (default: the
            dataset's recipe, else 10).
        n_init: k-means restarts (20).
        random_state, device, verbose: as everywhere.

    Attributes (after ``fit``): ``labels_``, ``embedding_`` (z [N, d]), ``cluster_centers_``
    [K, d], ``model_`` (the trained :class:`GCNAutoEncoder`), ``history_`` (``loss`` per epoch,
    plus ``acc``/``nmi``/``ari``/``f1`` every 10 epochs when labels were given, for monitoring
    only).
    """

    uses_graph = True
    variational = False

    def _collapse_hint(self) -> str:
        return (" (every ReLU of the first layer died in training, so the edge loss is stuck at 2 ln 2 = 1.386)"
                + super()._collapse_hint())

    def __init__(self, n_clusters: int = 8, *, hidden: int = 256, latent: int = 16, epochs: int = 200,
                 lr: float = 0.01, n_neighbors: int | None = None, n_init: int = 20, random_state=None,
                 device="cpu", verbose: bool = True):
        self.n_clusters = n_clusters
        self.hidden = hidden
        self.latent = latent
        self.epochs = epochs
        self.lr = lr
        self.n_neighbors = n_neighbors
        self.n_init = n_init
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        for name in ("hidden", "latent"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.n_neighbors is not None and (not isinstance(self.n_neighbors, numbers.Integral) or self.n_neighbors < 1):
            raise ValueError(f"n_neighbors must be a positive int or None, got {self.n_neighbors!r}")

    def _fit(self, data, ctx: FitContext) -> FitResult:
        n = data.num_nodes
        x = data.x.to(ctx.device)  # [N, F]
        edge_index, edge_weight = self._graph(data, ctx)
        adj = gcn_norm(edge_index, edge_weight, n).to(ctx.device)  # sparse CSR [N, N]
        pos = reconstruction_edges(edge_index.cpu(), n).to(ctx.device)  # [2, E+]
        model = GCNAutoEncoder(x.shape[1], int(self.hidden), int(self.latent), self.variational)
        model.reset_parameters(ctx.generator).to(ctx.device)
        optimizer = make_optimizer(model.parameters(), "adam", lr=self.lr)
        variational = self.variational

        def step(idx: torch.Tensor | None) -> dict[str, torch.Tensor]:
            mu, logstd = model(x, adj)
            z = mu
            if variational:
                noise = torch.randn(mu.shape, generator=ctx.generator).to(ctx.device)  # [N, d]
                z = mu + noise * torch.exp(logstd)
            neg = sample_negative_edges(n, pos.shape[1], ctx.generator).to(ctx.device)  # [2, E+]
            rec = edge_bce_loss(z, pos, neg)
            if not variational:
                return {"loss": rec}
            kl = gaussian_kl_loss(mu, logstd)
            return {"loss": rec + kl / n, "rec": rec, "kl": kl}

        def embedding() -> torch.Tensor:
            with torch.no_grad():
                return model(x, adj)[0]  # z, or mu for VGAE: [N, d]

        def predict():  # monitoring only: a fixed k-means seed, so ctx's RNGs are not consumed
            return kmeans(embedding(), self.n_clusters, n_init=self.n_init, seed=0)[0]

        monitors = [] if ctx.y is None else [MonitorLabels(ctx.y, predict, every=MONITOR_EVERY)]
        model.train()
        history = train(step, optimizer, epochs=self.epochs, n_samples=n, batch_size=None,
                        generator=ctx.generator, callbacks=monitors, verbose=ctx.verbose, desc=type(self).__name__)
        model.eval()
        z = embedding()
        labels, centers = kmeans(z, self.n_clusters, n_init=self.n_init, seed=ctx.seed())
        return FitResult(labels, embedding=z, history=history,
                         extra={"cluster_centers_": centers, "model_": model})


class VGAE(GAE):
    """Variational graph autoencoder, from *Variational Graph Auto-Encoders* (Kipf & Welling,
    NIPS Bayesian Deep Learning workshop 2016), as a clustering baseline: k-means on μ.

    The GCN encoder outputs a Gaussian posterior per node, q(z_i | X, A) = N(μ_i, diag σ_i²)
    with h = ReLU(Â X W0), μ = Â h W_μ, log σ = Â h W_σ (Eqs. 1-2); z = μ + σ ⊙ ε, ε ~ N(0, I)
    drawn from the estimator's generator (reparameterisation). The loss is the negative ELBO
    (Eq. 4) with Kipf & Welling's scaling:

        L = L_edge(z) + (1/N) · KL_mean,   KL_mean = − 1/(2N) Σ_i Σ_d (1 + 2 log σ_id − μ_id² − σ_id²)

    L_edge is :class:`GAE`'s sampled edge BCE and KL_mean the node-averaged KL
    (:func:`graphclust.losses.graph.gaussian_kl_loss`). Kipf & Welling's code subtracts
    (0.5/N)·mean_i Σ_d(...) from a reconstruction that equals ½·L_edge (their ``norm`` and
    ``pos_weight``), i.e. it weighs the KL twice as much relative to L_edge; the 1/N weight here
    is PyG's (``recon_loss + 1/N · kl_loss``). log σ is clamped at 10. Training and read-out as in
    :class:`GAE`; the embedding and the k-means input are μ of the final model.

    ``history_`` logs ``loss``, ``rec`` (L_edge) and ``kl`` (KL_mean, before the 1/N weight).
    """

    variational = True
