"""The kNN graph disk cache: a stored graph comes back for the same features and settings only."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from graphclust.graphs import cache
from graphclust.graphs.cache import CACHE_ENV, cached_knn_graph, graph_cache_dir
from graphclust.graphs.knn import knn_graph
from graphclust.models.sddecc import SDDECC


@pytest.fixture
def points():
    return torch.as_tensor(np.random.default_rng(0).normal(size=(60, 5)), dtype=torch.float32)


@pytest.fixture
def builds(monkeypatch):
    """The calls that reached the real builder."""
    calls = []

    def counting(x, **kwargs):
        calls.append(kwargs)
        return knn_graph(x, **kwargs)

    monkeypatch.setattr(cache, "knn_graph", counting)
    return calls


def test_a_stored_graph_is_read_back_for_the_same_features_and_settings(points, tmp_path, builds):
    reports = [{}, {}]
    first = cached_knn_graph(points, cache_dir=tmp_path, n_neighbors=3, random_state=1, report=reports[0])
    again = cached_knn_graph(points, cache_dir=tmp_path, n_neighbors=3, random_state=2,  # exact: seed ignored
                             report=reports[1])
    assert len(builds) == 1 and len(list(tmp_path.glob("knn_*.pt"))) == 1
    assert reports == [{"source": "built"}, {"source": "cache"}]
    for a, b, c in zip(first, again, knn_graph(points, n_neighbors=3)):
        assert torch.equal(a, b) and torch.equal(a, c)
    cached_knn_graph(points, cache_dir=tmp_path, n_neighbors=4)  # another k
    cached_knn_graph(points + 1e-3, cache_dir=tmp_path, n_neighbors=3)  # other features
    cached_knn_graph(points, cache_dir=tmp_path, n_neighbors=3, weight="heat")  # another weight
    assert len(builds) == 4 and len(list(tmp_path.glob("knn_*.pt"))) == 4
    assert not list(tmp_path.glob("*.tmp"))  # written under a temporary name, then renamed


def test_approximate_search_keys_on_its_seed_and_distances_are_not_cached(points, tmp_path, builds):
    pytest.importorskip("faiss")
    for seed in (0, 1, 0):
        cached_knn_graph(points, cache_dir=tmp_path, n_neighbors=3, backend="faiss-hnsw", random_state=seed)
    assert len(builds) == 2  # seed 0 read back the second time
    assert len(cached_knn_graph(points, cache_dir=tmp_path, n_neighbors=3, return_distances=True)) == 3
    assert len(builds) == 3 and len(list(tmp_path.glob("knn_*.pt"))) == 2


def test_an_unreadable_file_is_built_again_and_replaced(points, tmp_path, builds):
    cached_knn_graph(points, cache_dir=tmp_path, n_neighbors=3)
    (path,) = tmp_path.glob("knn_*.pt")
    path.write_bytes(b"not a graph")
    with pytest.warns(UserWarning, match="unreadable"):
        edge_index, _ = cached_knn_graph(points, cache_dir=tmp_path, n_neighbors=3)
    assert torch.equal(edge_index, knn_graph(points, n_neighbors=3)[0]) and len(builds) == 2
    assert torch.equal(torch.load(path, weights_only=True)["edge_index"], edge_index)


def test_no_folder_no_caching(points, monkeypatch, builds):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert graph_cache_dir() is None
    report = {}
    cached_knn_graph(points, n_neighbors=3, report=report)
    cached_knn_graph(points, n_neighbors=3)
    assert len(builds) == 2 and report == {"source": "built"}
    monkeypatch.setenv(CACHE_ENV, "  ")
    assert graph_cache_dir() is None


def test_an_estimator_reads_its_graph_from_the_folder_of_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    x = np.random.default_rng(1).random((40, 16), dtype=np.float32)  # 40 images of 4 x 4
    settings = dict(n_clusters=2, channels=(2, 4), latent=2, hidden=4, pretrain_epochs=1, gcn_warmup_steps=1,
                    gcn_steps=1, epochs=1, batch_size=20, n_init=1, random_state=0)
    first = SDDECC(**settings, verbose=True).fit(x)
    assert "kNN graph built and stored in" in capsys.readouterr().err
    again = SDDECC(**settings, verbose=True).fit(x)
    assert "kNN graph read from" in capsys.readouterr().err
    assert first.graph_build_["source"] == "built" and again.graph_build_["source"] == "cache"
    assert all(model.graph_build_["seconds"] >= 0 for model in (first, again))
    assert len(list(tmp_path.glob("knn_*.pt"))) == 1
    assert np.array_equal(first.labels_, again.labels_)  # the same graph and the same random draws: the same fit
    first.set_params(use_gcn=False, verbose=False).fit(x)  # no graph in this fit: none reported, not the last fit's
    assert first.graph_build_ is None


def test_a_generator_is_advanced_alike_whether_the_graph_is_read_or_built(points, tmp_path, builds):
    drawn = []
    for _ in range(2):  # built, then read back
        rng = np.random.default_rng(7)
        cached_knn_graph(points, cache_dir=tmp_path, n_neighbors=3, random_state=rng)
        drawn.append(int(rng.integers(1000)))
    assert len(builds) == 1 and drawn[0] == drawn[1]


def test_processes_that_miss_at_once_build_the_graph_once(points, tmp_path, monkeypatch):
    import threading
    import time

    calls = []

    def slow(x, **kwargs):  # a build long enough for the other caller to arrive meanwhile
        calls.append(1)
        time.sleep(0.3)
        return knn_graph(x, **kwargs)

    monkeypatch.setattr(cache, "knn_graph", slow)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cached_knn_graph(points, cache_dir=tmp_path,
                                                                               n_neighbors=3)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and torch.equal(results[0][0], results[1][0])
