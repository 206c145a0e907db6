"""Checkpoints of a fit in progress, so that a long fit killed half-way resumes where it stopped.

A checkpoint is one file written with ``torch.save``: whatever the method needs to continue
(module and optimiser states, the history so far) plus the state of the estimator's two RNGs,
so a resumed fit draws the same batches and samples as an uninterrupted one and ends with the
same model (on the same device and thread count). It is written atomically (a temporary file,
fsync'ed, then ``os.replace``): a kill during the write leaves the previous checkpoint. It holds
tensors and plain data only and is read with ``weights_only=True``. It carries a fingerprint of the settings and the data: a
checkpoint of another fit is refused with an error, never silently resumed.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

__all__ = ["CheckpointMismatch", "fit_fingerprint", "load_checkpoint", "rng_state", "restore_rng", "save_checkpoint"]

FORMAT = 1


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
        saved = torch.load(path, map_location="cpu", weights_only=True)  # tensors and plain data only
    except Exception as err:  # a truncated or foreign file
        raise CheckpointMismatch(f"checkpoint {path} cannot be read ({err}); delete it to start afresh") from err
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise CheckpointMismatch(f"checkpoint {path} is not a graphclust checkpoint (format {FORMAT}); delete it "
                         "or pass another path")
    if saved.get("fingerprint") != fingerprint:
        raise CheckpointMismatch(f"checkpoint {path} was written by a fit with other settings or data; delete it "
                         "or pass another path")
    return saved["state"]
