"""One file per method: its module wiring and its estimator."""
from .ae_kmeans import AEKMeans
from .dcn import DCN
from .dec import DEC, IDEC
from .deepcluster import DeepCluster
from .kmeans import KMeans, kmeans
from .sdcn import SDCN, SDCNQ
from .spectral import Spectral

__all__ = ["AEKMeans", "DCN", "DEC", "DeepCluster", "IDEC", "KMeans", "SDCN", "SDCNQ", "Spectral", "kmeans"]
