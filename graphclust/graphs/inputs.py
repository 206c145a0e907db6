"""Conversion of every accepted input into one :class:`torch_geometric.data.Data`.

:func:`as_data` is the single entry point through which estimators see their input. It returns a
``Data`` with

- ``x``: float32 ``[N, F]``; images ``[N, H, W]`` / ``[N, C, H, W]`` are flattened to
  ``F = C * H * W`` and the original shape is kept in ``data.image_shape = (C, H, W)``;
  for tabular input ``image_shape`` is absent, because a PyG ``Data`` cannot hold a ``None``
  attribute: read it as ``getattr(data, "image_shape", None)``,
- ``edge_index``: int64 ``[2, E]``, or ``None`` when the input carries no graph,
- ``edge_weight``: float32 ``[E]``, or ``None``,
- ``y``: int64 ``[N]``, or ``None`` (labels are for evaluation only).

Every problem with the input is reported here, once, with the offending value in the message:
``TypeError`` for an unsupported type, ``ValueError`` for a bad value.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

try:  # networkx is a declared dependency; the guard only keeps import errors readable
    import networkx as nx
except ImportError:  # pragma: no cover
    nx = None

__all__ = ["as_data", "validate_graph"]

_CANONICAL = {"x", "edge_index", "edge_weight", "y", "image_shape"}
_ACCEPTED = (
    "torch_geometric.data.Data, numpy.ndarray, torch.Tensor, scipy.sparse matrix, "
    "networkx.Graph, or a tuple (x, edge_index) / (x, edge_index, edge_weight)"
)


def as_data(data: Any, y: Any = None) -> Data:
    r"""Convert any accepted input to a ``Data(x, edge_index, edge_weight, y, image_shape)``.

    Accepted inputs:

    - ``torch_geometric.data.Data`` with ``x`` (and optional ``edge_index``, ``edge_weight``,
      ``y``, ``image_shape``); a 1-D ``edge_attr`` is taken as ``edge_weight``;
    - ``numpy.ndarray`` / ``torch.Tensor`` / ``scipy.sparse`` matrix of shape ``[N, F]`` (tabular),
      ``[N, H, W]`` (greyscale images, ``C = 1``) or ``[N, C, H, W]``;
    - ``networkx.Graph`` / ``DiGraph``: nodes are relabelled ``0..N-1`` in ``G.nodes`` order; the
      features are node attribute ``x`` (a vector), or else every numeric node attribute other than
      ``y``, in sorted name order; labels come from node attribute ``y`` when every node has one;
      edge attribute ``weight`` becomes ``edge_weight`` when every edge has one. An undirected
      graph yields both directions of each edge (a self-loop once);
    - a tuple ``(x, edge_index)`` or ``(x, edge_index, edge_weight)``.

    Args:
        data: the input, one of the above.
        y: optional labels ``[N]``; when given they replace any labels carried by ``data``.

    Returns:
        A new ``Data`` (``image_shape`` read as ``getattr(data, "image_shape", None)``); the input
        is never modified. Other attributes of an input ``Data`` (``name``, ``graph_recipe``, ...)
        are carried over unchanged.

    Raises:
        TypeError: ``data`` is of an unsupported type.
        ValueError: NaN/inf features, wrong ndim, zero samples or features, ``edge_index`` not of
            shape ``[2, E]`` or with indices outside ``[0, N)``, negative or NaN edge weights, or
            labels of the wrong length.
    """
    image_shape = None
    edge_index = edge_weight = None
    y_in = None

    if isinstance(data, Data):
        if data.x is None:
            raise ValueError("Data has no node features: data.x is None")
        x, image_shape = _features(data.x, "data.x")
        if image_shape is None:
            image_shape = getattr(data, "image_shape", None)
        edge_index = data.edge_index
        edge_weight = data.edge_weight if "edge_weight" in data else None
        if edge_weight is None and "edge_attr" in data and data.edge_attr is not None:
            attr = torch.as_tensor(data.edge_attr)
            if attr.dim() == 1 or (attr.dim() == 2 and attr.size(1) == 1):
                edge_weight = attr.reshape(-1)
        y_in = data.y if "y" in data else None
    elif nx is not None and isinstance(data, nx.Graph):
        x, edge_index, edge_weight, y_in = _from_networkx(data)
    elif isinstance(data, tuple):
        if len(data) not in (2, 3):
            raise ValueError(
                f"a tuple input must be (x, edge_index) or (x, edge_index, edge_weight), "
                f"got a tuple of length {len(data)}"
            )
        x, image_shape = _features(data[0], "x")
        edge_index = data[1]
        edge_weight = data[2] if len(data) == 3 else None
    elif isinstance(data, (np.ndarray, torch.Tensor)) or sp.issparse(data):
        x, image_shape = _features(data, "x")
    else:
        raise TypeError(f"unsupported input type {type(data).__name__!r}; expected {_ACCEPTED}")

    n = x.size(0)
    if edge_index is not None:
        edge_index = _edge_index(edge_index, n)
        if edge_weight is not None:
            edge_weight = _edge_weight(edge_weight, edge_index.size(1))
    elif edge_weight is not None:
        raise ValueError("edge_weight was given without edge_index")

    labels = _labels(y if y is not None else y_in, n)
    if image_shape is not None:
        image_shape = _image_shape(image_shape, x.size(1))
    out = Data(x=x, edge_index=edge_index, edge_weight=edge_weight, y=labels, image_shape=image_shape)
    if isinstance(data, Data):
        # Loader metadata (name, graph_recipe, ...) travels with the data.
        for key in data.keys():
            if key not in _CANONICAL:
                out[key] = data[key]
    return out


def _image_shape(shape: Any, n_features: int) -> tuple[int, int, int]:
    """A given ``image_shape`` as (C, H, W): (H, W) means one channel; C·H·W must be the feature count."""
    try:
        dims = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be (C, H, W) or (H, W), got {shape!r}") from None
    if len(dims) == 2:
        dims = (1, *dims)
    if len(dims) != 3 or min(dims) < 1:
        raise ValueError(f"image_shape must be (C, H, W) or (H, W) of positive sizes, got {shape!r}")
    if dims[0] * dims[1] * dims[2] != n_features:
        raise ValueError(f"image_shape {shape!r} holds {dims[0] * dims[1] * dims[2]} values per sample "
                         f"but the features have {n_features}")
    return dims


def validate_graph(edge_index: torch.Tensor | None, n: int) -> None:
    """Check that ``edge_index`` ``[2, E]`` is a usable, non-empty graph on ``n`` nodes.

    Graph-based methods call this before touching the graph, so that a ``Data`` without a graph,
    or with an empty one, fails with one clear message instead of a shape error deep in a layer.

    Raises:
        ValueError: ``edge_index`` is ``None`` or has no edges, is not ``[2, E]``, or holds an index
            outside ``[0, n)``.
    """
    if edge_index is None:
        raise ValueError(
            "graph has no edges (edge_index is None); pass a graph, or build one with "
            "graphclust.graphs.knn_graph(x)"
        )
    edge_index = _edge_index(edge_index, n)
    if edge_index.size(1) == 0:
        raise ValueError(
            f"graph has no edges (edge_index has shape {list(edge_index.shape)}); pass a graph, "
            "or build one with graphclust.graphs.knn_graph(x)"
        )


# ----------------------------------------------------------------------------------------------
# helpers (also used by knn.py, normalize.py and report.py so that every module checks alike)


def _features(x: Any, name: str = "x") -> tuple[torch.Tensor, tuple[int, int, int] | None]:
    """Features to a float32 ``[N, F]`` tensor, plus ``(C, H, W)`` when ``x`` was an image batch."""
    if sp.issparse(x):
        x = x.toarray()  # feature matrices here are at most a few thousand columns wide
    if isinstance(x, np.ndarray):
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise TypeError(f"{name} must be numeric, got dtype {x.dtype}")
        if np.iscomplexobj(x):
            raise TypeError(f"{name} must be real, got dtype {x.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    elif isinstance(x, torch.Tensor):
        if x.is_complex():
            raise TypeError(f"{name} must be real, got dtype {x.dtype}")
        if x.is_sparse or x.layout != torch.strided:
            x = x.to_dense()
        t = x.detach().to(device="cpu", dtype=torch.float32)
    else:
        raise TypeError(f"{name} must be a numpy array, torch tensor or scipy.sparse matrix, got {type(x).__name__!r}")

    image_shape = None
    if t.dim() == 3:  # [N, H, W] greyscale
        image_shape = (1, t.size(1), t.size(2))
    elif t.dim() == 4:  # [N, C, H, W]
        image_shape = (t.size(1), t.size(2), t.size(3))
    elif t.dim() != 2:
        raise ValueError(
            f"{name} must have shape [N, F], [N, H, W] or [N, C, H, W], got ndim={t.dim()} "
            f"(shape {list(t.shape)})"
        )
    if t.size(0) == 0:
        raise ValueError(f"{name} has zero samples (shape {list(t.shape)})")
    t = t.reshape(t.size(0), -1)  # [N, F]
    if t.size(1) == 0:
        raise ValueError(f"{name} has zero features (shape {list(t.shape)})")
    t = t.contiguous()
    _check_finite(t.numpy(), name)
    return t, image_shape


def _check_finite(x: np.ndarray, name: str) -> None:
    """Raise on NaN/inf in ``x`` ``[N, F]``, scanning row blocks so that the check allocates
    ~4 MB rather than a copy of ``x`` (torch.isfinite allocates ~2x the input)."""
    step = max(1, (1 << 22) // max(1, x.shape[1]))
    for start in range(0, x.shape[0], step):
        block = x[start : start + step]
        if not np.isfinite(block).all():
            bad = np.argwhere(~np.isfinite(x))
            kind = "NaN" if np.isnan(x).any() else "inf"
            raise ValueError(
                f"{name} contains {kind} values ({len(bad)} non-finite entries, first at "
                f"row {bad[0][0]}, column {bad[0][1]})"
            )


def _edge_index(edge_index: Any, n: int) -> torch.Tensor:
    """``edge_index`` to int64 ``[2, E]`` with every index in ``[0, n)``."""
    if isinstance(edge_index, np.ndarray):
        ei = torch.from_numpy(np.asarray(edge_index))
    elif isinstance(edge_index, torch.Tensor):
        ei = edge_index.detach().cpu()
    elif isinstance(edge_index, (list, tuple)):
        ei = torch.as_tensor(np.asarray(edge_index))
    else:
        raise TypeError(f"edge_index must be a tensor or array, got {type(edge_index).__name__!r}")
    if ei.dtype == torch.bool or ei.is_floating_point() or ei.is_complex():
        raise ValueError(f"edge_index must hold integers, got dtype {ei.dtype}")
    if ei.dim() != 2 or ei.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got shape {list(ei.shape)}")
    ei = ei.long().contiguous()
    if ei.numel() > 0:
        lo, hi = int(ei.min()), int(ei.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise ValueError(f"edge_index holds node index {bad}, outside [0, N) with N={n}")
    return ei


def _edge_weight(edge_weight: Any, e: int) -> torch.Tensor:
    """``edge_weight`` to float32 ``[E]``: finite and non-negative."""
    w = torch.as_tensor(np.asarray(edge_weight) if not isinstance(edge_weight, torch.Tensor) else edge_weight)
    w = w.detach().cpu().to(torch.float32)
    if w.dim() == 2 and w.size(1) == 1:
        w = w.reshape(-1)
    if w.dim() != 1 or w.size(0) != e:
        raise ValueError(f"edge_weight must have shape [E] with E={e}, got shape {list(w.shape)}")
    if bool(torch.isnan(w).any()):
        raise ValueError(f"edge_weight contains NaN ({int(torch.isnan(w).sum())} entries)")
    if bool(torch.isinf(w).any()):
        raise ValueError(f"edge_weight contains inf ({int(torch.isinf(w).sum())} entries)")
    if e > 0 and float(w.min()) < 0:
        raise ValueError(f"edge_weight must be non-negative, got minimum {float(w.min())}")
    return w.contiguous()


def _labels(y: Any, n: int) -> torch.Tensor | None:
    """Labels to int64 ``[N]`` (or ``None``)."""
    if y is None:
        return None
    if isinstance(y, torch.Tensor):
        t = y.detach().cpu()
    else:
        arr = np.asarray(y)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"y must be numeric, got dtype {arr.dtype}")
        t = torch.from_numpy(arr)
    if t.dim() == 2 and t.size(1) == 1:
        t = t.reshape(-1)
    if t.dim() != 1:
        raise ValueError(f"y must have shape [N], got shape {list(t.shape)}")
    if t.size(0) != n:
        raise ValueError(f"y has length {t.size(0)}, expected one label per node/sample, N={n}")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()):
            raise ValueError("y contains NaN or inf")
        if not bool((t == t.round()).all()):
            raise ValueError("y must hold integer class labels, got non-integer floats")
    return t.long().contiguous()


def _from_networkx(g: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, Any]:
    """``networkx`` graph to ``(x [N, F], edge_index [2, E], edge_weight [E] | None, y | None)``."""
    nodes = list(g.nodes)
    n = len(nodes)
    if n == 0:
        raise ValueError("networkx graph has zero nodes")
    attrs = [g.nodes[v] for v in nodes]

    if all("x" in a for a in attrs):
        try:
            rows = [np.asarray(a["x"], dtype=np.float64).reshape(-1) for a in attrs]
        except (TypeError, ValueError) as err:
            raise ValueError(f"node attribute 'x' must be numeric vectors ({err})") from None
        lengths = {len(r) for r in rows}
        if len(lengths) != 1:
            raise ValueError(f"node attribute 'x' has vectors of different lengths {sorted(lengths)}")
        feats = np.stack(rows)  # [N, F]
    else:
        # Every attribute other than the label that is a real number on every node.
        keys = sorted(set.intersection(*(set(a) for a in attrs)) - {"y"}, key=str)
        keys = [k for k in keys if all(_is_real(a[k]) for a in attrs)]
        if not keys:
            raise ValueError(
                "networkx graph has no node features: give every node an attribute 'x' "
                "(a vector) or numeric attributes"
            )
        feats = np.array([[float(a[k]) for k in keys] for a in attrs], dtype=np.float64)  # [N, F]
    x, _ = _features(feats, "node features")

    index = {v: i for i, v in enumerate(nodes)}
    edges = list(g.edges(data=True))
    src = [index[u] for u, _, _ in edges]
    dst = [index[v] for _, v, _ in edges]
    has_w = len(edges) > 0 and all("weight" in d for _, _, d in edges)
    w = [d["weight"] for _, _, d in edges] if has_w else None
    if not g.is_directed():
        # Both directions of every edge; a self-loop appears once.
        back = [k for k in range(len(src)) if src[k] != dst[k]]
        src, dst = src + [dst[k] for k in back], dst + [src[k] for k in back]
        if w is not None:
            w = w + [w[k] for k in back]
    edge_index = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)
    edge_weight = None if w is None else np.asarray(w, dtype=np.float64)

    y = None
    if all("y" in a for a in attrs):
        y = np.asarray([a["y"] for a in attrs])
    return x, edge_index, edge_weight, y


def _is_real(v: Any) -> bool:
    return isinstance(v, (numbers.Real, np.number)) and not isinstance(v, (bool, np.bool_, complex))
