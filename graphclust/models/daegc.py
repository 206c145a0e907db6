"""DAEGC (Wang et al., IJCAI 2019): attentional graph autoencoder with self-training clustering."""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.utils import coalesce

from ..base import BaseClusterer, FitContext, FitResult
from ..graphs.normalize import transition_proximity
from ..losses import kl_clustering_loss
from ..losses.graph import edge_bce_loss
from ..nn.attention import ProximityAttentionLayer
from ..nn.functional import student_t_assignment, target_distribution
from ..training import MonitorLabels, TargetRefresh, make_optimizer, train
from .gae import reconstruction_edges, sample_negative_edges
from .kmeans import kmeans


def proximity_edges(m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The nonzeros of the proximity matrix M (sparse CSR [N, N]) as (edge_index [2, E], M_ij [E]).

    A node whose row of M is empty (an isolated node) gets a self-loop, so that it attends to
    itself (its embedding is then computed from its own features) instead of getting h' = 0.
    Other rows keep exactly the support of M, which for t >= 2 already holds i itself.
    """
    n = m.shape[0]
    crow, col, val = m.crow_indices(), m.col_indices(), m.values()
    counts = crow.diff()  # [N]
    row = torch.repeat_interleave(torch.arange(n, device=crow.device), counts)  # [E]
    edge_index, edge_weight = torch.stack([row, col]), val
    empty = (counts == 0).nonzero().flatten()
    if empty.numel():
        loops = empty.repeat(2, 1)  # [2, n_empty]
        edge_index = torch.cat([edge_index, loops], dim=1)
        edge_weight = torch.cat([edge_weight, torch.ones(empty.numel(), dtype=val.dtype, device=val.device)])
    return coalesce(edge_index, edge_weight, num_nodes=n)


def restrict_to_adjacency(att_index: torch.Tensor, att_weight: torch.Tensor, edge_index: torch.Tensor,
                          n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the proximity edges (att_index [2, E_M], att_weight [E_M]) that are edges of A + I.

    The official DAEGC code attends over the 1-hop neighbourhood A + I and weighs the scores
    there by M; this is that neighbourhood, as an edge list (O(E log E), never N x N). For a
    graph with symmetric edges every edge of A + I is an edge of M (t >= 2 puts i itself in
    M's row i), so the result is exactly A + I with the weights M_ij.
    """
    loops = torch.arange(n, device=edge_index.device).repeat(2, 1)  # [2, N]
    support = torch.cat([edge_index, loops], dim=1)  # A + I, [2, E + N]
    keys = support[0].to(torch.int64) * n + support[1]
    att_keys = att_index[0].to(torch.int64) * n + att_index[1]
    keep = torch.isin(att_keys, keys.to(att_keys.device))  # [E_M]
    return att_index[:, keep], att_weight[keep]


class AttentionEncoder(nn.Module):
    """DAEGC's encoder: two proximity-attention layers, each followed by ELU, then z L2-normalised.

        h = ELU(Att_1(X; M)),   z = normalize(ELU(Att_2(h; M)))        [N, hidden] -> [N, latent]

    ELU after *both* layers and the row L2 normalisation follow the official code (the paper
    writes a generic σ). See :class:`graphclust.nn.attention.ProximityAttentionLayer`.
    """

    def __init__(self, in_features: int, hidden: int = 256, latent: int = 16, negative_slope: float = 0.2):
        super().__init__()
        self.att1 = ProximityAttentionLayer(in_features, hidden, negative_slope)
        self.att2 = ProximityAttentionLayer(hidden, latent, negative_slope)

    def reset_parameters(self, generator: torch.Generator | None = None) -> "AttentionEncoder":
        self.att1.reset_parameters(generator)
        self.att2.reset_parameters(generator)
        return self

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor) -> torch.Tensor:
        h = F.elu(self.att1(x, edge_index, edge_weight))  # [N, hidden]
        h = F.elu(self.att2(h, edge_index, edge_weight))  # [N, latent]
        return F.normalize(h, p=2, dim=1)  # z [N, latent], unit rows

    def __repr__(self) -> str:
        return f"AttentionEncoder({self.att1.in_features}-{self.att1.out_features}-{self.att2.out_features})"


class DAEGC(BaseClusterer):
    """Deep Attentional Embedded Graph Clustering, from *Attributed Graph Clustering: A Deep
    Attentional Embedding Approach* (Wang, Pan, Hu, Long, Jiang, Zhang, IJCAI 2019).

    A graph attention encoder whose attention is weighted by the t-order proximity
    M = (B + ... + B^t)/t, B = D^-1 A (Eq. 3, t = 2), maps the nodes to unit-norm embeddings
    z [N, 16] (two layers 256-16, ELU; Sec. 3.1); an inner-product decoder σ(z_i · z_j)
    reconstructs the graph. After pretraining the autoencoder on reconstruction alone, cluster
    centres mu [K, d] start from k-means on z and the model is trained on (Secs. 3.2-3.3)

        L = L_rec + γ · KL(P ‖ Q),   γ = 10

        q_iu = (1 + ||z_i − mu_u||²)^-1 / Σ_k (1 + ||z_i − mu_k||²)^-1    (Student's t, 1 d.o.f.)
        p_iu = (q_iu² / Σ_i q_iu) / Σ_k (q_ik² / Σ_i q_ik)                 (target distribution)

    with P recomputed from the current model every ``update_interval`` epochs and held fixed in
    between. L_rec is the inner-product BCE of
    :func:`graphclust.losses.graph.edge_bce_loss` on the edges of A + I against as many node
    pairs sampled uniformly each epoch from the estimator's generator. With
    ``rec_weighting="dense"`` (default) the two means are weighted ρ and 1 − ρ, ρ = |A + I| / N²:
    an O(E) unbiased estimate of the official code's BCE averaged over all N² entries of A + I
    (dominated by the non-edges); ``"balanced"`` weighs edges and non-edges equally (GAE's
    convention). Labels: argmax_u q_iu of the final model (never a best epoch).

    Defaults follow the official code (github.com/Tiger101010/DAEGC, Cora/CiteSeer settings):
    pretraining 30 epochs with Adam lr 0.005, weight decay 5e-3; clustering 100 epochs
    (``--max_epoch``) with Adam lr 1e-4, weight decay 5e-3 on the encoder and the centres,
    P refreshed every epoch (``--update_interval 1``); LeakyReLU slope 0.2; k-means with 20
    restarts. Use lr 1e-3 for PubMed (the official setting). (The official checkpoint name
    ``predaegc_{name}_30.pkl`` is saved after 31 pretraining steps; 30 is kept here.)

    Deviations from the official code (the first and last keep everything sparse):
        - attention runs over the edges of M only (the paper's neighbourhood, j ∈ N(i) iff
          M_ij > 0); the official code masks a dense N x N score matrix with A + I instead.
          ``attention_support="adjacency"`` gives the official neighbourhood, sparse: the edges
          of A + I, each weighted by M_ij;
        - M is :func:`graphclust.graphs.transition_proximity` on A as in the paper; the official
          code builds B from the row-normalised A + I, then column-normalises it;
        - L_rec estimates the BCE over all N² entries of A + I from the edges and a uniform
          sample of as many non-edges (above) instead of computing every entry.

    Args:
        n_clusters: K.
        hidden, latent: encoder widths (256, 16).
        t: order of the proximity M (2).
        gamma: γ, weight of the clustering term (10).
        negative_slope: LeakyReLU slope of the attention scores (0.2).
        pretrain_epochs, pretrain_lr: reconstruction-only pretraining (30, 0.005).
        epochs, lr: joint training (100, 1e-4).
        weight_decay: Adam weight decay in both phases (5e-3).
        update_interval: epochs between refreshes of P (1).
        rec_weighting: ``"dense"`` (the official objective, default) or ``"balanced"`` (see above).
        attention_support: ``"proximity"`` (the edges of M, the paper's text, default) or
            ``"adjacency"`` (the edges of A + I weighted by M, the official code; see above).
        n_neighbors: k of the kNN graph built when the input has no edges (default: the
            dataset's recipe, else 10).
        n_init: k-means restarts for the centres (20).
        random_state, device, verbose: as everywhere.

    Attributes (after ``fit``): ``labels_``, ``embedding_`` (z [N, d]), ``cluster_centers_``
    [K, d], ``soft_labels_`` (Q [N, K]), ``encoder_``, ``history_`` (pretraining epochs, then
    joint epochs with ``rec``, ``kl``, ``delta_label`` and, when labels were given, monitoring
    metrics of argmax Q).
    """

    uses_graph = True

    def __init__(self, n_clusters: int = 8, *, hidden: int = 256, latent: int = 16, t: int = 2, gamma: float = 10.0,
                 negative_slope: float = 0.2, pretrain_epochs: int = 30, pretrain_lr: float = 0.005,
                 epochs: int = 100, lr: float = 1e-4, weight_decay: float = 5e-3, update_interval: int = 1,
                 rec_weighting: str = "dense", attention_support: str = "proximity",
                 n_neighbors: int | None = None, n_init: int = 20, random_state=None, device="cpu",
                 verbose: bool = True):
        self.n_clusters = n_clusters
        self.hidden = hidden
        self.latent = latent
        self.t = t
        self.gamma = gamma
        self.negative_slope = negative_slope
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.update_interval = update_interval
        self.rec_weighting = rec_weighting
        self.attention_support = attention_support
        self.n_neighbors = n_neighbors
        self.n_init = n_init
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        for name in ("hidden", "latent", "t", "update_interval"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("gamma", "negative_slope", "weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        if self.rec_weighting not in ("dense", "balanced"):
            raise ValueError(f"rec_weighting must be 'dense' or 'balanced', got {self.rec_weighting!r}")
        if self.attention_support not in ("proximity", "adjacency"):
            raise ValueError(f"attention_support must be 'proximity' or 'adjacency', got {self.attention_support!r}")
        if self.n_neighbors is not None and (not isinstance(self.n_neighbors, numbers.Integral) or self.n_neighbors < 1):
            raise ValueError(f"n_neighbors must be a positive int or None, got {self.n_neighbors!r}")

    def _fit(self, data, ctx: FitContext) -> FitResult:
        n = data.num_nodes
        x = data.x.to(ctx.device)  # [N, F]
        edge_index, edge_weight = self._graph(data, ctx)
        m = transition_proximity(edge_index, edge_weight, n, t=int(self.t))  # sparse CSR [N, N]
        att_index, att_weight = proximity_edges(m)  # [2, E_M], [E_M]
        if self.attention_support == "adjacency":
            att_index, att_weight = restrict_to_adjacency(att_index, att_weight, edge_index.cpu(), n)  # [2, E + N]
        att_index, att_weight = att_index.to(ctx.device), att_weight.to(ctx.device)
        pos = reconstruction_edges(edge_index.cpu(), n).to(ctx.device)  # [2, E+]
        rho = pos.shape[1] / float(n) ** 2 if self.rec_weighting == "dense" else None  # share of edges in A + I
        encoder = AttentionEncoder(x.shape[1], int(self.hidden), int(self.latent), float(self.negative_slope))
        encoder.reset_parameters(ctx.generator).to(ctx.device)

        def encode() -> torch.Tensor:
            return encoder(x, att_index, att_weight)  # [N, d]

        def reconstruction(z: torch.Tensor) -> torch.Tensor:
            neg = sample_negative_edges(n, pos.shape[1], ctx.generator).to(ctx.device)  # [2, E+]
            return edge_bce_loss(z, pos, neg, pos_fraction=rho)

        # 1. pretraining: reconstruction only
        encoder.train()
        optimizer = make_optimizer(encoder.parameters(), "adam", lr=self.pretrain_lr, weight_decay=self.weight_decay)
        history = train(lambda idx: {"loss": reconstruction(encode())}, optimizer, epochs=self.pretrain_epochs,
                        n_samples=n, batch_size=None, generator=ctx.generator, verbose=ctx.verbose,
                        desc="pretrain DAEGC")

        # 2. centres from k-means on the pretrained embedding
        with torch.no_grad():
            z = encode()
        init_labels, centers = kmeans(z, self.n_clusters, n_init=self.n_init, seed=ctx.seed())
        mu = nn.Parameter(torch.from_numpy(centers).to(ctx.device))  # [K, d]

        # 3. joint training: L_rec + γ KL(P ‖ Q), P refreshed every update_interval epochs
        def soft_assignment() -> torch.Tensor:
            return student_t_assignment(encode(), mu)  # [N, K]

        refresh = TargetRefresh(soft_assignment, target_distribution, interval=self.update_interval, unit="epoch")
        refresh.labels = init_labels
        gamma = float(self.gamma)

        def step(idx: torch.Tensor | None) -> dict[str, torch.Tensor]:
            z = encode()
            kl = kl_clustering_loss(refresh.p, student_t_assignment(z, mu))
            rec = reconstruction(z)
            return {"loss": rec + gamma * kl, "rec": rec, "kl": kl}

        def predict():
            return soft_assignment().argmax(1).cpu().numpy()

        monitors = [] if ctx.y is None else [MonitorLabels(ctx.y, predict)]
        optimizer = make_optimizer([*encoder.parameters(), mu], "adam", lr=self.lr, weight_decay=self.weight_decay)
        history += train(step, optimizer, epochs=self.epochs, n_samples=n, batch_size=None, generator=ctx.generator,
                         callbacks=[refresh, *monitors], verbose=ctx.verbose, desc=type(self).__name__)
        encoder.eval()
        with torch.no_grad():
            z = encode()
            q = student_t_assignment(z, mu)  # [N, K]
        return FitResult(q.argmax(1).cpu().numpy(), embedding=z, history=history,
                         extra={"cluster_centers_": mu.detach().cpu().numpy(), "soft_labels_": q.cpu().numpy(),
                                "encoder_": encoder})
