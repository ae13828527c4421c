"""An AlexNet-style network (Krizhevsky et al. 2012) scaled to 28x28 inputs: the same pattern of
large then small kernels, overlapping max pooling, ReLU and dropout in a dense head."""

from __future__ import annotations

from .. import nn


def alexnet_small(num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """(N, in_channels, 28, 28) -> (N, num_classes)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2),  # (N, 32, 13, 13)
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2),           # (N, 64, 6, 6)
        nn.Conv2d(64, 96, 3, padding=1), nn.ReLU(),
        nn.Conv2d(96, 96, 3, padding=1), nn.ReLU(),
        nn.Conv2d(96, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2),           # (N, 64, 2, 2)
        nn.Flatten(),                                                                     # (N, 256)
        nn.Dropout(0.5), nn.Linear(64 * 2 * 2, 256), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, num_classes),
    )
