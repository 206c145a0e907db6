"""Autoencoder pretraining shared by every AE-based method (AE+KMeans, DEC, IDEC, DCN, SDCN)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..losses import reconstruction_loss
from ..nn import MLPAutoEncoder
from .loop import make_optimizer, train


@dataclass(frozen=True)
class PretrainConfig:
    """Pretraining schedule; defaults are SDCN's (30 epochs, batch 256, Adam 1e-3)."""

    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3


def pretrain_autoencoder(ae: torch.nn.Module, x: torch.Tensor, config: PretrainConfig, *,
                         generator: torch.Generator | None = None, verbose: bool = True) -> list[dict]:
    """Train ``ae`` in place to reconstruct ``x`` [N, F] with MSE; return the history.

    ``ae(x_batch)`` must return an object with ``x_hat`` (e.g. :class:`AEOutput`).
    """
    optimizer = make_optimizer(ae.parameters(), "adam", lr=config.lr)

    def step(idx: torch.Tensor | None) -> dict[str, torch.Tensor]:
        xb = x if idx is None else x[idx.to(x.device)]
        return {"loss": reconstruction_loss(ae(xb).x_hat, xb)}

    ae.train()
    history = train(step, optimizer, epochs=config.epochs, n_samples=x.shape[0], batch_size=config.batch_size,
                    generator=generator, verbose=verbose, desc="pretrain AE")
    ae.eval()
    return history


def build_pretrained_autoencoder(x: torch.Tensor, *, hidden=(500, 500, 2000), latent: int = 10,
                                 config: PretrainConfig = PretrainConfig(), pretrained: torch.nn.Module | None = None,
                                 generator: torch.Generator | None = None, verbose: bool = True
                                 ) -> tuple[MLPAutoEncoder, list[dict]]:
    """Return a pretrained :class:`MLPAutoEncoder` for ``x`` and its pretraining history.

    With ``pretrained`` given, it is copied (the caller's module is left untouched), checked
    against ``x``'s width, and no pretraining runs (empty history).
    """
    if pretrained is not None:
        in_features = getattr(pretrained, "in_features", None)
        if in_features is not None and in_features != x.shape[1]:
            raise ValueError(f"pretrained autoencoder expects {in_features} features but the data has {x.shape[1]}")
        import copy

        ae = copy.deepcopy(pretrained).to(x.device)
        ae.eval()
        return ae, []
    ae = MLPAutoEncoder(x.shape[1], hidden, latent)
    ae.reset_parameters(generator)
    ae.to(x.device)
    return ae, pretrain_autoencoder(ae, x, config, generator=generator, verbose=verbose)
