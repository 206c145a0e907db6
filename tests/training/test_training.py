"""The one training loop: history, callbacks, determinism, pretraining."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from graphclust.nn import MLPAutoEncoder, target_distribution
from graphclust.training import (Callback, PretrainConfig, TargetRefresh, build_pretrained_autoencoder,
                                 iterate_batches, make_optimizer, train)


def _regression_problem():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=gen)
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    w = torch.zeros(3, requires_grad=True)

    def step(idx):
        xb, yb = (x, y) if idx is None else (x[idx], y[idx])
        mse = ((xb @ w - yb) ** 2).mean()
        return {"loss": mse, "mse": mse}

    return w, step


def test_train_decreases_loss_and_records_history():
    w, step = _regression_problem()
    history = train(step, make_optimizer([w], "adam", lr=0.1), epochs=30, n_samples=64, batch_size=16,
                    generator=torch.Generator().manual_seed(0), verbose=False)
    assert [h["epoch"] for h in history] == list(range(30))
    assert history[-1]["loss"] < 0.1 * history[0]["loss"]
    assert set(history[0]) == {"epoch", "loss", "mse"}


def test_full_batch_when_batch_size_is_none():
    assert iterate_batches(10, None, None) == [None]
    batches = iterate_batches(10, 4, torch.Generator().manual_seed(0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat(batches).tolist()) == list(range(10))


def test_callback_can_stop_training():
    class StopAt(Callback):
        def on_epoch_end(self, epoch, record):
            return epoch == 2

    w, step = _regression_problem()
    history = train(step, make_optimizer([w], lr=0.1), epochs=10, n_samples=64, callbacks=[StopAt()], verbose=False)
    assert len(history) == 3


def test_non_finite_loss_raises():
    w = torch.zeros(1, requires_grad=True)
    with pytest.raises(FloatingPointError, match="nan"):
        train(lambda idx: {"loss": w.sum() * float("nan")}, make_optimizer([w]), epochs=1, n_samples=4, verbose=False)


def test_target_refresh_every_steps_and_tolerance():
    q = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    calls = []

    def compute():
        calls.append(1)
        return q

    refresh = TargetRefresh(compute, target_distribution, interval=2, unit="step", tol=0.01)
    refresh.labels = np.array([0, 1])  # e.g. the k-means initialisation: same labels as q
    refresh.on_batch_start(0)
    assert refresh.delta_label == 0.0 and refresh.on_epoch_end(0, {}) is False  # first refresh never stops
    for s in range(1, 5):
        refresh.on_batch_start(s)
    assert len(calls) == 3  # steps 0, 2, 4
    torch.testing.assert_close(refresh.p, target_distribution(q))
    assert refresh.delta_label == 0.0
    assert refresh.on_epoch_end(0, {}) is True  # no label changed: converged


def test_target_refresh_validates_arguments():
    with pytest.raises(ValueError, match="unit"):
        TargetRefresh(lambda: None, target_distribution, unit="batch")
    with pytest.raises(ValueError, match="interval"):
        TargetRefresh(lambda: None, target_distribution, interval=0)


def test_pretraining_is_deterministic_and_reduces_reconstruction():
    x = torch.rand(50, 6, generator=torch.Generator().manual_seed(1))
    cfg = PretrainConfig(epochs=20, batch_size=16, lr=1e-2)
    ae1, hist1 = build_pretrained_autoencoder(x, hidden=(8,), latent=2, config=cfg,
                                              generator=torch.Generator().manual_seed(3), verbose=False)
    ae2, hist2 = build_pretrained_autoencoder(x, hidden=(8,), latent=2, config=cfg,
                                              generator=torch.Generator().manual_seed(3), verbose=False)
    assert hist1[-1]["loss"] < hist1[0]["loss"]
    assert [h["loss"] for h in hist1] == [h["loss"] for h in hist2]
    for a, b in zip(ae1.parameters(), ae2.parameters()):
        torch.testing.assert_close(a, b)


def test_passing_a_pretrained_autoencoder_skips_pretraining_and_copies():
    x = torch.rand(20, 6)
    given = MLPAutoEncoder(6, (8,), 2)
    before = [p.clone() for p in given.parameters()]
    ae, history = build_pretrained_autoencoder(x, pretrained=given, verbose=False)
    assert history == [] and ae is not given
    for a, b in zip(ae.parameters(), before):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="expects 5 features"):
        build_pretrained_autoencoder(x, pretrained=MLPAutoEncoder(5, (8,), 2), verbose=False)


def test_autoencoder_shapes_and_repr():
    ae = MLPAutoEncoder(7, (5, 4), 2)
    out = ae(torch.zeros(3, 7))
    assert out.x_hat.shape == (3, 7) and out.z.shape == (3, 2)
    assert [h.shape[1] for h in out.hidden] == [5, 4]
    assert repr(ae) == "MLPAutoEncoder(7-5-4-2)"


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer([torch.zeros(1, requires_grad=True)], "rmsprop")


def test_monitor_labels_only_logs(monkeypatch):
    from graphclust.training import MonitorLabels

    y = np.array([0, 0, 1, 1])
    monitor = MonitorLabels(y, lambda: np.array([1, 1, 0, 0]))
    record = {}
    assert monitor.on_epoch_end(0, record) is None
    assert record["acc"] == pytest.approx(1.0)


def test_a_resume_under_other_code_warns_and_the_fit_lists_both_versions(tmp_path, monkeypatch):
    import re
    import types
    import warnings

    import graphclust.training.checkpoint as ckpt
    from graphclust.models import SDCN

    assert re.fullmatch(r"[0-9a-f]{12}(\+changes)?|\d+\.\d+\.\d+\S*", ckpt.code_version.__wrapped__())
    path, x, module = tmp_path / "fit.pt", torch.ones(4, 2), torch.nn.Linear(2, 2)

    def checkpoint(version: str) -> ckpt.FitCheckpoint:
        monkeypatch.setattr(ckpt, "code_version", lambda: version)
        ctx = types.SimpleNamespace(generator=torch.Generator().manual_seed(0), rng=np.random.default_rng(0),
                                    verbose=False)
        return ckpt.FitCheckpoint(path, SDCN(n_clusters=2), ctx, x)

    first = checkpoint("aaa")
    assert first.resumed is None
    first.save("pretrained", module, [])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same code: no warning
        assert checkpoint("aaa").resumed["code_versions"] == ["aaa"]
    with pytest.warns(UserWarning, match="under code aaa, this process runs code bbb"):
        other = checkpoint("bbb")
    assert other.resumed["code_versions"] == ["aaa", "bbb"]
    other.save("joint", module, [])
    assert checkpoint("bbb").resumed["code_versions"] == ["aaa", "bbb"]  # kept across later saves

    state = ckpt.peek_checkpoint(path)
    del state["code_versions"]  # a checkpoint written before the versions were kept
    ckpt.save_checkpoint(path, other.fingerprint, state)
    with pytest.warns(UserWarning, match="under code unrecorded"):
        assert checkpoint("bbb").resumed["code_versions"] == ["unrecorded", "bbb"]


def test_a_kept_module_reads_back_only_under_its_fingerprint(tmp_path, monkeypatch):
    import warnings

    import graphclust.training.checkpoint as ckpt

    path = tmp_path / "ae.pt"
    module = torch.nn.Linear(3, 2)
    torch.nn.init.constant_(module.weight, 0.25)
    assert ckpt.kept_module(path, "fp", lambda: torch.nn.Linear(3, 2), "the module") is None  # nothing kept yet
    ckpt.keep_module(path, "fp", module, "trained", seconds=12.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same code: silent
        back, state = ckpt.kept_module(path, "fp", lambda: torch.nn.Linear(3, 2), "the module")
    torch.testing.assert_close(back.weight, torch.full((2, 3), 0.25))
    torch.testing.assert_close(back.bias, module.bias.detach())
    assert state["seconds"] == 12.5 and state["stage"] == "trained"
    assert ckpt.kept_module(path, "other", lambda: torch.nn.Linear(3, 2), "the module") is None  # other settings
    monkeypatch.setattr(ckpt, "code_version", lambda: "newer")
    with pytest.warns(UserWarning, match="this process runs code newer; the module is used as it is"):
        assert ckpt.kept_module(path, "fp", lambda: torch.nn.Linear(3, 2), "the module") is not None
    path.write_bytes(b"damaged")
    assert ckpt.kept_module(path, "fp", lambda: torch.nn.Linear(3, 2), "the module") is None
