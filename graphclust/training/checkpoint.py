"""Checkpoints of a fit in progress, so that a long fit killed half-way resumes where it stopped.

A checkpoint is one file written with ``torch.save``: whatever the method needs to continue
(module and optimiser states, the history so far) plus the state of the estimator's two RNGs,
so a resumed fit draws the same batches and samples as an uninterrupted one and ends with the
same model. It is written atomically (a temporary file, then ``os.replace``): a kill during the
write leaves the previous checkpoint. It carries a fingerprint of the settings and the data: a
checkpoint of another fit is refused with an error, never silently resumed.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

__all__ = ["fit_fingerprint", "load_checkpoint", "rng_state", "restore_rng", "save_checkpoint"]

FORMAT = 1


def fit_fingerprint(params: dict, x: torch.Tensor, edge_index: torch.Tensor | None = None) -> str:
    """A hash of the settings that shape a fit (``params``, made JSON-able with ``repr`` for
    objects) and of its data (the features' bytes, the edges')."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=repr).encode())
    for tensor in (x, edge_index):
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
    """Write ``state`` (tensors, numbers, lists, dicts) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "fingerprint": fingerprint, "state": state}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, fingerprint: str) -> dict | None:
    """The state saved at ``path``, or None when there is no file.

    Raises:
        ValueError: the file is not a checkpoint of this fit (other settings or data), or is
            unreadable; the message names the file so it can be deleted.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file
        raise ValueError(f"checkpoint {path} cannot be read ({err}); delete it to start afresh") from err
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise ValueError(f"checkpoint {path} is not a graphclust checkpoint (format {FORMAT}); delete it "
                         "or pass another path")
    if saved.get("fingerprint") != fingerprint:
        raise ValueError(f"checkpoint {path} was written by a fit with other settings or data; delete it "
                         "or pass another path")
    return saved["state"]
