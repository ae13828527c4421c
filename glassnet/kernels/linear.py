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
from .fast.threads import run_both, single_threaded_blas

__all__ = ["linear_forward", "linear_backward"]


# From this many multiply-adds per product the backward's two products (dx and dW) run side by
# side in two threads (threads.run_both; one thread each, two threads, medians of 400 calls):
# (64, 400) -> 120 and 3.1M multiply-adds 0.94-0.99 of the time one after the other,
# (64, 512) -> 128 (4.2M) 0.91, (64, 1024) -> 128 (8.4M) 0.65, (256, 784) -> 256 (51M) 0.52.
SIDE_BY_SIDE_MACS = 1 << 22


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
    db = None
    dy2 = dy.reshape(-1, out_features)  # (M, out)

    def input_grad():
        return _matmul(dy2, weight).reshape(x.shape) if needs[0] else None  # (M, in) -> (..., in)

    def weight_grad():
        return _matmul(dy2.T, x.reshape(-1, in_features)) if needs[1] else None  # (out, M) @ (M, in) -> (out, in)

    # the two products side by side in two threads when each is large enough to pay for the hand-off
    dx, dw = run_both(input_grad, weight_grad, needs[0] and needs[1] and dy2.size * in_features >= SIDE_BY_SIDE_MACS)
    if has_bias and needs[2]:
        db = dy2.sum(axis=0)  # (out,)
    return dx, dw, db
