"""The one training loop every method uses.

A method supplies a *step*: a function from a batch of sample indices (or ``None`` for a
full-batch step) to a dict of named scalar losses whose ``"loss"`` entry is optimised. The
loop owns the optimiser, the epoch/batch iteration, the progress bar, the history and the
callbacks; ``loss.backward()`` appears here and nowhere else in the package.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Callable, Iterable, Mapping, Sequence

import torch

from .callbacks import Callback
from .progress import progress_bar

Step = Callable[[torch.Tensor | None], Mapping[str, torch.Tensor]]


def make_optimizer(params: Iterable[torch.nn.Parameter], name: str = "adam", lr: float = 1e-3,
                   weight_decay: float = 0.0, momentum: float = 0.9) -> torch.optim.Optimizer:
    """Adam (the default of every method here) or SGD with momentum (DEC's original)."""
    params = [p for p in params if p.requires_grad]
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; expected 'adam' or 'sgd'")


def iterate_batches(n_samples: int, batch_size: int | None, generator: torch.Generator | None,
                    shuffle: bool = True) -> list[torch.Tensor | None]:
    """Index batches for one epoch: ``[None]`` (full batch) when ``batch_size`` is None."""
    if batch_size is None:
        return [None]
    order = torch.randperm(n_samples, generator=generator) if shuffle else torch.arange(n_samples)
    return list(order.split(int(batch_size)))


def train(step: Step, optimizer: torch.optim.Optimizer, *, epochs: int, n_samples: int,
          batch_size: int | None = None, generator: torch.Generator | None = None,
          callbacks: Sequence[Callback] = (), verbose: bool = True, desc: str = "train",
          grad_clip: float | None = None, start_epoch: int = 0) -> list[dict]:
    """Run epochs ``start_epoch`` .. ``epochs`` − 1 of ``step`` and return their history.

    Args:
        step: batch indices [B] (or None for all samples) -> dict of scalar tensors; the
            ``"loss"`` entry is back-propagated, every entry is logged.
        optimizer: built by the caller (see :func:`make_optimizer`).
        epochs: number of passes over the data.
        n_samples: N, used to draw the batches.
        batch_size: mini-batch size, or None for full-batch training (graph methods).
        generator: shuffling RNG (the estimator's one generator).
        callbacks: called at epoch start, batch start and epoch end; any callback returning
            True from ``on_epoch_end`` stops training after that epoch.
        verbose: show a tqdm progress bar.
        desc: progress-bar label.
        grad_clip: optional max gradient norm.
        start_epoch: the first epoch to run, when resuming a training whose earlier epochs were
            run before (the optimiser and the generator in the state those epochs left); the
            step count that ``on_batch_start`` receives goes on from those epochs' steps.

    Returns:
        One dict per epoch: ``epoch``, the batch-size-weighted mean of each logged loss,
        and whatever the callbacks add (e.g. label changes, monitored metrics).
    """
    history: list[dict] = []
    steps_per_epoch = 1 if batch_size is None else math.ceil(n_samples / int(batch_size))
    global_step = int(start_epoch) * steps_per_epoch  # as in an uninterrupted run (DEC's refresh every T steps)
    bar = progress_bar(range(int(start_epoch), int(epochs)), desc=desc, disable=not verbose, leave=False,
                       dynamic_ncols=True)
    for epoch in bar:
        for cb in callbacks:
            cb.on_epoch_start(epoch)
        sums: dict[str, float] = defaultdict(float)
        seen = 0
        for idx in iterate_batches(n_samples, batch_size, generator):
            for cb in callbacks:
                cb.on_batch_start(global_step)
            losses = step(idx)
            loss = losses["loss"]
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{desc}: loss became {loss.item()} at epoch {epoch}, step {global_step}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                params = [p for g in optimizer.param_groups for p in g["params"]]
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
            size = n_samples if idx is None else len(idx)
            for name, value in losses.items():
                sums[name] += float(value.detach()) * size
            seen += size
            global_step += 1
        record: dict = {"epoch": epoch, **{name: total / seen for name, total in sums.items()}}
        stop = False
        for cb in callbacks:
            stop = bool(cb.on_epoch_end(epoch, record)) or stop
        history.append(record)
        bar.set_postfix(loss=f"{record['loss']:.4f}", refresh=False)  # drawn at the next refresh
        if stop:
            break
    bar.close()
    return history
