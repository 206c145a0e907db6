"""The one training loop, AE pretraining and callbacks."""
from .callbacks import Callback, MonitorLabels, TargetRefresh
from .loop import iterate_batches, make_optimizer, train
from .pretrain import PretrainConfig, build_pretrained_autoencoder, pretrain_autoencoder

__all__ = [
    "Callback",
    "MonitorLabels",
    "PretrainConfig",
    "TargetRefresh",
    "build_pretrained_autoencoder",
    "iterate_batches",
    "make_optimizer",
    "pretrain_autoencoder",
    "train",
]
