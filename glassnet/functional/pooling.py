"""Pooling with torch.nn.functional's names and signatures, over any number of spatial dims.

max_pool1d/2d/3d, avg_pool1d/2d/3d, adaptive_avg_pool1d/2d/3d, adaptive_max_pool1d/2d/3d fix
the number of spatial dimensions; max_pool, avg_pool and global_avg_pool take any. The
arithmetic (forward and the hand-written backward) is in glassnet.kernels.pooling.

Inputs are (N, C, *spatial) or, for the fixed-rank functions, unbatched (C, *spatial), as in
PyTorch. dtype policy: pooling has no weights, so a float32 input gives float32 and a float64
input float64 (nothing is upcast); integer, boolean and float16 inputs are refused with a
TypeError (convert with .float()). Indices (return_indices=True) are an int64 Tensor holding,
for each output, the flat index into its input plane's spatial dims of the chosen maximum;
they carry no gradient.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..dispatch import kernels
from ..kernels.sizes import ntuple
from ..tensor import Tensor
from ._checks import shape_text

K = kernels("pooling")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = [
    "max_pool", "max_pool1d", "max_pool2d", "max_pool3d",
    "avg_pool", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "global_avg_pool",
]

def _check_input(input, nd: int, name: str, allow_unbatched: bool) -> bool:
    """Check type, rank and dtype; return True when the input is unbatched (C, *spatial)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name} expected a Tensor, got {type(input).__name__}")
    ranks = (nd + 2, nd + 1) if allow_unbatched else (nd + 2,)
    if input.ndim not in ranks:
        expected = shape_text(nd) + (f" or {shape_text(nd, batched=False)}" if allow_unbatched else "")
        raise ValueError(f"{name} expected input of shape {expected}, got {tuple(input.shape)}")
    if input.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} expected a float32 or float64 input, got dtype {input.dtype}; "
                        "convert it with .float()")
    return input.ndim == nd + 1


def _check_not_empty(input: Tensor, nd: int, name: str, unbatched: bool) -> None:
    """Windowed pooling needs channels and spatial sizes > 0; only the batch may be empty (PyTorch
    refuses the rest too)."""
    if 0 in input.shape[0 if unbatched else 1:]:
        raise ValueError(f"{name} expected input of shape {shape_text(nd)} or {shape_text(nd, batched=False)} "
                         f"with sizes > 0 (only N may be 0), got {tuple(input.shape)}")


def _batched(input: Tensor, unbatched: bool) -> Tensor:
    return input.unsqueeze(0) if unbatched else input  # (C, *spatial) -> (1, C, *spatial)


def _unbatched(t: Tensor, unbatched: bool) -> Tensor:
    return t.squeeze(0) if unbatched else t


def _rank(kernel_size, input, name: str) -> int:
    """Spatial dims of the general functions: len(kernel_size), or all but (N, C) for an int."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name} expected a Tensor, got {type(input).__name__}")
    if isinstance(kernel_size, int):
        if input.ndim < 3:
            raise ValueError(f"{name} expected input of shape (N, C, *spatial), got {tuple(input.shape)}")
        return input.ndim - 2
    return len(kernel_size)


# ---------------------------------------------------------------- max pooling

class MaxPool(Function):
    """y = max over each window; dx gets dy at the saved argmax of each window."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        y, indices = K.max_pool_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.save_for_backward(indices)
        ctx.input_shape = x.shape
        ctx.mark_non_differentiable(1)
        return y, indices

    @staticmethod
    def backward(ctx, dy, _):
        (indices,) = ctx.saved
        return K.max_pool_backward(dy, indices, ctx.input_shape) if ctx.needs_input_grad[0] else None


def max_pool_nd(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices, name,
                allow_unbatched=True):
    """max_pool1d/2d/3d and max_pool with nd spatial dims. The input is checked here, once, and
    errors carry `name`: the function's, or that of the nn layer calling this (MaxPool2d)."""
    unbatched = _check_input(input, nd, name, allow_unbatched)
    _check_not_empty(input, nd, name, unbatched)
    kernel_size = ntuple(kernel_size, nd, f"{name} kernel_size")
    y, indices = MaxPool.apply(_batched(input, unbatched), kernel_size=kernel_size, stride=stride,
                               padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    y = _unbatched(y, unbatched)
    if return_indices:
        return y, Tensor._wrap(indices.data[0] if unbatched else indices.data)
    return y


def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling of (N, C, *spatial) over its D = ndim - 2 spatial dims (a tuple kernel_size
    has D entries).

    out = floor((n + p_lo + p_hi - d (k - 1) - 1) / s) + 1 per dimension (ceil with ceil_mode);
    padding (an int, a tuple, or (low, high) pairs) is -inf and at most kernel_size // 2.
    stride defaults to kernel_size; return_indices also returns each maximum's flat index into
    its input plane's spatial dims, as max_pool2d does.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.max_pool(x, (2, 2)).tolist()                  # D = 2: max_pool2d
        [[[[5.0, 7.0], [13.0, 15.0]]]]
        >>> y, indices = F.max_pool(x, 2, return_indices=True)
        >>> indices.tolist()                                # flat positions in the 4 x 4 plane
        [[[[5, 7], [13, 15]]]]
        >>> F.max_pool(glassnet.ones(1, 1, 4, 4, 4, 4), 2).shape   # an int: D = ndim - 2 = 4
        (1, 1, 2, 2, 2, 2)
    """
    nd = _rank(kernel_size, input, "max_pool")
    return max_pool_nd(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       "max_pool", allow_unbatched=False)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """(N, C, L) or (C, L) -> (N, C, L_out): the maximum of each window; see max_pool for the
    arguments and L_out. stride defaults to kernel_size.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1, 3, 2, 5, 4, 0]]], dtype=np.float32))
        >>> F.max_pool1d(x, 2).tolist(), F.max_pool1d(x, 3, stride=1).tolist()
        ([[[3.0, 5.0, 4.0]]], [[[3.0, 5.0, 5.0, 5.0]]])
    """
    return max_pool_nd(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """(N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out); see max_pool.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.max_pool2d(x, 2).numpy()[0, 0].tolist()
        [[5.0, 7.0], [13.0, 15.0]]
    """
    return max_pool_nd(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """(N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out): the maximum of each
    window; see max_pool for the arguments and sizes. stride defaults to kernel_size.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(8, dtype=np.float32).reshape(1, 1, 2, 2, 2))
        >>> F.max_pool3d(x, 2).tolist()
        [[[[[7.0]]]]]
        >>> F.max_pool3d(glassnet.zeros(2, 3, 8, 8, 8), (1, 2, 2)).shape    # pool H and W only
        (2, 3, 8, 4, 4)
    """
    return max_pool_nd(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d")


# ---------------------------------------------------------------- average pooling

class AvgPool(Function):
    """y = window sum / divisor; each input gets dy / divisor from every window covering it."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
        ctx.input_shape = x.shape
        ctx.options = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        return K.avg_pool_forward(x, *ctx.options)

    @staticmethod
    def backward(ctx, dy):
        return K.avg_pool_backward(dy, ctx.input_shape, *ctx.options) if ctx.needs_input_grad[0] else None


def avg_pool_nd(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, name,
                allow_unbatched=True):
    """avg_pool1d/2d/3d and avg_pool with nd spatial dims; errors carry `name` (see max_pool_nd)."""
    unbatched = _check_input(input, nd, name, allow_unbatched)
    _check_not_empty(input, nd, name, unbatched)
    kernel_size = ntuple(kernel_size, nd, f"{name} kernel_size")
    y = AvgPool.apply(_batched(input, unbatched), kernel_size=kernel_size, stride=stride, padding=padding,
                      ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                      divisor_override=divisor_override)
    return _unbatched(y, unbatched)


def avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
    """Average pooling of (N, C, *spatial) over its D = ndim - 2 spatial dims (a tuple
    kernel_size has D entries).

    y = (sum over the window, padding counting 0) / divisor, where divisor = divisor_override if
    given, else the window positions inside the padded input (count_include_pad=True) or inside
    the input only (False). Output size as in max_pool with dilation 1; stride defaults to
    kernel_size.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.avg_pool(x, (2, 2)).tolist()                  # D = 2: avg_pool2d
        [[[[2.5, 4.5], [10.5, 12.5]]]]
        >>> F.avg_pool(x, (2, 2), divisor_override=1).tolist()   # sum pooling
        [[[[10.0, 18.0], [42.0, 50.0]]]]
        >>> F.avg_pool(glassnet.ones(1, 1, 4, 4, 4, 4), 2).shape   # an int: D = ndim - 2 = 4
        (1, 1, 2, 2, 2, 2)
    """
    nd = _rank(kernel_size, input, "avg_pool")
    return avg_pool_nd(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                       "avg_pool", allow_unbatched=False)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """(N, C, L) or (C, L) -> (N, C, L_out): the mean of each window; see avg_pool for the
    arguments (PyTorch's avg_pool1d has no divisor_override). stride defaults to kernel_size.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1, 3, 2, 6]]], dtype=np.float32))
        >>> F.avg_pool1d(x, 2).tolist()
        [[[2.0, 4.0]]]
        >>> F.avg_pool1d(x, 2, padding=1).tolist()                  # the padding counts as 0
        [[[0.5, 2.5, 3.0]]]
        >>> F.avg_pool1d(x, 2, padding=1, count_include_pad=False).tolist()
        [[[1.0, 2.5, 6.0]]]
    """
    return avg_pool_nd(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """(N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out); see avg_pool.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.avg_pool2d(x, 2).numpy()[0, 0].tolist()
        [[2.5, 4.5], [10.5, 12.5]]
    """
    return avg_pool_nd(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                       "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """(N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out): the mean of each window;
    see avg_pool for the arguments and the divisor. stride defaults to kernel_size.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(8, dtype=np.float32).reshape(1, 1, 2, 2, 2))
        >>> F.avg_pool3d(x, 2).tolist(), F.avg_pool3d(x, 2, divisor_override=1).tolist()
        ([[[[[3.5]]]]], [[[[[28.0]]]]])
    """
    return avg_pool_nd(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                       "avg_pool3d")


# ---------------------------------------------------------------- adaptive pooling

class AdaptiveAvgPool(Function):
    """Window i of each dimension is [floor(i n / out), ceil((i + 1) n / out)), averaged."""

    @staticmethod
    def forward(ctx, x, output_size):
        ctx.input_shape = x.shape
        return K.adaptive_avg_pool_forward(x, output_size)

    @staticmethod
    def backward(ctx, dy):
        return K.adaptive_avg_pool_backward(dy, ctx.input_shape) if ctx.needs_input_grad[0] else None


class AdaptiveMaxPool(MaxPool):
    """The same windows as AdaptiveAvgPool with a max. backward is MaxPool's: it routes dy to
    the saved argmax, whatever the windows were."""

    @staticmethod
    def forward(ctx, x, output_size):
        y, indices = K.adaptive_max_pool_forward(x, output_size)
        ctx.save_for_backward(indices)
        ctx.input_shape = x.shape
        ctx.mark_non_differentiable(1)
        return y, indices


def _output_size(output_size, nd: int, name: str) -> tuple:
    """An int or None for every dimension, or nd of them (None keeps that input size)."""
    if output_size is None or isinstance(output_size, int):
        return (output_size,) * nd
    if isinstance(output_size, (tuple, list)) and len(output_size) == nd:
        return tuple(output_size)
    raise ValueError(f"{name} output_size must be an int or a tuple of {nd} ints (or None), got {output_size!r}")


def adaptive_avg_pool_nd(input, nd, output_size, name):
    """adaptive_avg_pool1d/2d/3d; errors carry `name` (see max_pool_nd)."""
    unbatched = _check_input(input, nd, name, True)
    y = AdaptiveAvgPool.apply(_batched(input, unbatched), output_size=_output_size(output_size, nd, name))
    return _unbatched(y, unbatched)


def adaptive_max_pool_nd(input, nd, output_size, return_indices, name):
    """adaptive_max_pool1d/2d/3d; errors carry `name` (see max_pool_nd)."""
    unbatched = _check_input(input, nd, name, True)
    y, indices = AdaptiveMaxPool.apply(_batched(input, unbatched), output_size=_output_size(output_size, nd, name))
    y = _unbatched(y, unbatched)
    if return_indices:
        return y, Tensor._wrap(indices.data[0] if unbatched else indices.data)
    return y


def adaptive_avg_pool1d(input, output_size):
    """(N, C, L) or (C, L) -> (N, C, output_size): the mean of each window.
    Window i of an input size n with output size m spans [floor(i n / m), ceil((i + 1) n / m))
    along each dimension, so windows may differ in size and overlap.

    Args:
        input: a floating tensor.
        output_size: an int (None keeps the input length).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]], np.float32))
        >>> F.adaptive_avg_pool1d(x, 2).tolist()      # windows [1, 2, 3] and [3, 4, 5]
        [[[2.0, 4.0]]]
    """
    return adaptive_avg_pool_nd(input, 1, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """(N, C, H, W) or (C, H, W) -> (N, C, *output_size): the mean of each window;
    output_size=1 is global average pooling.
    Window i of an input size n with output size m spans [floor(i n / m), ceil((i + 1) n / m))
    along each dimension, so windows may differ in size and overlap.

    Args:
        input: a floating tensor.
        output_size: an int or 2 ints (None keeps that input size).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> F.adaptive_avg_pool2d(glassnet.zeros(8, 64, 7, 7), 1).shape
        (8, 64, 1, 1)
    """
    return adaptive_avg_pool_nd(input, 2, output_size, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    """(N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size): the mean of each window.
    Window i of an input size n with output size m spans [floor(i n / m), ceil((i + 1) n / m))
    along each dimension, so windows may differ in size and overlap.

    Args:
        input: a floating tensor.
        output_size: an int or 3 ints (None keeps that input size).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> F.adaptive_avg_pool3d(glassnet.zeros(2, 4, 5, 6, 7), (1, 2, None)).shape
        (2, 4, 1, 2, 7)
    """
    return adaptive_avg_pool_nd(input, 3, output_size, "adaptive_avg_pool3d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """(N, C, L) or (C, L) -> (N, C, output_size): the maximum of each window.
    Window i of an input size n with output size m spans [floor(i n / m), ceil((i + 1) n / m))
    along each dimension, so windows may differ in size and overlap. With return_indices, also the
    flat position of each maximum within its input plane (as PyTorch).

    Args:
        input: a floating tensor.
        output_size: an int (None keeps the input length).
        return_indices: also return the int64 indices of the maxima.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1.0, 5.0, 3.0, 4.0, 2.0]]], np.float32))
        >>> y, i = F.adaptive_max_pool1d(x, 2, return_indices=True)   # windows [1, 5, 3], [3, 4, 2]
        >>> y.tolist(), i.tolist()
        ([[[5.0, 4.0]]], [[[1, 3]]])
    """
    return adaptive_max_pool_nd(input, 1, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """(N, C, H, W) or (C, H, W) -> (N, C, *output_size): the maximum of each window.
    Window i of an input size n with output size m spans [floor(i n / m), ceil((i + 1) n / m))
    along each dimension, so windows may differ in size and overlap. With return_indices, also the
    flat position of each maximum within its input plane (as PyTorch).

    Args:
        input: a floating tensor.
        output_size: an int or 2 ints (None keeps that input size).
        return_indices: also return the int64 indices of the maxima.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.adaptive_max_pool2d(x, 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return adaptive_max_pool_nd(input, 2, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """(N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size): the maximum of each window.
    Window i of an input size n with output size m spans [floor(i n / m), ceil((i + 1) n / m))
    along each dimension, so windows may differ in size and overlap. With return_indices, also the
    flat position of each maximum within its input plane (as PyTorch).

    Args:
        input: a floating tensor.
        output_size: an int or 3 ints (None keeps that input size).
        return_indices: also return the int64 indices of the maxima.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> F.adaptive_max_pool3d(glassnet.zeros(2, 4, 5, 6, 7), 1).shape
        (2, 4, 1, 1, 1)
    """
    return adaptive_max_pool_nd(input, 3, output_size, return_indices, "adaptive_max_pool3d")


# ---------------------------------------------------------------- global average pooling

class GlobalAvgPool(Function):
    """y[n, c] = mean of plane (n, c); each input gets dy[n, c] / (plane size)."""

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return K.global_avg_pool_forward(x)

    @staticmethod
    def backward(ctx, dy):
        return K.global_avg_pool_backward(dy, ctx.input_shape) if ctx.needs_input_grad[0] else None


def global_avg_pool(x):
    """(N, C, *spatial) with at least one spatial dim -> (N, C): the mean over all spatial dims,
    y[n, c] = mean of x[n, c]. Unlike adaptive_avg_pool2d(x, 1) the spatial dims are dropped,
    ready for a Linear layer.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2))
        >>> F.global_avg_pool(x).tolist()
        [[1.5, 5.5]]
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"global_avg_pool expected a Tensor, got {type(x).__name__}")
    if x.ndim < 3:
        raise ValueError(f"global_avg_pool expected input of shape (N, C, *spatial), got {tuple(x.shape)}")
    _check_input(x, x.ndim - 2, "global_avg_pool", False)
    return GlobalAvgPool.apply(x)
