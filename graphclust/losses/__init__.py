"""Pure loss functions: tensors in, scalar out (mean reduction)."""
from .clustering import kl_clustering_loss, kmeans_loss
from .reconstruction import reconstruction_loss

__all__ = ["kl_clustering_loss", "kmeans_loss", "reconstruction_loss"]
