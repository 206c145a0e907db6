"""Benchmark figures (PNG, matplotlib Agg): embedding scatter, per-dataset bars, training curves.

- :func:`plot_embedding`: t-SNE (scikit-learn) of a stored embedding (≤ 5,000 rows), two panels
  coloured by predicted cluster and by true class;
- :func:`plot_bars`: one dataset's methods, ACC / NMI / ARI / F1 mean with std bars, the paper's
  numbers as markers;
- :func:`plot_curves`: loss and monitored metrics per epoch, one line per seed; a dotted line
  where a new phase starts (pretraining -> clustering).

matplotlib is the ``viz`` extra: ``pip install "graphclust[viz]"``.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

__all__ = ["require_matplotlib", "plot_embedding", "plot_bars", "plot_curves", "write_figures", "slug"]

_METRIC_NAMES = ("acc", "nmi", "ari", "f1")


def require_matplotlib():
    """``matplotlib.pyplot`` on the non-interactive Agg backend, or an ImportError naming the extra."""
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError('benchmark plots need matplotlib, the "viz" extra: pip install "graphclust[viz]"') from err
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _tsne(z: np.ndarray, random_state: int = 0) -> np.ndarray:
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    z = np.asarray(z, dtype=np.float32)
    if z.shape[1] == 1:
        return np.column_stack([z[:, 0], np.zeros(len(z))])
    if z.shape[1] == 2:
        return z
    if z.shape[1] > 50:
        z = PCA(n_components=50, random_state=random_state).fit_transform(z)
    perplexity = float(min(30.0, max(2.0, (len(z) - 1) / 3.0)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state).fit_transform(z)


def _matched_colours(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cluster ids renamed to their Hungarian-matched class, so both panels share colours;
    clusters left unmatched get ids after the classes."""
    from ..metrics import match_labels

    mapped = match_labels(y, labels)
    unmatched = mapped < 0
    if unmatched.any():
        _, rank = np.unique(labels[unmatched], return_inverse=True)
        mapped[unmatched] = int(y.max()) + 1 + rank.reshape(-1)
    return mapped


def _scatter(ax, xy: np.ndarray, colours: np.ndarray, title: str, k: int) -> None:
    cmap = "tab10" if k <= 10 else "tab20"
    size = float(np.clip(3000.0 / max(len(xy), 1), 2.0, 12.0))
    ax.scatter(xy[:, 0], xy[:, 1], c=colours % 20, cmap=cmap, s=size, linewidths=0, vmin=0,
               vmax=9 if k <= 10 else 19)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_embedding(npz_path, out_png, *, title: str = "", max_points: int = 5000, random_state: int = 0) -> Path:
    """t-SNE of the embedding stored in ``npz_path`` (arrays ``embedding``, ``labels``, ``y``)."""
    plt = require_matplotlib()
    with np.load(npz_path) as stored:
        z, labels = stored["embedding"].astype(np.float32), stored["labels"]
        y = stored["y"] if "y" in stored else None
    if len(z) > max_points:
        keep = np.sort(np.random.default_rng(random_state).choice(len(z), size=max_points, replace=False))
        z, labels, y = z[keep], labels[keep], None if y is None else y[keep]
    xy = _tsne(z, random_state)
    panels = 2 if y is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.6), squeeze=False)
    colours = labels if y is None else _matched_colours(y, labels)
    k = int(max(colours.max(), -1 if y is None else y.max())) + 1
    _scatter(axes[0, 0], xy, colours, "coloured by predicted cluster"
             + ("" if y is None else " (matched to classes)"), k)
    if y is not None:
        _scatter(axes[0, 1], xy, y, "coloured by true class", k)
    fig.suptitle(f"{title} — t-SNE of the final embedding ({len(z)} points)".strip(" —"), fontsize=10)
    return _save(fig, out_png)


def plot_bars(rows: list[dict], out_png, *, title: str = "") -> Path:
    """Grouped bars: for each row (method) ACC / NMI / ARI / F1 (%) with std error bars;
    the paper's value, where known, as a black diamond on its bar."""
    plt = require_matplotlib()
    n = max(len(rows), 1)
    width = 0.8 / len(_METRIC_NAMES)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * n + 2), 4.2))
    x = np.arange(n)
    colours = plt.get_cmap("tab10").colors
    paper_shown = False
    for j, metric in enumerate(_METRIC_NAMES):
        means = [r["mean"].get(metric) for r in rows]
        stds = [r["std"].get(metric) for r in rows]
        pos = x - 0.4 + width * (j + 0.5)
        ax.bar(pos, [m or 0.0 for m in means], width, yerr=[s or 0.0 for s in stds], capsize=2,
               color=colours[j], label=metric.upper(), error_kw={"elinewidth": 0.8})
        for p, row in zip(pos, rows):
            value = (row.get("paper") or {}).get(metric)
            if value is not None:
                ax.plot(p, value, marker="D", color="black", markersize=4, linestyle="none",
                        label=None if paper_shown else "paper")
                paper_shown = True
    ax.set_xticks(x)
    ax.set_xticklabels([r["label"] for r in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("% (mean ± std over seeds, final model)")
    ax.set_ylim(0, 100)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, ncol=5, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, out_png)


def _phase_starts(history: list[dict]) -> list[int]:
    """Indices where the ``epoch`` counter restarts (a new training phase)."""
    starts, previous = [], None
    for i, record in enumerate(history):
        epoch = record.get("epoch")
        if isinstance(epoch, (int, float)) and previous is not None and epoch <= previous:
            starts.append(i)
        previous = epoch if isinstance(epoch, (int, float)) else previous
    return starts


def plot_curves(histories: dict, out_png, *, title: str = "") -> Path:
    """Per-epoch loss (left) and monitored ACC / NMI (right) for each seed of one method."""
    plt = require_matplotlib()
    monitored = any("acc" in h for hist in histories.values() for h in hist)
    fig, axes = plt.subplots(1, 2 if monitored else 1, figsize=(11 if monitored else 5.5, 3.8), squeeze=False)
    loss_ax = axes[0, 0]
    colours = plt.get_cmap("tab10").colors
    positive = True
    for i, (seed, history) in enumerate(sorted(histories.items())):
        colour = colours[i % 10]
        steps = [j for j, h in enumerate(history) if isinstance(h.get("loss"), (int, float))]
        values = [history[j]["loss"] for j in steps]
        positive = positive and all(v > 0 for v in values)
        loss_ax.plot(steps, values, color=colour, linewidth=0.9, label=f"seed {seed}")
        if monitored:
            for metric, style in (("acc", "-"), ("nmi", ":")):
                pts = [(j, h[metric]) for j, h in enumerate(history) if isinstance(h.get(metric), (int, float))]
                if pts:
                    axes[0, 1].plot(*zip(*pts), style, color=colour, linewidth=0.9,
                                    label=f"{metric.upper()} seed {seed}" if i < 3 else None)
        for start in _phase_starts(history) if i == 0 else []:
            for ax in axes[0]:
                ax.axvline(start - 0.5, color="grey", linestyle=":", linewidth=0.8)
    if positive:
        loss_ax.set_yscale("log")
    loss_ax.set_xlabel("epoch (all phases, in order)")
    loss_ax.set_ylabel("training loss")
    loss_ax.legend(fontsize=7, ncol=2)
    if monitored:
        axes[0, 1].set_xlabel("epoch (all phases, in order)")
        axes[0, 1].set_ylabel("monitored metric")
        axes[0, 1].set_title("labels used for monitoring only", fontsize=8)
        axes[0, 1].legend(fontsize=7, ncol=2)
    fig.suptitle(title, fontsize=10)
    return _save(fig, out_png)


def write_figures(rows: list[dict], results_dir, fig_dir, *, tsne_points: int = 5000, force: bool = False,
                  log=None) -> dict:
    """Every figure for ``rows`` (from :func:`graphclust.bench.aggregate.summarise`).

    A scatter whose PNG is newer than its embedding file is kept (t-SNE is the slow part), and so
    is one whose embedding file is absent: embeddings (``*.npz``) are not committed, their scatters
    are, so a fresh clone's report still links them.

    Returns:
        ``{"bars": {dataset: path}, "scatter": {(dataset, method, hash): path},
        "curves": {(dataset, method, hash): path}}``.
    """
    require_matplotlib()
    results_dir, fig_dir = Path(results_dir), Path(fig_dir)
    made: dict = {"bars": {}, "scatter": {}, "curves": {}}
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == dataset and r["n"]]
        if mine:
            made["bars"][dataset] = plot_bars(mine, fig_dir / f"bars_{slug(dataset)}.png",
                                              title=f"{dataset}: final model, mean ± std over seeds")
    for row in rows:
        group = (row["dataset"], row["method"], row["params_hash"])
        name = slug(f"{row['dataset']}_{row['method']}" + (f"_{row['params_hash']}" if row["params"] else ""))
        label = f"{row['dataset']} — {row['label']}"
        if row.get("embedding"):
            npz = results_dir / row["embedding"]
            png = fig_dir / f"scatter_{name}.png"
            if npz.is_file() and (force or not png.is_file() or png.stat().st_mtime < npz.stat().st_mtime):
                if log:
                    log(f"t-SNE {label}")
                plot_embedding(npz, png, title=f"{label} (seed {_seed_of(npz)})", max_points=tsne_points)
            if png.is_file():  # also when a clone has the committed scatter but not the (ignored) embedding
                made["scatter"][group] = png
        if row.get("histories"):
            made["curves"][group] = plot_curves(row["histories"], fig_dir / f"curves_{name}.png",
                                                title=f"{label}: training curves")
    return made


def _seed_of(npz: Path) -> str:
    match = re.search(r"_seed(\d+)\.npz$", npz.name)
    return match.group(1) if match else "?"
