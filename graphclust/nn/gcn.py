"""Graph convolution on a sparse CSR adjacency."""
from __future__ import annotations

import torch
from torch import nn

from .init import init_linear_


class GCNLayer(nn.Module):
    """One graph convolution of Kipf & Welling (ICLR 2017), as used by GAE and SDCN.

        H' = Â · (H W) (+ b)

    Â is a normalised adjacency given as a sparse CSR tensor [N, N] (e.g.
    :func:`graphclust.graphs.gcn_norm` or SDCN's :func:`graphclust.graphs.row_norm`); the
    product is a sparse-dense matmul, O(E · out_features). The activation is left to the
    caller. Weights are Glorot-uniform, bias (off by default, as in GAE and SDCN) zero.

    Args:
        in_features, out_features: widths of H [N, in] and H' [N, out].
        bias: add a learnable bias.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = False):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=bias)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        init_linear_(self.linear, generator, scheme="xavier")

    def forward(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return adj @ self.linear(h)  # [N, out]; sparse CSR (or, for comparisons, dense) matmul

    def __repr__(self) -> str:
        return f"GCNLayer({self.linear.in_features}, {self.linear.out_features})"
