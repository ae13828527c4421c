"""LeNet-5 in its modern form (ReLU, max pooling), for 28x28 single-channel images."""

from __future__ import annotations

from .. import nn


def lenet5(num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """(N, 1, 28, 28) -> (N, num_classes). 61,706 parameters for 10 classes.

    The first convolution pads by 2 so a 28x28 image is seen as the 32x32 input of LeCun et al.;
    C5 is the 16 * 5 * 5 -> 120 dense layer it is equivalent to on a 5x5 map.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),                      # (N, 16, 5, 5)
        nn.Flatten(),                                                          # (N, 400)
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )
