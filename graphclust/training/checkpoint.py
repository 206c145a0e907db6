"""Checkpoints of a fit in progress, so that a long fit killed half-way resumes where it stopped.

A checkpoint is one file written with ``torch.save``: whatever the method needs to continue
(module and optimiser states, the history so far) plus the state of the estimator's two RNGs,
so a resumed fit draws the same batches and samples as an uninterrupted one and ends with the
same model (on the same device and thread count). It is written atomically (a temporary file,
fsync'ed, then ``os.replace``): a kill during the write leaves the previous checkpoint. It holds
tensors and plain data only and is read with ``weights_only=True``. It carries a fingerprint of
the settings and the data: a checkpoint of another fit is refused with an error, never silently
resumed. The code is not in the fingerprint (a fix landing between a kill and the resume would
refuse every resume): instead each checkpoint lists the code versions the fit has run under
(:func:`code_version`), a resume under another one warns, and the resumed fit's ``resumed_``
carries the list, so the record says so.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .callbacks import Callback

__all__ = ["CheckpointMismatch", "FitCheckpoint", "SaveEveryEpoch", "code_version", "fit_fingerprint", "keep_module",
           "kept_module", "load_checkpoint", "peek_checkpoint", "rng_state", "restore_rng", "save_checkpoint",
           "warn_other_code"]

FORMAT = 1


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The code this graphclust runs from: the commit of its git checkout (12 hex digits), with
    ``+changes`` when tracked files of the package differ from it; the package version when it is
    not a git checkout (an installed copy) or git is not there. Read once per process, when this
    module is imported."""
    from .. import __version__

    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return __version__

    def git(*args: str) -> str:
        return subprocess.run(["git", "--no-optional-locks", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", "graphclust")
    except (OSError, subprocess.SubprocessError):
        return __version__
    return commit + ("+changes" if changed else "")


code_version()  # read at import, so a process that runs for hours reports the code it loaded


def warn_other_code(path, saved: str | None, consequence: str, stacklevel: int = 2) -> bool:
    """Warn, and return True, when the file at ``path`` was written under code ``saved`` (None: not
    recorded) and this process runs other code (:func:`code_version`); ``consequence`` says what
    that means for the caller. A file of the same code is used silently."""
    now = code_version()
    if saved == now:
        return False
    warnings.warn(f"{path}: written under code {saved or 'unrecorded'}, this process runs code {now}; {consequence}",
                  stacklevel=stacklevel + 1)
    return True


class CheckpointMismatch(ValueError):
    """The checkpoint file belongs to another fit (other settings or data) or cannot be read."""


def _plain(value):
    """JSON stand-in for what ``json`` cannot write: a torch generator by a hash of its state,
    anything else by its repr."""
    if isinstance(value, torch.Generator):
        return "torch.Generator " + hashlib.sha1(value.get_state().numpy().tobytes()).hexdigest()
    return repr(value)


def fit_fingerprint(params: dict, *tensors: torch.Tensor | None) -> str:
    """A hash of the settings that shape a fit (``params``; a torch generator counts by its
    state, other objects by their repr) and of its data (the bytes of each tensor given, e.g.
    the features, the edges and their weights; None is skipped)."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=_plain).encode())
    for tensor in tensors:
        if tensor is not None:
            array = tensor.detach().cpu().contiguous().numpy()
            digest.update(str((array.shape, array.dtype.str)).encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


def rng_state(generator: torch.Generator, rng: np.random.Generator) -> dict:
    """The state of the estimator's torch generator and numpy RNG."""
    return {"torch": generator.get_state(), "numpy": rng.bit_generator.state}


def restore_rng(state: dict, generator: torch.Generator, rng: np.random.Generator) -> None:
    """Put both RNGs back in the state :func:`rng_state` recorded."""
    generator.set_state(state["torch"])
    rng.bit_generator.state = state["numpy"]


def save_checkpoint(path, fingerprint: str, state: dict) -> None:
    """Write ``state`` (tensors, numbers, strings, lists, dicts) to ``path`` atomically: a
    temporary file, flushed to disk, then renamed over the previous checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        torch.save({"format": FORMAT, "fingerprint": fingerprint, "state": state}, fh)
        fh.flush()
        os.fsync(fh.fileno())  # on disk before it replaces the previous checkpoint
    os.replace(tmp, path)


def keep_module(path, fingerprint: str, module: torch.nn.Module, stage: str, **extra) -> None:
    """Keep a trained ``module`` (e.g. a pretrained autoencoder shared by several fits) at ``path``
    under ``fingerprint``, with ``stage`` (what it is), the code that made it and ``extra`` plain
    data (e.g. the seconds its training took); :func:`kept_module` reads it back."""
    save_checkpoint(path, fingerprint, {"stage": stage, **extra, "code_version": code_version(),
                                        "module": {k: v.detach().cpu() for k, v in module.state_dict().items()}})


def kept_module(path, fingerprint: str, build: Callable[[], torch.nn.Module],
                what: str) -> tuple[torch.nn.Module, dict] | None:
    """The module :func:`keep_module` kept at ``path`` under ``fingerprint``, loaded into ``build()``,
    and the rest of its state; None when there is none, or one of other settings or data, or a
    damaged file (the caller trains it again and replaces the file). One kept under other code is
    used, with a warning naming ``what`` it is."""
    try:
        kept = load_checkpoint(path, fingerprint)
    except CheckpointMismatch:
        return None
    if kept is None:
        return None
    warn_other_code(path, kept.get("code_version"), f"{what} is used as it is; delete the file to train it again",
                    stacklevel=3)
    module = build()
    module.load_state_dict(kept["module"])
    return module, kept


def _read(path) -> dict:
    """The saved dict at ``path`` (tensors and plain data only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def peek_checkpoint(path) -> dict | None:
    """The state saved at ``path`` whatever fit wrote it, to report progress; None when there is
    no readable checkpoint there."""
    try:
        saved = _read(path)
    except Exception:  # noqa: BLE001 - absent, truncated or foreign: nothing to report
        return None
    return saved.get("state") if isinstance(saved, dict) and saved.get("format") == FORMAT else None


def load_checkpoint(path, fingerprint: str) -> dict | None:
    """The state saved at ``path``, or None when there is no file.

    Raises:
        CheckpointMismatch (a ValueError): the file is not a checkpoint of this fit (other
            settings or data), or is unreadable; the message names the file so it can be deleted.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        saved = _read(path)
    except Exception as err:  # a truncated or foreign file
        raise CheckpointMismatch(f"checkpoint {path} cannot be read ({err}); delete it to start afresh") from err
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise CheckpointMismatch(f"checkpoint {path} is not a graphclust checkpoint (format {FORMAT}); delete it "
                                 "or pass another path")
    if saved.get("fingerprint") != fingerprint:
        raise CheckpointMismatch(f"checkpoint {path} was written by a fit with other settings or data; delete it "
                                 "or pass another path")
    return saved["state"]


#: get_params() entries that do not shape a fit's result, or that the fingerprint takes otherwise
_NOT_SETTINGS = ("checkpoint", "device", "verbose", "pretrained")


class FitCheckpoint:
    """The checkpoint of one fit, as a method's ``_fit`` uses it (``path`` None: every call is a
    no-op and ``stage`` is None).

    At construction it fingerprints the estimator's settings, the state of the fit's generator,
    ``tensors`` (the data: features, edges, weights) and a ``pretrained`` module's weights, and
    loads the file when one is there (:class:`CheckpointMismatch` when it is another fit's).
    The method then skips the stages before ``stage``, calls :meth:`restore` at the point where
    that checkpoint was saved (so the RNGs continue from there), and :meth:`save` after each
    stage / epoch.
    """

    def __init__(self, path, estimator, ctx, *tensors: torch.Tensor | None):
        self.path = None if path is None else Path(path)
        self.ctx = ctx
        self.started = time.perf_counter()
        self.before = 0.0  # seconds the fit had run up to the checkpoint it resumes from
        self.state: dict | None = None
        self.fingerprint = None
        self.code_versions: list[str] = []
        if self.path is None:
            return
        params = {k: v for k, v in estimator.get_params().items() if k not in _NOT_SETTINGS}
        params.update(estimator=type(estimator).__name__, generator=ctx.generator)
        pretrained = getattr(estimator, "pretrained", None)
        weights = list(pretrained.state_dict().values()) if isinstance(pretrained, torch.nn.Module) else []
        self.fingerprint = fit_fingerprint(params, *tensors, *weights)
        self.state = load_checkpoint(self.path, self.fingerprint)
        now = code_version()
        if self.state is not None:
            self.before = float(self.state["elapsed_s"])
            # a checkpoint from before code versions were kept: its code is not known
            self.code_versions = list(self.state.get("code_versions") or ["unrecorded"])
            if warn_other_code(self.path, self.code_versions[-1], "the fit resumes there, and its resumed_ (and a "
                               "benchmark record's 'resumed') lists both", stacklevel=3):
                self.code_versions.append(now)
        else:
            self.code_versions = [now]

    @property
    def stage(self) -> str | None:
        return None if self.state is None else self.state["stage"]

    @property
    def history(self) -> list[dict]:
        return list(self.state["history"])

    @property
    def resumed(self) -> dict | None:
        """``{"stage", "epochs_done", "elapsed_s", "code_versions"}`` when the fit resumed, else None
        (the estimator's ``resumed_``); ``code_versions``: the code versions the fit ran under, in
        order (:func:`code_version`; "unrecorded" for a checkpoint older than this list)."""
        if self.state is None:
            return None
        return {"stage": self.stage, "epochs_done": int(self.state.get("epochs_done", 0)), "elapsed_s": self.before,
                "code_versions": list(self.code_versions)}

    def restore(self, module: torch.nn.Module, optimizers: dict | None = None) -> None:
        """Load the module's and the optimisers' states (those the checkpoint has) and both RNGs."""
        module.load_state_dict(self.state["module"])
        for name, optimizer in (optimizers or {}).items():
            if optimizer is not None and self.state["optimizers"].get(name) is not None:
                optimizer.load_state_dict(self.state["optimizers"][name])
        restore_rng(self.state["rng"], self.ctx.generator, self.ctx.rng)
        if self.ctx.verbose:
            joint = f", {self.state['epochs_done']} epochs done" if "epochs_done" in self.state else ""
            print(f"resuming from checkpoint {self.path} (after stage {self.stage}{joint})", file=sys.stderr,
                  flush=True)

    def save(self, stage: str, module: torch.nn.Module, history: list[dict], optimizers: dict | None = None,
             **extra) -> None:
        """Checkpoint after ``stage``: the module, the optimisers' states, the history so far, both
        RNGs, the time spent, and ``extra`` (tensors and plain data)."""
        if self.path is None:
            return
        state = {"stage": stage, "history": list(history),
                 "module": {k: v.detach().cpu() for k, v in module.state_dict().items()},
                 "optimizers": {k: None if o is None else o.state_dict() for k, o in (optimizers or {}).items()},
                 "rng": rng_state(self.ctx.generator, self.ctx.rng),
                 "elapsed_s": self.before + time.perf_counter() - self.started,
                 "code_versions": list(self.code_versions),
                 **{k: v.detach().cpu() if isinstance(v, torch.Tensor) else v for k, v in extra.items()}}
        save_checkpoint(self.path, self.fingerprint, state)


class SaveEveryEpoch(Callback):
    """Checkpoints a training loop after every epoch; the last of the loop's callbacks, so the
    epoch's record is complete. ``save(done, epochs_done)`` receives this loop's records so far,
    as the method's history will hold them (with ``stage`` when one is given), and the number of
    epochs done."""

    def __init__(self, save: Callable[[list[dict], int], None], stage: str | None = None):
        self.save = save
        self.stage = stage
        self.done: list[dict] = []

    def on_epoch_end(self, epoch: int, record: dict) -> None:
        self.done.append(dict(record) if self.stage is None else {"stage": self.stage, **record})
        self.save(list(self.done), epoch + 1)
