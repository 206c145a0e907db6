"""Torch modules and functional blocks (no optimisers, no training loops)."""
from .attention import ProximityAttentionLayer, edge_aggregate
from .autoencoder import AEOutput, MLPAutoEncoder
from .gcn import GCNLayer
from .functional import student_t_assignment, target_distribution
from .init import init_linear_, init_module_

__all__ = [
    "AEOutput",
    "GCNLayer",
    "ProximityAttentionLayer",
    "MLPAutoEncoder",
    "edge_aggregate",
    "init_linear_",
    "init_module_",
    "student_t_assignment",
    "target_distribution",
]
