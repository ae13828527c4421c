"""Linear (dense, fully connected) layer: y = x W^T + b, forward and backward.

Shapes: x (..., in_features), W (out_features, in_features), b (out_features,),
y (..., out_features). Any number of leading dimensions is allowed; they are flattened into one
batch dimension M for a single matrix product.

Derivation, for one row: y_o = sum_i x_i W_oi + b_o, so
    dL/dx_i  = sum_o dy_o W_oi            ->  dX = dY W          (M, in)
    dL/dW_oi = sum_rows dy_o x_i          ->  dW = dY^T X        (out, in)
    dL/db_o  = sum_rows dy_o              ->  db = sum of dY over the rows
"""

from __future__ import annotations

import numpy as np

from .fast import allocator
from .fast.threads import single_threaded_blas

__all__ = ["linear_forward", "linear_backward"]


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b (2-D), written into an array from glassnet's pool (allocator.py): a fresh one from
    malloc took a page fault per 4 KiB at every step (47 per step for LeNet-5's (64, 400) x
    (400, 120) layer's backward)."""
    return np.matmul(a, b, out=allocator.empty((a.shape[0], b.shape[1]), np.result_type(a, b)))


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """y = x @ weight.T + bias, shape (..., out_features)."""
    # one GEMM over all rows: NumPy's batched matmul would loop over the leading dimensions
    x2 = x.reshape(-1, x.shape[-1])  # (M, in)
    with single_threaded_blas():  # a CNN's dense products are too small to share (threads.py)
        y = _matmul(x2, weight.T)  # (M, out)
    if bias is not None:
        y += bias
    return y.reshape(x.shape[:-1] + (weight.shape[0],))  # (..., out)


def linear_backward(dy: np.ndarray, x: np.ndarray, weight: np.ndarray, has_bias: bool = True,
                    needs: tuple[bool, bool, bool] = (True, True, True)):
    """(dx, dW, db) for y = x W^T + b; an entry is None where `needs` says it is not wanted
    (or, for db, where there is no bias)."""
    out_features, in_features = weight.shape
    dx = dw = db = None
    dy2 = dy.reshape(-1, out_features)  # (M, out)
    with single_threaded_blas():
        if needs[0]:
            dx = _matmul(dy2, weight).reshape(x.shape)  # (M, in) -> (..., in)
        if needs[1]:
            dw = _matmul(dy2.T, x.reshape(-1, in_features))  # (out, M) @ (M, in) -> (out, in)
    if has_bias and needs[2]:
        db = dy2.sum(axis=0)  # (out,)
    return dx, dw, db
