"""Data sets by name, for the command line and the training scripts.

`load_dataset(name, train)` builds a data set with `.classes`; `DATASETS[name]` tells its input
shape, the model that suits it and the training settings that train that model well. 'auto'
means Fashion-MNIST when its files can be found without downloading, otherwise the built-in
shapes (which need nothing installed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .clips import Clips
from .mnist import MNIST, FashionMNIST
from .mnist1d import MNIST1D
from .shapes import Shapes


@dataclass(frozen=True)
class DatasetInfo:
    """What the command line needs to know about a named data set (an entry of DATASETS).

    Attributes:
        build: the data set class (called with train=...).
        input_shape: one sample's shape (C, *spatial).
        default_model: the model `glassnet train` picks for it without --model.
        description: one line for `glassnet datasets`.

    Examples:
        >>> from glassnet.data.registry import DATASETS
        >>> info = DATASETS["mnist1d"]
        >>> info.build.__name__, info.input_shape, info.default_model
        ('MNIST1D', (1, 40), 'mnist1d_cnn')
        >>> list(DATASETS)
        ['fashion-mnist', 'mnist', 'mnist1d', 'shapes', 'clips']
    """
    build: type
    input_shape: tuple[int, ...]  # one sample: (C, *spatial)
    default_model: str
    description: str
    # `glassnet train`'s defaults on this data set, over the global ones (train/runconfig.py):
    # what trains default_model well, chosen by measurement (docs/results.md)
    training: dict = field(default_factory=dict)


# What trains LeNet-5 on 28x28 images: SGD with Nesterov momentum. On Fashion-MNIST, 5 epochs
# reach 90.6% validation accuracy; Adam at lr 0.003 the same, at 0.001 less (docs/results.md).
_LENET5_28X28 = {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.0, "batch_size": 64,
                 "scheduler": "cosine", "epochs": 5}

DATASETS: dict[str, DatasetInfo] = {
    # LeNet-5: 85% after one epoch in seconds; fashion_cnn reaches 92.5% but needs 15 epochs
    # (docs/results.md), so it is asked for by name
    "fashion-mnist": DatasetInfo(FashionMNIST, (1, 28, 28), "lenet5", "Fashion-MNIST, 60,000 + 10,000 28x28 images",
                                 _LENET5_28X28),
    # not measured on MNIST itself (its files were not at hand): the same model and images as Fashion-MNIST
    "mnist": DatasetInfo(MNIST, (1, 28, 28), "lenet5", "MNIST digits, 60,000 + 10,000 28x28 images", _LENET5_28X28),
    # the MNIST-1D paper's Adam, lr 0.01, batch 100: 97.0% validation accuracy after 40 epochs
    # (mean of two seeds), AdamW with weight decay 0.1 96.9%, SGD 96.3% (one seed)
    "mnist1d": DatasetInfo(MNIST1D, (1, 40), "mnist1d_cnn", "MNIST-1D, 4,000 + 1,000 signals of length 40",
                           {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.0, "batch_size": 100,
                            "scheduler": "cosine", "epochs": 40}),
    "shapes": DatasetInfo(Shapes, (1, 28, 28), "lenet5", "procedural shapes, 4,000 + 1,000 28x28 images",
                          _LENET5_28X28),
    # Adam at lr 0.003: 99.5-100% validation accuracy after 3 epochs, where SGD is at 90-100%
    # (two seeds each)
    "clips": DatasetInfo(Clips, (1, 8, 16, 16), "cnn3d", "procedural moving-shape clips, 4,000 + 1,000 of 8x16x16",
                         {"optimizer": "adam", "lr": 0.003, "weight_decay": 0.0, "batch_size": 64,
                          "scheduler": "cosine", "epochs": 3}),
}


def resolve_name(name: str) -> str:
    """'auto' -> 'fashion-mnist' if its files are on this machine, else 'shapes'.

    Any other name is returned as it is when DATASETS has it; otherwise a ValueError lists the
    names there are.

    Examples:
        >>> from glassnet.data.registry import resolve_name
        >>> resolve_name("shapes")
        'shapes'
        >>> resolve_name("cifar10")
        Traceback (most recent call last):
        ...
        ValueError: unknown dataset 'cifar10'; available: auto, fashion-mnist, mnist, mnist1d, shapes, clips
    """
    if name == "auto":
        try:
            FashionMNIST(train=False, download=False)
            return "fashion-mnist"
        except (FileNotFoundError, OSError, ValueError):
            return "shapes"
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: auto, {', '.join(DATASETS)}")
    return name


def load_dataset(name: str, train: bool = True, root=None, **kwargs):
    """The named data set's training or test split. Fashion-MNIST and MNIST are looked for on
    this machine first and downloaded (with checksum) only when missing; offline, the error says
    how to get them.

    Args:
        name: a key of DATASETS, or 'auto' (see resolve_name).
        train: the training split, else the test split.
        root: where to look for (and download) the MNIST files first.
        **kwargs: passed to the data set's class (num_samples=, size=, transform=, download=, ...).

    Examples:
        >>> from glassnet.data.registry import load_dataset
        >>> data = load_dataset("shapes", train=False, num_samples=10)
        >>> data, data[0][0].shape
        (Shapes(train=False, samples=10, size=28), (1, 28, 28))
    """
    info = DATASETS[resolve_name(name)]
    if info.build in (FashionMNIST, MNIST):
        return info.build(root=root, train=train, download=kwargs.pop("download", True), **kwargs)
    return info.build(train=train, **kwargs)
