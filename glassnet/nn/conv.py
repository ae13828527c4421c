"""Convolution layers. One general ConvNd holds the parameters and runs glassnet.functional.conv's
Function (through apply_conv: the layer checks its arguments when it is built and its input at
each call, so the functional checks are not repeated);
Conv1d/2d/3d only fix the number of spatial dimensions (Equinox's layout). Likewise
ConvTransposeNd and ConvTranspose1d/2d/3d.

Weights: (out_channels, in_channels / groups, *kernel_size) for convolution,
(in_channels, out_channels / groups, *kernel_size) for transposed convolution (PyTorch's shapes).
Default initialisation as PyTorch: weight ~ kaiming_uniform_(a=sqrt(5)), i.e.
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), where
fan_in = weight.shape[1] * prod(kernel_size).

Output size per spatial dimension (seed 001, 004): floor((n + p_lo + p_hi - d(k-1) - 1) / s) + 1.
"""

from __future__ import annotations

from ..functional._checks import check_padding_mode
from ..functional.conv import apply_conv, apply_conv_transpose
from ..kernels.sizes import check_padding_string, positive_tuple, resolve_padding, transposed_full_size
from ..tensor import zeros
from . import init
from ._checks import batch_input, call_functional, check_groups, positive_int
from .module import Module, Parameter


def _normalise_padding(padding, kernel_size, stride, dilation):
    """Keep strings as strings; ints and per-dimension tuples become n-tuples; per-side pairs
    stay pairs. Invalid forms are refused here, at construction, not at the first forward."""
    if isinstance(padding, str):
        return check_padding_string(padding)
    pads = resolve_padding(padding, kernel_size, stride, dilation)
    if all(lo == hi for lo, hi in pads):
        return tuple(lo for lo, _ in pads)
    return pads


class _ConvBase(Module):
    def __init__(self, num_spatial_dims: int, in_channels: int, out_channels: int, kernel_size,
                 stride, padding, dilation, groups: int, bias: bool, padding_mode: str,
                 transposed: bool, output_padding=0, flip: bool = False):
        super().__init__()
        n = positive_int(num_spatial_dims, "num_spatial_dims")
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.groups = positive_int(groups, "groups")
        check_groups(in_channels, out_channels, groups)
        check_padding_mode(padding_mode)
        self.num_spatial_dims = n
        self.kernel_size = positive_tuple(kernel_size, n, "kernel_size")
        self.stride = positive_tuple(stride, n, "stride")
        self.dilation = positive_tuple(dilation, n, "dilation")
        self.padding = _normalise_padding(padding, self.kernel_size, self.stride, self.dilation)
        self.output_padding = tuple(output_padding) if isinstance(output_padding, (tuple, list)) \
            else (output_padding,) * n
        self.padding_mode = padding_mode
        self.transposed = transposed
        self.flip = bool(flip)
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(zeros(shape + self.kernel_size))  # filled by reset_parameters
        if bias:
            self.bias = Parameter(zeros(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) weights, U(-1/sqrt(fan_in), +) bias."""
        init.default_uniform_(self.weight, self.bias)

    def _label(self) -> str:
        return f"{type(self).__name__}({self.in_channels} -> {self.out_channels})"

    def extra_repr(self) -> str:
        n = self.num_spatial_dims
        s = ""
        if type(self) in (ConvNd, ConvTransposeNd):
            s += f"num_spatial_dims={n}, "
        s += f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        if self.flip:
            s += ", flip=True"
        return s


class ConvNd(_ConvBase):
    """Convolution over num_spatial_dims spatial dimensions (1, 2, 3 or more): the one class
    behind Conv1d, Conv2d and Conv3d, which only fix num_spatial_dims (seed 004: the same sum in
    every dimension). Like them a cross-correlation, unless flip=True.

    out[n, o] = bias[o] + sum over c in o's group and kernel offsets j of
    weight[o, c, j] * x_padded[n, c, stride * i + dilation * j]

    Args:
        num_spatial_dims: D, the number of spatial dimensions (1 or more).
        in_channels: channels C of the input.
        out_channels: filters, the channels of the output.
        kernel_size: an int or D ints.
        stride: window step, an int or D ints.
        padding: an int, D ints, D (low, high) pairs, or 'valid', 'same' (output size
            ceil(n / stride), also with stride > 1) or 'full'.
        dilation: spacing of the kernel's taps, an int or D ints.
        groups: in_channels and out_channels split into this many independent groups.
        bias: learn one bias per filter.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        flip: a true convolution (the kernel rotated by 180 degrees), as the lectures write it.

    Shape:
        input (N, in_channels, *spatial) or unbatched (in_channels, *spatial) -> output
        (N, out_channels, *out), each output size
        floor((size + pad_low + pad_high - dilation * (kernel - 1) - 1) / stride) + 1.
        weight: (out_channels, in_channels / groups, *kernel_size); bias: (out_channels,); both
        initialised as PyTorch does (kaiming_uniform_ with a = sqrt(5)).

    Examples:
        A 4-D convolution, which PyTorch has no layer for:

        >>> import glassnet
        >>> from glassnet import nn
        >>> conv = nn.ConvNd(4, 1, 2, 3)
        >>> conv.weight.shape
        (2, 1, 3, 3, 3, 3)
        >>> conv(glassnet.zeros(8, 1, 5, 6, 7, 8)).shape
        (8, 2, 3, 4, 5, 6)
    """

    def __init__(self, num_spatial_dims: int, in_channels: int, out_channels: int, kernel_size,
                 stride=1, padding=0, dilation=1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", flip: bool = False):
        super().__init__(num_spatial_dims, in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, padding_mode, transposed=False, flip=flip)

    def forward(self, input):
        x, batched = batch_input(self._label(), input, self.num_spatial_dims, self.in_channels, self.weight)
        # every argument but the input was checked when the layer was built: no second check here
        y = call_functional(self._label(), apply_conv, x, self.weight, self.bias, stride=self.stride,
                            padding=self.padding, dilation=self.dilation, groups=self.groups,
                            padding_mode=self.padding_mode, flip=self.flip)
        return y if batched else y.squeeze(0)


class Conv1d(ConvNd):
    """1-D convolution over (N, C, L): PyTorch's Conv1d (a cross-correlation: the kernel is not
    flipped, unless flip=True).

    out[n, o] = bias[o] + sum over c in o's group and kernel offsets j of
    weight[o, c, j] * x_padded[n, c, stride * i + dilation * j]

    Args:
        in_channels: channels C of the input.
        out_channels: filters, the channels of the output.
        kernel_size: an int or 1 ints.
        stride: window step, an int or 1 ints.
        dilation: spacing of the kernel's taps, an int or 1 ints.
        padding: an int, 1 ints, 1 (low, high) pairs, or 'valid', 'same' (output size
            ceil(n / stride)) or 'full'.
        groups: in_channels and out_channels split into this many independent groups.
        bias: learn one bias per filter.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        flip: a true convolution (the kernel rotated by 180 degrees), as the lectures write it.

    Shape:
        input (N, in_channels, L) or unbatched (in_channels, L) -> output
        (N, out_channels, L_out), each output size
        floor((size + pad_low + pad_high - dilation * (kernel - 1) - 1) / stride) + 1.
        weight: (out_channels, in_channels / groups, k); bias: (out_channels,); both
        initialised as PyTorch does (kaiming_uniform_ with a = sqrt(5)).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> conv = nn.Conv1d(1, 6, 5, padding=2)
        >>> conv.weight.shape
        (6, 1, 5)
        >>> conv(glassnet.zeros(8, 1, 100)).shape
        (8, 6, 100)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 flip: bool = False):
        super().__init__(1, in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, flip)


class Conv2d(ConvNd):
    """2-D convolution over (N, C, H, W): PyTorch's Conv2d (a cross-correlation: the kernel is not
    flipped, unless flip=True).

    out[n, o] = bias[o] + sum over c in o's group and kernel offsets j of
    weight[o, c, j] * x_padded[n, c, stride * i + dilation * j]

    Args:
        in_channels: channels C of the input.
        out_channels: filters, the channels of the output.
        kernel_size: an int or 2 ints.
        stride: window step, an int or 2 ints.
        dilation: spacing of the kernel's taps, an int or 2 ints.
        padding: an int, 2 ints, 2 (low, high) pairs, or 'valid', 'same' (output size
            ceil(n / stride)) or 'full'.
        groups: in_channels and out_channels split into this many independent groups.
        bias: learn one bias per filter.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        flip: a true convolution (the kernel rotated by 180 degrees), as the lectures write it.

    Shape:
        input (N, in_channels, H, W) or unbatched (in_channels, H, W) -> output
        (N, out_channels, H_out, W_out), each output size
        floor((size + pad_low + pad_high - dilation * (kernel - 1) - 1) / stride) + 1.
        weight: (out_channels, in_channels / groups, kH, kW); bias: (out_channels,); both
        initialised as PyTorch does (kaiming_uniform_ with a = sqrt(5)).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> conv = nn.Conv2d(1, 6, 5, padding=2)
        >>> conv.weight.shape
        (6, 1, 5, 5)
        >>> conv(glassnet.zeros(8, 1, 28, 28)).shape
        (8, 6, 28, 28)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 flip: bool = False):
        super().__init__(2, in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, flip)


class Conv3d(ConvNd):
    """3-D convolution over (N, C, D, H, W): PyTorch's Conv3d (a cross-correlation: the kernel is not
    flipped, unless flip=True).

    out[n, o] = bias[o] + sum over c in o's group and kernel offsets j of
    weight[o, c, j] * x_padded[n, c, stride * i + dilation * j]

    Args:
        in_channels: channels C of the input.
        out_channels: filters, the channels of the output.
        kernel_size: an int or 3 ints.
        stride: window step, an int or 3 ints.
        dilation: spacing of the kernel's taps, an int or 3 ints.
        padding: an int, 3 ints, 3 (low, high) pairs, or 'valid', 'same' (output size
            ceil(n / stride)) or 'full'.
        groups: in_channels and out_channels split into this many independent groups.
        bias: learn one bias per filter.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        flip: a true convolution (the kernel rotated by 180 degrees), as the lectures write it.

    Shape:
        input (N, in_channels, D, H, W) or unbatched (in_channels, D, H, W) -> output
        (N, out_channels, D_out, H_out, W_out), each output size
        floor((size + pad_low + pad_high - dilation * (kernel - 1) - 1) / stride) + 1.
        weight: (out_channels, in_channels / groups, kD, kH, kW); bias: (out_channels,); both
        initialised as PyTorch does (kaiming_uniform_ with a = sqrt(5)).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> conv = nn.Conv3d(1, 6, 5, padding=2)
        >>> conv.weight.shape
        (6, 1, 5, 5, 5)
        >>> conv(glassnet.zeros(8, 1, 8, 16, 16)).shape
        (8, 6, 8, 16, 16)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 flip: bool = False):
        super().__init__(3, in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, flip)


class ConvTransposeNd(_ConvBase):
    """Transposed convolution (the input gradient of convolution, seed 003) over
    num_spatial_dims = 1, 2 or 3 spatial dimensions: the class behind ConvTranspose1d/2d/3d.
    Each input value scatters weight * value over a window of the output:

    out[n, o, stride * i + dilation * j - pad_low] += weight[c, o, j] * x[n, c, i]  (plus bias[o])

    forward(input, output_size=None): output_size picks the output_padding that gives that size
    (several sizes map to the same input when stride > 1), as in PyTorch.

    in_channels, out_channels, kernel_size, stride, padding, groups, bias and dilation are as in
    ConvNd (padding removes rows from the output instead of adding them to the input).

    Args:
        num_spatial_dims: D, 1, 2 or 3.
        output_padding: extra size on the high side, smaller than stride or dilation; or pass
            output_size to forward().
        padding_mode: 'zeros' only, as in PyTorch.

    Shape:
        input (N, in_channels, *spatial) or unbatched (in_channels, *spatial) -> output
        (N, out_channels, *out), each output size
        (size - 1) * stride - pad_low - pad_high + dilation * (kernel - 1) + output_padding + 1.
        weight: (in_channels, out_channels / groups, *kernel_size).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> up = nn.ConvTransposeNd(2, 6, 1, 3, stride=2)
        >>> up.weight.shape
        (6, 1, 3, 3)
        >>> x = glassnet.zeros(8, 6, 3, 3)
        >>> up(x).shape, up(x, output_size=(8, 8)).shape      # 7 or 8 both give back 3
        ((8, 1, 7, 7), (8, 1, 8, 8))
    """

    def __init__(self, num_spatial_dims: int, in_channels: int, out_channels: int, kernel_size,
                 stride=1, padding=0, output_padding=0, groups: int = 1, bias: bool = True,
                 dilation=1, padding_mode: str = "zeros"):
        if not 1 <= num_spatial_dims <= 3:  # glassnet.functional has conv_transpose1d/2d/3d only
            raise ValueError(f"ConvTransposeNd supports 1, 2 or 3 spatial dimensions, got {num_spatial_dims}")
        if padding_mode != "zeros":
            raise ValueError(f"only padding_mode='zeros' is supported for transposed convolution, "
                             f"got {padding_mode!r} (as in PyTorch)")
        super().__init__(num_spatial_dims, in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, padding_mode, transposed=True,
                         output_padding=output_padding)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if not 0 <= op < max(s, d):
                raise ValueError(f"output_padding must be >= 0 and smaller than stride or dilation, "
                                 f"got output_padding={self.output_padding}, stride={self.stride}, "
                                 f"dilation={self.dilation}")

    def _output_padding(self, x, output_size) -> tuple[int, ...]:
        if output_size is None:
            return self.output_padding
        n = self.num_spatial_dims
        output_size = tuple(output_size)
        if len(output_size) == n + 2:
            output_size = output_size[2:]
        if len(output_size) != n:
            raise ValueError(f"{self._label()} output_size must have {n} or {n + 2} elements, "
                             f"got {output_size}")
        if isinstance(self.padding, str):
            raise ValueError(f"{self._label()} output_size cannot be combined with padding={self.padding!r}")
        pads = resolve_padding(self.padding, self.kernel_size, self.stride, self.dilation)
        result = []
        for i, (size, k, s, d, (lo, hi)) in enumerate(zip(output_size, self.kernel_size, self.stride,
                                                          self.dilation, pads)):
            smallest = transposed_full_size(x.shape[2 + i], k, s, d) - lo - hi
            if not smallest <= size < smallest + s:
                raise ValueError(f"{self._label()} cannot produce output_size {output_size} from input "
                                 f"{tuple(x.shape)}: dimension {i} must be in [{smallest}, {smallest + s - 1}]")
            result.append(size - smallest)
        return tuple(result)

    def forward(self, input, output_size=None):
        x, batched = batch_input(self._label(), input, self.num_spatial_dims, self.in_channels, self.weight)
        output_padding = self._output_padding(x, output_size)
        y = call_functional(self._label(), apply_conv_transpose, x, self.weight, self.bias, stride=self.stride,
                            padding=self.padding, output_padding=output_padding, groups=self.groups,
                            dilation=self.dilation)
        return y if batched else y.squeeze(0)


class ConvTranspose1d(ConvTransposeNd):
    """1-D transposed convolution over (N, C, L): PyTorch's ConvTranspose1d, the input
    gradient of Conv1d as a layer (each input value scatters weight * value over a window).

    in_channels, out_channels, kernel_size, stride, padding, groups, bias and dilation are as in
    Conv1d (padding removes rows from the output instead of adding them to the input).

    Args:
        output_padding: extra size on the high side, smaller than stride or dilation; or pass
            output_size to forward().

    Shape:
        input (N, in_channels, L) -> output (N, out_channels, L_out), each output size
        (size - 1) * stride - pad_low - pad_high + dilation * (kernel - 1) + output_padding + 1.
        weight: (in_channels, out_channels / groups, k).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> up = nn.ConvTranspose1d(6, 1, 2, stride=2)
        >>> up(glassnet.zeros(8, 6, 14)).shape
        (8, 1, 28)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros"):
        super().__init__(1, in_channels, out_channels, kernel_size, stride, padding, output_padding,
                         groups, bias, dilation, padding_mode)


class ConvTranspose2d(ConvTransposeNd):
    """2-D transposed convolution over (N, C, H, W): PyTorch's ConvTranspose2d, the input
    gradient of Conv2d as a layer (each input value scatters weight * value over a window).

    in_channels, out_channels, kernel_size, stride, padding, groups, bias and dilation are as in
    Conv2d (padding removes rows from the output instead of adding them to the input).

    Args:
        output_padding: extra size on the high side, smaller than stride or dilation; or pass
            output_size to forward().

    Shape:
        input (N, in_channels, H, W) -> output (N, out_channels, H_out, W_out), each output size
        (size - 1) * stride - pad_low - pad_high + dilation * (kernel - 1) + output_padding + 1.
        weight: (in_channels, out_channels / groups, kH, kW).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> up = nn.ConvTranspose2d(6, 1, 2, stride=2)
        >>> up(glassnet.zeros(8, 6, 14, 14)).shape
        (8, 1, 28, 28)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros"):
        super().__init__(2, in_channels, out_channels, kernel_size, stride, padding, output_padding,
                         groups, bias, dilation, padding_mode)


class ConvTranspose3d(ConvTransposeNd):
    """3-D transposed convolution over (N, C, D, H, W): PyTorch's ConvTranspose3d, the input
    gradient of Conv3d as a layer (each input value scatters weight * value over a window).

    in_channels, out_channels, kernel_size, stride, padding, groups, bias and dilation are as in
    Conv3d (padding removes rows from the output instead of adding them to the input).

    Args:
        output_padding: extra size on the high side, smaller than stride or dilation; or pass
            output_size to forward().

    Shape:
        input (N, in_channels, D, H, W) -> output (N, out_channels, D_out, H_out, W_out), each output size
        (size - 1) * stride - pad_low - pad_high + dilation * (kernel - 1) + output_padding + 1.
        weight: (in_channels, out_channels / groups, kD, kH, kW).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> up = nn.ConvTranspose3d(6, 1, 2, stride=2)
        >>> up(glassnet.zeros(8, 6, 4, 8, 8)).shape
        (8, 1, 8, 16, 16)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros"):
        super().__init__(3, in_channels, out_channels, kernel_size, stride, padding, output_padding,
                         groups, bias, dilation, padding_mode)


__all__ = ["ConvNd", "Conv1d", "Conv2d", "Conv3d", "ConvTransposeNd", "ConvTranspose1d",
           "ConvTranspose2d", "ConvTranspose3d"]
