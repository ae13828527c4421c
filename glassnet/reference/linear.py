"""The fully connected layer (seed 000's dot-product layer): Z = A W^T + b.

A (N, in), W (out, in) as in PyTorch, b (out,). Backward, by the chain rule on each
z[n, i] = sum_j w[i, j] a[n, j] + b[i]:

    dA = dZ W        dW = dZ^T A        db = sum_n dZ
"""

from __future__ import annotations


def linear_forward(A, W, b=None):
    """Z = A W^T + b; A may have any leading dims (..., in) -> (..., out)."""
    Z = A @ W.T
    return Z if b is None else Z + b


def linear_backward(dZ, A, W):
    """(dA, dW, db) of linear_forward."""
    dZ2, A2 = dZ.reshape(-1, dZ.shape[-1]), A.reshape(-1, A.shape[-1])  # (rows, out), (rows, in)
    return dZ @ W, dZ2.T @ A2, dZ2.sum(axis=0)
