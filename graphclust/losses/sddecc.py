"""The losses of SDDECC (Fu, Lü, Liu, Wei, *Structured Deep Discriminant Embedded Coding Network
for Image Clustering*, Laser & Optoelectronics Progress 58(6), 2021, Eqs. 9-19).

Natural logarithms throughout. The paper writes log₂ in the MI and KL terms (not in the
reconstruction), so in its units those terms are 1/ln 2 ≈ 1.44 times ours: with λ1, λ2 taken from
its grids, the MI and clustering terms here weigh ln 2 ≈ 0.69 times the literal Eq. 19 against the
reconstruction. Not changed: λ·(term in nats) = (λ·ln 2)·(term in bits), so in the paper's units
our λ1 = 0.01 is 0.0069 and λ2 = 1.5 is 1.04, both inside its grids ([0.001, 0.1] and [1, 2]).
(Taken in bits, λ2 = 1.5 would be 1.5 / ln 2 = 2.16 here.)
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def js_mi_loss(pos_scores: torch.Tensor, neg_scores: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon mutual-information loss of a discriminator (Eqs. 9-12; the binary
    cross-entropy of positive against negative pairs).

        L = − E_pos[log σ(T)] − E_neg[log(1 − σ(T))]
          = E_pos[softplus(−T)] + E_neg[softplus(T)]

    Symbols:
        pos_scores: logits T of the positive pairs, any shape — [B] for the global
            discriminator T1 on (z_i, μ(x_i)), [B, M, M] for the local T2 on (C(x_i), z_i).
        neg_scores: logits T of the negative pairs (shuffled partner), any shape.
        σ: the logistic sigmoid.

    What is computed: each expectation is the mean over all entries of its tensor (for the
    local discriminator that is the 1/(M×M) Σ_ij average of Eq. 12 together with the batch
    mean). −log σ(t) = softplus(−t) and −log(1 − σ(t)) = softplus(t), so no epsilon is
    needed and saturated logits stay finite. Nothing is detached: the encoder and the
    discriminator both minimise this loss (Eq. 11). Minimising it maximises the JS estimate
    of I(x; z); at T = 0 everywhere it equals 2 ln 2. An empty tensor contributes 0.

    Returns:
        Scalar tensor (>= 0).
    """
    pos = F.softplus(-pos_scores).mean() if pos_scores.numel() else pos_scores.new_zeros(())
    neg = F.softplus(neg_scores).mean() if neg_scores.numel() else neg_scores.new_zeros(())
    return pos + neg


def _reduce_latent(per_sample: torch.Tensor, d: int, reduction: str) -> torch.Tensor:
    """Mean over samples of a per-sample KL, divided by the latent size d when ``reduction="mean"``."""
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean' (over the latent dimensions), got {reduction!r}")
    return per_sample.mean() / (d if reduction == "mean" else 1)


def gaussian_prior_kl(mu: torch.Tensor, logvar: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """KL divergence of the Gaussian posterior from the standard normal prior, averaged over
    samples (the last term of Eq. 12, E_x KL(p(z|x) ‖ q(z)) with q(z) = N(0, I)).

        L = 1/N Σ_i KL( N(μ_i, diag σ_i²) ‖ N(0, I) )
          = 1/N Σ_i ½ Σ_d ( μ_id² + σ_id² − 1 − log σ_id² ),     σ_id² = exp(logvar_id)

    Symbols:
        mu: [N, d] posterior means μ(x_i).
        logvar: [N, d] posterior log-variances log σ²(x_i).

    What is computed: the closed form summed over the d dimensions (``reduction="sum"``) or
    averaged over them (``"mean"``: L / d), mean over the N samples; nothing is detached or
    clamped. SDDECC uses it in the DDECN stage (Eq. 12, our
    pretraining); in the joint objective it is replaced by :func:`joint_clustering_loss`
    (Eq. 18 rewrites this term).

    Returns:
        Scalar tensor (>= 0).
    """
    _check_gaussian(mu, logvar)
    return _reduce_latent(0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1), mu.shape[1], reduction)


def joint_clustering_loss(y_prob: torch.Tensor, z: torch.Tensor, logvar: torch.Tensor, cluster_means: torch.Tensor,
                          eps: float = 1e-12, reduction: str = "sum", return_parts: bool = False):
    """SDDECC's joint clustering loss (Eq. 18): the KL divergence between the encoder-GCN
    posterior p(y|z) p(z|x) and the generative model q(z|y) q(y), averaged over samples.

        L_c = E_x KL( p(y|z) p(z|x) ‖ q(z|y) q(y) ),   q(z|y) = N(μ_y, I),  q(y) = 1/K

    For p(z|x) = N(m_i, diag σ_i²) the KL of sample i is exactly

        KL_i = Σ_y Y_iy · KL( N(m_i, σ_i²) ‖ N(μ_y, I) ) + Σ_y Y_iy log(K · Y_iy)
             = −H(p(z|x_i)) + Σ_y Y_iy · E_{p(z|x_i)}[−log N(z; μ_y, I)] + KL(Y_i ‖ uniform)
             = Σ_y Y_iy · ½ ||m_i − μ_y||² + ½ Σ_d (σ_id² − 1 − log σ_id²) + Σ_y Y_iy log(K · Y_iy)

    (the (2π)-constants of −H and of the cross-entropy cancel; the middle term is the variance
    part of the Gaussian KL, weighted by Σ_y Y_iy = 1). L_c = 1/N Σ_i KL_i.

    Symbols:
        y_prob: [N, K] Y = p(y|z), rows sum to 1 (SDDECC: the GCN softmax, Eq. 17).
        z: [N, d] the posterior *means* m_i = μ(x_i). The expectation over z ~ p(z|x) is taken
            in closed form, so a reparameterised sample must not be passed (its noise would
            be counted twice: once in z, once in σ²).
        logvar: [N, d] log σ²(x_i).
        cluster_means: [K, d] μ_y (learnable).
        eps: floor on Y inside the log (0·log 0 = 0).

    What is computed: the exact KL above, summed over clusters and dimensions, mean over the N
    samples (``reduction="mean"``: then divided by d, the latent size); nothing is detached (Y, m, σ² and μ_y all receive gradients). It is >= 0 and 0
    exactly when Y_i is uniform, σ_i = 1 and m_i = μ_y for every y. The single-sample estimate
    of the paper's public antecedent (a VAE with a Gaussian-mixture prior) uses a sampled z in
    ½||z − μ_y||² and drops the σ² term; both have the same expectation.

        return_parts: also return L_c's three parts, each averaged over samples and reduced over
            the latent dimensions like L_c, detached (for logging); they sum to L_c:

                clu_dist = E_i Σ_y Y_iy · ½ ||m_i − μ_y||²      (pull toward the cluster means)
                clu_var  = E_i ½ Σ_d (σ_id² − 1 − log σ_id²)     (the posterior variances against 1)
                clu_cat  = E_i Σ_y Y_iy log(K · Y_iy)            (KL of Y_i from uniform)

    Returns:
        Scalar tensor (>= 0); with ``return_parts``, (that tensor, {"clu_dist", "clu_var", "clu_cat"}).
    """
    _check_gaussian(z, logvar)
    if y_prob.dim() != 2 or y_prob.shape[0] != z.shape[0]:
        raise ValueError(f"y_prob must have shape [N, K] with N={z.shape[0]}, got {tuple(y_prob.shape)}")
    if cluster_means.dim() != 2 or cluster_means.shape != (y_prob.shape[1], z.shape[1]):
        raise ValueError(f"cluster_means must have shape [K, d] = {(y_prob.shape[1], z.shape[1])}, "
                         f"got {tuple(cluster_means.shape)}")
    k = y_prob.shape[1]
    sq_dist = (z[:, None, :] - cluster_means[None]).pow(2).sum(dim=2)  # [N, K]
    mean_term = 0.5 * (y_prob * sq_dist).sum(dim=1)  # [N]
    var_term = 0.5 * (logvar.exp() - 1.0 - logvar).sum(dim=1)  # [N]
    cat_term = (y_prob * (math.log(k) + torch.log(y_prob.clamp_min(eps)))).sum(dim=1)  # [N]
    loss = _reduce_latent(mean_term + var_term + cat_term, z.shape[1], reduction)
    if not return_parts:
        return loss
    terms = {"clu_dist": mean_term, "clu_var": var_term, "clu_cat": cat_term}
    return loss, {name: _reduce_latent(term.detach(), z.shape[1], reduction) for name, term in terms.items()}


def frobenius_reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """SDDECC's reconstruction loss (Eq. 13).

        L_r = 1/(2N) Σ_j ||x_j − x̂_j||²₂ = 1/(2N) ||X − X̂||²_F

    Symbols:
        x_hat: [N, F] reconstruction.
        x: [N, F] input (flattened images).

    What is computed: half the squared error summed over the F features, mean over the N
    samples, i.e. F/2 times :func:`graphclust.losses.reconstruction_loss` (a mean over all N·F
    entries). The sum over features is the paper's: λ1 and λ2 weigh the other terms against it.

    Returns:
        Scalar tensor.
    """
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat has shape {tuple(x_hat.shape)} but x has shape {tuple(x.shape)}")
    return 0.5 * (x - x_hat).pow(2).sum() / x.shape[0]


def _check_gaussian(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if mu.shape != logvar.shape:
        raise ValueError(f"mu has shape {tuple(mu.shape)} but logvar has shape {tuple(logvar.shape)}")
    if mu.dim() != 2:
        raise ValueError(f"mu and logvar must have shape [N, d], got {tuple(mu.shape)}")
