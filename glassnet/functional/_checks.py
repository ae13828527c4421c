"""The argument checks shared by glassnet's layers, in one place, so each refuses a wrong argument
the same way: "conv2d expected input with 3 channels (N, 3, H, W) for weight (16, 3, 5, 5), got ...".

Who checks what, once, for convolution (and its tiled, locally connected, p4 and subsampling
relatives) and pooling:
- a functional entry (F.conv2d, F.max_pool2d, ...) checks the arguments of its call, the boundary
  a functional user calls;
- an nn layer checks its constructor's arguments when it is built (so the error points at the
  line that wrote the layer) and its input at each call, then runs the Function without checking
  again (functional.conv.apply_conv, and apply_tiled_conv, apply_p4_conv, apply_subsampling beside
  their functional entries; pooling's max_pool_nd checks the input under the layer's name);
- the kernels trust their callers. Only what the sizes decide (a window larger than the padded
  input, an unknown padding name, reflect or circular padding reaching past the input) is refused
  where the sizes are worked out: kernels/sizes.py, and kernels/windows.check_copy_fits.
"""

from __future__ import annotations

import numpy as np

from ..dtypes import check_float_input  # noqa: F401 (the dtype policy's check, which Tensor's methods use too)
from ..kernels.sizes import PADDING_MODES, positive_tuple, spatial_names


def shape_text(nd: int, channels="C", batched: bool = True) -> str:
    """An input shape as error messages write it: shape_text(2, 3) is "(N, 3, H, W)",
    shape_text(2, batched=False) is "(C, H, W)"."""
    return "(" + ", ".join((("N",) if batched else ()) + (str(channels),) + spatial_names(nd)) + ")"


def check_padding_mode(padding_mode: str, name: str | None = None) -> str:
    """padding_mode of a convolution: one of PADDING_MODES."""
    if padding_mode not in PADDING_MODES:
        where = f"{name}: " if name else ""
        raise ValueError(f"{where}padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    return padding_mode


def check_conv_args(x_shape, x_dtype, w_shape, w_dtype, bias=None, stride=1, dilation=1, groups=1,
                    name: str = "conv", transposed: bool = False) -> None:
    """Raise a clear error (naming what was expected and what came) for inconsistent arguments.

    For a transposed convolution w is (C_in, C_out / G, *k), as in PyTorch.
    """
    w_shape, x_shape = tuple(w_shape), tuple(x_shape)
    nd = len(w_shape) - 2
    if nd < 1:
        raise ValueError(f"{name} expected a weight of shape (C_out, C_in/groups, *kernel_size), got {w_shape}")
    if len(x_shape) != nd + 2:
        raise ValueError(f"{name} expected a {nd + 2}-D input {shape_text(nd)} for a {nd + 2}-D "
                         f"weight {w_shape}, got a {len(x_shape)}-D input of shape {x_shape}")
    for what, dt in (("input", x_dtype), ("weight", w_dtype)):
        if np.dtype(dt).kind != "f":
            raise TypeError(f"{name} expected a floating-point {what}, got dtype {np.dtype(dt)}")
    if np.dtype(x_dtype) != np.dtype(w_dtype):
        raise TypeError(f"{name} got input of dtype {np.dtype(x_dtype)} and weight of dtype {np.dtype(w_dtype)}; "
                        "convert one with .float() or .double() (glassnet never upcasts silently)")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{name} expected groups to be a positive int, got {groups!r}")
    positive_tuple(stride, nd, "stride")
    positive_tuple(dilation, nd, "dilation")
    if transposed:
        c_in, c_out = w_shape[0], w_shape[1] * groups
        if c_in % groups:
            raise ValueError(f"{name}: groups={groups} must divide the input channels of weight {w_shape} ({c_in})")
    else:
        c_in, c_out = w_shape[1] * groups, w_shape[0]
        if c_out % groups:
            raise ValueError(f"{name}: groups={groups} must divide the output channels of weight {w_shape} ({c_out})")
    if x_shape[1] != c_in:
        raise ValueError(f"{name} expected input with {c_in} channels {shape_text(nd, c_in)} for weight "
                         f"{w_shape}" + (f" and groups={groups}" if groups != 1 else "") + f", got {x_shape}")
    if bias is not None:
        if tuple(np.shape(bias)) != (c_out,):
            raise ValueError(f"{name} expected bias of shape ({c_out},) for weight {w_shape}, "
                             f"got {tuple(np.shape(bias))}")
        if np.dtype(bias.dtype) != np.dtype(w_dtype):
            raise TypeError(f"{name} got bias of dtype {np.dtype(bias.dtype)} for weight of dtype {np.dtype(w_dtype)}")
