"""Readers for the on-disk formats of the dataset catalog, and ``load_dataset`` on top of them.

One function per format. Each takes the data root (the folder that holds ``planetoid/``,
``amazon/``, ``sdcn/``, ``usps/``, ``mnist/``, ``fashion_mnist/``; see ``datasets/README.md``),
reads raw files only, and never writes anything: the data root may be read-only and shared.
(PyG's dataset classes write ``processed/`` next to ``raw/``; they are used only when the raw
files are absent and the caller passed ``download=True``.)

Every reader returns a ``torch_geometric.data.Data`` with
- ``x``: float32 ``[N, F]`` (images flattened row-major),
- ``y``: long ``[N]``, labels 0-based,
- ``edge_index``: long ``[2, E]``, undirected (both directions), coalesced, no self loops,
  when the dataset comes with a graph; otherwise ``None``,
- ``image_shape``: ``(C, H, W)`` for images; absent for graphs and tables (PyG ``Data`` cannot
  hold ``None`` attributes: read it as ``getattr(data, "image_shape", None)``),
- ``name``: the dataset's catalog name.

A missing file raises :class:`DatasetNotFoundError` (a ``FileNotFoundError``) whose message lists
every expected file with its full path and where to get it.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import remove_self_loops, to_undirected

from graphclust.data.catalog import DATA_ENV, data_root, get_entry
from graphclust.data.synthetic import make_blobs_graph, make_sbm

__all__ = [
    "DatasetNotFoundError",
    "load_dataset",
    "dataset_available",
    "verify_dataset",
    "load_digits",
    "load_planetoid",
    "load_amazon",
    "load_sdcn",
    "load_usps_h5",
    "load_idx",
    "DEBIAN_FASHION_MNIST_DIR",
]

#: Where the Debian package ``dataset-fashion-mnist`` installs the four Fashion-MNIST gz files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

#: Keyword arguments of ``graphclust.graphs.knn_graph`` that a catalog kNN recipe may set.
_KNN_RECIPE_KEYS = ("n_neighbors", "metric", "weight", "recipe", "symmetrize", "heat_t")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's raw files are not where the loader looks for them.

    Attributes:
        dataset: the dataset name.
        expected: every file the loader needs (full paths).
        missing: those of ``expected`` that do not exist.
        alternatives: other complete file sets that would also do (full paths).
    """

    def __init__(
        self,
        dataset: str,
        expected: Iterable[os.PathLike | str],
        *,
        alternatives: Sequence[Sequence[os.PathLike | str]] = (),
        source: str | None = None,
        note: str | None = None,
        hints: dict[Path, str] | None = None,
    ):
        self.dataset = dataset
        self.expected = [Path(p) for p in expected]
        self.missing = [p for p in self.expected if not p.is_file()]
        self.alternatives = [[Path(p) for p in alt] for alt in alternatives]
        self.source = source
        self.note = note
        self.hints = dict(hints or {})
        self._text = self._message()  # frozen: the files may appear later
        super().__init__(self._text)
        self.filename = str(self.missing[0]) if self.missing else None

    def _message(self) -> str:
        lines = [f"dataset {self.dataset!r} not found: put these files at exactly these paths"]
        lines += [self._line(p) for p in self.expected]
        for alt in self.alternatives:
            lines.append("or, instead, these:")
            lines += [self._line(p) for p in alt]
        if self.source:
            lines.append(f"Source: {self.source}")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def _line(self, path: Path) -> str:
        if path.is_file():
            return f"  {path}"
        hint = self.hints.get(path)
        return f"  {path}   <- missing" + (f" ({hint})" if hint else "")

    def __str__(self) -> str:  # FileNotFoundError would print "[Errno None] ..." once filename is set
        return self._text

    def with_context(
        self, dataset: str, source: str | None, note: str | None, hints: dict[Path, str] | None = None
    ) -> "DatasetNotFoundError":
        """The same error, renamed to the catalog name, with the catalog's source and notes."""
        return DatasetNotFoundError(
            dataset,
            self.expected,
            alternatives=self.alternatives,
            source=source or self.source,
            note="\n".join(n for n in (self.note, note) if n) or None,
            hints={**self.hints, **(hints or {})},
        )


def _require(dataset: str, paths: Sequence[Path], **kwargs) -> None:
    if not all(p.is_file() for p in paths):
        raise DatasetNotFoundError(dataset, paths, **kwargs)


def _read_text_matrix(source, path: object, dtype=np.float32) -> np.ndarray:
    """Parse a whitespace-separated numeric text matrix (LF or CRLF) into ``[rows, cols]``.

    ``source`` is a path or an open binary file. numpy's C ``loadtxt`` (numpy >= 1.23) streams
    the file: the 21 MB ``usps.txt`` takes ~0.15 s, the 111 MB AM-GCN CiteSeer matrix ~0.8 s.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            return np.loadtxt(source, dtype=dtype, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{path}: not a rectangular numeric matrix ({err})") from None


def _read_edge_list(path: Path, n_nodes: int) -> torch.Tensor:
    """``i j`` per line (0-based) -> undirected, coalesced ``edge_index`` without self loops."""
    edges = _read_text_matrix(path, path, dtype=np.int64)
    if edges.size == 0:
        edges = edges.reshape(0, 2)
    if edges.shape[1] != 2:
        raise ValueError(f"{path}: {edges.shape[1]} columns; expected one 'i j' pair per line")
    edge_index = torch.from_numpy(np.ascontiguousarray(edges.T))  # [2, E_file]
    if edge_index.numel() and (edge_index.min() < 0 or edge_index.max() >= n_nodes):
        raise ValueError(
            f"{path}: node ids span [{int(edge_index.min())}, {int(edge_index.max())}], "
            f"outside [0, {n_nodes}) for a dataset of {n_nodes} samples"
        )
    edge_index, _ = remove_self_loops(edge_index)
    return to_undirected(edge_index, num_nodes=n_nodes)


def _check_labels(y: np.ndarray, n: int, path: object) -> torch.Tensor:
    y = np.asarray(y).reshape(-1)
    if y.size != n:
        raise ValueError(f"{path}: {y.size} labels for {n} samples")
    if y.size and y.min() < 0:
        raise ValueError(f"{path}: negative label {int(y.min())}; labels must be 0-based")
    return torch.from_numpy(y.astype(np.int64))


# --------------------------------------------------------------------------------------------
# sklearn digits
# --------------------------------------------------------------------------------------------

def load_digits() -> Data:
    """scikit-learn's bundled handwritten digits (no files needed).

    1797 8x8 grey images of the digits 0-9 (the UCI "Optical Recognition of Handwritten Digits"
    test set), pixel counts 0..16 scaled to [0, 1].

    Returns:
        ``x`` float32 ``[1797, 64]``, ``y`` long ``[1797]`` (10 classes), ``edge_index=None``,
        ``image_shape=(1, 8, 8)``.
    """
    from sklearn.datasets import load_digits as _sk_digits

    bunch = _sk_digits()
    x = torch.from_numpy((bunch.data / 16.0).astype(np.float32))
    return Data(x=x, y=torch.from_numpy(bunch.target.astype(np.int64)), image_shape=(1, 8, 8), name="digits")


# --------------------------------------------------------------------------------------------
# Planetoid (Cora, CiteSeer, PubMed) and Amazon (gnn-benchmark npz)
# --------------------------------------------------------------------------------------------

_PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
_PLANETOID_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def _planetoid_paths(root: Path, name: str) -> tuple[str, Path, list[Path]]:
    key = name.lower()
    if key not in _PLANETOID_NAMES:
        raise ValueError(f"unknown Planetoid dataset {name!r}; valid: {sorted(_PLANETOID_NAMES.values())}")
    raw_dir = Path(root) / "planetoid" / _PLANETOID_NAMES[key] / "raw"
    return key, raw_dir, [raw_dir / f"ind.{key}.{s}" for s in _PLANETOID_SUFFIXES]


def load_planetoid(root: os.PathLike | str, name: str, *, download: bool = False) -> Data:
    """A Planetoid citation graph from its raw files (Yang et al., ICML 2016).

    Files: ``<root>/planetoid/<Name>/raw/ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}``,
    ``<Name>`` in ``Cora``, ``CiteSeer``, ``PubMed`` (PyG's ``Planetoid`` raw layout). Read with
    ``torch_geometric.io.read_planetoid_data``, which writes nothing. The public split masks are
    dropped: clustering uses every node.

    Shapes: Cora 2708 x 1433, 10556 directed edge pairs, 7 classes; CiteSeer 3327 x 3703, 9104
    pairs, 6 classes (its 15 test nodes without features get zero rows, as in PyG).

    Args:
        root: the data root.
        name: ``"Cora"``, ``"CiteSeer"`` or ``"PubMed"`` (case-insensitive).
        download: when files are missing, let PyG's ``Planetoid(root=<root>/planetoid)`` download
            them (it also writes ``processed/`` there). Otherwise raise.
    """
    from torch_geometric.io import read_planetoid_data

    key, raw_dir, paths = _planetoid_paths(Path(root), name)
    if download and not all(p.is_file() for p in paths):
        from torch_geometric.datasets import Planetoid

        Planetoid(root=str(Path(root) / "planetoid"), name=_PLANETOID_NAMES[key])
    _require(key, paths, source="kimiyoung/planetoid, folder data/ (MIT); or pass download=True")
    full = read_planetoid_data(str(raw_dir), key)
    return Data(x=full.x.float(), edge_index=full.edge_index, y=full.y.long(), name=key)


def _amazon_path(root: Path, name: str) -> Path:
    if name.lower() not in ("photo", "computers"):
        raise ValueError(f"unknown Amazon dataset {name!r}; valid: ['Computers', 'Photo']")
    return Path(root) / "amazon" / name.capitalize() / "raw" / f"amazon_electronics_{name.lower()}.npz"


def load_amazon(root: os.PathLike | str, name: str = "Photo", *, download: bool = False) -> Data:
    """An Amazon co-purchase graph (Shchur et al., 2018, gnn-benchmark npz).

    File: ``<root>/amazon/<Name>/raw/amazon_electronics_<name>.npz`` (PyG's ``Amazon`` layout),
    read with ``torch_geometric.io.read_npz(path, to_undirected=True)`` (bag-of-words binarised,
    self loops removed). Photo: 7650 x 745, 238162 directed edge pairs, 8 classes.

    Args:
        root: the data root.
        name: ``"Photo"`` or ``"Computers"``.
        download: when the file is missing, let PyG's ``Amazon(root=<root>/amazon)`` download it
            (it also writes ``processed/`` there). Otherwise raise.
    """
    from torch_geometric.io import read_npz

    path = _amazon_path(Path(root), name)
    if download and not path.is_file():
        from torch_geometric.datasets import Amazon

        Amazon(root=str(Path(root) / "amazon"), name=name.capitalize())
    _require(f"amazon-{name.lower()}", [path], source="shchur/gnn-benchmark, data/npz/ (MIT); or pass download=True")
    full = read_npz(str(path), to_undirected=True)
    return Data(x=full.x.float(), edge_index=full.edge_index, y=full.y.long(), name=f"amazon-{name.lower()}")


# --------------------------------------------------------------------------------------------
# SDCN text format (Bo et al., WWW 2020): usps, hhar, reut, acm, dblp, cite
# --------------------------------------------------------------------------------------------

_SDCN_KNN_GRAPHS = ("usps", "hhar", "reut")  # graph files <name><k>_graph.txt, k in 1, 3, 5, 10
_SDCN_ONE_BASED_LABELS = ("cite", "hhar")  # label files use 1..6
_SDCN_SOURCE = (
    "bdy9527/SDCN (Apache-2.0): data/<name>.txt, data/<name>_label.txt, graph/*_graph.txt "
    "(the large feature files are linked from its README: Google Drive / Baidu Netdisk)"
)
_AMGCN_CITESEER_ZIP = ("sdcn", "extra", "amgcn_citeseer.zip")
_AMGCN_CITESEER_MEMBER = "citeseer/citeseer.feature"


def _sdcn_paths(root: Path, name: str, k: int, graph: bool) -> tuple[Path, Path, Path | None, Path | None]:
    """Resolve (features, labels, graph, cite zip fallback) for an SDCN dataset."""
    name = name.lower()
    sdcn = Path(root) / "sdcn"
    features = sdcn / "data" / f"{name}.txt"
    labels = sdcn / "data" / f"{name}_label.txt"
    graph_path = None
    if graph:
        fname = f"{name}{k}_graph.txt" if name in _SDCN_KNN_GRAPHS else f"{name}_graph.txt"
        graph_path = sdcn / "graph" / fname
    cite_zip = Path(root).joinpath(*_AMGCN_CITESEER_ZIP) if name == "cite" else None
    return features, labels, graph_path, cite_zip


def _locate_sdcn(root: Path, name: str, k: int, graph: bool) -> tuple[Path, Path, Path | None]:
    features, labels, graph_path, cite_zip = _sdcn_paths(root, name, k, graph)
    common = [labels] + ([graph_path] if graph_path else [])
    if cite_zip is not None and not features.is_file():
        # SDCN never published cite.txt; AM-GCN's citeseer.feature (same rows, labels - 1) stands in.
        _require(
            name,
            [cite_zip] + common,
            alternatives=[[features] + common],
            source=f"{_SDCN_SOURCE}; the zip is zhumeiqiBUPT/AM-GCN data/citeseer.zip (MIT)",
        )
        return cite_zip, labels, graph_path
    _require(name, [features] + common, source=_SDCN_SOURCE)
    return features, labels, graph_path


def load_sdcn(root: os.PathLike | str, name: str, k: int = 3, *, graph: bool = True) -> Data:
    """A dataset in the text format of the SDCN code (Bo et al., *Structural Deep Clustering
    Network*, WWW 2020).

    Files, under ``<root>/sdcn/``:
    - ``data/<name>.txt``: ``N`` rows of ``F`` space-separated numbers (LF or CRLF);
    - ``data/<name>_label.txt``: one integer label per line (``cite`` and ``hhar`` count from 1;
      they are shifted so that every returned label starts at 0);
    - ``graph/<name>_graph.txt`` for acm, dblp, cite, or ``graph/<name><k>_graph.txt`` for the kNN
      graphs of usps, hhar, reut (k in 1, 3, 5, 10): one 0-based ``i j`` edge per line. SDCN
      symmetrises these at load time; so does this loader (and drops self loops: the
      normalisations add ``I`` themselves).
    - ``cite`` only: SDCN never published ``cite.txt``. When it is absent the features are read from
      ``extra/amgcn_citeseer.zip`` member ``citeseer/citeseer.feature`` (AM-GCN's CiteSeer matrix,
      whose labels equal ``cite_label.txt - 1`` row for row), inside the zip, nothing extracted.

    Shapes: usps 9298 x 256 (10 classes), hhar 10299 x 561 (6), reut 10000 x 2000 (4),
    acm 3025 x 1870 (3), dblp 4057 x 334 (4), cite 3327 x 3703 (6).

    Args:
        root: the data root.
        name: ``usps``, ``hhar``, ``reut``, ``acm``, ``dblp`` or ``cite``.
        k: neighbours of the precomputed kNN graph for usps / hhar / reut; ignored otherwise.
        graph: read the graph file (``edge_index``); ``False`` returns ``edge_index=None`` and
            does not need the graph file.
    """
    root = Path(root)
    name = name.lower()
    if name in _SDCN_KNN_GRAPHS and k not in (1, 3, 5, 10):
        raise ValueError(f"k={k} for {name}: SDCN ships graphs for k in (1, 3, 5, 10)")
    features, labels, graph_path = _locate_sdcn(root, name, k, graph)

    if features.suffix == ".zip":
        with zipfile.ZipFile(features) as zf, zf.open(_AMGCN_CITESEER_MEMBER) as member:
            x = _read_text_matrix(member, f"{features}:{_AMGCN_CITESEER_MEMBER}")
    else:
        x = _read_text_matrix(features, features)
    y = _read_text_matrix(labels, labels, dtype=np.int64).reshape(-1)
    if name in _SDCN_ONE_BASED_LABELS:
        y = y - 1
    data = Data(x=torch.from_numpy(x), y=_check_labels(y, x.shape[0], labels), name=name)
    if graph_path is not None:
        data.edge_index = _read_edge_list(graph_path, x.shape[0])
    if name == "usps":
        data.image_shape = (1, 16, 16)
    return data


# --------------------------------------------------------------------------------------------
# USPS HDF5
# --------------------------------------------------------------------------------------------

def _usps_h5_path(root: Path) -> Path:
    return Path(root) / "usps" / "usps.h5"


def load_usps_h5(root: os.PathLike | str) -> Data:
    """USPS handwritten digits (Hull 1994) from the common ``usps.h5``.

    File: ``<root>/usps/usps.h5`` with ``train/data`` (7291, 256), ``train/target``,
    ``test/data`` (2007, 256), ``test/target``; values in [0, 1].

    Returns:
        train then test: ``x`` float32 ``[9298, 256]``, ``y`` long ``[9298]`` (10 classes,
        1553/1269/929/824/852/716/834/792/708/821), ``edge_index=None``, ``image_shape=(1, 16, 16)``.
        The rows are those of SDCN's ``usps.txt``, in the same order.
    """
    import h5py

    path = _usps_h5_path(Path(root))
    _require("usps", [path], source="niuers/Learning-From-Data-A-Short-Course data/usps.h5 (also on Kaggle)")
    with h5py.File(path, "r") as f:
        x = np.concatenate([f["train/data"][()], f["test/data"][()]]).astype(np.float32)
        y = np.concatenate([f["train/target"][()], f["test/target"][()]])
    return Data(x=torch.from_numpy(x.reshape(len(x), -1)), y=_check_labels(y, len(x), path),
                image_shape=(1, 16, 16), name="usps")


# --------------------------------------------------------------------------------------------
# IDX (MNIST, Fashion-MNIST)
# --------------------------------------------------------------------------------------------

_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_IDX_IMAGES_MAGIC, _IDX_LABELS_MAGIC = 2051, 2049
_IDX_SOURCES = {
    "mnist": "the original MNIST files (Y. LeCun, C. Cortes, C. Burges), e.g. the torchvision mirror "
             "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "zalandoresearch/fashion-mnist data/fashion/ (MIT), or the Debian package "
                     f"dataset-fashion-mnist (installs them in {DEBIAN_FASHION_MNIST_DIR})",
}


def _idx_dirs(root: Path, name: str) -> list[Path]:
    """Folders searched, in order: our layout, torchvision's layout, (Fashion) Debian's."""
    if name == "mnist":
        return [root / "mnist" / "raw", root / "MNIST" / "raw"]
    if name == "fashion-mnist":
        return [root / "fashion_mnist" / "raw", root / "FashionMNIST" / "raw", DEBIAN_FASHION_MNIST_DIR]
    raise ValueError(f"unknown IDX dataset {name!r}; valid: ['fashion-mnist', 'mnist']")


def _locate_idx(root: Path, name: str, search_dirs: Sequence[Path] | None = None) -> list[Path]:
    dirs = [Path(d) for d in search_dirs] if search_dirs is not None else _idx_dirs(Path(root), name)
    for d in dirs:
        found = []
        for stem in _IDX_FILES:  # gz as distributed, or already gunzipped (torchvision extracts them)
            hit = next((p for p in (d / f"{stem}.gz", d / stem) if p.is_file()), None)
            found.append(hit)
        if all(found):
            return found
    expected = [dirs[0] / f"{stem}.gz" for stem in _IDX_FILES]
    alternatives = [[d / f"{stem}.gz" for stem in _IDX_FILES] for d in dirs[1:]]
    raise DatasetNotFoundError(name, expected, alternatives=alternatives, source=_IDX_SOURCES.get(name),
                               note="(uncompressed copies without .gz are accepted too)")


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """An IDX file (big-endian int32 magic, int32 dims, then uint8 data) -> uint8 array."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise ValueError(f"{path}: IDX magic number {found}, expected {magic}")
    ndim = magic & 0xFF
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)):
        raise ValueError(f"{path}: {len(raw) - offset} data bytes for shape {dims}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def load_idx(root: os.PathLike | str, name: str, *, search_dirs: Sequence[os.PathLike | str] | None = None) -> Data:
    """MNIST or Fashion-MNIST from the four original IDX files (gzipped or not).

    Files ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`` are looked for in
    ``<root>/mnist/raw/`` (MNIST) or ``<root>/fashion_mnist/raw/`` (Fashion-MNIST), then in
    torchvision's ``<root>/MNIST/raw/`` / ``<root>/FashionMNIST/raw/``, then, for Fashion-MNIST,
    in ``/usr/share/datasets/fashion-mnist/`` (Debian package ``dataset-fashion-mnist``).
    Headers are checked: magic 2051 (images, ``[n, 28, 28]`` uint8) and 2049 (labels).

    Args:
        root: the data root.
        name: ``"mnist"`` or ``"fashion-mnist"``.
        search_dirs: folders to search instead of the default ones.

    Returns:
        train (60000) then test (10000): ``x`` float32 ``[70000, 784]`` in [0, 1] (pixel / 255),
        ``y`` long ``[70000]`` (10 classes), ``edge_index=None``, ``image_shape=(1, 28, 28)``.
    """
    name = name.lower().replace("_", "-")
    train_x, train_y, test_x, test_y = _locate_idx(Path(root), name, search_dirs)
    images = np.concatenate([_read_idx(train_x, _IDX_IMAGES_MAGIC), _read_idx(test_x, _IDX_IMAGES_MAGIC)])
    labels = np.concatenate([_read_idx(train_y, _IDX_LABELS_MAGIC), _read_idx(test_y, _IDX_LABELS_MAGIC)])
    n, h, w = images.shape
    x = torch.from_numpy(images.reshape(n, h * w)).float().div_(255.0)  # [N, H*W]
    return Data(x=x, y=_check_labels(labels, n, train_y), image_shape=(1, h, w), name=name)


# --------------------------------------------------------------------------------------------
# The catalog front end
# --------------------------------------------------------------------------------------------

def _read(entry: dict, root: Path, *, download: bool, graph: bool) -> Data:
    fmt, args = entry["format"], entry.get("format_args", {})
    if fmt == "sklearn-digits":
        return load_digits()
    if fmt == "planetoid":
        return load_planetoid(root, args["name"], download=download)
    if fmt == "amazon":
        return load_amazon(root, args["name"], download=download)
    if fmt == "sdcn":
        return load_sdcn(root, args["name"], k=args.get("k", 3), graph=graph)
    if fmt == "idx":
        return load_idx(root, args["name"], search_dirs=_search_dirs(root, args))
    if fmt == "usps":
        return _load_usps(root)
    if fmt == "sbm":
        return make_sbm(**entry.get("params", {}))
    if fmt == "blobs":
        return make_blobs_graph(**entry.get("params", {}))
    raise ValueError(f"catalog entry {entry['name']!r} has unknown format {fmt!r}")


def _search_dirs(root: Path, args: dict) -> list[Path] | None:
    """Catalog ``search_dirs`` are relative to the data root unless absolute."""
    dirs = args.get("search_dirs")
    return None if dirs is None else [root / d for d in dirs]


def _load_usps(root: Path) -> Data:
    """``usps/usps.h5``, else the same rows from SDCN's ``usps.txt`` + ``usps_label.txt``."""
    h5 = _usps_h5_path(root)
    if h5.is_file():
        return load_usps_h5(root)
    features, labels, _, _ = _sdcn_paths(root, "usps", 3, graph=False)
    if features.is_file() and labels.is_file():
        return load_sdcn(root, "usps", graph=False)
    raise DatasetNotFoundError("usps", [h5], alternatives=[[features, labels]])


def _locate(entry: dict, root: Path) -> None:
    """Raise ``DatasetNotFoundError`` unless the files ``load_dataset`` needs are present."""
    fmt, args = entry["format"], entry.get("format_args", {})
    if fmt == "planetoid":
        key, _, paths = _planetoid_paths(root, args["name"])
        _require(key, paths)
    elif fmt == "amazon":
        _require(entry["name"], [_amazon_path(root, args["name"])])
    elif fmt == "sdcn":
        _locate_sdcn(root, args["name"], args.get("k", 3), graph=True)
    elif fmt == "idx":
        _locate_idx(root, args["name"], _search_dirs(root, args))
    elif fmt == "usps":
        h5 = _usps_h5_path(root)
        features, labels, _, _ = _sdcn_paths(root, "usps", 3, graph=False)
        if not (h5.is_file() or (features.is_file() and labels.is_file())):
            raise DatasetNotFoundError("usps", [h5], alternatives=[[features, labels]])


def load_dataset(
    name: str,
    root: os.PathLike | str | None = None,
    *,
    download: bool = False,
    graph: bool = True,
) -> Data:
    """Load a catalog dataset (``list_datasets()``) as one ``torch_geometric.data.Data``.

    Args:
        name: catalog name (case-insensitive; aliases such as ``fmnist`` accepted).
        root: the data root; default ``$GRAPHCLUST_DATA``, else the repository's ``datasets/``.
        download: for Planetoid and Amazon data only, let PyG download missing raw files into
            the data root. Other datasets cannot be downloaded automatically.
        graph: ``True``: a dataset with a graph (given, or a precomputed SDCN graph file) gets
            ``edge_index``; a dataset whose graph is a kNN graph gets ``data.graph_recipe``, the
            keyword arguments for ``graphclust.graphs.knn_graph`` (e.g. ``{"n_neighbors": 3,
            "recipe": "heat"}``), and ``edge_index=None``: the estimator builds the graph.
            ``False``: features and labels only (no ``edge_index``, no ``graph_recipe``).

    Returns:
        ``Data`` with ``x`` float32 ``[N, F]``, ``y`` long ``[N]`` (0-based), ``edge_index`` long
        ``[2, E]`` or ``None``, ``name`` (the catalog name), and when they apply ``image_shape``
        ``(C, H, W)`` and ``graph_recipe`` (read both with ``getattr(data, key, None)``).

    Raises:
        ValueError: unknown name (the message lists the valid names).
        DatasetNotFoundError: (a ``FileNotFoundError``) files missing; the message lists the full
            expected paths and the source to get them from.
    """
    entry = get_entry(name)
    root = data_root(root)
    try:
        data = _read(entry, root, download=download, graph=graph)
    except DatasetNotFoundError as err:
        can_download = entry.get("download") == "pyg"
        notes = [
            f"Data root: {root} (set it with root=... or the {DATA_ENV} environment variable; "
            "the expected layout is in datasets/README.md)."
        ]
        if can_download and not download:
            notes.append("Or pass download=True to let PyG download the raw files into the data root.")
        elif download and not can_download:
            notes.append(f"Automatic download is not supported for {entry['name']!r}.")
        items = entry.get("files", []) + entry.get("alternative_files", [])
        hints = {root / item["path"]: item["note"] for item in items if item.get("note")}
        raise err.with_context(entry["name"], _source_line(entry), " ".join(notes), hints) from None

    spec = entry["graph"]
    if not graph:
        data.edge_index = None
    elif spec["type"] == "knn":
        data.graph_recipe = {key: spec[key] for key in _KNN_RECIPE_KEYS if key in spec}
    data.name = entry["name"]
    _warn_on_shape_mismatch(entry, data)
    return data


def _source_line(entry: dict) -> str:
    src = entry.get("source", {})
    parts = [src.get("origin"), f"license: {src['license']}" if src.get("license") else None, src.get("url")]
    return "; ".join(p for p in parts if p)


def _warn_on_shape_mismatch(entry: dict, data: Data) -> None:
    expected = (entry.get("n_samples"), entry.get("n_features"))
    if entry["format"] in ("sbm", "blobs") or None in expected:
        return
    if tuple(data.x.shape) != expected:
        warnings.warn(
            f"{entry['name']}: loaded x of shape {tuple(data.x.shape)}, the catalog says {expected}; "
            "the files under the data root differ from the catalogued ones",
            stacklevel=3,
        )


def dataset_available(name: str, root: os.PathLike | str | None = None) -> bool:
    """Whether ``load_dataset(name, root)`` would find its files (nothing is read)."""
    entry = get_entry(name)
    try:
        _locate(entry, data_root(root))
    except DatasetNotFoundError:
        return False
    return True


def verify_dataset(name: str, root: os.PathLike | str | None = None) -> dict[str, str]:
    """sha256-check the catalogued files of a dataset under the data root.

    Every file of ``files`` is reported; ``alternative_files`` and ``extra_files`` only when present.

    Returns:
        ``{full path: status}`` with status ``"ok"``, ``"missing"``, ``"mismatch"`` or
        ``"unchecked"`` (the catalog has no checksum for that file).
    """
    entry = get_entry(name)
    root = data_root(root)
    optional = entry.get("alternative_files", []) + entry.get("extra_files", [])
    report = {}
    for item in entry.get("files", []) + [i for i in optional if (root / i["path"]).is_file()]:
        path = root / item["path"]
        if not path.is_file():
            status = "missing"
        elif not item.get("sha256"):
            status = "unchecked"
        else:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            status = "ok" if digest.hexdigest() == item["sha256"] else "mismatch"
        report[str(path)] = status
    return report
