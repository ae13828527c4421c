"""An all-convolutional network ending in global average pooling (seed 001; Goodfellow et al.,
Deep Learning, fig. 9.11 right): no dense layer, so it accepts any input size."""

from __future__ import annotations

from .. import nn


def allconv(num_classes: int = 10, in_channels: int = 1, width: int = 32) -> nn.Sequential:
    """(N, in_channels, H, W) -> (N, num_classes).

    Strided convolutions replace pooling; the last 1x1 convolution makes one map per class and
    global average pooling turns each map into that class's score.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(),          # H/2
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),  # H/4
        nn.Conv2d(2 * width, num_classes, 1),       # (N, num_classes, H/4, W/4)
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),      # (N, num_classes)
    )
