"""One file per method: its module wiring and its estimator."""
from .ae_kmeans import AEKMeans
from .daegc import DAEGC
from .dcn import DCN
from .dec import DEC, IDEC
from .deepcluster import DeepCluster
from .gae import GAE, VGAE
from .kmeans import KMeans, kmeans
from .sdcn import SDCN, SDCNQ
from .sddecc import SDDECC
from .spectral import Spectral

__all__ = ["AEKMeans", "DAEGC", "DCN", "DEC", "DeepCluster", "GAE", "IDEC", "KMeans", "SDCN", "SDCNQ", "SDDECC", "Spectral", "VGAE", "kmeans"]
