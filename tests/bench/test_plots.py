"""Figures: files exist and are non-empty PNGs; a missing matplotlib names the viz extra."""
from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from graphclust.bench.plots import (  # noqa: E402
    plot_bars,
    plot_curves,
    plot_embedding,
    require_matplotlib,
    write_figures,
)

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path) -> bool:
    return path.is_file() and path.stat().st_size > 100 and path.read_bytes()[:8] == PNG


@pytest.fixture
def stored(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    z = rng.normal(size=(60, 5)) + 4 * y[:, None]
    path = tmp_path / "embeddings" / "t" / "sbm_gae_h_seed0.npz"
    path.parent.mkdir(parents=True)
    np.savez_compressed(path, index=np.arange(60, dtype=np.int32), embedding=z.astype(np.float16),
                        labels=np.array([2, 0, 1] * 20).reshape(3, 20).T.reshape(-1).astype(np.int32),
                        y=y.astype(np.int32))
    return path


def row(method, acc, history=None, embedding=None, paper=None):
    return {"dataset": "sbm", "method": method, "params": {}, "params_hash": "h", "label": method, "n": 2,
            "mean": {"acc": acc, "nmi": 50.0, "ari": 40.0, "f1": 45.0},
            "std": {"acc": 2.0, "nmi": 1.0, "ari": None, "f1": 3.0},
            "paper": paper, "embedding": embedding, "histories": history or {}}


def test_embedding_scatter_is_a_png(stored, tmp_path):
    out = plot_embedding(stored, tmp_path / "scatter.png", title="sbm — gae", max_points=40)
    assert is_png(out)


def test_bars_and_curves_are_pngs(tmp_path):
    rows = [row("kmeans", 60.0), row("gae", 70.0, paper={"acc": 59.6, "nmi": None})]
    assert is_png(plot_bars(rows, tmp_path / "bars.png", title="sbm"))
    history = [{"epoch": 0, "loss": 2.0}, {"epoch": 1, "loss": 1.0},  # pretraining, then training
               {"epoch": 0, "loss": 0.9, "acc": 0.5, "nmi": 0.4}, {"epoch": 1, "loss": 0.8, "acc": 0.6, "nmi": 0.5}]
    assert is_png(plot_curves({0: history, 1: history}, tmp_path / "curves.png", title="sbm — dec"))
    assert is_png(plot_curves({0: [{"epoch": 0, "loss": -1.0}]}, tmp_path / "plain.png"))  # no monitoring


def test_write_figures_makes_every_figure_and_keeps_a_fresh_scatter(stored, tmp_path):
    history = {0: [{"epoch": 0, "loss": 1.0, "acc": 0.5}, {"epoch": 1, "loss": 0.5, "acc": 0.7}]}
    rows = [row("gae", 70.0, history=history, embedding=str(stored.relative_to(tmp_path))), row("kmeans", 60.0)]
    made = write_figures(rows, tmp_path, tmp_path / "figures", tsne_points=50)
    scatter = made["scatter"][("sbm", "gae", "h")]
    assert is_png(made["bars"]["sbm"]) and is_png(scatter) and is_png(made["curves"][("sbm", "gae", "h")])
    assert ("sbm", "kmeans", "h") not in made["scatter"]
    before = scatter.stat().st_mtime_ns
    write_figures(rows, tmp_path, tmp_path / "figures", tsne_points=50)
    assert scatter.stat().st_mtime_ns == before  # the t-SNE is not recomputed


def test_write_figures_keeps_a_scatter_whose_embedding_is_absent(stored, tmp_path):
    rows = [row("gae", 70.0, embedding=str(stored.relative_to(tmp_path)))]
    scatter = write_figures(rows, tmp_path, tmp_path / "figures", tsne_points=50)["scatter"][("sbm", "gae", "h")]
    stored.unlink()  # as in a fresh clone: the PNG is committed, the .npz is not
    assert write_figures(rows, tmp_path, tmp_path / "figures")["scatter"] == {("sbm", "gae", "h"): scatter}
    scatter.unlink()  # neither: no scatter to link
    assert write_figures(rows, tmp_path, tmp_path / "figures")["scatter"] == {}


def test_missing_matplotlib_names_the_viz_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"graphclust\[viz\]"):
        require_matplotlib()
