"""Parameter initialisation driven by an explicit ``torch.Generator``.

PyTorch's default ``reset_parameters`` draws from the global RNG. Estimators here own one
generator built from ``random_state`` and never seed the global RNG, so every module
re-initialises its weights from that generator with the same distributions PyTorch uses.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def init_linear_(layer: nn.Linear, generator: torch.Generator | None = None, scheme: str = "default") -> nn.Linear:
    """Initialise ``layer`` in place.

    ``scheme="default"`` reproduces ``nn.Linear.reset_parameters`` (Kaiming-uniform with
    a=sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias); ``"xavier"`` is
    Glorot-uniform weights with zero bias (the GCN/SDCN convention).
    """
    fan_out, fan_in = layer.weight.shape
    with torch.no_grad():
        if scheme == "default":
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            layer.weight.uniform_(-bound, bound, generator=generator)
            if layer.bias is not None:
                layer.bias.uniform_(-bound, bound, generator=generator)
        elif scheme == "xavier":
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            layer.weight.uniform_(-bound, bound, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
        else:
            raise ValueError(f"unknown init scheme {scheme!r}; expected 'default' or 'xavier'")
    return layer


def init_module_(module: nn.Module, generator: torch.Generator | None = None, scheme: str = "default") -> nn.Module:
    """Re-initialise every ``nn.Linear`` inside ``module`` from ``generator``."""
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            init_linear_(sub, generator, scheme)
    return module
