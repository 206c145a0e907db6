"""The networks of SDDECC (Fu, Lü, Liu, Wei, *Structured Deep Discriminant Embedded Coding
Network for Image Clustering*, Laser & Optoelectronics Progress 58(6), 2021): a Gaussian
convolutional encoder, its mirrored decoder, the global and local mutual-information
discriminators of the DDECN module, and :class:`SDDECCModule`, which wires them to a GCN
through SDCN's transfer operator.

Torch modules only: the losses are in :mod:`graphclust.losses.sddecc`, the training in
:mod:`graphclust.models.sddecc`.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable, NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .gcn import GCNLayer
from .init import init_linear_

#: Encoder convolutions with stride 2 (the rest have stride 1): 28×28 → 14 → 7 (M = 7),
#: 16×16 → 8 → 4 (M = 4). The paper gives kernel sizes and channels (Table 2) but no strides.
N_DOWNSAMPLE = 2


def default_channels(image_shape: Sequence[int]) -> tuple[int, ...]:
    """The paper's encoder channels (Table 2) for a ``(C, H, W)`` image: USPS-sized images
    (side <= 16) get 16-32, larger ones (MNIST / Fashion-MNIST, 28×28) 16-16-32-32."""
    return (16, 32) if max(int(image_shape[1]), int(image_shape[2])) <= 16 else (16, 16, 32, 32)


def square_image_shape(n_features: int) -> tuple[int, int, int]:
    """The 1×s×s image, s = ceil(sqrt(F)), that flat features [N, F] are zero-padded into
    when the input carries no image shape (see :class:`SDDECCModule`)."""
    n = int(n_features)
    side = math.isqrt(n - 1) + 1 if n > 1 else 1  # ceil(sqrt(n))
    return (1, side, side)


def rows_to_images(x: torch.Tensor, image_shape: Sequence[int]) -> torch.Tensor:
    """Flat rows [B, F] as images [B, C, H, W], zero-padded at the end when F < C·H·W (the padded
    square of :func:`square_image_shape`)."""
    pad = math.prod(image_shape) - x.shape[1]
    if pad:
        x = F.pad(x, (0, pad))
    return x.reshape(x.shape[0], *image_shape)


def _conv_out(size: int, stride: int) -> int:
    """Spatial size after a 3×3 convolution with padding 1."""
    return (size + 2 - 3) // stride + 1


def init_conv_(layer: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Re-initialise a ``Conv2d`` / ``ConvTranspose2d`` in place from ``generator`` with
    PyTorch's default distribution: U(−1/√fan_in, 1/√fan_in) for weight and bias, fan_in as
    ``torch.nn.init`` computes it from the weight's shape."""
    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        if layer.bias is not None:
            layer.bias.uniform_(-bound, bound, generator=generator)
    return layer


def _reset(module: nn.Module, generator: torch.Generator | None) -> None:
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            init_linear_(sub, generator)
        elif isinstance(sub, (nn.Conv2d, nn.ConvTranspose2d)):
            init_conv_(sub, generator)


class EncoderOutput(NamedTuple):
    """What :class:`ConvGaussianEncoder` returns for a batch of B images.

    ``mu`` [B, d] and ``logvar`` [B, d]: the Gaussian posterior p(z|x) = N(μ(x), diag σ²(x));
    ``feature_map`` C(x) [B, C_l, M, M']: the activation map of convolution ``local_layer`` (the
    last by default), read by the local MI discriminator; ``layers``: one [B, w_l] tensor per
    convolution, what the GCN layers mix in: its activation map, average-pooled to at most s×s
    positions and flattened (w_l = C_l·min(H_l, s)·min(W_l, s); see ``transfer_size``).
    """

    mu: torch.Tensor
    logvar: torch.Tensor
    feature_map: torch.Tensor
    layers: tuple[torch.Tensor, ...]


class ConvGaussianEncoder(nn.Module):
    """The DDECN encoder: 3×3 convolutions with ReLU, then two linear heads μ(x) and log σ²(x).

        A^(l) = ReLU(conv3×3_l(A^(l−1))),  A^(0) = x,  l = 1..L     (channels C_l, Table 2)
        μ(x) = W_μ vec(A^(L)) + b_μ,       log σ²(x) = W_σ vec(A^(L)) + b_σ

    Padding 1; the first ``N_DOWNSAMPLE`` = 2 convolutions have stride 2, the others stride 1,
    so C(x) = A^(L) is 4×4 for 16×16 inputs and 7×7 for 28×28 ones. No batch normalisation: the
    per-layer features of all nodes feed the GCN's full-graph steps, and must not depend on the
    batch composition.

    Args:
        image_shape: (C, H, W) of the input.
        channels: C_1..C_L (USPS 16-32, MNIST / Fashion-MNIST 16-16-32-32).
        latent: d.
        transfer_size: s, the side to which each activation map A^(l) is average-pooled before it
            is flattened for the GCN (``EncoderOutput.layers``); maps already at most s×s are
            flattened as they are. ``None``: no pooling (vec A^(l)); 1: global average pooling
            (one number per channel).
        local_layer: which convolution's map is C(x), the local MI discriminator's input, as a
            Python index into the L convolutions: −1 (default) the last, A^(L); 0 the first, A^(1)
            (USPS: 16×8×8 instead of 32×4×4).
    """

    def __init__(self, image_shape: Sequence[int], channels: Sequence[int], latent: int,
                 transfer_size: int | None = 4, local_layer: int = -1):
        super().__init__()
        if transfer_size is not None and (isinstance(transfer_size, bool) or int(transfer_size) != transfer_size
                                          or transfer_size < 1):
            raise ValueError(f"transfer_size must be None or a positive int, got {transfer_size!r}")
        self.transfer_size = None if transfer_size is None else int(transfer_size)
        c, h, w = (int(s) for s in image_shape)
        self.image_shape = (c, h, w)
        self.channels = tuple(int(ch) for ch in channels)
        n_layers = len(self.channels)
        if (isinstance(local_layer, bool) or not isinstance(local_layer, numbers.Integral)
                or not -n_layers <= local_layer < n_layers):
            raise ValueError(f"local_layer must be an int index into the {n_layers} convolutions "
                             f"(-{n_layers}..{n_layers - 1}), got {local_layer!r}")
        self.local_layer = int(local_layer) % n_layers
        self.latent = int(latent)
        self.strides = tuple(2 if i < N_DOWNSAMPLE else 1 for i in range(len(self.channels)))
        sizes = [(h, w)]
        for s in self.strides:
            sizes.append((_conv_out(sizes[-1][0], s), _conv_out(sizes[-1][1], s)))
        self.sizes = tuple(sizes)  # spatial size before conv 1, after conv 1, ..., after conv L
        widths = (c, *self.channels)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=s, padding=1)
                                   for a, b, s in zip(widths[:-1], widths[1:], self.strides))
        flat = self.channels[-1] * sizes[-1][0] * sizes[-1][1]
        self.fc_mu = nn.Linear(flat, self.latent)
        self.fc_logvar = nn.Linear(flat, self.latent)

    @property
    def transfer_shapes(self) -> tuple[tuple[int, int], ...]:
        """The spatial size of each activation map as handed to the GCN (after pooling)."""
        s = self.transfer_size
        return tuple((h, w) if s is None else (min(h, s), min(w, s)) for h, w in self.sizes[1:])

    @property
    def transfer_widths(self) -> tuple[int, ...]:
        """w_l of each tensor in ``EncoderOutput.layers``."""
        return tuple(c * h * w for c, (h, w) in zip(self.channels, self.transfer_shapes))

    @property
    def feature_shape(self) -> tuple[int, int, int]:
        """(C_L, M, M') of the last convolution's map A^(L), which the heads read and the decoder
        starts from."""
        return (self.channels[-1], *self.sizes[-1])

    @property
    def local_shape(self) -> tuple[int, int, int]:
        """(C_l, M, M') of the local feature map C(x), the map of convolution ``local_layer``."""
        return (self.channels[self.local_layer], *self.sizes[self.local_layer + 1])

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        _reset(self, generator)

    def forward(self, x: torch.Tensor) -> EncoderOutput:
        h = x  # [B, C, H, W]
        layers = []
        for l, (conv, size) in enumerate(zip(self.convs, self.transfer_shapes)):
            h = torch.relu(conv(h))  # [B, C_l, H_l, W_l]
            if l == self.local_layer:
                local = h
            pooled = h if size == h.shape[2:] else F.adaptive_avg_pool2d(h, size)  # [B, C_l, ≤s, ≤s]
            layers.append(pooled.flatten(1))  # [B, w_l]
        flat = h.flatten(1)
        return EncoderOutput(self.fc_mu(flat), self.fc_logvar(flat), local, tuple(layers))

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        return f"ConvGaussianEncoder({c}x{h}x{w} -> {'-'.join(map(str, self.channels))} -> {self.latent})"


class ConvDecoder(nn.Module):
    """The mirror of :class:`ConvGaussianEncoder`: x̂ = g(z).

        A = ReLU(W z + b) reshaped to [C_L, M, M']
        A ← ReLU(convT3×3(A))  with output channels C_L, C_{L−1}, ..., C_1 (Decoder-1..L of
            Table 2), each undoing the stride of the matching encoder convolution
        x̂ = conv3×3(A) to the C input channels, linear output

    Args:
        encoder: the encoder to mirror (its shapes are read, no weights shared).
    """

    def __init__(self, encoder: ConvGaussianEncoder):
        super().__init__()
        self.image_shape = encoder.image_shape
        self.feature_shape = encoder.feature_shape
        chans = encoder.channels
        self.fc = nn.Linear(encoder.latent, math.prod(self.feature_shape))
        layers = []
        in_ch = chans[-1]
        for l in reversed(range(len(chans))):  # undo conv l+1: size sizes[l+1] -> sizes[l]
            stride = encoder.strides[l]
            (h_in, w_in), (h_out, w_out) = encoder.sizes[l + 1], encoder.sizes[l]
            pad = (h_out - (h_in - 1) * stride - 1, w_out - (w_in - 1) * stride - 1)
            layers.append(nn.ConvTranspose2d(in_ch, chans[l], 3, stride=stride, padding=1, output_padding=pad))
            in_ch = chans[l]
        self.deconvs = nn.ModuleList(layers)
        self.out = nn.Conv2d(in_ch, self.image_shape[0], 3, padding=1)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        _reset(self, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc(z)).view(-1, *self.feature_shape)  # [B, C_L, M, M']
        for deconv in self.deconvs:
            h = torch.relu(deconv(h))
        return self.out(h)  # [B, C, H, W]

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        chans = "-".join(str(deconv.out_channels) for deconv in self.deconvs)
        return f"ConvDecoder({self.fc.in_features} -> {chans} -> {c}x{h}x{w})"


class GlobalMIDiscriminator(nn.Module):
    """T1, the global MI discriminator: a score (logit) for a pair of codes.

        T1(z, z') = MLP([z; z'])    2d → h → h → h → 1, ReLU between layers

    The paper's T1(x, z) (Eq. 12) scores (x, z) pairs. Here x enters through its posterior mean:
    positives (z_i, μ(x_i)), negatives (z_i, μ(x_π(i))), z_i = μ(x_i) + σ(x_i) ε the sample and
    π a fixed-point-free shuffle of the batch. (Pairing z_i with itself, (z_i, z_i) against
    (z_i, z_π(i)), is solved by the sampling noise alone — a sampled z never equals another
    sample's — and so measures no information about x.)

    Args:
        latent: d.
        hidden: h.
    """

    def __init__(self, latent: int, hidden: int = 64):
        super().__init__()
        self.latent, self.hidden = int(latent), int(hidden)
        self.net = nn.Sequential(nn.Linear(2 * latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        _reset(self, generator)

    def forward(self, z: torch.Tensor, z_other: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, z_other], dim=1)).squeeze(1)  # [B]

    def __repr__(self) -> str:
        return f"GlobalMIDiscriminator(latent={self.latent}, hidden={self.hidden})"


class LocalMIDiscriminator(nn.Module):
    """T2, the local MI discriminator: three 1×1 convolutions on [C(x); z broadcast] (Fig. 4).

        T2(C, z)_ij = conv1×1_3(ReLU(conv1×1_2(ReLU(conv1×1_1([C_ij; z])))))

    z [B, d] is copied to every one of the M×M' positions of C [B, C_l, M, M'] and concatenated
    along the channels; the output is one logit per position [B, M, M'].

    Args:
        feature_channels: C_l, the channels of C(x) (C_L with the default ``local_layer``).
        latent: d.
        hidden: width h of the first two 1×1 convolutions.
    """

    def __init__(self, feature_channels: int, latent: int, hidden: int = 64):
        super().__init__()
        self.feature_channels, self.latent, self.hidden = int(feature_channels), int(latent), int(hidden)
        self.net = nn.Sequential(nn.Conv2d(feature_channels + latent, hidden, 1), nn.ReLU(),
                                 nn.Conv2d(hidden, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, 1, 1))

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        _reset(self, generator)

    def forward(self, feature_map: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        b, _, m, m2 = feature_map.shape
        z_map = z[:, :, None, None].expand(b, z.shape[1], m, m2)  # [B, d, M, M']
        return self.net(torch.cat([feature_map, z_map], dim=1)).squeeze(1)  # [B, M, M']

    def __repr__(self) -> str:
        return (f"LocalMIDiscriminator(feature_channels={self.feature_channels}, latent={self.latent}, "
                f"hidden={self.hidden})")


class MIScores(NamedTuple):
    """Discriminator logits: ``global_pos``/``global_neg`` [B] from T1 on (z_i, μ(x_i)) /
    (z_i, μ(x_π(i))); ``local_pos``/``local_neg`` [B, M, M'] from T2 on (C(x_i), z_i) /
    (C(x_π(i)), z_i)."""

    global_pos: torch.Tensor
    global_neg: torch.Tensor
    local_pos: torch.Tensor
    local_neg: torch.Tensor


#: ``propagate(layer, h_tilde) -> Â h̃`` restricted to the rows being computed (see
#: :meth:`SDDECCModule.cluster_posterior`).
Propagate = Callable[[int, torch.Tensor], torch.Tensor]


class SDDECCModule(nn.Module):
    """The SDDECC network: the DDECN (Gaussian conv autoencoder + MI discriminators) and a GCN
    whose layers read the encoder's layers through SDCN's transfer operator (Eqs. 14-17).

    GCN on Â = D̃^−1/2 (A + I) D̃^−1/2 with widths F → w_1 → ... → w_L → d → K (w_l the width of
    the l-th transferred conv layer, below):

        H^(1)   = ReLU(Â X W^(0))
        H̃^(l)   = (1 − δ) H^(l) + δ Z^(l)                                  (Eq. 15)
        H^(l+1) = ReLU(Â H̃^(l) W^(l)),   l = 1..L                           (Eq. 16)
        Y       = softmax(Â H̃^(L+1) W^(L+1))     [N, K], Y = p(y|z)           (Eq. 17)

    What the GCN mixes in: Z^(l) (l = 1..L) is the l-th convolution's activation map A^(l),
    average-pooled to at most s×s positions (``transfer_size`` s = 4 by default, the side of
    USPS's last map) and flattened, and Z^(L+1) = μ(x) [N, d], the posterior mean
    (deterministic, like SDCN's z). Each GCN layer thus mirrors one encoder layer, with all of its
    channels and a coarse spatial layout, as SDCN's GCN mirrors its autoencoder: USPS
    256 → 256 → 512 → d → K, MNIST / Fashion-MNIST 784 → 256 → 256 → 512 → 512 → d → K.
    Unpooled maps (``transfer_size=None``) would make MNIST's GCN 784 → 3136 → 784 → 1568 → 1568:
    measured on 70,000 nodes, one full-graph GCN step then took about 70 s on one core and the
    process peaked at 11.8 GB. On USPS, where whole maps make the GCN 256 → 1024 → 512 → d → K,
    they score the same as the pooled ones (ACC 0.7320 ± 0.0107 against 0.7322 ± 0.0088, 10
    seeds, seed-paired −0.0 ± 1.2 points; ``benchmarks/results/sddecc.md``). Global pooling
    (``transfer_size=1``) keeps one number per channel (widths 16-32).

    Inputs without an image shape: flat features [N, F] are zero-padded to F' = s² and read
    as a 1×s×s image, s = ceil(√F) (:func:`square_image_shape`); the reconstruction is cropped
    back to the F real features. This keeps one architecture for every input; for tabular data
    the spatial prior of 3×3 convolutions is meaningless and an MLP method (SDCN) is the
    natural choice.

    Args:
        in_features: F, the flat input width (also the GCN's input width).
        image_shape: (C, H, W) with C·H·W = F, or None for the padded square image.
        n_clusters: K.
        channels: encoder channels C_1..C_L (None: :func:`default_channels`).
        latent: d.
        delta: δ of the transfer operator.
        hidden: width of the MI discriminators.
        use_gcn: build the GCN (False for the ConvAE / ConvAE+MI ablations).
        transfer_size: s (above).
        local_layer: the convolution whose map the local MI discriminator reads (−1: the last; see
            :class:`ConvGaussianEncoder`).
    """

    def __init__(self, in_features: int, image_shape: Sequence[int] | None, n_clusters: int,
                 channels: Sequence[int] | None = None, latent: int = 10, delta: float = 0.5, hidden: int = 64,
                 use_gcn: bool = True, transfer_size: int | None = 4, local_layer: int = -1):
        super().__init__()
        self.in_features = int(in_features)
        if image_shape is None:
            image_shape = square_image_shape(self.in_features)
        elif math.prod(image_shape) != self.in_features:
            raise ValueError(f"image_shape={tuple(image_shape)} has {math.prod(image_shape)} pixels "
                             f"but in_features={in_features}")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.n_clusters = int(n_clusters)
        self.delta = float(delta)
        channels = default_channels(self.image_shape) if channels is None else channels
        self.encoder = ConvGaussianEncoder(self.image_shape, channels, latent, transfer_size, local_layer)
        self.decoder = ConvDecoder(self.encoder)
        self.global_disc = GlobalMIDiscriminator(latent, hidden)
        self.local_disc = LocalMIDiscriminator(self.encoder.local_shape[0], latent, hidden)
        widths = (self.in_features, *self.encoder.transfer_widths, int(latent), self.n_clusters)
        pairs = zip(widths[:-1], widths[1:]) if use_gcn else ()
        self.gcn = nn.ModuleList(GCNLayer(a, b) for a, b in pairs)
        self.cluster_means = nn.Parameter(torch.zeros(self.n_clusters, int(latent)))  # μ_y [K, d], set by k-means

    @property
    def latent(self) -> int:
        return self.encoder.latent

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        for part in (self.encoder, self.decoder, self.global_disc, self.local_disc):
            part.reset_parameters(generator)
        for layer in self.gcn:
            layer.reset_parameters(generator)
        with torch.no_grad():
            self.cluster_means.zero_()

    # -- images <-> flat rows ----------------------------------------------------------------
    def to_image(self, x: torch.Tensor) -> torch.Tensor:
        """[B, F] -> [B, C, H, W] (zero-padded when F < C·H·W)."""
        return rows_to_images(x, self.image_shape)

    def to_flat(self, image: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] -> [B, F] (padding cropped)."""
        return image.flatten(1)[:, : self.in_features]

    # -- DDECN ------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> EncoderOutput:
        """x [B, F] -> the Gaussian posterior, the local feature map and the transferred layers."""
        return self.encoder(self.to_image(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, d] -> x̂ [B, F]."""
        return self.to_flat(self.decoder(z))

    @staticmethod
    def sample(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Reparameterised z = μ + σ ⊙ ε, ε ~ N(0, I) drawn on the CPU from ``generator``."""
        eps = torch.randn(mu.shape, generator=generator).to(mu.device)
        return mu + torch.exp(0.5 * logvar) * eps  # [B, d]

    def mi_scores(self, z: torch.Tensor, mu: torch.Tensor, feature_map: torch.Tensor, perm: torch.Tensor) -> MIScores:
        """T1 and T2 logits of the positive and the ``perm``-shuffled negative pairs.

        Global: (z_i, μ(x_i)) against (z_i, μ(x_π(i))); local: (C(x_i), z_i) against
        (C(x_π(i)), z_i). z [B, d] is the reparameterised sample, mu [B, d] the posterior mean,
        feature_map [B, C_l, M, M'] (C(x)), perm [B] a permutation of the batch.
        """
        return MIScores(self.global_disc(z, mu), self.global_disc(z, mu[perm]),
                        self.local_disc(feature_map, z), self.local_disc(feature_map[perm], z))

    @staticmethod
    def transfer(enc: EncoderOutput) -> tuple[torch.Tensor, ...]:
        """Z^(1..L+1): the transferred conv layers and μ(x), what GCN layers 2..L+2 mix in."""
        return (*enc.layers, enc.mu)

    # -- GCN --------------------------------------------------------------------------------
    def cluster_posterior(self, x_prop: torch.Tensor, transfer: Sequence[torch.Tensor],
                          propagate: Propagate) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Y = p(y|z) [R, K] for R rows of the graph, and the mixed inputs H̃^(1..L+1) of those rows.

        Each layer is computed as (Â H̃) W, equal to Â (H̃ W). ``x_prop`` [R, F] holds the rows of
        Â X (constant, so computed once by the caller); ``transfer`` the rows of Z^(1..L+1);
        ``propagate(l, h̃)`` returns the same rows of Â H̃^(l+1) given h̃ = those rows of H̃^(l+1)
        [R, w] — ``lambda l, h: adj @ h`` on the full graph, or a mini-batch rule that reads the
        other nodes from a cache (see :class:`graphclust.models.SDDECC`).
        """
        if not len(self.gcn):
            raise RuntimeError("this SDDECCModule was built with use_gcn=False")
        h = torch.relu(self.gcn[0].linear(x_prop))  # H^(1) [R, C_1]
        mixed = []
        last = len(self.gcn) - 1
        for l, (layer, z_l) in enumerate(zip(self.gcn[1:], transfer), start=1):
            h_tilde = (1 - self.delta) * h + self.delta * z_l  # [R, w_l]
            mixed.append(h_tilde)
            h = layer.linear(propagate(l - 1, h_tilde))
            if l < last:
                h = torch.relu(h)
        return torch.softmax(h, dim=1), tuple(mixed)

    def batch_posterior(self, x_prop: torch.Tensor, cached: Sequence[torch.Tensor], fresh: Sequence[torch.Tensor],
                        idx: torch.Tensor, propagate: Propagate) -> torch.Tensor:
        """Y [B, K] of the batch rows ``idx`` [B] of the full-graph GCN (``x_prop`` and ``propagate`` as
        in :meth:`cluster_posterior`, over all N rows) whose transfer inputs are every node's
        ``cached`` Z^(l) [N, w_l] with the batch's rows replaced by ``fresh`` [B, w_l] (the cached
        rows of the batch are unused). SDDECC's end-to-end joint step, where ``cached`` carries no
        gradients and ``fresh`` does."""
        mixed = [old.index_put((idx,), new) for old, new in zip(cached, fresh)]
        return self.cluster_posterior(x_prop, mixed, propagate)[0][idx]

    def latent_posterior(self, mu: torch.Tensor) -> torch.Tensor:
        """Y without the GCN (ablations): the Bayes posterior of the model q(z, y) = N(z; μ_y, I)/K,

            Y_iy = softmax_y(−½ ||μ(x_i) − μ_y||²)      [B, K]
        """
        sq_dist = (mu[:, None, :] - self.cluster_means[None]).pow(2).sum(dim=2)  # [B, K]
        return torch.softmax(-0.5 * sq_dist, dim=1)

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        gcn = "-".join(str(layer.linear.out_features) for layer in self.gcn) or "none"
        return (f"SDDECCModule(image={c}x{h}x{w}, channels={'-'.join(map(str, self.encoder.channels))}, "
                f"latent={self.latent}, gcn={gcn}, delta={self.delta})")
