"""SDDECC (Fu, Lü, Liu, Wei 2021): structured deep discriminant embedded coding network clustering."""
from __future__ import annotations

import numbers
from typing import Callable, Sequence

import numpy as np
import torch

from ..base import BaseClusterer, FitContext, FitResult
from ..graphs.normalize import gcn_norm
from ..losses.reconstruction import reconstruction_loss
from ..losses.sddecc import frobenius_reconstruction_loss, gaussian_prior_kl, joint_clustering_loss, js_mi_loss
from ..nn.sddecc import EncoderOutput, SDDECCModule
from ..training import Callback, MonitorLabels, make_optimizer, train
from ..training.checkpoint import FitCheckpoint, SaveEveryEpoch
from .kmeans import kmeans

CHUNK = 2048  # rows per forward pass when encoding all nodes without gradients


def negative_permutation(b: int, generator: torch.Generator) -> torch.Tensor:
    """A random permutation π of range(b) without fixed points (b >= 2): the partner of each
    sample in its negative pairs. The batch is shuffled and sample order[j] is paired with
    order[j + 1] (cyclically), so a negative pair never repeats the positive one."""
    order = torch.randperm(b, generator=generator)  # [b]
    perm = torch.empty_like(order)
    perm[order] = order.roll(-1)
    return perm


class _Labels(Callback):
    """Tracks the joint stage's labels argmax Y of the whole graph: ``track(y)`` keeps Y's labels
    and sets, label-free, ``delta_label``, the fraction of labels that changed since the last call."""

    def __init__(self):
        self.labels: np.ndarray | None = None
        self.delta_label: float | None = None

    def track(self, y: torch.Tensor) -> None:
        labels = y.argmax(dim=1).cpu().numpy()
        self.delta_label = None if self.labels is None else float(np.mean(labels != self.labels))
        self.labels = labels


class _GCNBlock(_Labels):
    """The GCN half of SDDECC's alternating joint training, run before the first epoch and after
    every epoch.

    ``update()`` (the GCN's full-batch steps on L_c with the DDECN fixed) returns the new Y
    [N, K] of the whole graph; the callback keeps it as ``y`` for the next epoch's mini-batch
    steps and logs ``delta_label`` after every epoch."""

    def __init__(self, update: Callable[[], torch.Tensor]):
        super().__init__()
        self.update = update
        self.y: torch.Tensor | None = None

    def start(self, y: torch.Tensor | None) -> None:
        """Begin from a known Y (e.g. the warm-up's) instead of running ``update`` first."""
        if y is not None:
            self.y = y
            self.track(y)

    def _run(self) -> None:
        self.y = self.update()
        self.track(self.y)

    def on_epoch_start(self, epoch: int) -> None:
        if self.y is None:
            self._run()

    def on_epoch_end(self, epoch: int, record: dict) -> None:
        self._run()
        record["delta_label"] = self.delta_label


class _TransferCache(_Labels):
    """The graph's view in SDDECC's end-to-end joint training: every node's transfer features
    Z^(1..L+1) of the model as it is at the start of the epoch (``encode()``, no gradients), from
    which a mini-batch step reads the nodes outside its batch. After every epoch: the labels of the
    whole graph's Y (``gcn(transfer)``) and ``delta_label``; the features encoded for them serve
    the next epoch, as the model does not change in between."""

    def __init__(self, encode: Callable[[], tuple[torch.Tensor, ...]],
                 gcn: Callable[[Sequence[torch.Tensor]], torch.Tensor]):
        super().__init__()
        self.encode = encode
        self.gcn = gcn
        self.transfer: tuple[torch.Tensor, ...] | None = None
        self.y: torch.Tensor | None = None  # Y [N, K] after the last epoch, for checkpoints

    def start(self, y: torch.Tensor | None) -> None:
        if y is not None:
            self.y = y
            self.track(y)

    def on_epoch_start(self, epoch: int) -> None:
        if self.transfer is None:
            self.transfer = self.encode()

    def on_epoch_end(self, epoch: int, record: dict) -> None:
        self.transfer = self.encode()
        with torch.no_grad():
            self.y = self.gcn(self.transfer)
        self.track(self.y)
        record["delta_label"] = self.delta_label


class SDDECC(BaseClusterer):
    """Structured Deep Discriminant Embedded Coding network Clustering, from *Structured Deep
    Discriminant Embedded Coding Network for Image Clustering* (Fu, Lü, Liu, Wei, Laser &
    Optoelectronics Progress 58(6), 2021).

    A Gaussian convolutional autoencoder (DDECN) with global and local mutual-information
    discriminators, and a GCN on a kNN graph of the raw images whose layers read the encoder's
    layers through SDCN's transfer operator (see :class:`graphclust.nn.sddecc.SDDECCModule`).
    The GCN's softmax is the cluster posterior Y = p(y|z). Objective (Eq. 19):

        L = λ1 · (L_JS(T1) + L_JS(T2)) + λ2 · L_c + L_r

    - L_JS(T1): JS MI loss of the global discriminator, positives (z_i, μ(x_i)), negatives
      (z_i, μ(x_π(i))) (see :class:`~graphclust.nn.sddecc.GlobalMIDiscriminator`); L_JS(T2):
      the local one on (C(x_i), z_i) vs (C(x_π(i)), z_i), averaged over the M×M positions
      (:func:`graphclust.losses.sddecc.js_mi_loss`); π a fixed-point-free shuffle of the batch;
      z = μ + σ ε the reparameterised code;
    - L_c = E_x KL(p(y|z) p(z|x) ‖ q(z|y) q(y)), q(z|y) = N(μ_y, I), q(y) = 1/K, learnable
      cluster means μ_y (:func:`~graphclust.losses.sddecc.joint_clustering_loss`, exact in
      closed form);
    - L_r = 1/(2N) ||X − X̂||²_F, X̂ decoded from the sampled z.

    Training: (1) the DDECN alone for ``pretrain_epochs`` on Eq. 12 + L_r, i.e. λ1·MI +
    λ2·KL(p(z|x) ‖ N(0, I)) + L_r; (2) μ_y from k-means (``n_init`` restarts) on μ(x);
    (3) a warm-up of the GCN alone: ``gcn_warmup_steps`` full-batch steps on L_c with everything
    else fixed, whose minimiser in Y is the model's own posterior softmax(−½||μ(x) − μ_y||²), so
    that joint training starts from Y ≈ that posterior (a random GCN's Y disagrees with it on 98%
    of the nodes, USPS, seed 0, and L_c would then pull each μ(x) toward the wrong centres);
    (4) joint training on Eq. 19 for ``epochs``: each epoch, mini-batch steps (``batch_size``) of
    the DDECN and μ_y with Y held at the GCN's last output, then ``gcn_steps`` full-batch steps
    of the GCN with the DDECN fixed. Adam throughout, one optimiser state per block: ``lr`` for
    the DDECN and μ_y, ``gcn_lr`` for the GCN's full-batch steps.
    Labels: argmax_j Y_ij (Eq. 20) of the final model, computed with z = μ(x) on the full graph.

    Why alternate: the GCN needs the whole graph in every step, the convolutions only their
    batch. Both blocks descend the same objective (Eq. 19), each exactly (block-coordinate
    descent), in O(E) per GCN step and no N×N matrix; the one term this drops is the gradient
    of L_c through Y into the encoder's transferred features. A single mini-batch pass that
    reads out-of-batch neighbours from per-epoch caches (tried first) trains the GCN on a
    function it is not evaluated with: measured on USPS (seed 0, 10 pretraining epochs), after
    10 epochs its Y agreed with the posterior it fits on 41% of the nodes, against 73% for
    full-batch steps and 73% for batch losses on an exact full-graph forward (the costliest).
    Â X is constant and computed once.

    ``joint="end_to_end"`` keeps the dropped term: every mini-batch step trains everything (the
    DDECN, μ_y and the GCN, one Adam, the GCN at ``gcn_lr``) on the batch's loss, with the batch's Y
    read from an exact full-graph GCN forward whose inputs are the batch's fresh transfer features
    (with gradients) and every other node's features encoded at the start of the epoch (no
    gradients, stale by at most one epoch). L_c's gradient then reaches the encoder through Y as
    well as through μ(x) and σ(x). Each step costs a full-graph GCN forward and backward,
    O(N·Σ_l w_l w_{l+1} + E·Σ_l w_l) for GCN widths w_l (USPS: 256-256-512-10-10, about 2·10⁹
    multiply-adds per forward, nearly all in the dense layers), on top of the batch's convolutions:
    an epoch runs N/B such steps where alternating runs ``gcn_steps`` (37 against 10 on USPS, 274
    against 10 on MNIST; measured times in ``benchmarks/results/sddecc.md``). The warm-up and the
    read-out are the same as alternating's; ``gcn_steps`` is unused.

    Ablations (Table 4): ``use_mi=False`` drops the MI terms (and discriminators);
    ``use_gcn=False`` drops the GCN and the graph, and Y becomes the Bayes posterior of the
    generative model, Y_iy = softmax_y(−½||μ(x_i) − μ_y||²) — the cluster posterior that
    L_c's q(z, y) implies, so the same objective and read-out apply. ConvAE = (False, False),
    ConvAE+MI = (True, False), ConvAE+GCN = (False, True), SDDECC = (True, True).

    Where the paper is silent or where we depart from it:
    - λ1, λ2: the paper searches the grids below (Fig. 7, Fashion-MNIST, "stable under most
      combinations") without stating the setting it reports; the defaults are the grid centres,
      not tuned on labels.
    - Pretraining, its length, ``latent``, ``epochs``, ``batch_size``, ``lr``, strides and the
      discriminator widths are not given; pretraining the DDECN and initialising μ_y by
      k-means follows SDCN [21], whose schedule (30 epochs, Adam 1e-3, batch 256) we reuse.
      The GCN warm-up and the alternating joint schedule are ours (above). Epochs count passes,
      not steps: on USPS (37 batches per epoch) 30 + 50 epochs make 7.4 times fewer optimiser
      steps than on MNIST (274), and its loss is still falling at their end. Measured there (10
      seeds, final model, ``benchmarks/results/sddecc.md``): ACC 0.732 ± 0.009 at 30 + 50 epochs,
      0.762 ± 0.009 with pretraining alone at MNIST's steps (222 + 50), 0.768 ± 0.005 with both
      stages there (222 + 370); without pretraining (Eq. 19 from the initial network, 0 + 80, the
      paper's "end to end"), 0.642 ± 0.029 against 0.732 ± 0.009 on the same 10 seeds. The defaults
      were not changed on these figures.
    - ``gcn_lr`` = 1e-2, the usual GCN rate (Kipf & Welling), chosen by the warm-up's own loss,
      no labels: on USPS after pretraining, the L_c the GCN reaches in 200 warm-up steps (the
      floor, Y = the exact posterior, in brackets) is 1.376 at lr 1e-3 and 1.346 at 1e-2
      (1.329), seed 0; 1.407 at 1e-3, 1.390 at 3e-3, 1.369 at 1e-2 and 1.367 at 3e-2 (1.360),
      seed 9. At 1e-3 the GCN's argmax agrees with the posterior it fits on 78% of the nodes,
      at 1e-2 on 91-93%; even 1,000 steps at 1e-3 reach only 87% (L_c 1.355), so the old
      shared rate left the read-out Y a poor copy of the model's posterior. Measured after the
      rate was set (USPS, 10 seeds, final model): SDDECC ACC 0.695 ± 0.045 at 1e-3, 0.732 ± 0.009
      at 1e-2; ConvAE+GCN 0.727 ± 0.037 and 0.735 ± 0.015 (``benchmarks/results/sddecc.md``).
    - Â is the symmetric D̃^−1/2 (A + I) D̃^−1/2 of Eq. 14 (SDCN's code uses D̃^−1 (A + I)).
    - L_c is computed in closed form from μ(x), log σ²(x) rather than from a sampled z.
    - ``kl_reduction="mean"`` (default): the prior KL of Eq. 12 and L_c are averaged over the d
      latent dimensions, not summed. The paper does not say which; summed, λ2 ∈ [1, 2] against
      the 1/(2N)||X − X̂||² reconstruction collapses the posterior. Measured on USPS without
      labels (seed 0, after pretraining): summed, the code carries 1.6 nats, 7 of 10 dimensions
      vary and the decoder recovers 28% of the pixel variance; averaged, 13.7 nats, 10 of 10
      dimensions and 72%. The per-dimension mean is also the convention of the public Keras
      Deep InfoMax code whose global/local/prior design DDECN follows, and it weighs L_c about as
      the public Keras code that defines this L_c (q(z|y) = N(μ_y, I), q(y) = 1/K) does: that code
      sums the KL over d = 20 with weight 1 against the summed ½||x − x̂||² with weight 5, 0.2 per
      unit of reconstruction, where the mean over d = 10 at λ2 = 1.5 gives 0.15 and the sum 1.5.
      ``"sum"`` keeps the literal reading. That measurement concerns the prior KL of pretraining, a stage the paper
      does not have; ``kl_reduction=("mean", "sum")`` keeps it averaged there and sums L_c, the
      literal Eq. 19 in the joint stage (with "mean", λ2 · L_c pulls μ(x) toward the centres
      about ten times less than with "sum"). Measured the same way at the end of joint training
      (USPS, seeds 0-2): summed there, the code carries 3.9 nats and the decoder recovers 50% of
      the pixel variance; averaged, 18.0 nats and 81% (seed 0). So "mean" stays for both;
      ``benchmarks/results/sddecc.md`` reports the two readings side by side.
    - The global MI pairs z with μ(x) (see above); logs are natural (the paper writes log₂).
    - Conv maps reach the GCN average-pooled to at most 4×4 and flattened (``transfer_size``; see
      :class:`~graphclust.nn.sddecc.SDDECCModule`).

    Args:
        n_clusters: K.
        lambda1: λ1, MI weight (paper grid {0.001, 0.005, 0.01, 0.05, 0.1}; default 0.01).
        lambda2: λ2, clustering weight (grid {1, 1.25, 1.5, 1.75, 2}; default 1.5).
        delta: δ of the transfer operator (0.5, the paper's setting).
        n_neighbors: k of the kNN graph on the raw images (3, the paper's setting); the
            weighting follows the dataset's recipe (SDCN's heat kernel for USPS). Ignored when the
            input has edges; ``graphclust run`` and ``graphclust bench`` give SDDECC the images
            without the dataset's shared kNN graph when that graph has another k (MNIST's recipe:
            10), so it runs on this k there too (:func:`graphclust.cli.graph_input`).
        channels: encoder channels; None: 16-32 for images up to 16×16 (USPS), 16-16-32-32
            above (MNIST, Fashion-MNIST), as in Table 2.
        latent: d (10; the paper does not say).
        hidden: width of the MI discriminators (64).
        use_mi, use_gcn: ablation switches (both True: the full model).
        transfer_size: side s of the pooled conv maps the GCN reads (4; None: unpooled, 1:
            global average pooling).
        local_layer: the convolution whose activation map C(x) the local MI discriminator reads, a
            Python index into ``channels`` (−1, default: the last map, 4×4 on USPS, 7×7 on MNIST). The
            paper takes "the feature map of a middle layer of the CNN" without naming the layer; 0 reads
            the first convolution's map (USPS: 16×8×8, 64 positions instead of 16). Measured on USPS
            (10 seeds, ``benchmarks/results/sddecc.md``): on the first map the local discriminator stays
            near chance (JS loss 1.26 at the end of joint training, against 0.94 on the last map; chance
            2 ln 2 = 1.386), and ACC barely moves (SDDECC 0.7355 ± 0.0077 against 0.7322 ± 0.0088,
            seed-paired +0.3 ± 0.5 points; ConvAE+MI −0.2 ± 0.9), so the default stays the last map.
        kl_reduction: ``"mean"`` (default) or ``"sum"`` over the latent dimensions for the
            prior KL and L_c (see above); a pair (prior KL, L_c) sets them apart, e.g.
            ``("mean", "sum")``.
        reconstruction: ``"sum"`` (default): L_r = 1/(2N)||X − X̂||²_F as Eq. 13 writes it, half the
            squared error summed over the F pixels, mean over the samples; ``"mean"``: the squared error
            averaged over all N·F entries (``F.mse_loss``), F/2 times lighter against λ1 · MI and λ2 · KL.
            SDCN writes the same 1/(2N)||X − X̂||²_F and its code computes ``F.mse_loss``, and the paper
            builds its graph part "as Bo et al." (SDCN), so its code may have done the same. Measured
            without labels (USPS, ``benchmarks/results/sddecc.md``): averaged, λ2 · KL(p(z|x) ‖ N(0, I))
            outweighs the reconstruction in pretraining and the code collapses onto the prior (at most 0.003 nats,
            no active dimension, in every run of the four models of Table 4), so "sum" stays.
        joint: ``"alternating"`` (default: mini-batch DDECN steps with Y fixed, then full-batch
            GCN steps) or ``"end_to_end"`` (every step trains everything; see above). Only
            matters with the GCN.
        pretrain_epochs: DDECN epochs before joint training (30).
        gcn_warmup_steps: full-batch GCN steps before joint training (200).
        gcn_steps: full-batch GCN steps after every joint epoch (10; alternating only).
        epochs: joint training epochs (50).
        batch_size: mini-batch size (256).
        lr: Adam learning rate of the DDECN and μ_y, pretraining and joint (1e-3).
        gcn_lr: Adam learning rate of the GCN's full-batch steps, warm-up and joint (1e-2; see
            above).
        n_init: k-means restarts for μ_y (20).
        checkpoint: a file path or None. When given, ``fit`` saves its state there after
            pretraining, after the GCN warm-up and after every joint epoch; a ``fit`` with the same
            settings and data that finds the file resumes from it, with both RNGs restored, and
            ends with the same model as an uninterrupted fit (tested; same device and thread
            count). A checkpoint of another fit is refused with a ``ValueError``
            (:class:`~graphclust.training.checkpoint.CheckpointMismatch`). The file stays after the
            fit (a fit that finds it complete returns the same model without training); delete
            it when the result is safe. For long fits that may be killed (MNIST with the defaults:
            about 2 h on one core, 7,213 s measured; 4,682 s on two threads).
        random_state, device, verbose: as everywhere.

    Inputs: images [N, H, W] / [N, C, H, W] (or ``data.image_shape``); flat features [N, F]
    without an image shape are zero-padded into a 1×s×s image, s = ceil(√F).

    Attributes (after ``fit``): ``labels_``, ``embedding_`` (μ(x) [N, d]), ``soft_labels_``
    (Y [N, K]), ``cluster_centers_`` (μ_y [K, d]), ``edge_index_`` [2, E] and ``edge_weight_`` [E]
    (the graph the GCN ran on, before normalisation: the input's edges or the kNN graph built from
    the images; None without the GCN), ``resumed_`` (None, or when the fit resumed
    from a checkpoint ``{"stage", "epochs_done", "elapsed_s", "code_versions"}``, ``elapsed_s`` the
    seconds the fit had run before, ``code_versions`` the code it ran under,
    :func:`~graphclust.training.checkpoint.code_version`), ``module_`` (the trained
    :class:`~graphclust.nn.sddecc.SDDECCModule`), ``history_`` (one record per epoch with
    ``stage`` "pretrain", "gcn_warmup" (one per step; the last has ``agreement``, the share of
    argmax Y equal to the posterior's) or "joint" (with ``delta_label``, the share of labels that
    changed in the epoch, when the GCN is used), each loss term (L_c also in its three parts
    ``clu_dist``, ``clu_var``, ``clu_cat``, :func:`~graphclust.losses.sddecc.joint_clustering_loss`), and
    ``acc``/``nmi``/``ari``/``f1`` of the joint stage when labels were given, for monitoring only).
    """

    uses_graph = True

    def __init__(self, n_clusters: int = 8, *, lambda1: float = 0.01, lambda2: float = 1.5, delta: float = 0.5,
                 n_neighbors: int | None = 3, channels: Sequence[int] | None = None, latent: int = 10,
                 hidden: int = 64, use_mi: bool = True, use_gcn: bool = True, transfer_size: int | None = 4,
                 local_layer: int = -1, kl_reduction: str = "mean", reconstruction: str = "sum",
                 joint: str = "alternating",
                 pretrain_epochs: int = 30, gcn_warmup_steps: int = 200, gcn_steps: int = 10,
                 epochs: int = 50, batch_size: int = 256, lr: float = 1e-3, gcn_lr: float = 1e-2, n_init: int = 20,
                 checkpoint=None, random_state=None, device="cpu", verbose: bool = True):
        self.n_clusters = n_clusters
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.delta = delta
        self.n_neighbors = n_neighbors
        self.channels = channels
        self.latent = latent
        self.hidden = hidden
        self.use_mi = use_mi
        self.use_gcn = use_gcn
        self.transfer_size = transfer_size
        self.local_layer = local_layer
        self.kl_reduction = kl_reduction
        self.reconstruction = reconstruction
        self.joint = joint
        self.pretrain_epochs = pretrain_epochs
        self.gcn_warmup_steps = gcn_warmup_steps
        self.gcn_steps = gcn_steps
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.gcn_lr = gcn_lr
        self.n_init = n_init
        self.checkpoint = checkpoint
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _validate_params(self, n_samples: int) -> None:
        super()._validate_params(n_samples)
        for name in ("lambda1", "lambda2"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if not isinstance(self.delta, numbers.Real) or not 0 <= self.delta <= 1:
            raise ValueError(f"delta must be in [0, 1], got {self.delta!r}")
        for name in ("latent", "hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("gcn_warmup_steps", "gcn_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if self.channels is not None:
            chans = tuple(self.channels) if isinstance(self.channels, (list, tuple)) else None
            if not chans or any(isinstance(c, bool) or not isinstance(c, numbers.Integral) or c < 1 for c in chans):
                raise ValueError(f"channels must be None or a non-empty sequence of positive ints, "
                                 f"got {self.channels!r}")
        if self.n_neighbors is not None and (isinstance(self.n_neighbors, bool)
                                             or not isinstance(self.n_neighbors, numbers.Integral)
                                             or self.n_neighbors < 1):
            raise ValueError(f"n_neighbors must be None or a positive int, got {self.n_neighbors!r}")
        self._kl_reductions()
        if self.reconstruction not in ("sum", "mean"):
            raise ValueError(f"reconstruction must be 'sum' or 'mean', got {self.reconstruction!r}")
        if self.joint not in ("alternating", "end_to_end"):
            raise ValueError(f"joint must be 'alternating' or 'end_to_end', got {self.joint!r}")
        for name in ("use_mi", "use_gcn"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")

    def _kl_reductions(self) -> tuple[str, str]:
        """(reduction of the prior KL, reduction of L_c) from ``kl_reduction``."""
        value = self.kl_reduction
        pair = (value, value) if isinstance(value, str) else tuple(value) if isinstance(value, (list, tuple)) else ()
        if len(pair) != 2 or any(r not in ("mean", "sum") for r in pair):
            raise ValueError(f"kl_reduction must be 'mean', 'sum' or a pair of them (prior KL, L_c), got {value!r}")
        return pair

    def _fit(self, data, ctx: FitContext) -> FitResult:
        prior_reduction, clu_reduction = self._kl_reductions()
        reconstruct = frobenius_reconstruction_loss if self.reconstruction == "sum" else reconstruction_loss
        x = data.x.to(ctx.device)  # [N, F]
        n = x.shape[0]
        model = SDDECCModule(x.shape[1], getattr(data, "image_shape", None), self.n_clusters, self.channels,
                             self.latent, self.delta, self.hidden, self.use_gcn, self.transfer_size,
                             self.local_layer)
        model.reset_parameters(ctx.generator)
        model.to(ctx.device)
        batch_size = None if self.batch_size >= n else int(self.batch_size)
        adj = x_prop = edge_index = edge_weight = None
        if self.use_gcn:
            edge_index, edge_weight = self._graph(data, ctx)
            adj = gcn_norm(edge_index, edge_weight, n).to(ctx.device)  # Â [N, N] CSR, Eq. 14
            x_prop = adj @ x  # Â X [N, F], constant

        def mi_terms(enc: EncoderOutput, z: torch.Tensor) -> dict[str, torch.Tensor]:
            if not self.use_mi or z.shape[0] < 2:  # a lone sample has no negative partner
                return {}
            perm = negative_permutation(z.shape[0], ctx.generator).to(z.device)
            s = model.mi_scores(z, enc.mu, enc.feature_map, perm)
            return {"mi_global": js_mi_loss(s.global_pos, s.global_neg),
                    "mi_local": js_mi_loss(s.local_pos, s.local_neg)}

        def encode_all() -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
            """μ(x) [N, d], log σ²(x) [N, d] and the transfer features of every node, no gradients."""
            with torch.no_grad():
                encs = [model.encode(chunk) for chunk in x.split(CHUNK)]
                mu = torch.cat([e.mu for e in encs])
                logvar = torch.cat([e.logvar for e in encs])
                transfer = tuple(torch.cat(parts) for parts in zip(*(model.transfer(e) for e in encs)))
            return mu, logvar, transfer

        def gcn_forward(transfer: Sequence[torch.Tensor]) -> torch.Tensor:
            """Y [N, K] of the exact full-graph GCN given every node's transferred features."""
            return model.cluster_posterior(x_prop, transfer, lambda layer, h: adj @ h)[0]

        def full_pass() -> tuple[torch.Tensor, torch.Tensor]:
            """Y [N, K] and μ(x) [N, d] of the current model, exact, no gradients."""
            mu, _, transfer = encode_all()
            with torch.no_grad():
                return (gcn_forward(transfer) if self.use_gcn else model.latent_posterior(mu)), mu

        gcn_optimizer = make_optimizer(model.gcn.parameters(), "adam", lr=self.gcn_lr) if self.use_gcn else None

        def gcn_steps(steps: int, desc: str, verbose: bool = False) -> tuple[torch.Tensor, list[dict]]:
            """``steps`` full-batch Adam steps of the GCN on L_c, the DDECN and μ_y fixed; then Y of
            the updated GCN [N, K] and the steps' history (``agreement``: the share of argmax Y equal
            to the argmax of the DDECN's own posterior softmax(−½||μ(x) − μ_y||²), label-free)."""
            mu, logvar, transfer = encode_all()
            means = model.cluster_means.detach()

            def step(idx: torch.Tensor | None) -> dict[str, torch.Tensor]:
                return {"loss": joint_clustering_loss(gcn_forward(transfer), mu, logvar, means,
                                                      reduction=clu_reduction)}

            records = train(step, gcn_optimizer, epochs=steps, n_samples=n, batch_size=None, generator=ctx.generator,
                            verbose=verbose, desc=desc)
            with torch.no_grad():
                y = gcn_forward(transfer)
                own = model.latent_posterior(mu).argmax(dim=1)
            if records:
                records[-1]["agreement"] = float((y.argmax(dim=1) == own).float().mean())
            return y, records

        # a checkpoint of this fit: the settings, the generator's state, the images, their shape and the graph
        ckpt = FitCheckpoint(self.checkpoint, self, ctx, x, torch.tensor(model.image_shape), edge_index, edge_weight)
        stage = ckpt.stage  # None (from the start) | "pretrained" | "initialised" | "joint"
        history: list[dict] = []
        if stage is not None:
            ckpt.restore(model, {"gcn": gcn_optimizer})
            history = ckpt.history

        # (1) the DDECN alone (Eq. 12 + L_r)
        if stage is None and self.pretrain_epochs:
            ddecn = [*model.encoder.parameters(), *model.decoder.parameters()]
            if self.use_mi:
                ddecn += [*model.global_disc.parameters(), *model.local_disc.parameters()]

            def pretrain_step(idx: torch.Tensor | None) -> dict[str, torch.Tensor]:
                xb = x if idx is None else x[idx.to(x.device)]
                enc = model.encode(xb)
                z = model.sample(enc.mu, enc.logvar, ctx.generator)
                terms = {"rec": reconstruct(model.decode(z), xb),
                         "prior_kl": gaussian_prior_kl(enc.mu, enc.logvar, prior_reduction), **mi_terms(enc, z)}
                loss = terms["rec"] + self.lambda2 * terms["prior_kl"]
                loss = loss + self.lambda1 * sum(terms.get(k, 0.0) for k in ("mi_global", "mi_local"))
                return {"loss": loss, **terms}

            records = train(pretrain_step, make_optimizer(ddecn, "adam", lr=self.lr), epochs=self.pretrain_epochs,
                            n_samples=n, batch_size=batch_size, generator=ctx.generator, verbose=ctx.verbose,
                            desc="pretrain DDECN")
            history += [{"stage": "pretrain", **r} for r in records]
        if stage is None:
            ckpt.save("pretrained", model, history, {"gcn": gcn_optimizer}, y=None)

        y_start = None
        if stage in (None, "pretrained"):
            # (2) cluster means from k-means on μ(x)
            _, centers = kmeans(encode_all()[0], self.n_clusters, n_init=self.n_init, seed=ctx.seed())
            with torch.no_grad():
                model.cluster_means.copy_(torch.from_numpy(centers))

            # (3) the GCN alone, until its Y matches the initial model's posterior (label-free warm-up)
            if self.use_gcn and self.gcn_warmup_steps:
                y_start, records = gcn_steps(self.gcn_warmup_steps, "warm up GCN", verbose=ctx.verbose)
                history += [{"stage": "gcn_warmup", **r} for r in records]
            ckpt.save("initialised", model, history, {"gcn": gcn_optimizer}, y=y_start)
        elif ckpt.state["y"] is not None:
            y_start = ckpt.state["y"].to(ctx.device)

        # (4) joint training (Eq. 19). Alternating: mini-batch steps of the DDECN and μ_y with Y fixed,
        #     then full-batch steps of the GCN with the DDECN fixed, every epoch. End to end: mini-batch
        #     steps of everything, the batch's Y from the full-graph GCN on its fresh features and the
        #     epoch's cached features of the other nodes.
        end_to_end = self.use_gcn and self.joint == "end_to_end"
        callbacks: list[Callback] = []
        block = cache = None
        if end_to_end:
            cache = _TransferCache(lambda: encode_all()[2], gcn_forward)
            cache.start(y_start)
            callbacks.append(cache)
        elif self.use_gcn:
            block = _GCNBlock(lambda: gcn_steps(self.gcn_steps, "GCN")[0])
            block.start(y_start)
            callbacks.append(block)
        labels = block if block is not None else cache
        if ctx.y is not None:
            callbacks.append(MonitorLabels(ctx.y, lambda: labels.labels if labels is not None
                                           else full_pass()[0].argmax(dim=1).cpu().numpy()))

        def batch_posterior(idx: torch.Tensor | None, enc: EncoderOutput) -> torch.Tensor:
            """Y of the batch [B, K]; carries gradients into the encoder except when alternating."""
            if cache is not None:
                fresh = model.transfer(enc)
                if idx is None:
                    return gcn_forward(fresh)
                return model.batch_posterior(x_prop, cache.transfer, fresh, idx, lambda layer, h: adj @ h)
            if block is not None:
                return block.y if idx is None else block.y[idx]  # the GCN's, a constant here
            return model.latent_posterior(enc.mu)

        def joint_step(idx: torch.Tensor | None) -> dict[str, torch.Tensor]:
            idx = None if idx is None else idx.to(x.device)
            xb = x if idx is None else x[idx]
            enc = model.encode(xb)
            z = model.sample(enc.mu, enc.logvar, ctx.generator)
            y = batch_posterior(idx, enc)
            rec = reconstruct(model.decode(z), xb)
            clu, parts = joint_clustering_loss(y, enc.mu, enc.logvar, model.cluster_means, reduction=clu_reduction,
                                               return_parts=True)  # parts: L_c's three terms, logged only
            terms = {"rec": rec, "clu": clu, **mi_terms(enc, z)}
            loss = terms["rec"] + self.lambda2 * terms["clu"]
            loss = loss + self.lambda1 * sum(terms.get(k, 0.0) for k in ("mi_global", "mi_local"))
            return {"loss": loss, **terms, **parts}

        joint = [p for name, p in model.named_parameters()
                 if not name.startswith("gcn.") and (self.use_mi or "_disc." not in name)]
        if end_to_end:  # one Adam, the GCN at its own rate
            joint_optimizer = torch.optim.Adam([{"params": joint, "lr": self.lr},
                                                {"params": list(model.gcn.parameters()), "lr": self.gcn_lr}])
        else:
            joint_optimizer = make_optimizer(joint, "adam", lr=self.lr)
        start = 0
        if stage == "joint":
            joint_optimizer.load_state_dict(ckpt.state["optimizers"]["joint"])
            start = int(ckpt.state["epochs_done"])
        if self.checkpoint is not None:
            callbacks.append(SaveEveryEpoch(lambda done, epochs_done: ckpt.save(
                "joint", model, history + done, {"gcn": gcn_optimizer, "joint": joint_optimizer},
                y=None if labels is None else labels.y, epochs_done=epochs_done), "joint"))
        records = train(joint_step, joint_optimizer, epochs=self.epochs, n_samples=n, batch_size=batch_size,
                        generator=ctx.generator, callbacks=callbacks, verbose=ctx.verbose,
                        desc=type(self).__name__, start_epoch=start)
        history += [{"stage": "joint", **r} for r in records]

        y, mu = full_pass()
        return FitResult(y.argmax(dim=1).cpu().numpy(), embedding=mu, history=history,
                         extra={"module_": model, "soft_labels_": y.cpu().numpy(), "resumed_": ckpt.resumed,
                                "cluster_centers_": model.cluster_means.detach().cpu().numpy(),
                                "edge_index_": edge_index, "edge_weight_": edge_weight})
