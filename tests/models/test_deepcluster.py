"""DeepCluster: its feature preprocessing and empty-cluster reassignment on hand-computed cases, and
the two backbones (the MLP and the convolutional one) on easy synthetic images."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import FAST_PARAMS, bar_images
from graphclust.metrics import cluster_acc_score
from graphclust.models import DeepCluster
from graphclust.models.deepcluster import reassign_empty, whiten_normalise
from graphclust.nn.sddecc import ConvGaussianEncoder

CONV = {"backbone": "conv", "channels": (8, 16), "latent": 4, "epochs": 5, "batch_size": 32, "kmeans_n_init": 2}


def test_whitening_equalises_the_axes_before_normalising():
    # the corners (±a, ±b): covariance diag(4a²/3, 4b²/3), so whitening maps them to (±√3/2, ±√3/2) and the
    # rows normalise to (±1/√2, ±1/√2) whatever a and b; normalising the raw rows gives (a, b)/√(a² + b²)
    a, b = 10.0, 1.0
    corners = np.array([[a, b], [-a, b], [a, -b], [-a, -b]])
    out = whiten_normalise(corners, eps=0.0)
    np.testing.assert_allclose(np.abs(out), np.full((4, 2), 1 / np.sqrt(2)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-12)
    raw = corners / np.linalg.norm(corners, axis=1, keepdims=True)
    assert np.abs(raw[0, 0]) == pytest.approx(a / np.hypot(a, b))  # 0.995: what whitening corrects


def test_an_empty_cluster_takes_half_of_a_donor():
    rng = np.random.default_rng(0)
    features = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0]])
    labels = np.array([0, 0, 0, 0, 1, 1])  # cluster 2 is empty
    out = reassign_empty(features, labels, 3, rng)
    sizes = np.bincount(out, minlength=3)
    assert (sizes > 0).all() and sizes.sum() == 6
    moved = np.flatnonzero(out != labels)
    assert (out[moved] == 2).all()  # only points moved to the empty cluster
    donor = labels[moved[0]]
    assert (labels[moved] == donor).all()  # all from one donor ...
    assert len(moved) == np.sum(labels == donor) // 2  # ... half of it, split along a line:
    kept = np.flatnonzero((labels == donor) & (out == donor))
    assert features[moved].max() < features[kept].min() or features[moved].min() > features[kept].max()
    np.testing.assert_array_equal(reassign_empty(features, out, 3, rng), out)  # nothing empty: unchanged


def test_conv_backbone_clusters_easy_images():
    x, y = bar_images()
    model = DeepCluster(n_clusters=3, random_state=0, verbose=False, **CONV).fit(x)
    assert isinstance(model.backbone_, ConvGaussianEncoder) and model.backbone_.channels == (8, 16)
    assert model.embedding_.shape == (90, 4) and len(model.history_) == 5
    assert cluster_acc_score(y, model.labels_) >= 0.9
    again = DeepCluster(n_clusters=3, random_state=0, verbose=False, **CONV).fit(x)
    np.testing.assert_array_equal(again.labels_, model.labels_)


def test_conv_backbone_defaults_to_sddeccs_channels_and_pads_flat_features():
    x, _ = bar_images(n_per=10, side=16)
    params = {**CONV, "channels": None, "epochs": 1}
    on_images = DeepCluster(n_clusters=3, random_state=0, verbose=False, **params).fit(x)
    assert on_images.backbone_.channels == (16, 32)  # USPS-sized images
    flat = x.reshape(len(x), -1)[:, :250]  # no image shape: zero-padded into 1×16×16
    padded = DeepCluster(n_clusters=3, random_state=0, verbose=False, **params).fit(flat)
    assert padded.backbone_.image_shape == (1, 16, 16) and padded.embedding_.shape == (30, 4)


def test_the_conv_backbone_trains_its_convolutions_and_mu_head_only():
    x, _ = bar_images(n_per=10)
    initial = DeepCluster(n_clusters=3, random_state=0, verbose=False, **{**CONV, "epochs": 0}).fit(x).backbone_
    trained = DeepCluster(n_clusters=3, random_state=0, verbose=False, **{**CONV, "epochs": 1}).fit(x).backbone_
    for name, before in initial.state_dict().items():
        moved = not torch.equal(before, trained.state_dict()[name])
        assert moved == (not name.startswith("fc_logvar")), name  # the log σ² head is not used


def test_mlp_is_the_default_backbone_and_a_bad_one_is_refused():
    x, _ = bar_images(n_per=10)
    assert DeepCluster().backbone == "mlp"
    model = DeepCluster(n_clusters=3, random_state=0, **FAST_PARAMS["deepcluster"], verbose=False).fit(x)
    assert not isinstance(model.backbone_, ConvGaussianEncoder)
    with pytest.raises(ValueError, match="backbone must be one of mlp, conv, got 'resnet'"):
        DeepCluster(n_clusters=3, backbone="resnet").fit(x)
