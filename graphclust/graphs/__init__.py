"""Graphs for clustering: input conversion, kNN graphs, sparse adjacency normalisations, reports.

faiss is used only inside :mod:`graphclust.graphs._faiss`, imported lazily by :func:`knn_graph`.
"""

from .inputs import as_data, validate_graph
from .knn import BACKENDS, METRICS, RECIPES, WEIGHTS, KNNGraph, knn_graph, knn_recall
from .normalize import gcn_norm, propagate, row_norm, to_csr, transition_proximity
from .report import GraphReport, graph_report

__all__ = [
    "as_data",
    "validate_graph",
    "knn_graph",
    "KNNGraph",
    "knn_recall",
    "METRICS",
    "WEIGHTS",
    "BACKENDS",
    "RECIPES",
    "to_csr",
    "gcn_norm",
    "row_norm",
    "transition_proximity",
    "propagate",
    "GraphReport",
    "graph_report",
]
