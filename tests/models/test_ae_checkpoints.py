"""DEC, IDEC and DCN checkpoint their clustering stage: killed after any checkpoint, the same fit
resumes there and ends with the model of an uninterrupted fit (MNIST-70k runs of these take
about an hour on one core)."""
from __future__ import annotations

import pytest

import graphclust.models.dcn as dcn_module
import graphclust.models.dec as dec_module
from conftest import Killed, assert_same_fit, die_after_saves, spy_train
from graphclust.data import make_blobs_graph
from graphclust.models import DCN, DEC, IDEC

# 60 samples in batches of 16: 4 steps per epoch, so DEC's target refresh every 3 steps falls
# inside epochs and across their ends, and a resumed fit must count its steps on from the kill
COMMON = {"n_clusters": 3, "hidden": (16,), "latent": 4, "pretrain_epochs": 2, "epochs": 4, "batch_size": 16,
          "n_init": 2, "random_state": 3, "verbose": False}
CASES = [(DEC, dec_module, {"update_interval": 3, "tol": 0.0}), (IDEC, dec_module, {"update_interval": 3, "tol": 0.0}),
         (DCN, dcn_module, {}),
         # refreshes at steps 0, 9, 18: epoch 1 has none (its record carries epoch 0's label change) and the
         # refresh of epoch 2 stops training (labels settled), which needs the refresh count restored
         (DEC, dec_module, {"update_interval": 9, "tol": 0.01})]


@pytest.fixture(scope="module")
def blobs():
    data = make_blobs_graph(n_samples=60, n_clusters=3, n_features=6, random_state=0)
    return data.x.numpy(), data.y.numpy()


@pytest.mark.parametrize("method, module, extra", CASES, ids=["dec", "idec", "dcn", "dec-converges"])
def test_a_fit_killed_after_any_checkpoint_resumes_to_the_same_model(blobs, tmp_path, monkeypatch, method, module,
                                                                       extra):
    x, y = blobs
    params = {**COMMON, **extra}
    reference = method(**params).fit(x, y)
    epochs = len(reference.history_) - 2  # after 2 pretraining epochs: 4, or fewer when it converged
    converged = epochs < params["epochs"]
    assert reference.resumed_ is None and epochs == (3 if extra.get("tol") else 4)
    path = tmp_path / "fit.ckpt"
    for kill_after in range(1, epochs + 2):  # after the initialisation, after each clustering epoch
        path.unlink(missing_ok=True)
        with monkeypatch.context() as patch, pytest.raises(Killed):
            saved = die_after_saves(patch, kill_after)
            method(**params, checkpoint=path).fit(x, y)
        with monkeypatch.context() as patch:
            calls = spy_train(patch, module)
            patch.setattr(method, "_pretrained_autoencoder", lambda *args: pytest.fail("pretrained again"))
            resumed = method(**params, checkpoint=path).fit(x, y)
        finished = converged and kill_after - 1 == epochs  # nothing left to train
        assert calls == ([] if finished else [(method.__name__, kill_after - 1)])  # from where they stopped
        assert resumed.resumed_["epochs_done"] == kill_after - 1
        assert_same_fit(resumed, reference, "cluster_centers_")
    assert [stage for stage, _ in saved] == ["initialised"] + ["joint"] * epochs


def test_a_dec_fit_that_converged_resumes_without_training_again(blobs, tmp_path, monkeypatch):
    x, y = blobs
    params = {**COMMON, "epochs": 50, "update_interval": 2, "tol": 0.5}  # stops at its second refresh
    reference = DEC(**params).fit(x, y)
    assert len(reference.history_) < 2 + 50  # stopped early: converged
    path = tmp_path / "fit.ckpt"
    DEC(**params, checkpoint=path).fit(x, y)
    with monkeypatch.context() as patch:
        calls = spy_train(patch, dec_module)
        again = DEC(**params, checkpoint=path).fit(x, y)
    assert calls == []  # converged before the last checkpoint: nothing left to train
    assert_same_fit(again, reference)
