"""A compact CNN for Fashion-MNIST: two convolution blocks and a small dense head, ~100K parameters."""

from __future__ import annotations

from .. import nn


def fashion_cnn(num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """(N, 1, 28, 28) -> (N, num_classes). 94,546 parameters for 10 classes.

    Two conv-BN-ReLU-pool blocks (32 and 64 filters of 3x3) then dropout and a 64 * 7 * 7 -> 24 -> 10
    head. Batch normalisation lets it train fast with a large learning rate; dropout keeps the
    small head from memorising the training set.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # (N, 32, 14, 14)
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),           # (N, 64, 7, 7)
        nn.Flatten(),                                                                               # (N, 3136)
        nn.Dropout(0.3),
        nn.Linear(64 * 7 * 7, 24), nn.ReLU(),
        nn.Linear(24, num_classes),
    )
