"""DCN: the reconstruction it weighs against the k-means term (Eq. 5), and its parameter checks."""
from __future__ import annotations

import pytest

import graphclust.models.dcn as dcn_module
from conftest import FAST_PARAMS
from graphclust.data import make_blobs_graph
from graphclust.models import DCN


@pytest.fixture(scope="module")
def blobs():
    return make_blobs_graph(n_samples=60, n_clusters=3, n_features=6, random_state=0).x.numpy()


@pytest.mark.parametrize("reduction", ["sample", "mean"])
def test_the_clustering_loss_uses_the_chosen_reconstruction(blobs, reduction, monkeypatch):
    seen = []
    real = dcn_module.reconstruction_loss

    def recording(x_hat, x, reduction="mean"):
        seen.append(reduction)
        return real(x_hat, x, reduction=reduction)

    monkeypatch.setattr(dcn_module, "reconstruction_loss", recording)
    DCN(n_clusters=3, random_state=0, **{**FAST_PARAMS["dcn"], "rec_reduction": reduction}).fit(blobs)
    assert seen and set(seen) == {reduction}


def test_default_is_the_per_sample_sum_of_eq_5():
    assert DCN().rec_reduction == "sample"


def test_bad_rec_reduction_is_a_clear_error(blobs):
    with pytest.raises(ValueError, match="rec_reduction"):
        DCN(n_clusters=3, **{**FAST_PARAMS["dcn"], "rec_reduction": "sum"}).fit(blobs)
