"""Connection-table convolution (seed 003's connection matrix; LeNet-5's C3; Torch7's
SpatialConvolutionMap), N-D.

A boolean table C of shape (out_maps, in_maps) says which input feature map feeds which output
map (seed 003: c_ij = 1 when input map j is connected to output map i). Only connected pairs
have a kernel:

    y[n, i] = sum_{j : C[i, j]} W_(i, j) * x[n, j] + b[i]      (* = cross-correlation)

The weight holds one kernel per connection, (C.sum(), *k), in row-major order of the table
(output map, then input map). Computation scatters them into a dense (out, in, *k) bank with
zeros for absent connections and runs the engine's convolution; the gradient of the dense bank
is gathered back at the connected pairs, so absent connections never get a parameter or a
gradient.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..dispatch import kernels
from ._checks import check_conv_args, check_padding_mode

K = kernels("conv")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["conv_map"]


def _dense_bank(weight: np.ndarray, table: np.ndarray) -> np.ndarray:
    bank = np.zeros(table.shape + weight.shape[1:], dtype=weight.dtype)  # (out, in, *k)
    bank[table] = weight  # boolean indexing walks the table in row-major order
    return bank


def _check_table(table, weight_shape=None, in_channels=None, what="conv_map") -> np.ndarray:
    table = np.asarray(table)
    if table.ndim != 2 or table.dtype.kind not in "bi" or not np.isin(table, (0, 1)).all():
        raise ValueError(f"{what} expected a 0/1 table of shape (out_maps, in_maps), got shape "
                         f"{table.shape} and dtype {table.dtype}")
    table = table.astype(bool)
    if not table.any(axis=1).all():
        raise ValueError(f"{what}: output maps {np.flatnonzero(~table.any(axis=1)).tolist()} have no input")
    if weight_shape is not None and weight_shape[0] != table.sum():
        raise ValueError(f"{what} expected a weight of shape ({table.sum()}, *k) for a table with "
                         f"{table.sum()} connections, got {tuple(weight_shape)}")
    if in_channels is not None and in_channels != table.shape[1]:
        raise ValueError(f"{what} expected input of shape (N, {table.shape[1]}, ...) for a table of shape "
                         f"{table.shape}, got {in_channels} channels")
    return table


class ConvMap(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, table=None, stride=1, padding=0, dilation=1, padding_mode="zeros"):
        ctx.options = (stride, padding, dilation, 1, padding_mode, False)
        ctx.table = table
        ctx.save_for_backward(x, weight)
        return K.conv_forward(x, _dense_bank(weight, table), bias, *ctx.options)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved
        needs = ctx.needs_input_grad
        dx, dbank, db = K.conv_backward(dy, x, _dense_bank(weight, ctx.table), *ctx.options,
                                      needs=(needs[0], needs[1], len(needs) > 2 and needs[2]))
        return dx, None if dbank is None else dbank[ctx.table], db


def conv_map(input, weight, bias=None, table=None, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """Convolution through a connection table.

    input (N, in_maps, *in), weight (connections, *k), bias (out_maps,) or None,
    table (out_maps, in_maps) of 0/1 -> (N, out_maps, *out). An all-ones table is conv.

    In the notation of lecture 003: Z^h = sum over l in C^h of W^(h,l) * A^l, where C^h is the
    set of input maps l with table[h, l] = 1. stride, padding, dilation and padding_mode as in
    conv2d; the number of spatial dimensions comes from the input.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> table = np.array([[1, 1, 0], [0, 1, 1]])        # map 0 <- inputs 0, 1; map 1 <- inputs 1, 2
        >>> x = glassnet.tensor(np.array([1, 2, 4], dtype=np.float32).reshape(1, 3, 1, 1))
        >>> w = glassnet.ones(4, 1, 1)                      # one 1x1 kernel per connection
        >>> F.conv_map(x, w, table=table).numpy().ravel().tolist()   # 1 + 2, 2 + 4
        [3.0, 6.0]
    """
    table = _check_table(table, weight.shape, input.shape[1] if input.ndim > 1 else None)
    check_padding_mode(padding_mode, "conv_map")
    # the kernels run the table as a dense (out_maps, in_maps, *k) bank: check the call as that conv
    check_conv_args(input.shape, input.dtype, table.shape + tuple(weight.shape[1:]), weight.dtype, bias, stride,
                    dilation, 1, "conv_map")
    return apply_conv_map(input, weight, bias, table, stride, padding, dilation, padding_mode)


def apply_conv_map(input, weight, bias, table, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """ConvMap on arguments that are already checked, table a bool array: nn.ConvMapNd checks its
    table and arguments when it is built and its input at each call, then comes here."""
    return ConvMap.apply(input, weight, bias, table=table, stride=stride, padding=padding,
                         dilation=dilation, padding_mode=padding_mode)
