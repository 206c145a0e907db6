"""Shared test helpers: the real data root and a tiny fast configuration for every method."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

# The CI machine has 2 cores that behave like ~1 under load: one intra-op thread avoids
# oversubscription and makes the small tensors of the tests much faster.
torch.set_num_threads(1)

SHARED_DATA = Path(os.environ.get("GRAPHCLUST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

# Few epochs and small layers so that every registered method fits in about a second.
FAST_PARAMS = {
    "kmeans": {"n_init": 2},
    "spectral": {"n_init": 2, "n_neighbors": 5},
    "ae_kmeans": {"hidden": (16,), "latent": 4, "pretrain_epochs": 2, "batch_size": 32, "n_init": 2},
    "dec": {"hidden": (16,), "latent": 4, "pretrain_epochs": 2, "epochs": 2, "batch_size": 32, "n_init": 2,
            "update_interval": 3},
    "idec": {"hidden": (16,), "latent": 4, "pretrain_epochs": 2, "epochs": 2, "batch_size": 32, "n_init": 2,
             "update_interval": 3},
    "dcn": {"hidden": (16,), "latent": 4, "pretrain_epochs": 2, "epochs": 2, "batch_size": 32, "n_init": 2},
    "sdcn": {"hidden": (16,), "latent": 4, "pretrain_epochs": 2, "epochs": 3, "batch_size": 32, "n_init": 2},
    "sdcn_q": {"hidden": (16,), "latent": 4, "pretrain_epochs": 2, "epochs": 3, "batch_size": 32, "n_init": 2},
    "gae": {"hidden": 16, "latent": 4, "epochs": 5, "n_init": 2},
    "vgae": {"hidden": 16, "latent": 4, "epochs": 5, "n_init": 2},
    "daegc": {"hidden": 16, "latent": 4, "pretrain_epochs": 3, "epochs": 3, "n_init": 2},
    "sddecc": {"channels": (4,), "latent": 4, "hidden": 8, "pretrain_epochs": 2, "epochs": 3, "batch_size": 32,
               "n_init": 2},
    "deepcluster": {"hidden": (16,), "latent": 4, "epochs": 2, "batch_size": 32, "kmeans_n_init": 1},
}


def fast_method(name: str, **overrides):
    from graphclust.registry import make_method

    params = {"verbose": False, **FAST_PARAMS.get(name, {}), **overrides}
    return make_method(name, **params)


def bar_images(n_per: int = 30, side: int = 8, amplitude: float = 2.0, noise: float = 0.3, seed: int = 0):
    """Three classes of side×side images (horizontal bar, vertical bar, two blocks) + Gaussian noise:
    x [3·n_per, side, side] float32, y [3·n_per]."""
    rng = np.random.default_rng(seed)
    protos = np.zeros((3, side, side), np.float32)
    mid = side // 2
    protos[0, mid - 1:mid + 1, :] = 1.0
    protos[1, :, mid - 1:mid + 1] = 1.0
    protos[2, 1:mid - 1, 1:mid - 1] = 1.0
    protos[2, mid:side - 1, mid:side - 1] = 1.0
    y = np.repeat(np.arange(3), n_per)
    x = amplitude * protos[y] + noise * rng.normal(size=(len(y), side, side))
    return x.astype(np.float32), y


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real benchmark data not found at {SHARED_DATA} (set GRAPHCLUST_DATA)")
    return SHARED_DATA


class Killed(Exception):
    """Stands for the process being killed right after a checkpoint was written."""


def die_after_saves(patch, n: int, error: type[BaseException] = Killed) -> list[str]:
    """Make checkpoint writing (``graphclust.training.checkpoint.save_checkpoint``, patched with
    ``patch``, a pytest ``monkeypatch`` or its ``context()``) raise ``error`` right after the
    ``n``-th file is written (``KeyboardInterrupt`` for the bench harness, which records other
    exceptions as failed runs). Returns the (stage, path) of each file written, in order."""
    import graphclust.training.checkpoint as checkpoint_module

    save, saved = checkpoint_module.save_checkpoint, []

    def save_then_die(path, fingerprint, state):
        save(path, fingerprint, state)
        saved.append((state["stage"], Path(path)))
        if len(saved) == n:
            raise error

    patch.setattr(checkpoint_module, "save_checkpoint", save_then_die)
    return saved


def assert_same_fit(fit, reference, *attributes: str) -> None:
    """``fit`` ended with ``reference``'s model: equal labels, embedding, ``attributes`` (arrays)
    and history (a resumed fit against an uninterrupted one)."""
    for name in ("labels_", "embedding_", *attributes):
        np.testing.assert_array_equal(getattr(fit, name), getattr(reference, name), err_msg=name)
    assert fit.history_ == reference.history_


def spy_train(patch, module) -> list[tuple[str, int]]:
    """Record ``(desc, start_epoch)`` of every ``train`` call a model module makes (a resumed fit
    must skip its finished stages: a restart from scratch would give the same model too)."""
    real, calls = module.train, []

    def spy(step, optimizer, **kwargs):
        calls.append((kwargs.get("desc"), kwargs.get("start_epoch", 0)))
        return real(step, optimizer, **kwargs)

    patch.setattr(module, "train", spy)
    return calls
