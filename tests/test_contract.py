"""One contract test parametrised over the whole registry: every method behaves as an estimator."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from conftest import FAST_PARAMS, fast_method
from graphclust.base import BaseClusterer, FitResult
from graphclust.data import make_blobs_graph, make_sbm
from graphclust.registry import METHODS, get_method, make_method

NAMES = sorted(METHODS)


def test_every_method_has_fast_test_params():
    assert set(FAST_PARAMS) >= set(METHODS), f"add FAST_PARAMS for {set(METHODS) - set(FAST_PARAMS)}"


@pytest.fixture(scope="module")
def sbm():
    return make_sbm(n_per_block=(30, 30, 30), p_in=0.3, p_out=0.01, n_features=8, random_state=0)


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_with_fitted_attributes(name, sbm):
    model = fast_method(name, n_clusters=3, random_state=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*embedding collapsed")  # a healthy fit does not warn
        assert model.fit(sbm) is model
    assert model.labels_.shape == (90,)
    assert model.labels_.dtype == np.int64
    assert len(np.unique(model.labels_)) <= 3
    assert model.labels_.min() >= 0
    assert model.n_features_in_ == 8
    assert isinstance(model.history_, list)
    if model.embedding_ is not None:
        assert model.embedding_.shape[0] == 90 and model.embedding_.dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_same_random_state_gives_identical_labels(name, sbm):
    a = fast_method(name, n_clusters=3, random_state=7).fit_predict(sbm)
    b = fast_method(name, n_clusters=3, random_state=7).fit_predict(sbm)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_fit_does_not_touch_global_rng(name, sbm):
    torch.manual_seed(123)
    np.random.seed(123)
    expected_torch, expected_np = torch.rand(3), np.random.rand(3)
    torch.manual_seed(123)
    np.random.seed(123)
    fast_method(name, n_clusters=3, random_state=0).fit(sbm)
    torch.manual_seed(123)  # a method that reseeded globally would still pass; check it didn't *depend* on it:
    np.random.seed(123)
    np.testing.assert_allclose(torch.rand(3).numpy(), expected_torch.numpy())
    np.testing.assert_allclose(np.random.rand(3), expected_np)


@pytest.mark.parametrize("name", NAMES)
def test_labels_do_not_depend_on_global_seed(name, sbm):
    torch.manual_seed(1)
    np.random.seed(1)
    a = fast_method(name, n_clusters=3, random_state=5).fit_predict(sbm)
    torch.manual_seed(2)
    np.random.seed(2)
    b = fast_method(name, n_clusters=3, random_state=5).fit_predict(sbm)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_accepts_every_input_kind(name):
    blobs = make_blobs_graph(n_samples=60, n_clusters=3, n_features=4, random_state=0)
    x = blobs.x.numpy()
    images = x.reshape(60, 2, 2)
    for data in (x, torch.from_numpy(x), images, blobs):
        labels = fast_method(name, n_clusters=3, random_state=0).fit_predict(data)
        assert labels.shape == (60,)


@pytest.mark.parametrize("name", NAMES)
def test_fit_predict_equals_fit_labels(name, sbm):
    model = fast_method(name, n_clusters=3, random_state=3)
    np.testing.assert_array_equal(model.fit_predict(sbm), fast_method(name, n_clusters=3, random_state=3).fit(sbm).labels_)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_clusters, message", [(1, "n_clusters=1"), (91, "n_samples=90"), (0, "n_clusters=0")])
def test_bad_n_clusters_is_a_clear_error(name, sbm, n_clusters, message):
    with pytest.raises(ValueError, match=message):
        fast_method(name, n_clusters=n_clusters, random_state=0).fit(sbm)


@pytest.mark.parametrize("name", NAMES)
def test_nan_features_are_a_clear_error(name):
    x = np.random.default_rng(0).normal(size=(20, 3))
    x[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fast_method(name, n_clusters=2, random_state=0).fit(x)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_shape_is_a_clear_error(name):
    with pytest.raises(ValueError, match="dim"):
        fast_method(name, n_clusters=2, random_state=0).fit(np.zeros(10))


@pytest.mark.parametrize("name", NAMES)
def test_init_only_stores_parameters(name):
    cls = get_method(name)
    model = cls(n_clusters=3, random_state=0)
    params = model.get_params()
    assert params["n_clusters"] == 3 and params["random_state"] == 0
    assert not hasattr(model, "labels_")
    assert name in repr(model).lower() or cls.__name__ in repr(model)


def test_unknown_method_lists_valid_names():
    with pytest.raises(ValueError, match="valid methods: .*kmeans"):
        get_method("no-such-method")


def test_unknown_parameter_is_rejected():
    with pytest.raises(ValueError, match="unknown parameter"):
        make_method("dec", n_clusters=3, learning_rate=0.1)


LEARNING_RATES = [(name, rate) for name in NAMES for rate in ("lr", "pretrain_lr", "gcn_lr")
                  if rate in get_method(name)().get_params()]


@pytest.mark.parametrize("name, rate", LEARNING_RATES)
@pytest.mark.parametrize("value", [0.0, -1e-3, True])
def test_every_learning_rate_must_be_a_positive_number(name, rate, value, sbm):
    with pytest.raises(ValueError, match=f"{rate} must be a positive number"):
        fast_method(name, n_clusters=3, **{rate: value}).fit(sbm)


def test_bad_random_state_type():
    with pytest.raises(TypeError, match="random_state"):
        fast_method("kmeans", n_clusters=2, random_state="seed").fit(np.random.rand(10, 2))


def test_cuda_request_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        fast_method("kmeans", n_clusters=2, device="cuda").fit(np.random.rand(10, 2))


def test_empty_graph_is_a_clear_error_for_graph_methods():
    x = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    empty = torch.zeros((2, 0), dtype=torch.long)
    with pytest.raises(ValueError, match="no edges"):
        fast_method("spectral", n_clusters=2, random_state=0).fit((x, empty))


def test_edge_index_out_of_range_is_a_clear_error():
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    edges = torch.tensor([[0, 1], [1, 7]])
    with pytest.raises(ValueError, match=r"index 7, outside \[0, N\)"):
        fast_method("spectral", n_clusters=2, random_state=0).fit((x, edges))


class _Constant(BaseClusterer):
    """A method whose embedding is the same row for every sample (what a dead network gives)."""

    def __init__(self, n_clusters=2, *, lr=0.5, random_state=None, verbose=False):
        self.n_clusters, self.lr, self.random_state, self.verbose = n_clusters, lr, random_state, verbose

    def _fit(self, data, ctx):
        n = data.x.shape[0]
        return FitResult(np.zeros(n, np.int64), embedding=np.ones((n, 3), np.float32))


def test_a_collapsed_embedding_warns_for_any_method():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    with pytest.warns(RuntimeWarning, match=r"_Constant: the embedding collapsed: it is the same for all 6 samples.*"
                                            r"try a smaller lr \(now 0.5\)"):
        model = _Constant().fit(x)
    assert model.labels_.shape == (6,)  # the fit still completes


def test_distinct_rows_do_not_warn():
    model = _Constant()
    model._fit = lambda data, ctx: FitResult(np.zeros(6, np.int64), embedding=np.eye(6, 3, dtype=np.float32))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*embedding collapsed")
        model.fit(np.arange(12, dtype=np.float32).reshape(6, 2))
