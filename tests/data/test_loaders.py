"""Dataset catalog and loaders: real files from the shared data root, tiny hand-made files for
the parsers and the error paths.

The real data root is ``$GRAPHCLUST_DATA`` or ``/work/shared/data`` (real-data tests skip when it
is absent). Expected figures come from its ``SOURCES.md``. Every real dataset is loaded once per
module; the whole file runs in about 10 s.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from graphclust.data import (
    DatasetNotFoundError,
    data_root,
    dataset_available,
    dataset_info,
    list_datasets,
    load_dataset,
    load_idx,
    load_sdcn,
    verify_dataset,
)
from graphclust.data import catalog
from graphclust.data.loaders import DEBIAN_FASHION_MNIST_DIR

REAL_ROOT = Path(os.environ.get("GRAPHCLUST_DATA", "/work/shared/data"))
ALL_NAMES = {"digits", "cora", "citeseer", "amazon-photo", "usps", "acm", "dblp", "cite", "mnist",
             "fashion-mnist", "hhar", "reut", "sbm", "blobs"}
FILE_BACKED = sorted(n for n in ALL_NAMES if dataset_info(n)["files"])
NOT_IN_OUR_DATA = ("hhar", "reut")

# name -> (N, F, classes, directed edge pairs or None)   (SOURCES.md)
GRAPHS = {
    "cora": (2708, 1433, 7, 10556),
    "citeseer": (3327, 3703, 6, 9104),
    "amazon-photo": (7650, 745, 8, 238162),
    "acm": (3025, 1870, 3, 26256),
    "dblp": (4057, 334, 4, 7056),
    "cite": (3327, 3703, 6, 9104),
}
USPS_COUNTS = [1553, 1269, 929, 824, 852, 716, 834, 792, 708, 821]
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


# --------------------------------------------------------------------------------------------
# fixtures and helpers
# --------------------------------------------------------------------------------------------

def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under root with its size and mtime."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.stat(os.path.join(dirpath, name))
            out[os.path.relpath(os.path.join(dirpath, name), root)] = (st.st_size, st.st_mtime_ns)
    st = os.stat(root)
    out["."] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def real():
    """``real(name, **kw)`` loads from the real root once per module; ``real.before`` is the
    root's listing taken before the first load."""
    if not REAL_ROOT.is_dir():
        pytest.skip(f"real data root {REAL_ROOT} does not exist (set GRAPHCLUST_DATA)")
    cache = {}

    def get(name, **kwargs):
        key = (name, tuple(sorted(kwargs.items())))
        if key not in cache:
            if not dataset_available(name, REAL_ROOT):
                pytest.skip(f"{name} is not under {REAL_ROOT}")
            cache[key] = load_dataset(name, REAL_ROOT, **kwargs)
        return cache[key]

    get.before = _snapshot(REAL_ROOT)
    return get


def _assert_undirected(edge_index: torch.Tensor, n: int) -> None:
    assert edge_index.dtype == torch.long and edge_index.shape[0] == 2
    assert int(edge_index.min()) >= 0 and int(edge_index.max()) < n
    assert not (edge_index[0] == edge_index[1]).any(), "self loops"
    keys = edge_index[0] * n + edge_index[1]
    assert keys.unique().numel() == keys.numel(), "duplicate edges"
    reverse = edge_index[1] * n + edge_index[0]
    assert torch.equal(keys.sort().values, reverse.sort().values), "not symmetric"


def _write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = struct.pack(">i", magic) + b"".join(struct.pack(">i", d) for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


# --------------------------------------------------------------------------------------------
# catalog
# --------------------------------------------------------------------------------------------

def test_catalog_entries_are_complete():
    assert set(list_datasets()) == ALL_NAMES
    graph_types = {"given", "file", "knn", "generated"}
    for name in list_datasets():
        info = dataset_info(name)
        assert info["name"] == name == name.lower()
        assert info["kind"] in {"graph", "image", "tabular", "text"}
        assert info["description"] and info["source"]["origin"] and info["source"]["license"]
        assert {"n_samples", "n_features", "n_classes", "image_shape"} <= set(info)
        assert info["graph"]["type"] in graph_types
        if info["kind"] == "image":
            c, h, w = info["image_shape"]
            assert c * h * w == info["n_features"]
        for item in info["files"]:
            assert not item["path"].startswith("/") and "\\" not in item["path"]
            if "sha256" in item:
                assert re.fullmatch(r"[0-9a-f]{64}", item["sha256"])


def test_catalog_graph_recipes():
    assert dataset_info("cora")["graph"] == {"type": "given"}
    assert dataset_info("acm")["graph"] == {"type": "file", "path": "sdcn/graph/acm_graph.txt"}
    usps = dataset_info("usps")["graph"]
    assert (usps["type"], usps["n_neighbors"], usps["recipe"]) == ("knn", 3, "heat")
    assert dataset_info("mnist")["graph"] == {"type": "knn", "n_neighbors": 10}


def test_catalog_checksums_match_sources_md():
    sources = REAL_ROOT / "SOURCES.md"
    if not sources.is_file():
        pytest.skip(f"{sources} not found")
    sha = dict(re.findall(r"^\| ([\w./-]+) \| \d+ \| ([0-9a-f]{64}) \|", sources.read_text(), re.M))
    catalogued = {}
    for name in list_datasets():
        info = dataset_info(name)
        for item in info["files"] + info.get("alternative_files", []) + info.get("extra_files", []):
            if "sha256" in item:
                catalogued[item["path"]] = item["sha256"]
    assert catalogued == sha  # every file SOURCES.md lists is catalogued, with the same checksum


def test_dataset_info_is_a_copy_and_names_are_normalised():
    info = dataset_info("cora")
    info["n_samples"] = -1
    assert dataset_info("cora")["n_samples"] == 2708
    assert dataset_info("Fashion_MNIST")["name"] == "fashion-mnist"
    assert dataset_info("fmnist")["name"] == "fashion-mnist"
    assert dataset_info(" CORA ")["name"] == "cora"


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as err:
        load_dataset("pubmed-xl")
    for name in ALL_NAMES:
        assert name in str(err.value)
    with pytest.raises(ValueError, match="valid names"):
        dataset_info("nope")


def test_data_root_precedence(monkeypatch, tmp_path):
    repo_datasets = Path(__file__).resolve().parents[2] / "datasets"
    monkeypatch.delenv("GRAPHCLUST_DATA", raising=False)
    assert data_root() == repo_datasets
    monkeypatch.setenv("GRAPHCLUST_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("GRAPHCLUST_DATA")
    monkeypatch.setattr(catalog, "_REPO_DATASETS", tmp_path / "no-checkout")  # installed without the repository
    assert data_root() == Path("datasets")


def test_the_catalog_ships_with_the_package(monkeypatch):
    """An installed package (a wheel, no checkout) knows its datasets: the catalog is package data."""
    monkeypatch.delenv("GRAPHCLUST_CATALOG", raising=False)
    assert catalog.catalog_path() == Path(catalog.__file__).with_name("catalog.json")
    assert set(list_datasets()) == ALL_NAMES
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "catalog.json" in pyproject["tool"]["setuptools"]["package-data"]["graphclust.data"]


def test_catalog_env_override(monkeypatch, tmp_path):
    entry = {"name": "tiny", "kind": "tabular", "description": "d", "source": {"origin": "o", "license": "l"},
             "files": [], "n_samples": 300, "n_features": 8, "n_classes": 3, "image_shape": None,
             "graph": {"type": "knn", "n_neighbors": 4}, "format": "blobs", "params": {"random_state": 1}}
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"datasets": [entry]}))
    monkeypatch.setenv("GRAPHCLUST_CATALOG", str(path))
    assert list_datasets() == ["tiny"]
    data = load_dataset("tiny")
    assert data.x.shape == (300, 8) and data.graph_recipe == {"n_neighbors": 4}


# --------------------------------------------------------------------------------------------
# real data
# --------------------------------------------------------------------------------------------

def test_digits_needs_no_files(tmp_path):
    data = load_dataset("digits", root=tmp_path)
    assert data.x.shape == (1797, 64) and data.x.dtype == torch.float32
    assert 0.0 <= float(data.x.min()) and float(data.x.max()) == 1.0
    assert data.y.dtype == torch.long and data.y.unique().tolist() == list(range(10))
    assert data.edge_index is None
    assert data.image_shape == (1, 8, 8) and data.graph_recipe == {"n_neighbors": 10}
    assert data.name == "digits"


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_datasets_match_sources_md(real, name):
    n, f, k, n_edges = GRAPHS[name]
    data = real(name)
    assert data.x.shape == (n, f) and data.x.dtype == torch.float32
    assert data.y.shape == (n,) and data.y.dtype == torch.long
    assert data.y.unique().tolist() == list(range(k))
    assert data.edge_index.shape == (2, n_edges)
    _assert_undirected(data.edge_index, n)
    assert getattr(data, "image_shape", None) is None and getattr(data, "graph_recipe", None) is None
    assert data.name == name


def test_cite_labels_are_amgcn_labels(real):
    data = real("cite")
    with zipfile.ZipFile(REAL_ROOT / "sdcn/extra/amgcn_citeseer.zip") as zf:
        amgcn = np.array(zf.read("citeseer/citeseer.label").split(), dtype=np.int64)
    assert torch.equal(data.y, torch.from_numpy(amgcn))
    assert set(np.unique(data.x.numpy())) == {0.0, 1.0}


def test_usps(real):
    data = real("usps")
    assert data.x.shape == (9298, 256) and data.x.dtype == torch.float32
    assert 0.0 <= float(data.x.min()) and float(data.x.max()) <= 1.0
    assert torch.bincount(data.y).tolist() == USPS_COUNTS
    assert data.image_shape == (1, 16, 16)
    assert data.edge_index is None and data.graph_recipe == {"n_neighbors": 3, "recipe": "heat"}


def test_usps_txt_equals_h5_and_sdcn_graph(real):
    h5 = real("usps")
    txt = load_sdcn(REAL_ROOT, "usps")  # SDCN's precomputed heat graph, k=3
    assert torch.allclose(txt.x, h5.x, atol=1e-6)  # written with %f
    assert torch.equal(txt.y, h5.y)
    assert txt.image_shape == (1, 16, 16)
    assert txt.edge_index.shape == (2, 42904)  # 27894 lines, union-symmetrised
    _assert_undirected(txt.edge_index, 9298)


def test_usps_falls_back_to_sdcn_text(real, tmp_path):
    (tmp_path / "sdcn").mkdir()
    (tmp_path / "sdcn" / "data").symlink_to(REAL_ROOT / "sdcn" / "data")
    data = load_dataset("usps", root=tmp_path)
    assert torch.allclose(data.x, real("usps").x, atol=1e-6)
    assert data.image_shape == (1, 16, 16) and data.graph_recipe == {"n_neighbors": 3, "recipe": "heat"}


def test_mnist(real):
    data = real("mnist")
    assert data.x.shape == (70000, 784) and data.x.dtype == torch.float32
    assert float(data.x.min()) == 0.0 and float(data.x.max()) == 1.0
    assert torch.bincount(data.y[:60000]).tolist() == MNIST_TRAIN_COUNTS
    assert data.image_shape == (1, 28, 28) and data.graph_recipe == {"n_neighbors": 10}


def test_fashion_mnist(real):
    data = real("fashion-mnist")
    assert data.x.shape == (70000, 784) and data.x.dtype == torch.float32
    assert torch.bincount(data.y).tolist() == [7000] * 10
    assert torch.bincount(data.y[:60000]).tolist() == [6000] * 10
    assert data.image_shape == (1, 28, 28)


def test_graph_false_drops_graph(real):
    assert real("dblp", graph=False).edge_index is None
    usps = real("usps", graph=False)
    assert usps.edge_index is None and getattr(usps, "graph_recipe", None) is None


@pytest.mark.parametrize("name", NOT_IN_OUR_DATA)
def test_missing_sdcn_features_raise_helpful_error(name):
    if not REAL_ROOT.is_dir():
        pytest.skip(f"real data root {REAL_ROOT} does not exist")
    features = REAL_ROOT / "sdcn" / "data" / f"{name}.txt"
    if features.is_file():
        pytest.skip(f"{features} exists")
    assert not dataset_available(name, REAL_ROOT)
    with pytest.raises(FileNotFoundError) as err:
        load_dataset(name, REAL_ROOT)
    message = str(err.value)
    assert f"{features}   <- missing" in message and "bdy9527/SDCN" in message
    assert str(REAL_ROOT / "sdcn" / "data" / f"{name}_label.txt") in message


def test_verify_dataset(real, tmp_path):
    assert set(verify_dataset("cora", REAL_ROOT).values()) == {"ok"}
    assert set(verify_dataset("cora", tmp_path).values()) == {"missing"}


def test_download_uses_pyg_classes_with_the_data_root(real, tmp_path, monkeypatch):
    """``download=True`` hands PyG ``root=<data root>/planetoid`` (and ``/amazon``); this fake
    copies the real raw files instead of downloading."""
    import torch_geometric.datasets as pyg_datasets

    calls = []

    def fake(subdir):
        def make(root, name):
            calls.append((Path(root), name))
            shutil.copytree(REAL_ROOT / subdir / name / "raw", Path(root) / name / "raw")
        return make

    monkeypatch.setattr(pyg_datasets, "Planetoid", fake("planetoid"))
    monkeypatch.setattr(pyg_datasets, "Amazon", fake("amazon"))
    cora = load_dataset("cora", root=tmp_path, download=True)
    photo = load_dataset("amazon-photo", root=tmp_path, download=True)
    assert calls == [(tmp_path / "planetoid", "Cora"), (tmp_path / "amazon", "Photo")]
    assert cora.x.shape == (2708, 1433) and photo.edge_index.shape == (2, 238162)


def test_loading_never_writes_into_data_root(real):
    for name in sorted(ALL_NAMES):
        if dataset_info(name)["files"] and dataset_available(name, REAL_ROOT):
            real(name)
    load_sdcn(REAL_ROOT, "usps")
    assert _snapshot(REAL_ROOT) == real.before


# --------------------------------------------------------------------------------------------
# missing files and tiny hand-made files (no real data needed)
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FILE_BACKED)
def test_missing_dataset_names_the_expected_paths(tmp_path, name):
    if name == "fashion-mnist" and DEBIAN_FASHION_MNIST_DIR.is_dir():
        pytest.skip(f"{DEBIAN_FASHION_MNIST_DIR} exists (Debian package installed)")
    assert not dataset_available(name, tmp_path)
    with pytest.raises(FileNotFoundError) as err:
        load_dataset(name, root=tmp_path)
    assert isinstance(err.value, DatasetNotFoundError)
    message = str(err.value)
    first = dataset_info(name)["files"][0]["path"]
    assert f"{tmp_path / first}   <- missing" in message
    assert dataset_info(name)["source"]["license"] in message
    assert "GRAPHCLUST_DATA" in message
    if dataset_info(name).get("download") == "pyg":
        assert "download=True" in message
    assert list(tmp_path.iterdir()) == []  # nothing was created


def test_missing_usps_names_both_layouts(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_dataset("usps", root=tmp_path)
    message = str(err.value)
    assert str(tmp_path / "usps" / "usps.h5") in message
    assert str(tmp_path / "sdcn" / "data" / "usps.txt") in message


def test_download_is_refused_where_unsupported(tmp_path):
    if DEBIAN_FASHION_MNIST_DIR.is_dir():
        pytest.skip(f"{DEBIAN_FASHION_MNIST_DIR} exists")
    with pytest.raises(FileNotFoundError, match="not supported"):
        load_dataset("fashion-mnist", root=tmp_path, download=True)


@pytest.fixture
def tiny_sdcn(tmp_path):
    """A 4-sample dataset in SDCN text format under the name ``acm`` (CRLF, like acm.txt)."""
    (tmp_path / "sdcn" / "data").mkdir(parents=True)
    (tmp_path / "sdcn" / "graph").mkdir()
    (tmp_path / "sdcn" / "data" / "acm.txt").write_bytes(b"1 0 0\r\n0 1 0\r\n0 0 1\r\n1 1 0\r\n")
    (tmp_path / "sdcn" / "data" / "acm_label.txt").write_text("0\n1\n2\n0\n")
    # one direction only, a duplicate and a self loop
    (tmp_path / "sdcn" / "graph" / "acm_graph.txt").write_text("0 1\n1 0\n2 3\n3 3\n")
    return tmp_path


def test_sdcn_text_format(tiny_sdcn):
    data = load_sdcn(tiny_sdcn, "acm")
    assert torch.equal(data.x, torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], dtype=torch.float32))
    assert data.y.tolist() == [0, 1, 2, 0]
    assert sorted(map(tuple, data.edge_index.t().tolist())) == [(0, 1), (1, 0), (2, 3), (3, 2)]
    with pytest.warns(UserWarning, match="catalog says"):
        load_dataset("acm", root=tiny_sdcn)


def test_sdcn_rejects_bad_files(tiny_sdcn):
    graph = tiny_sdcn / "sdcn" / "graph" / "acm_graph.txt"
    graph.write_text("0 7\n")
    with pytest.raises(ValueError, match="outside"):
        load_sdcn(tiny_sdcn, "acm")
    (tiny_sdcn / "sdcn" / "data" / "acm.txt").write_text("1 0 0\n0 1\n")
    with pytest.raises(ValueError, match="not a rectangular numeric matrix"):
        load_sdcn(tiny_sdcn, "acm", graph=False)


def test_cite_features_come_from_the_zip_and_labels_shift(tmp_path):
    sdcn = tmp_path / "sdcn"
    (sdcn / "data").mkdir(parents=True)
    (sdcn / "graph").mkdir()
    (sdcn / "extra").mkdir()
    with zipfile.ZipFile(sdcn / "extra" / "amgcn_citeseer.zip", "w") as zf:
        zf.writestr("citeseer/citeseer.feature", "0.000000 1.000000\n1.000000 0.000000\n")
    (sdcn / "data" / "cite_label.txt").write_text("1\n2\n")
    (sdcn / "graph" / "cite_graph.txt").write_text("0 1\n")
    data = load_sdcn(tmp_path, "cite")
    assert data.x.tolist() == [[0.0, 1.0], [1.0, 0.0]] and data.y.tolist() == [0, 1]
    (sdcn / "data" / "cite.txt").write_text("5 5\n6 6\n")  # SDCN's own file wins when present
    assert load_sdcn(tmp_path, "cite").x.tolist() == [[5.0, 5.0], [6.0, 6.0]]
    assert not any(p.name == "citeseer.feature" for p in tmp_path.rglob("*"))  # nothing extracted


def test_idx_parser(tmp_path):
    raw = tmp_path / "mnist" / "raw"
    raw.mkdir(parents=True)
    train = np.arange(2 * 2 * 3).reshape(2, 2, 3) * 10
    _write_idx(raw / "train-images-idx3-ubyte.gz", train, 2051)
    _write_idx(raw / "train-labels-idx1-ubyte.gz", np.array([3, 1]), 2049)
    _write_idx(raw / "t10k-images-idx3-ubyte.gz", np.full((1, 2, 3), 255), 2051)
    _write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.array([7]), 2049)
    data = load_idx(tmp_path, "mnist")
    assert data.x.shape == (3, 6) and data.image_shape == (1, 2, 3)
    assert torch.allclose(data.x[0], torch.arange(6, dtype=torch.float32) * 10 / 255)
    assert data.x[2].tolist() == [1.0] * 6 and data.y.tolist() == [3, 1, 7]
    _write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.array([7]), 2051)
    with pytest.raises(ValueError, match="magic"):
        load_idx(tmp_path, "mnist")


def test_idx_accepts_torchvision_layout_and_uncompressed(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for stem, arr, magic in [("train-images-idx3-ubyte", np.zeros((1, 2, 2)), 2051),
                             ("train-labels-idx1-ubyte", np.array([4]), 2049),
                             ("t10k-images-idx3-ubyte", np.ones((1, 2, 2)), 2051),
                             ("t10k-labels-idx1-ubyte", np.array([5]), 2049)]:
        _write_idx(raw / f"{stem}.gz", arr, magic)
        (raw / stem).write_bytes(gzip.decompress((raw / f"{stem}.gz").read_bytes()))
        (raw / f"{stem}.gz").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 2 samples, not the catalogued 70000
        data = load_dataset("fashion-mnist", root=tmp_path)
    assert data.y.tolist() == [4, 5] and data.x.shape == (2, 4)
