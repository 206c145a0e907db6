"""Losses of the graph autoencoders (GAE, VGAE, DAEGC): edge reconstruction and the Gaussian prior."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def edge_bce_loss(z: torch.Tensor, pos_edge_index: torch.Tensor, neg_edge_index: torch.Tensor,
                  pos_fraction: float | None = None) -> torch.Tensor:
    """Binary cross-entropy of the inner-product decoder on sampled edges (O(E), never N x N).

    Balanced (``pos_fraction=None``, the default):

        L = − 1/|E+| Σ_{(i,j) ∈ E+} log σ(z_i · z_j) − 1/|E−| Σ_{(i,j) ∈ E−} log(1 − σ(z_i · z_j))

    Dense-weighted (``pos_fraction=ρ``, ρ = |E+| / N²):

        L = − ρ/|E+| Σ_{E+} log σ(z_i · z_j) − (1 − ρ)/|E−| Σ_{E−} log(1 − σ(z_i · z_j))

    Symbols:
        z: [N, d] node embeddings.
        pos_edge_index: [2, |E+|] long, the edges to reconstruct (target 1).
        neg_edge_index: [2, |E−|] long, sampled non-edges (target 0).
        σ: the logistic sigmoid; σ(z_i · z_j) is the decoder's edge probability Â_ij.
        ρ: the share of the N² entries of the target matrix that are edges.

    What is computed: each of the two terms is a mean over its own edge set. Balanced, positives
    and negatives weigh equally whatever their counts (PyG's ``GAE.recon_loss`` convention).
    Dense-weighted, with E+ every edge of the target and E− drawn uniformly from the other
    pairs, L is an unbiased estimate of the mean BCE over all N² entries of the target
    (−1/N² Σ_ij [A_ij log Â_ij + (1 − A_ij) log(1 − Â_ij)]) at O(E) cost. Both are evaluated from
    the logits with ``logsigmoid`` — log σ(s) and log(1 − σ(s)) = log σ(−s) — so no epsilon is
    needed and saturated logits stay finite. An empty edge set contributes 0.

    Relation to the papers: Kipf & Welling (2016, the reconstruction term of Eq. 4 with the decoder of
    Eq. 3; their code) and DAEGC (Wang et al.
    2019, Sec. 3.1) take the BCE over all N² entries of A (+ I). Kipf's ``pos_weight``/``norm``
    reweighting turns that into ½·(mean over edges + mean over non-edges), i.e. half of the
    balanced loss with the negative mean estimated on a uniform sample instead of every non-edge.
    DAEGC's code averages without reweighting: the dense-weighted loss.

    Returns:
        Scalar tensor.
    """
    if z.dim() != 2:
        raise ValueError(f"z must have shape [N, d], got {tuple(z.shape)}")
    if pos_fraction is not None and not 0.0 <= pos_fraction <= 1.0:
        raise ValueError(f"pos_fraction must be in [0, 1], got {pos_fraction}")
    pos = _edge_logits(z, pos_edge_index, "pos_edge_index")  # [|E+|]
    neg = _edge_logits(z, neg_edge_index, "neg_edge_index")  # [|E−|]
    pos_term = -F.logsigmoid(pos).mean() if pos.numel() else z.new_zeros(())
    neg_term = -F.logsigmoid(-neg).mean() if neg.numel() else z.new_zeros(())
    if pos_fraction is None:
        return pos_term + neg_term
    return pos_fraction * pos_term + (1.0 - pos_fraction) * neg_term


def gaussian_kl_loss(mu: torch.Tensor, logstd: torch.Tensor) -> torch.Tensor:
    """KL divergence of the VGAE posterior from the standard normal prior, averaged over nodes.

    L = 1/N Σ_i KL( N(mu_i, diag σ_i²) ‖ N(0, I) )
      = − 1/(2N) Σ_i Σ_d ( 1 + 2 log σ_id − mu_id² − σ_id² ),    σ_id = exp(logstd_id)

    Symbols:
        mu: [N, d] posterior means μ_i of q(z_i | X, A).
        logstd: [N, d] log standard deviations log σ_i (not log-variances).
        N: number of nodes; d: latent width.

    What is computed: the closed-form KL of each node summed over the d latent dimensions, then
    the mean over the N nodes (PyG's ``VGAE.kl_loss``). Nothing is clamped here.

    Reference: Kipf & Welling, *Variational Graph Auto-Encoders* (NIPS BDL workshop 2016), the
    KL term of the ELBO (Eq. 4; Kingma & Welling 2014, Appendix B for the closed form). Their code
    scales this node mean by a further 1/N relative to the reconstruction mean
    (``0.5 / num_nodes * reduce_mean(reduce_sum(...))``); that 1/N is applied by the caller
    (:class:`graphclust.models.VGAE`), not here.

    Returns:
        Scalar tensor (>= 0).
    """
    if mu.shape != logstd.shape:
        raise ValueError(f"mu has shape {tuple(mu.shape)} but logstd has shape {tuple(logstd.shape)}")
    if mu.dim() != 2:
        raise ValueError(f"mu and logstd must have shape [N, d], got {tuple(mu.shape)}")
    per_node = 1.0 + 2.0 * logstd - mu.pow(2) - torch.exp(2.0 * logstd)  # [N, d]
    return -0.5 * per_node.sum(dim=1).mean()


def _edge_logits(z: torch.Tensor, edge_index: torch.Tensor, name: str) -> torch.Tensor:
    """Inner-product decoder logits z_i · z_j for every edge (i, j): [E]."""
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"{name} must have shape [2, E], got {tuple(edge_index.shape)}")
    return (z[edge_index[0]] * z[edge_index[1]]).sum(dim=-1)
