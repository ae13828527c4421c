"""The model zoo. `get_model(name, **kwargs)` builds a model by name (what the CLI calls)."""

from __future__ import annotations

from collections.abc import Callable

from .allconv import allconv
from .alexnet import alexnet_small
from .cnn1d import mnist1d_cnn
from .cnn3d import cnn3d
from .fashion import fashion_cnn
from .lenet import lenet5
from .lenet1998 import lenet5_1998
from .resnet import ResNet, resnet_small

MODELS: dict[str, Callable] = {
    "lenet5": lenet5,
    "lenet5_1998": lenet5_1998,
    "fashion_cnn": fashion_cnn,
    "mnist1d_cnn": mnist1d_cnn,
    "allconv": allconv,
    "resnet_small": resnet_small,
    "alexnet_small": alexnet_small,
    "cnn3d": cnn3d,
}


def get_model(name: str, **kwargs):
    try:
        build = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}") from None
    return build(**kwargs)


__all__ = ["MODELS", "get_model", "ResNet", *MODELS]
