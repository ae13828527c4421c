"""p4 group-equivariant layers (Cohen & Welling 2016; seed 004's group convolutions):
P4LiftConv2d (image -> p4 maps), P4Conv2d (p4 -> p4), P4Pool (pool over the rotations).

p4 maps have shape (N, C, 4, H, W), one plane per 90-degree rotation. Rotating the input image
by 90 degrees rotates each output plane and cycles the planes (glassnet.kernels.p4.rotate_p4);
after P4Pool the maps simply rotate with the input. A p4 layer with C channels costs 4 times
the compute of a conv layer with C channels for the same number of parameters.

    P4LiftConv2d weight (out_channels, in_channels, k, k),    fan_in = in_channels k k
    P4Conv2d     weight (out_channels, in_channels, 4, k, k), fan_in = 4 in_channels k k
    bias (out_channels,), shared by the rotations; init U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as Conv2d.

Equivariance is exact when the sampling grid is symmetric under rotation: square inputs, the
same padding on all four sides (padding='same' pads an even kernel unevenly), and with stride s,
(H + 2 padding - k) divisible by s. Spatial pooling of p4 maps: MaxPool3d((1, 2, 2)) pools each
rotation plane (exact on even sizes); BatchNorm3d normalises each channel over its four planes,
which keeps equivariance.
"""

from __future__ import annotations

import math

from ..functional._checks import check_padding_mode
from ..functional.p4 import apply_p4_conv, p4_pool
from ..kernels.sizes import positive_tuple
from ..tensor import zeros
from . import init
from ._checks import call_functional, check_dtype, positive_int
from .module import Module, Parameter

__all__ = ["P4LiftConv2d", "P4Conv2d", "P4Pool"]


class _P4ConvBase(Module):
    def __init__(self, group_input: bool, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 bias, padding_mode):
        super().__init__()
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        k = positive_tuple(kernel_size, 2, "kernel_size")
        if k[0] != k[1]:
            raise ValueError(f"p4 layers need square kernels (a rotated kernel must fit the same grid), got {k}")
        check_padding_mode(padding_mode)
        self.kernel_size, self.padding, self.padding_mode = k, padding, padding_mode
        self.stride = positive_tuple(stride, 2, "stride")
        self.dilation = positive_tuple(dilation, 2, "dilation")
        self.group_input = group_input
        shape = (out_channels, in_channels) + ((4,) if group_input else ()) + k
        self.weight = Parameter(zeros(shape))
        if bias:
            self.bias = Parameter(zeros(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_uniform_(self.weight, self.bias, fan_in=math.prod(self.weight.shape[1:]))

    def _label(self) -> str:
        return f"{type(self).__name__}({self.in_channels} -> {self.out_channels})"

    def forward(self, input):
        shape = tuple(input.shape)
        expected = (self.in_channels, 4) if self.group_input else (self.in_channels,)
        if len(shape) != len(expected) + 3 or shape[1:1 + len(expected)] != expected:
            text = "(N, " + ", ".join(map(str, expected)) + ", H, W)"
            raise ValueError(f"{self._label()} expected input of shape {text}, got {shape}")
        check_dtype(self._label(), input, self.weight)
        # checked here, once: the Function runs without the functional entry's checks
        return call_functional(self._label(), apply_p4_conv, input, self.weight, self.bias, self.stride,
                               self.padding, self.dilation, self.padding_mode, group_input=self.group_input)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in (0, (0, 0), "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class P4LiftConv2d(_P4ConvBase):
    """Lifting convolution from an image to p4 maps (seed 004):
    y[n, o, r] = x[n] cross-correlated with the kernel of o rotated by r * 90 degrees, + bias[o].
    Rotating the input by 90 degrees rotates each output plane and cycles the planes.

    Args:
        in_channels: channels of the input.
        out_channels: filters; each gives 4 output planes, one per rotation.
        kernel_size: an int or 2 equal ints (square kernels only: a rotated kernel must fit
            the same grid).
        stride: an int or 2 ints.
        padding: an int, 2 ints or 'valid' / 'same' (use the same padding on all sides for
            exact equivariance).
        dilation: an int or 2 ints.
        bias: learn one bias per filter, shared by the four rotations.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    Shape:
        input (N, in_channels, H, W) -> output (N, out_channels, 4, H_out, W_out), H_out and
        W_out as for Conv2d; weight (out_channels, in_channels, k, k), bias (out_channels,).

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet import nn
        >>> lift, pool = nn.P4LiftConv2d(1, 2, 3, padding=1), nn.P4Pool()
        >>> lift(glassnet.zeros(8, 1, 6, 6)).shape
        (8, 2, 4, 6, 6)
        >>> x = np.random.default_rng(0).normal(size=(1, 1, 6, 6)).astype(np.float32)
        >>> y = pool(lift(glassnet.tensor(x))).detach().numpy()
        >>> y_rot = pool(lift(glassnet.tensor(np.rot90(x, 1, (2, 3)).copy()))).detach().numpy()
        >>> bool(np.allclose(y_rot, np.rot90(y, 1, (2, 3)), atol=1e-5))   # equivariant
        True
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, padding_mode: str = "zeros"):
        super().__init__(False, in_channels, out_channels, kernel_size, stride, padding, dilation, bias,
                         padding_mode)


class P4Conv2d(_P4ConvBase):
    """Group convolution from p4 maps to p4 maps (seed 004): the filter for output rotation r is
    the learned one rotated by r * 90 degrees in space with its rotation axis cycled by r, so
    y[n, o, r] = sum over c and s of x[n, c, s] cross-correlated with
    rot_r(weight[o, c, (s - r) mod 4]), + bias[o]. Stacks after P4LiftConv2d.

    Args:
        in_channels: channels of the input (each with 4 rotation planes).
        out_channels: filters; each gives 4 output planes, one per rotation.
        kernel_size: an int or 2 equal ints (square kernels only: a rotated kernel must fit
            the same grid).
        stride: an int or 2 ints.
        padding: an int, 2 ints or 'valid' / 'same' (use the same padding on all sides for
            exact equivariance).
        dilation: an int or 2 ints.
        bias: learn one bias per filter, shared by the four rotations.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    Shape:
        input (N, in_channels, 4, H, W) -> output (N, out_channels, 4, H_out, W_out), H_out and
        W_out as for Conv2d; weight (out_channels, in_channels, 4, k, k), bias (out_channels,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> conv = nn.P4Conv2d(2, 3, 3, padding=1)
        >>> conv.weight.shape
        (3, 2, 4, 3, 3)
        >>> conv(glassnet.zeros(8, 2, 4, 6, 6)).shape
        (8, 3, 4, 6, 6)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, padding_mode: str = "zeros"):
        super().__init__(True, in_channels, out_channels, kernel_size, stride, padding, dilation, bias,
                         padding_mode)


class P4Pool(Module):
    """Pool over the four rotations: out[n, c] = max_r x[n, c, r] (or the mean). The result
    rotates with the input (rotation-equivariant maps, ready for ordinary layers).

    Args:
        mode: 'max' or 'avg'.

    Shape:
        input (N, C, 4, H, W) -> output (N, C, H, W).

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor(np.arange(8, dtype=np.float32).reshape(1, 1, 4, 1, 2))
        >>> nn.P4Pool()(x).tolist(), nn.P4Pool("avg")(x).tolist()
        ([[[[6.0, 7.0]]]], [[[[3.0, 4.0]]]])
    """

    def __init__(self, mode: str = "max"):
        super().__init__()
        if mode not in ("max", "avg"):
            raise ValueError(f"P4Pool mode must be 'max' or 'avg', got {mode!r}")
        self.mode = mode

    def forward(self, input):
        return p4_pool(input, self.mode)

    def extra_repr(self) -> str:
        return f"mode={self.mode}"
