"""Fully connected autoencoder shared by AE+KMeans, DEC, IDEC, DCN and SDCN."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
from torch import nn

from .init import init_module_


class AEOutput(NamedTuple):
    """What :class:`MLPAutoEncoder` returns.

    ``x_hat`` [N, F] reconstruction; ``z`` [N, d] bottleneck; ``hidden`` the encoder's
    activations after each hidden layer (SDCN feeds them to its GCN), e.g. [N, 500], [N, 500], [N, 2000].
    """

    x_hat: torch.Tensor
    z: torch.Tensor
    hidden: tuple[torch.Tensor, ...]


class MLPAutoEncoder(nn.Module):
    """The stacked autoencoder of DEC (Xie et al., ICML 2016), d-500-500-2000-10 by default.

    Encoder: ``h_l = ReLU(W_l h_{l-1} + b_l)`` for each width in ``hidden``, then a linear
    bottleneck ``z = W h + b`` of width ``latent``. The decoder mirrors the encoder with ReLU
    on its hidden layers and a linear output layer of width ``in_features``.

    Args:
        in_features: F, input dimension.
        hidden: widths of the encoder's hidden layers (decoder uses them reversed).
        latent: d, bottleneck width.
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (500, 500, 2000), latent: int = 10):
        super().__init__()
        self.in_features = int(in_features)
        self.hidden_sizes = tuple(int(h) for h in hidden)
        self.latent = int(latent)
        widths = (self.in_features, *self.hidden_sizes)
        self.encoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.bottleneck = nn.Linear(widths[-1], self.latent)
        back = (self.latent, *reversed(self.hidden_sizes))
        self.decoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(back[:-1], back[1:]))
        self.output = nn.Linear(back[-1], self.in_features)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        init_module_(self, generator)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Return ``(z, hidden)``: the bottleneck [N, d] and the encoder's hidden activations."""
        hidden = []
        h = x
        for layer in self.encoder:
            h = torch.relu(layer(h))
            hidden.append(h)
        return self.bottleneck(h), tuple(hidden)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = z
        for layer in self.decoder:
            h = torch.relu(layer(h))
        return self.output(h)  # [N, F]

    def forward(self, x: torch.Tensor) -> AEOutput:
        z, hidden = self.encode(x)
        return AEOutput(self.decode(z), z, hidden)

    def __repr__(self) -> str:
        dims = "-".join(str(d) for d in (self.in_features, *self.hidden_sizes, self.latent))
        return f"{self.__class__.__name__}({dims})"
