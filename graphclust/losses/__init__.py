"""Pure loss functions: tensors in, scalar out (mean reduction)."""
from .clustering import kl_clustering_loss, kmeans_loss
from .graph import edge_bce_loss, gaussian_kl_loss
from .reconstruction import reconstruction_loss

__all__ = ["edge_bce_loss", "gaussian_kl_loss", "kl_clustering_loss", "kmeans_loss", "reconstruction_loss"]
