"""The estimator contract shared by every clustering method.

Every method is a scikit-learn style estimator::

    model = DEC(n_clusters=10, random_state=0).fit(data)
    model.labels_       # int64 [N]
    model.embedding_    # float32 [N, d] or None
    model.history_      # list of per-epoch dicts

``__init__`` only stores keyword arguments; ``fit`` validates them against the data, turns
``random_state`` into one ``torch.Generator`` (and one ``numpy.random.Generator`` drawn from
it) that is passed down, and never touches the global RNGs.
"""
from __future__ import annotations

import inspect
import numbers
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from .graphs.inputs import as_data


@dataclass
class FitContext:
    """What ``fit`` hands to a method's ``_fit``.

    Attributes:
        generator: the one torch RNG (CPU) for initialisation, shuffling and sampling.
        rng: a numpy RNG derived from ``generator`` for numpy/scikit-learn/faiss code.
        device: where tensors live.
        verbose: show progress bars.
        y: ground-truth labels [N] when the caller provided them; used *only* to log
            monitoring metrics in ``history_``, never for training or model selection.
    """

    generator: torch.Generator
    rng: np.random.Generator
    device: torch.device
    verbose: bool = True
    y: np.ndarray | None = None

    def seed(self) -> int:
        """A fresh integer seed for libraries that take one (scikit-learn, faiss)."""
        return int(self.rng.integers(0, 2**31 - 1))


@dataclass
class FitResult:
    """What a method's ``_fit`` returns."""

    labels: np.ndarray
    embedding: np.ndarray | torch.Tensor | None = None
    history: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def check_random_state(random_state) -> torch.Generator:
    """Turn ``None`` / int / ``torch.Generator`` into a CPU ``torch.Generator``."""
    if isinstance(random_state, torch.Generator):
        return random_state
    gen = torch.Generator()
    if random_state is None:
        gen.seed()
    elif isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        gen.manual_seed(int(random_state))
    else:
        raise TypeError(f"random_state must be None, an int or a torch.Generator, got {type(random_state).__name__}")
    return gen


def check_device(device) -> torch.device:
    """Resolve ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"`` (CUDA when available)."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda', 'cuda:N' or 'auto'") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available; use device='cpu'")
    return dev


class BaseClusterer:
    """Base class of every estimator; subclasses implement ``_fit(data, ctx) -> FitResult``.

    Class attributes:
        uses_graph: the method needs edges; when the input has none, a kNN graph is built
            (see :meth:`_graph`).
    """

    uses_graph: bool = False

    # -- parameters (scikit-learn protocol) ------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]

    def get_params(self, deep: bool = False) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> "BaseClusterer":
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; valid: {sorted(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        shown = []
        for name in self._param_names():
            default = sig.parameters[name].default
            value = getattr(self, name, default)
            if value is not default and not (isinstance(value, (int, float, str, tuple, type(None))) and value == default):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # -- fitting ---------------------------------------------------------------------------
    def _validate_params(self, n_samples: int) -> None:
        """Checks every method shares; subclasses extend with their own."""
        k = getattr(self, "n_clusters", None)
        if not isinstance(k, numbers.Integral) or isinstance(k, bool):
            raise TypeError(f"n_clusters must be an int, got {k!r}")
        if k < 2:
            raise ValueError(f"n_clusters={k} should be >= 2")
        if n_samples < k:
            raise ValueError(f"n_samples={n_samples} should be >= n_clusters={k}")
        for name in ("epochs", "pretrain_epochs", "batch_size", "n_init"):
            value = getattr(self, name, None)
            if value is not None and (not isinstance(value, numbers.Integral) or value < (0 if "epochs" in name else 1)):
                raise ValueError(f"{name} must be a {'non-negative' if 'epochs' in name else 'positive'} int, got {value!r}")
        for name in ("lr", "pretrain_lr", "gcn_lr"):  # every learning rate a method has
            value = getattr(self, name, None)
            if value is not None and (isinstance(value, bool) or not (isinstance(value, numbers.Real) and value > 0)):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        checkpoint = getattr(self, "checkpoint", None)  # methods that checkpoint a fit in progress
        if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
            raise TypeError(f"checkpoint must be None or a file path, got {checkpoint!r}")

    def fit(self, data, y=None) -> "BaseClusterer":
        """Cluster ``data`` (any input accepted by :func:`graphclust.graphs.as_data`).

        ``y`` (or ``data.y``) is optional and used only to log monitoring metrics.
        """
        data = as_data(data, y=y)
        n_samples, n_features = data.x.shape
        self._validate_params(n_samples)
        generator = check_random_state(self.random_state)
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))
        ctx = FitContext(
            generator=generator,
            rng=rng,
            device=check_device(getattr(self, "device", "cpu")),
            verbose=bool(getattr(self, "verbose", True)),
            y=None if data.y is None else data.y.cpu().numpy(),
        )
        if self.uses_graph:
            self.graph_build_ = None  # set by _graph when this fit runs on a graph
        result = self._fit(data, ctx)
        labels = np.asarray(result.labels).astype(np.int64).reshape(-1)
        if labels.shape[0] != n_samples:
            raise RuntimeError(f"{type(self).__name__} returned {labels.shape[0]} labels for {n_samples} samples")
        embedding = result.embedding
        if isinstance(embedding, torch.Tensor):
            embedding = embedding.detach().cpu().numpy()
        self.labels_ = labels
        self.embedding_ = None if embedding is None else np.asarray(embedding, dtype=np.float32)
        if self.embedding_ is not None and n_samples > 1 and bool((self.embedding_ == self.embedding_[0]).all()):
            warnings.warn(f"{type(self).__name__}: the embedding collapsed: it is the same for all {n_samples} "
                          f"samples, so the clusters carry no information{self._collapse_hint()}",
                          RuntimeWarning, stacklevel=2)
        self.history_ = list(result.history)
        self.n_features_in_ = int(n_features)
        self.n_samples_ = int(n_samples)
        for name, value in result.extra.items():
            setattr(self, name, value)
        return self

    def fit_predict(self, data, y=None) -> np.ndarray:
        return self.fit(data, y=y).labels_

    def _collapse_hint(self) -> str:
        """What to add to the collapse warning of :meth:`fit` (a constant embedding): the likely
        cause and what to try. Default: a smaller learning rate, for methods that have one."""
        lr = getattr(self, "lr", None)
        return f"; try a smaller lr (now {lr})" if lr is not None else ""

    def _fit(self, data, ctx: FitContext) -> FitResult:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers for subclasses ----------------------------------------------------------------
    def _graph(self, data, ctx: FitContext) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The graph a graph method runs on: the input's edges, or a kNN graph built from ``x``.

        kNN settings come from ``data.graph_recipe`` (set by catalog loaders, e.g. USPS:
        k=3, heat) unless the estimator sets ``n_neighbors``; an empty graph is an error. With
        ``$GRAPHCLUST_GRAPH_CACHE`` set, a built graph is stored there and read back by later fits
        of the same features and settings (:mod:`graphclust.graphs.cache`).

        Sets ``graph_build_``: ``{"source": "input" | "built" | "cache", "seconds": s}``, where the
        graph came from and the wall time it took (a run's time includes it; a cached graph costs
        almost nothing, so run times of the same method compare only at the same source).
        """
        from .graphs.cache import cached_knn_graph
        from .graphs.inputs import validate_graph
        from .graphs.knn import DEFAULT_NEIGHBORS

        start = time.perf_counter()
        report = {"source": "input"}
        if data.edge_index is not None:
            edge_index, edge_weight = data.edge_index, data.edge_weight
        else:
            recipe = dict(getattr(data, "graph_recipe", None) or {})
            k = getattr(self, "n_neighbors", None)
            if k is not None:
                recipe["n_neighbors"] = k
            recipe.setdefault("n_neighbors", DEFAULT_NEIGHBORS)
            edge_index, edge_weight = cached_knn_graph(data.x, random_state=ctx.seed(), verbose=ctx.verbose,
                                                       report=report, **recipe)
        self.graph_build_ = {**report, "seconds": time.perf_counter() - start}
        validate_graph(edge_index, data.num_nodes)
        return edge_index, edge_weight
