"""graphclust: graph-centric deep clustering.

Everything is a graph: attributed graphs are used as they are, images and tables become
kNN graphs, and every method is an estimator with ``fit`` / ``labels_`` / ``embedding_``.
"""
__version__ = "0.1.0"

from .base import BaseClusterer  # noqa: E402
from .metrics import evaluate  # noqa: E402
from .registry import METHODS, get_method, make_method  # noqa: E402

__all__ = ["BaseClusterer", "METHODS", "__version__", "evaluate", "get_method", "make_method"]
