"""Callbacks of the training loop: target-distribution refresh and label monitoring."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch


class Callback:
    """No-op hooks; subclasses override what they need."""

    def on_epoch_start(self, epoch: int) -> None:
        pass

    def on_batch_start(self, step: int) -> None:
        pass

    def on_epoch_end(self, epoch: int, record: dict) -> bool | None:
        return None


class TargetRefresh(Callback):
    """Recompute the DEC target distribution P on the full data every ``interval`` steps or epochs.

    ``compute`` returns the current soft assignment Q [N, K] over all samples; the callback
    keeps ``p = target_distribution(Q)`` for the step function to read, and the hard labels
    ``argmax Q`` to measure how many change between refreshes. With ``tol`` set, training
    stops once fewer than ``tol`` (a fraction) of the labels changed since the last refresh
    (DEC's convergence criterion; label-free). The first refresh never stops training.

    Args:
        compute: () -> Q [N, K] (evaluated under ``torch.no_grad``).
        target: Q -> P, e.g. :func:`graphclust.nn.target_distribution`.
        interval: refresh period.
        unit: "step" (DEC/IDEC: every T iterations) or "epoch" (SDCN: every epoch).
        tol: stopping threshold on the fraction of changed labels, or None.
    """

    def __init__(self, compute: Callable[[], torch.Tensor], target: Callable[[torch.Tensor], torch.Tensor],
                 interval: int = 1, unit: str = "epoch", tol: float | None = None):
        if unit not in ("step", "epoch"):
            raise ValueError(f"unit must be 'step' or 'epoch', got {unit!r}")
        if interval < 1:
            raise ValueError(f"interval must be >= 1, got {interval}")
        self.compute = compute
        self.target = target
        self.interval = int(interval)
        self.unit = unit
        self.tol = tol
        self.p: torch.Tensor | None = None
        self.labels: np.ndarray | None = None
        self.delta_label: float | None = None
        self.n_refreshes = 0
        self._converged = False

    def refresh(self) -> None:
        with torch.no_grad():
            q = self.compute()
        self.p = self.target(q)
        labels = q.argmax(dim=1).cpu().numpy()
        if self.labels is not None:
            self.delta_label = float(np.mean(labels != self.labels))
            # as in DEC's code, the first refresh (iteration 0) never stops training
            if self.tol is not None and self.n_refreshes > 0 and self.delta_label < self.tol:
                self._converged = True
        self.labels = labels
        self.n_refreshes += 1

    @property
    def converged(self) -> bool:
        """Whether the labels have settled (fewer than ``tol`` changed at the last refresh)."""
        return self._converged

    def state_dict(self) -> dict:
        """What a checkpoint needs to go on refreshing as an uninterrupted run (tensors and plain data)."""
        return {"p": None if self.p is None else self.p.detach().cpu(),
                "labels": None if self.labels is None else torch.from_numpy(self.labels),
                "delta_label": self.delta_label, "n_refreshes": self.n_refreshes, "converged": self._converged}

    def load_state_dict(self, state: dict, device=None) -> None:
        """Continue from :meth:`state_dict` (P moved to ``device``)."""
        self.p = None if state["p"] is None else state["p"].to(device)
        self.labels = None if state["labels"] is None else state["labels"].numpy()
        self.delta_label = state["delta_label"]
        self.n_refreshes = int(state["n_refreshes"])
        self._converged = bool(state["converged"])

    def on_epoch_start(self, epoch: int) -> None:
        if self.unit == "epoch" and epoch % self.interval == 0:
            self.refresh()

    def on_batch_start(self, step: int) -> None:
        if self.unit == "step" and step % self.interval == 0:
            self.refresh()

    def on_epoch_end(self, epoch: int, record: dict) -> bool:
        if self.delta_label is not None:
            record["delta_label"] = self.delta_label
        return self._converged


class MonitorLabels(Callback):
    """Log clustering metrics against known labels in the history, for monitoring only.

    The labels never influence training, stopping or the returned model; they only add
    ``acc``/``nmi``/``ari``/``f1`` to each epoch's record so that training curves can be
    plotted. ``predict`` returns the current hard labels [N].
    """

    def __init__(self, y: np.ndarray, predict: Callable[[], np.ndarray], every: int = 1):
        self.y = np.asarray(y)
        self.predict = predict
        self.every = max(int(every), 1)

    def on_epoch_end(self, epoch: int, record: dict) -> None:
        if epoch % self.every:
            return None
        from ..metrics import evaluate

        with torch.no_grad():
            labels = self.predict()
        record.update(evaluate(self.y, labels))
        return None
