"""Pure loss functions: tensors in, scalar out (mean reduction)."""
from .clustering import kl_clustering_loss, kmeans_loss
from .graph import edge_bce_loss, gaussian_kl_loss
from .reconstruction import reconstruction_loss
from .sddecc import frobenius_reconstruction_loss, gaussian_prior_kl, joint_clustering_loss, js_mi_loss

__all__ = ["edge_bce_loss", "frobenius_reconstruction_loss", "gaussian_kl_loss", "gaussian_prior_kl", "joint_clustering_loss",
           "js_mi_loss", "kl_clustering_loss", "kmeans_loss", "reconstruction_loss"]
