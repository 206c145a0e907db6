"""Graph attention over the edges of a proximity matrix (DAEGC's encoder layer)."""
from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.utils import softmax


def _csr(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, col, values, size, check_invariants=False)


class _EdgeAggregate(torch.autograd.Function):
    """out_i = Σ_e w_e · h_{col_e} over the edges e of row i: a CSR × dense product.

    Written out because PyTorch's own backward of ``torch.sparse.mm`` with respect to the
    values of a sparse matrix forms the dense N x N product ``grad_out @ hᵀ`` before masking
    it (measured: 1.6 GB on a 20,000-node graph). Here ∂L/∂w_e = grad_out_{row_e} · h_{col_e} is
    evaluated on the E edges only (``torch.sparse.sampled_addmm``) and ∂L/∂h = Aᵀ grad_out is a
    sparse product: O(E · d) time, O(E + N · d) memory.
    """

    @staticmethod
    def forward(ctx, weight, h, crow, col, row):  # weight [E], h [N_cols, d] -> [N_rows, d]
        size = (crow.numel() - 1, h.shape[0])
        ctx.save_for_backward(weight, h, crow, col, row)
        ctx.size = size
        return torch.sparse.mm(_csr(crow, col, weight, size), h)

    @staticmethod
    def backward(ctx, grad_out):
        weight, h, crow, col, row = ctx.saved_tensors
        grad_weight = grad_h = None
        grad_out = grad_out.contiguous()
        if ctx.needs_input_grad[0]:
            pattern = _csr(crow, col, torch.zeros_like(weight), ctx.size)
            grad_weight = torch.sparse.sampled_addmm(pattern, grad_out, h.t(), beta=0.0).values()  # [E]
        if ctx.needs_input_grad[1]:
            perm = torch.sort(col, stable=True).indices  # the edges in the row order of Aᵀ
            crow_t = _crow(col, ctx.size[1])
            grad_h = torch.sparse.mm(_csr(crow_t, row[perm], weight[perm], ctx.size[::-1]), grad_out)  # [N_cols, d]
        return grad_weight, grad_h, None, None, None


def _crow(row: torch.Tensor, n: int) -> torch.Tensor:
    """CSR row pointers [n + 1] of row indices sorted in increasing order."""
    crow = torch.zeros(n + 1, dtype=torch.long, device=row.device)
    crow[1:] = torch.cumsum(torch.bincount(row, minlength=n), 0)
    return crow


def edge_aggregate(edge_index: torch.Tensor, weight: torch.Tensor, h: torch.Tensor, n: int) -> torch.Tensor:
    """out_i = Σ_{(i, j) ∈ edges} weight_ij · h_j: [n, d], differentiable in ``weight`` and ``h``.

    ``edge_index`` [2, E] must be sorted by row (e.g. coalesced; duplicates are allowed and
    add up); ``weight`` [E]; ``h`` [N, d]. Memory O(E + N · d): no dense [n, N] matrix is
    formed, in the forward or the backward pass.
    """
    row, col = edge_index
    if row.numel() > 1 and bool((row[1:] < row[:-1]).any()):
        raise ValueError("edge_index must be sorted by row (use torch_geometric.utils.coalesce)")
    return _EdgeAggregate.apply(weight, h.contiguous(), _crow(row, n), col, row)


class ProximityAttentionLayer(nn.Module):
    """The graph attention layer of DAEGC, from *Attributed Graph Clustering: A Deep Attentional
    Embedding Approach* (Wang, Pan, Hu, Long, Jiang, Zhang, IJCAI 2019), Sec. 3.1.

    For every edge (i, j) of the proximity matrix M (``edge_index``, with M_ij in
    ``edge_weight``):

        c_ij = M_ij · (a_selfᵀ W h_i + a_neighᵀ W h_j)          (score a = [a_self ‖ a_neigh], × proximity)
        α_ij = exp(LeakyReLU(c_ij)) / Σ_{r ∈ N(i)} exp(LeakyReLU(c_ir))
        h'_i = Σ_{j ∈ N(i)} α_ij W h_j                            (before the activation σ)

    with N(i) = {j : M_ij > 0}, the neighbours of i in M. The proximity multiplies the score
    *before* the LeakyReLU, as in the paper's attention coefficient and the official code. The
    activation σ is left to the caller (DAEGC uses ELU after both layers).

    Symbols and shapes: h [N, in_features]; W [out_features, in_features]; a_self, a_neigh
    [out_features]; edge_index [2, E] (row i = the node being updated, column j = its neighbour);
    edge_weight [E] = M_ij; α [E]; h' [N, out_features].

    Only the E edges of M are touched: the softmax is a scatter over edge groups
    (``torch_geometric.utils.softmax``) and the aggregation a sparse CSR × dense product whose
    backward is also kept sparse (:func:`edge_aggregate`), so memory is O(E + N · out_features),
    never N x N (the official code builds the dense N x N score matrix). A node without edges
    gets h'_i = 0.

    Initialisation (``reset_parameters``) follows the official code: Glorot-uniform with gain
    1.414 for W, a_self and a_neigh (the vectors with fan_in = 1, fan_out = out_features).

    Args:
        in_features, out_features: widths of h and h'.
        negative_slope: slope of the LeakyReLU for negative scores (0.2).
    """

    def __init__(self, in_features: int, out_features: int, negative_slope: float = 0.2):
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.negative_slope = float(negative_slope)
        self.weight = nn.Parameter(torch.empty(self.out_features, self.in_features))  # W
        self.att_self = nn.Parameter(torch.empty(self.out_features))  # a_self
        self.att_neigh = nn.Parameter(torch.empty(self.out_features))  # a_neigh
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        gain = 1.414
        with torch.no_grad():
            bound = gain * math.sqrt(6.0 / (self.in_features + self.out_features))
            self.weight.uniform_(-bound, bound, generator=generator)
            bound = gain * math.sqrt(6.0 / (1 + self.out_features))
            self.att_self.uniform_(-bound, bound, generator=generator)
            self.att_neigh.uniform_(-bound, bound, generator=generator)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor | None = None,
                return_attention: bool = False):
        """h [N, in] -> h' [N, out]; with ``return_attention``, also (edge_index [2, E'], α [E']).

        Edges not sorted by row are first reordered by a stable sort on the row, so the returned
        edge order may then differ from the input's (pass coalesced edges to avoid the sort);
        a duplicated edge is attended to twice. ``edge_weight=None`` means M_ij = 1.
        """
        n = h.shape[0]
        if edge_weight is None:
            edge_weight = torch.ones(edge_index.shape[1], dtype=h.dtype, device=h.device)
        if edge_index.shape[1] > 1 and bool((edge_index[0, 1:] < edge_index[0, :-1]).any()):
            perm = torch.sort(edge_index[0], stable=True).indices
            edge_index, edge_weight = edge_index[:, perm], edge_weight[perm]
        row, col = edge_index  # [E]
        wh = F.linear(h, self.weight)  # [N, out]
        score_self = wh @ self.att_self  # [N]
        score_neigh = wh @ self.att_neigh  # [N]
        c = edge_weight * (score_self[row] + score_neigh[col])  # [E]
        alpha = softmax(F.leaky_relu(c, self.negative_slope), index=row, num_nodes=n)  # [E]
        out = edge_aggregate(edge_index, alpha, wh, n)  # [N, out]
        if return_attention:
            return out, (edge_index, alpha)
        return out

    def __repr__(self) -> str:
        return f"ProximityAttentionLayer({self.in_features}, {self.out_features})"
