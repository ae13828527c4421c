"""Classic hand-made kernels (seed 001, 002, 003) and applying them to an image.

Every kernel is a 3x3 float32 array used as PyTorch uses a weight: cross-correlation, no flip.
Edge kernels are a difference between the two sides of the edge they look for, with zeros along
the edge; the sign of the response says which side is brighter (seed 002: dark->light vs
light->dark).

- vertical, horizontal: seed 001 and 002 ([[1, 0, -1]] * 3 and its transpose);
- sobel_x, sobel_y, scharr_x, scharr_y: seed 001's Sobel and Scharr kernels, as printed there;
- slash, backslash: seed 003's diagonal kernels, for edges running like '/' and like '\\'
  (the Prewitt diagonals: +1 on one side of the diagonal, -1 on the other);
- laplacian: the 4-neighbour second difference; gaussian: the binomial 3x3 blur (sums to 1);
  box: the 3x3 mean (sums to 1).

`kernels` maps each name to its kernel (read-only):

>>> from glassnet.explain import kernels
>>> list(kernels)
['vertical', 'horizontal', 'sobel_x', 'sobel_y', 'scharr_x', 'scharr_y', 'slash', 'backslash',
 'laplacian', 'gaussian', 'box']
>>> kernels["sobel_x"].tolist()
[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]
>>> float(kernels["gaussian"].sum())
1.0
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ..data.preprocess import to_gray  # (H, W) or (H, W, 3|4) -> (H, W) float32 in [0, 1]


def _frozen(rows, scale: float = 1.0) -> np.ndarray:
    a = np.asarray(rows, dtype=np.float32) * np.float32(scale)
    a.flags.writeable = False  # shared module-level data: nobody may change a classic kernel
    return a


kernels: Mapping[str, np.ndarray] = MappingProxyType({
    "vertical": _frozen([[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
    "horizontal": _frozen([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
    "sobel_x": _frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "scharr_x": _frozen([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]),
    "scharr_y": _frozen([[-3, -10, -3], [0, 0, 0], [3, 10, 3]]),
    "slash": _frozen([[1, 1, 0], [1, 0, -1], [0, -1, -1]]),
    "backslash": _frozen([[0, 1, 1], [-1, 0, 1], [-1, -1, 0]]),
    "laplacian": _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "gaussian": _frozen([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    "box": _frozen(np.ones((3, 3)), 1 / 9),
})

EDGE_KERNELS = ("vertical", "horizontal", "slash", "backslash", "sobel_x", "sobel_y")


def kernel_bank(names=None) -> np.ndarray:
    """Stack named kernels into a conv weight of shape (K, 1, 3, 3) (all kernels when names is None).

    Args:
        names: a kernel name, a list of names (see `kernels`), or None for all of them.

    Examples:
        >>> from glassnet.explain import kernel_bank
        >>> bank = kernel_bank(["vertical", "sobel_x"])
        >>> bank.shape, bank[0, 0].tolist()
        ((2, 1, 3, 3), [[1.0, 0.0, -1.0], [1.0, 0.0, -1.0], [1.0, 0.0, -1.0]])
    """
    names = list(kernels) if names is None else [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in kernels]
    if unknown:
        raise KeyError(f"unknown kernel(s) {unknown}; known kernels: {', '.join(kernels)}")
    return np.stack([kernels[n] for n in names])[:, None]  # (K, 1, 3, 3)


def apply_kernels(image, names=None, stride=1, padding=0, padding_mode: str = "zeros") -> dict[str, np.ndarray]:
    """Filter one image with each named kernel: {name: feature map (H', W')}.

    image: (H, W) array, or (H, W, 3|4) colour image converted with `to_gray`. The filtering is
    glassnet's own convolution (glassnet.kernels.conv.conv_forward) on a (1, 1, H, W) batch.

    Args:
        image: (H, W) grey or (H, W, 3|4) colour.
        names: a kernel name, a list of names, or None for all the classic kernels.
        stride: window step, an int or 2 ints.
        padding: an int, 2 ints, or a padding string as for Conv2d.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    Examples:
        The vertical-edge kernel (lecture 002) on an image dark left, light right; the negative
        sign says the right side is brighter:

        >>> import numpy as np
        >>> from glassnet.explain import apply_kernels
        >>> image = np.array([[0, 0, 1, 1]] * 4, dtype=np.float32)
        >>> maps = apply_kernels(image, ["vertical", "horizontal"])
        >>> maps["vertical"].tolist(), maps["horizontal"].tolist()
        ([[-3.0, -3.0], [-3.0, -3.0]], [[0.0, 0.0], [0.0, 0.0]])
    """
    from ..kernels.conv import conv_forward
    names = list(kernels) if names is None else [names] if isinstance(names, str) else list(names)
    gray = to_gray(image)[None, None]  # (1, 1, H, W)
    maps = conv_forward(gray, kernel_bank(names), stride=stride, padding=padding,
                        padding_mode=padding_mode)[0]  # (K, H', W')
    return {name: np.ascontiguousarray(m) for name, m in zip(names, maps)}


def fixed_conv2d(names=EDGE_KERNELS, in_channels: int = 1, stride=1, padding=0, padding_mode: str = "zeros"):
    """A glassnet.nn.Conv2d whose filters are the named classic kernels, frozen (no gradient).

    Weight (K, in_channels, 3, 3): each kernel divided by in_channels on every input channel, so
    the layer filters the channel mean (the grey image for an RGB input). No bias.

    Examples:
        >>> from glassnet.explain.classic import fixed_conv2d
        >>> layer = fixed_conv2d(["vertical", "horizontal"], in_channels=3)
        >>> layer.weight.shape, layer.weight.requires_grad
        ((2, 3, 3, 3), False)
        >>> import numpy as np
        >>> bool(np.allclose(layer.weight.numpy()[0].sum(axis=0), kernels["vertical"]))   # a third per channel
        True
    """
    from .. import nn
    bank = kernel_bank(names)  # (K, 1, 3, 3)
    layer = nn.Conv2d(in_channels, bank.shape[0], 3, stride=stride, padding=padding, bias=False,
                      padding_mode=padding_mode)
    layer.weight.data[...] = np.repeat(bank, in_channels, axis=1) / np.float32(in_channels)  # (K, C, 3, 3)
    layer.weight.requires_grad_(False)
    return layer
