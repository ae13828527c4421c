"""Activation functions: forward and hand-derived backward, side by side, in plain NumPy (ReLU's
two passes, the most frequent, as compiled loops: kernels/fast/relu.py).

Every function works elementwise (softmax and log-softmax along one dimension) on an ndarray of
any shape and any floating dtype, and returns the same dtype: float32 stays float32.

Each backward receives the upstream gradient dy = dL/dy and returns dx = dL/dx = dy * dy/dx
(elementwise), or, for softmax, the Jacobian-vector product along the softmax dimension. The
backward functions take what the forward saved (the output y where the derivative is a function
of y, otherwise the input x), so nothing is recomputed.

Masks are applied by multiplication (ReLU's compiled backward chooses dy or 0 instead, so that a
blocked inf or NaN gives 0, as in PyTorch), not with np.where: on random-signed data np.where's
per-element branch is about 10x slower. A comparison written straight into a float array
(np.greater(y, 0, out=float_array) gives 1.0 / 0.0) then multiplied in place is the fastest.

Threads. Each elementwise function writes its result into a fresh array piece by piece
(kernels/fast/elementwise.py): on large arrays the pieces are shared among glassnet's threads.
An element's value does not depend on the piece it was in.
"""

from __future__ import annotations

import numpy as np

from .fast.elementwise import elementwise
from .fast.relu import RELU_GRAD_PARTS, RELU_PARTS, relu_grad_into, relu_into

__all__ = [
    "relu_forward", "relu_backward",
    "leaky_relu_forward", "leaky_relu_backward",
    "elu_forward", "elu_backward",
    "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
    "softmax_forward", "softmax_backward",
    "log_softmax_forward", "log_softmax_backward",
]


# ---- ReLU -----------------------------------------------------------------------------------
# y = max(x, 0)        dy/dx = 1 where x > 0, else 0 (0 at x = 0, as PyTorch).
# y <= 0 exactly where x <= 0, so the saved output doubles as the mask: no extra array is kept.
# The mask is "not y <= 0" rather than "y > 0" so that a NaN passes its gradient on, as in
# PyTorch (NaN > 0 and NaN <= 0 are both false).

# ReLU runs between every convolution and pooling, so its two passes are compiled loops
# (kernels/fast/relu.py: one read and one write per element, not NumPy's three passes for the
# backward), and on large maps they are shared among glassnet's threads.

def relu_forward(x: np.ndarray) -> np.ndarray:
    """y = max(x, 0), same shape, dtype and memory layout as x."""
    return elementwise(relu_into, x, parts=RELU_PARTS)


def relu_backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dx = dy where y > 0, else 0 (y is relu_forward's output)."""
    return elementwise(relu_grad_into, dy, y, parts=RELU_GRAD_PARTS)


# ---- leaky ReLU -----------------------------------------------------------------------------
# y = x for x > 0, a*x otherwise      dy/dx = 1 for x > 0, a otherwise (a at x = 0, as PyTorch).

# Both are x (or dy) times the local slope s = a + (1 - a) [x > 0], which is 1 or a.

def _leaky_slope(x: np.ndarray, negative_slope: float, out: np.ndarray) -> np.ndarray:
    """out = 1 where x > 0, negative_slope elsewhere, in x's dtype."""
    np.greater(x, 0, out=out)  # 1.0 / 0.0
    out *= 1 - negative_slope
    out += negative_slope
    return out


def leaky_relu_forward(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """y = x where x > 0, negative_slope * x elsewhere."""
    def into(x, y):
        _leaky_slope(x, negative_slope, y)
        y *= x
    return elementwise(into, x)


def leaky_relu_backward(dy: np.ndarray, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """dx = dy where x > 0, negative_slope * dy elsewhere."""
    def into(dy, x, dx):
        _leaky_slope(x, negative_slope, dx)
        dx *= dy
    return elementwise(into, dy, x)


# ---- ELU ------------------------------------------------------------------------------------
# y = x for x > 0, alpha * (exp(x) - 1) otherwise.
# dy/dx = 1 for x > 0, alpha * exp(x) otherwise. (alpha exp(x) also equals y + alpha, but in
# float32 that sum loses every digit below x = -14 or so, where y rounds to -alpha; so backward
# takes the exp.)

def elu_forward(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """y = x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    # max(x, 0) + alpha (exp(min(x, 0)) - 1): each term vanishes on the other side of 0, and the
    # exponent is never positive, so nothing overflows.
    def into(x, y):
        np.minimum(x, 0, out=y)
        np.expm1(y, out=y)
        y *= np.asarray(alpha, x.dtype)
        y += np.maximum(x, 0)
    return elementwise(into, x)


def elu_backward(dy: np.ndarray, x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """dx = dy where x > 0 (or x is NaN, as PyTorch), dy * alpha * exp(x) elsewhere."""
    def into(dy, x, slope):
        negative = x <= 0
        # fmin ignores NaN, so exp never sees +inf or NaN and the masks below stay exact 0 / 1
        np.fmin(x, np.zeros((), x.dtype), out=slope)
        np.exp(slope, out=slope)
        slope *= np.asarray(alpha, x.dtype)
        slope *= negative
        slope += ~negative  # 1 where x > 0
        slope *= dy
    return elementwise(into, dy, x)


# ---- sigmoid --------------------------------------------------------------------------------
# y = 1 / (1 + exp(-x))      dy/dx = y * (1 - y).
# Stable form: with e = exp(-|x|) in (0, 1] nothing overflows, and
#   x >= 0:  y = 1 / (1 + e)         x < 0:  y = e / (1 + e)   (= exp(x) / (1 + exp(x))).

def sigmoid_forward(x: np.ndarray) -> np.ndarray:
    """y = 1 / (1 + exp(-x)), computed without overflow for any x."""
    def into(x, numerator):
        e = np.abs(x, out=np.empty_like(x))  # out=: a 0-d input would otherwise give a scalar
        np.negative(e, out=e)
        np.exp(e, out=e)  # exp(-|x|), in (0, 1]
        np.maximum(e, (x >= 0).astype(x.dtype), out=numerator)  # 1 where x >= 0, e where x < 0
        e += 1
        numerator /= e
    return elementwise(into, np.asarray(x))


def sigmoid_backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dx = dy * y * (1 - y) (y is sigmoid_forward's output)."""
    def into(dy, y, dx):
        np.multiply(dy, y, out=dx)
        dx *= 1 - y
    return elementwise(into, dy, y)


# ---- tanh -----------------------------------------------------------------------------------
# y = tanh(x)      dy/dx = 1 - y^2.

def tanh_forward(x: np.ndarray) -> np.ndarray:
    return elementwise(lambda x, y: np.tanh(x, out=y), x)


def tanh_backward(dy: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dx = dy * (1 - y^2) (y is tanh_forward's output)."""
    def into(dy, y, dx):
        np.multiply(y, y, out=dx)
        np.subtract(1, dx, out=dx)
        dx *= dy
    return elementwise(into, dy, y)


# ---- softmax and log-softmax along `dim` ----------------------------------------------------
# softmax:  y_i = exp(x_i - m) / sum_j exp(x_j - m), with m = max_j x_j. Subtracting m changes
# nothing mathematically (it cancels) but keeps every exponent <= 0, so exp never overflows.
# Jacobian dy_i/dx_j = y_i (delta_ij - y_j), so
#   dx_j = sum_i dy_i y_i (delta_ij - y_j) = y_j (dy_j - sum_i dy_i y_i).
#
# log-softmax:  y_i = (x_i - m) - log sum_j exp(x_j - m)  (the log-sum-exp trick).
# dy_i/dx_j = delta_ij - softmax_j, so dx_j = dy_j - softmax_j sum_i dy_i, softmax = exp(y).

def softmax_forward(x: np.ndarray, dim: int) -> np.ndarray:
    """softmax along dim; output has x's shape and sums to 1 along dim."""
    if x.size == 0:  # no slice to normalise (and max over an empty axis is undefined)
        return np.empty_like(x)
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    e /= e.sum(axis=dim, keepdims=True)
    return e


def softmax_backward(dy: np.ndarray, y: np.ndarray, dim: int) -> np.ndarray:
    """dx = y * (dy - sum(dy * y, dim)) (y is softmax_forward's output)."""
    return y * (dy - (dy * y).sum(axis=dim, keepdims=True))


def log_softmax_forward(x: np.ndarray, dim: int) -> np.ndarray:
    """log(softmax(x, dim)) without forming softmax: (x - m) - log(sum(exp(x - m)))."""
    if x.size == 0:
        return np.empty_like(x)
    shifted = x - x.max(axis=dim, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


def log_softmax_backward(dy: np.ndarray, y: np.ndarray, dim: int) -> np.ndarray:
    """dx = dy - exp(y) * sum(dy, dim) (y is log_softmax_forward's output)."""
    return dy - np.exp(y) * dy.sum(axis=dim, keepdims=True)
