"""Transfer functions a = f(n), element by element, and their backward (seed 003):

    dN = f'(N) o dA          (o: the Hadamard product, element by element)

relu        f(n) = max(n, 0)                       f'(n) = 1 if n > 0 else 0
leaky_relu  f(n) = n if n > 0 else alpha n         f'(n) = 1 if n > 0 else alpha
elu         f(n) = n if n > 0 else alpha (e^n - 1) f'(n) = 1 if n > 0 else alpha e^n
sigmoid     f(n) = 1 / (1 + e^-n)                  f'(n) = f(n) (1 - f(n))
tanh        f(n) = tanh(n)                         f'(n) = 1 - f(n)^2

softmax along an axis: a_i = e^{n_i} / sum_k e^{n_k}; its Jacobian da_i/dn_j = a_i (delta_ij - a_j)
gives dN = A o (dA - sum_i dA_i a_i). log_softmax: a_i = n_i - log sum_k e^{n_k}, and
dN = dA - softmax(N) sum_i dA_i. (Subtracting max n first keeps e^n finite; it cancels.)
"""

from __future__ import annotations

import numpy as np


def relu_forward(N):
    return np.maximum(N, 0)


def relu_backward(dA, N):
    return dA * (N > 0)


def leaky_relu_forward(N, negative_slope=0.01):
    return np.where(N > 0, N, negative_slope * N).astype(N.dtype)


def leaky_relu_backward(dA, N, negative_slope=0.01):
    return (dA * np.where(N > 0, 1.0, negative_slope)).astype(dA.dtype)


def elu_forward(N, alpha=1.0):
    return np.where(N > 0, N, alpha * np.expm1(np.minimum(N, 0))).astype(N.dtype)


def elu_backward(dA, N, alpha=1.0):
    return (dA * np.where(N > 0, 1.0, alpha * np.exp(np.minimum(N, 0)))).astype(dA.dtype)


def sigmoid_forward(N):
    # e^-|n| never overflows: for n >= 0 it is 1 / (1 + e^-n), for n < 0 e^n / (1 + e^n)
    e = np.exp(-np.abs(N))
    return np.where(N >= 0, 1, e) / (1 + e)


def sigmoid_backward(dA, A):
    """A is the forward's output."""
    return dA * A * (1 - A)


def tanh_forward(N):
    return np.tanh(N)


def tanh_backward(dA, A):
    return dA * (1 - A * A)


def softmax_forward(N, dim):
    e = np.exp(N - N.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def softmax_backward(dA, A, dim):
    return A * (dA - (dA * A).sum(axis=dim, keepdims=True))


def log_softmax_forward(N, dim):
    shifted = N - N.max(axis=dim, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))


def log_softmax_backward(dA, A, dim):
    return dA - np.exp(A) * dA.sum(axis=dim, keepdims=True)
