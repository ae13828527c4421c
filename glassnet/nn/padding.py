"""Padding layers, as torch.nn: ReflectionPad, ReplicationPad, CircularPad, ConstantPad and
ZeroPad in 1, 2 and 3 dimensions, each a thin holder of glassnet.functional.pad's arguments.

padding: one int for every side, or a tuple of 2, 4 or 6 ints (low, high) per dimension,
LAST dimension first as F.pad reads it: (left, right, top, bottom, front, back). The module
pads the last 1, 2 or 3 dimensions of a batched or unbatched input.
"""

from __future__ import annotations

from .. import functional as F
from ._checks import call_functional
from .module import Module


def _padding_tuple(padding, n: int, label: str) -> tuple[int, ...]:
    """An int for every side, or 2n ints, as PyTorch's _ntuple(2n) reads the argument."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        return (padding,) * (2 * n)
    if isinstance(padding, (tuple, list)) and len(padding) == 2 * n and all(
            isinstance(p, int) and not isinstance(p, bool) for p in padding):
        return tuple(padding)
    raise ValueError(f"{label} expected padding as an int or a tuple of {2 * n} ints, got {padding!r}")


class _PadNd(Module):
    _dims: int  # how many trailing dimensions are padded
    _mode: str

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding_tuple(padding, self._dims, type(self).__name__)

    def forward(self, input):
        self._check_input(len(input.shape), tuple(input.shape))
        return call_functional(type(self).__name__, F.pad, input, self.padding, self._mode, self._value())

    def _check_input(self, ndim: int, shape) -> None:
        if ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"{type(self).__name__} expected a {self._dims + 1}-D (unbatched) or "
                             f"{self._dims + 2}-D (batched) input, got shape {shape}")

    def _value(self):
        return None

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def _check_input(self, ndim: int, shape) -> None:
        # constant padding works on any leading dimensions, as in PyTorch
        if ndim < self._dims:
            raise ValueError(f"{type(self).__name__} expected an input with at least {self._dims} "
                             f"dimensions, got shape {shape}")

    def _value(self):
        return self.value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ReflectionPad1d(_PadNd):
    """Mirror the last dimension at its edges (edge not repeated): (N, C, W) or (C, W). Each
    padding must be smaller than the padded dimension.

    Args:
        padding: an int for both sides, or (left, right).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[1.0, 2.0, 3.0]]])
        >>> nn.ReflectionPad1d(2)(x).tolist()
        [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
    """
    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror the last two dimensions (edge not repeated): (N, C, H, W) or (C, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.ReflectionPad2d(1)(glassnet.ones(1, 3, 4, 4)).shape
        (1, 3, 6, 6)
    """
    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Mirror the last three dimensions (edge not repeated): (N, C, D, H, W) or (C, D, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom, front, back); each
            smaller than the dimension it pads.

    Shape:
        input (N, C, D, H, W) or (C, D, H, W) -> output
        (N, C, D + front + back, H + top + bottom, W + left + right), or the same without N.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.ReflectionPad3d(1)(glassnet.zeros(2, 3, 4, 4, 4)).shape
        (2, 3, 6, 6, 6)
        >>> x = glassnet.tensor([1.0, 2.0]).reshape(1, 1, 2, 1, 1)   # D = 2
        >>> nn.ReflectionPad3d((0, 0, 0, 0, 1, 1))(x).flatten().tolist()
        [2.0, 1.0, 2.0, 1.0]
    """
    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the edge values of the last dimension: (N, C, W) or (C, W).

    Args:
        padding: an int for both sides, or (left, right).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[1.0, 2.0, 3.0]]])
        >>> nn.ReplicationPad1d(2)(x).tolist()
        [[[1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0]]]
    """
    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the edge values of the last two dimensions: (N, C, H, W) or (C, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom).

    Shape:
        input (N, C, H, W) or (C, H, W) -> output
        (N, C, H + top + bottom, W + left + right), or the same without N.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> nn.ReplicationPad2d(1)(x).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]]]
    """
    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the edge values of the last three dimensions: (N, C, D, H, W) or (C, D, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom, front, back).

    Shape:
        input (N, C, D, H, W) or (C, D, H, W) -> output
        (N, C, D + front + back, H + top + bottom, W + left + right), or the same without N.

    Examples:
        The padding tuple starts with the last dimension (W), as F.pad reads it:

        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.ReplicationPad3d((1, 1, 2, 2, 0, 3))(glassnet.zeros(2, 3, 4, 4, 4)).shape
        (2, 3, 7, 8, 6)
    """
    _dims, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Wrap the last dimension around (periodic boundary): (N, C, W) or (C, W).

    Args:
        padding: an int for both sides, or (left, right).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[1.0, 2.0, 3.0]]])
        >>> nn.CircularPad1d(2)(x).tolist()
        [[[2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0]]]
    """
    _dims, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Wrap the last two dimensions around (periodic boundary): (N, C, H, W) or (C, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom).

    Shape:
        input (N, C, H, W) or (C, H, W) -> output
        (N, C, H + top + bottom, W + left + right), or the same without N.

    Examples:
        One column on the left (the last column wrapped round) and one row at the bottom (the
        first row):

        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> nn.CircularPad2d((1, 0, 0, 1))(x).tolist()
        [[[[2.0, 1.0, 2.0], [4.0, 3.0, 4.0], [2.0, 1.0, 2.0]]]]
    """
    _dims, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Wrap the last three dimensions around: (N, C, D, H, W) or (C, D, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom, front, back).

    Shape:
        input (N, C, D, H, W) or (C, D, H, W) -> output
        (N, C, D + front + back, H + top + bottom, W + left + right), or the same without N.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.CircularPad3d(1)(glassnet.zeros(3, 4, 4, 4)).shape     # unbatched
        (3, 6, 6, 6)
    """
    _dims, _mode = 3, "circular"


class ConstantPad1d(_ConstantPadNd):
    """Fill with value around the last dimension: (N, C, W) or (C, W).

    Args:
        padding: an int for both sides, or (left, right).
        value: the fill value.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[1.0, 2.0, 3.0]]])
        >>> nn.ConstantPad1d((1, 0), 9.0)(x).tolist()
        [[[9.0, 1.0, 2.0, 3.0]]]
    """
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Fill with value around the last two dimensions: (N, C, H, W) or (C, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom).
        value: the fill value.

    Shape:
        input `(*, H, W)` -> output `(*, H + top + bottom, W + left + right)`.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        >>> nn.ConstantPad2d((0, 1, 1, 0), 9.0)(x).tolist()      # right and top
        [[[[9.0, 9.0, 9.0], [1.0, 2.0, 9.0], [3.0, 4.0, 9.0]]]]
    """
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Fill with value around the last three dimensions: (N, C, D, H, W) or (C, D, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom, front, back).
        value: the fill value.

    Shape:
        input `(*, D, H, W)` -> output `(*, D + front + back, H + top + bottom, W + left + right)`.

    Examples:
        One zero surrounded by 26 values of 3.5:

        >>> import glassnet
        >>> from glassnet import nn
        >>> y = nn.ConstantPad3d(1, 3.5)(glassnet.zeros(1, 1, 1, 1, 1))
        >>> y.shape, y.sum().item()
        ((1, 1, 3, 3, 3), 91.0)
    """
    _dims = 3


class _ZeroPad:
    """ConstantPad with value 0, shown as PyTorch shows ZeroPad (the padding only)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Zeros around the last dimension (a ConstantPad1d, as in PyTorch): (N, C, W) or (C, W).

    Args:
        padding: an int for both sides, or (left, right).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[1.0, 2.0, 3.0]]])
        >>> nn.ZeroPad1d(2)(x).tolist()
        [[[0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]]]
    """


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Zeros around the last two dimensions: (N, C, H, W) or (C, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.ZeroPad2d((1, 1, 2, 0))(glassnet.ones(1, 1, 2, 2)).shape   # 2 rows on top only
        (1, 1, 4, 4)
    """


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Zeros around the last three dimensions: (N, C, D, H, W) or (C, D, H, W).

    Args:
        padding: an int for every side, or (left, right, top, bottom, front, back).

    Shape:
        input `(*, D, H, W)` -> output `(*, D + front + back, H + top + bottom, W + left + right)`.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> y = nn.ZeroPad3d((0, 0, 0, 0, 1, 1))(glassnet.ones(1, 1, 2, 2, 2))   # depth only
        >>> y.shape, y.sum().item()
        ((1, 1, 4, 2, 2), 8.0)
    """


__all__ = ["ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
           "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"]
