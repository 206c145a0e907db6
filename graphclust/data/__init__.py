"""Datasets: the catalog in ``graphclust/data/catalog.json``, loaders for its file formats, synthetic graphs.

>>> from graphclust.data import load_dataset, list_datasets
>>> data = load_dataset("digits")          # bundled with scikit-learn, no files needed
>>> data.x.shape, data.graph_recipe
(torch.Size([1797, 64]), {'n_neighbors': 10})

Real datasets are read from the data root (``root=`` > ``$GRAPHCLUST_DATA`` > the repository's
``datasets/``); ``datasets/README.md`` gives the layout and sources.
"""
from graphclust.data.catalog import data_root, dataset_info, list_datasets
from graphclust.data.loaders import (
    DatasetNotFoundError,
    dataset_available,
    load_amazon,
    load_dataset,
    load_digits,
    load_idx,
    load_planetoid,
    load_sdcn,
    load_usps_h5,
    verify_dataset,
)
from graphclust.data.synthetic import make_blobs_graph, make_sbm

__all__ = [
    "load_dataset",
    "list_datasets",
    "dataset_info",
    "data_root",
    "dataset_available",
    "verify_dataset",
    "DatasetNotFoundError",
    "make_sbm",
    "make_blobs_graph",
    "load_digits",
    "load_planetoid",
    "load_amazon",
    "load_sdcn",
    "load_usps_h5",
    "load_idx",
]
