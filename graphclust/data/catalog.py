"""The dataset catalog (``graphclust/data/catalog.json``) and the data root.

The catalog is one JSON file shipped with the package, ``catalog.json`` beside this module (override:
environment variable ``GRAPHCLUST_CATALOG``), so that an installed package, not only a source
checkout, knows its datasets. It holds one entry per dataset: ``name`` (the
lowercase key), ``kind`` (graph | image | tabular | text), ``description``, ``source`` (origin,
license, url), ``files`` (paths relative to the data root, with sha256 where known),
``n_samples``, ``n_features``, ``n_classes``, ``image_shape``, ``graph`` (how the dataset becomes a
graph: ``{"type": "given"}``, ``{"type": "file", "path": ...}``, ``{"type": "knn",
"n_neighbors": k, ...}`` or ``{"type": "generated"}``) and ``format`` / ``format_args`` (which
reader in :mod:`graphclust.data.loaders` reads it).

The data root is where the files live: ``data_root(root)`` picks the explicit ``root``, else the
environment variable ``GRAPHCLUST_DATA``, else the repository's ``datasets/`` folder in a source
checkout, else ``datasets/`` in the working directory.
"""
from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from pathlib import Path

__all__ = ["CATALOG_ENV", "DATA_ENV", "catalog_path", "data_root", "list_datasets", "dataset_info", "get_entry"]

CATALOG_ENV = "GRAPHCLUST_CATALOG"
DATA_ENV = "GRAPHCLUST_DATA"
_CATALOG = Path(__file__).resolve().with_name("catalog.json")
_REPO_DATASETS = Path(__file__).resolve().parents[2] / "datasets"  # in a source checkout
_REQUIRED_KEYS = ("name", "kind", "description", "source", "files", "n_samples", "n_features",
                  "n_classes", "graph", "format")
_KINDS = ("graph", "image", "tabular", "text")


def catalog_path() -> Path:
    """``$GRAPHCLUST_CATALOG`` if set, else the package's ``graphclust/data/catalog.json``."""
    override = os.environ.get(CATALOG_ENV)
    return Path(override).expanduser() if override else _CATALOG


def data_root(root: os.PathLike | str | None = None) -> Path:
    """The folder holding the data files: ``root`` > ``$GRAPHCLUST_DATA`` > ``<repo>/datasets`` in a
    source checkout > ``./datasets`` (an installed package has no repository).

    The path is returned as given (expanded ``~``); it need not exist.
    """
    if root is None:
        root = os.environ.get(DATA_ENV) or (_REPO_DATASETS if _REPO_DATASETS.is_dir() else Path("datasets"))
    return Path(root).expanduser()


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> tuple[dict[str, dict], dict[str, str]]:
    """Parse and check the catalog; returns (entries by name, alias -> name)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"dataset catalog {path} is not valid JSON: {err}") from None
    entries: dict[str, dict] = {}
    aliases: dict[str, str] = {}
    for entry in raw.get("datasets", []):
        missing = [key for key in _REQUIRED_KEYS if key not in entry]
        if missing:
            raise ValueError(f"dataset catalog {path}: entry {entry.get('name')!r} lacks {missing}")
        name = entry["name"]
        if name != name.lower() or name in entries:
            raise ValueError(f"dataset catalog {path}: name {name!r} is not lowercase or is duplicated")
        if entry["kind"] not in _KINDS:
            raise ValueError(f"dataset catalog {path}: {name!r} has kind {entry['kind']!r}, not one of {_KINDS}")
        entries[name] = entry
        for alias in entry.get("aliases", []):
            aliases[_normalise(alias)] = name
    return entries, aliases


def _catalog() -> tuple[dict[str, dict], dict[str, str]]:
    path = catalog_path()
    if not path.is_file():
        raise FileNotFoundError(f"dataset catalog not found at {path} (set {CATALOG_ENV} to its path)")
    return _load(str(path), path.stat().st_mtime_ns)


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def list_datasets() -> list[str]:
    """Catalog names, in catalog order."""
    return list(_catalog()[0])


def get_entry(name: str) -> dict:
    """A deep copy of the catalog entry for ``name`` (case-insensitive; ``_`` == ``-``; aliases).

    Raises:
        ValueError: unknown name; the message lists the valid names.
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    entries, aliases = _catalog()
    key = _normalise(name)
    key = key if key in entries else aliases.get(key)
    if key is None:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(entries)}")
    return copy.deepcopy(entries[key])


def dataset_info(name: str) -> dict:
    """The catalog entry for ``name`` as a dict (a copy: editing it changes nothing)."""
    return get_entry(name)
