"""A small 3-D CNN for short clips (N, C, T, H, W): convolution over time and space together."""

from __future__ import annotations

from .. import nn


def cnn3d(num_classes: int = 4, in_channels: int = 1, width: int = 16) -> nn.Sequential:
    """(N, in_channels, T, H, W) -> (N, num_classes); any T, H, W >= 4 (global pooling at the end)."""
    return nn.Sequential(
        nn.Conv3d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),  # (N, w, T/2, H/2, W/2)
        nn.Conv3d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),     # (N, 2w, T/4, H/4, W/4)
        nn.AdaptiveAvgPool3d(1), nn.Flatten(),                                     # (N, 2w)
        nn.Linear(2 * width, num_classes),
    )
