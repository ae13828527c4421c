"""ReLU, sigmoid, tanh, softmax and log-softmax as Functions: the activations that are Tensor
methods (x.relu(), x.softmax(dim)) as well as torch.nn.functional functions (F.relu(x)).

One implementation serves both spellings, so it lives here, below tensor.py, as torch.relu lives
below torch.nn.functional: tensor.py's methods call these functions and glassnet.functional's
activation functions (which carry the documentation and PyTorch's signatures) call them too.
Each Function calls the NumPy kernels of glassnet.kernels.activation (where the derivations are
written out) and saves only what its backward needs: the output.

Inputs must be floating point (float32, or float64 for gradient checks); the result has the
input's dtype.
"""

from __future__ import annotations

import numpy as np

from .autograd import Function
from .dispatch import kernels
from .dtypes import check_float_input

K = kernels("activation")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax"]


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        y = K.relu_forward(x)
        ctx.save_for_backward(y)  # y > 0 is the mask: no separate mask array
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved
        return K.relu_backward(dy, y)


def relu(input):
    """max(input, 0), elementwise (F.relu and Tensor.relu); the gradient passes where the output
    is positive.

    Example:
        >>> import glassnet
        >>> x = glassnet.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        >>> y = relu(x); y.sum().backward()
        >>> y.tolist(), x.grad.tolist()
        ([0.0, 0.5, 2.0], [0.0, 1.0, 1.0])
    """
    check_float_input("relu", input)
    return ReLU.apply(input)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        y = K.sigmoid_forward(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved
        return K.sigmoid_backward(dy, y)


def sigmoid(input):
    """1 / (1 + exp(-input)), elementwise (F.sigmoid and Tensor.sigmoid); its derivative is
    y (1 - y).

    Example:
        >>> import glassnet
        >>> x = glassnet.tensor([0.0], requires_grad=True)
        >>> y = sigmoid(x); y.sum().backward()
        >>> y.tolist(), x.grad.tolist()
        ([0.5], [0.25])
    """
    check_float_input("sigmoid", input)
    return Sigmoid.apply(input)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = K.tanh_forward(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved
        return K.tanh_backward(dy, y)


def tanh(input):
    """The hyperbolic tangent, elementwise (F.tanh and Tensor.tanh); its derivative is 1 - y².

    Example:
        >>> import glassnet
        >>> x = glassnet.tensor([0.0], requires_grad=True)
        >>> y = tanh(x); y.sum().backward()
        >>> y.tolist(), x.grad.tolist()
        ([0.0], [1.0])
    """
    check_float_input("tanh", input)
    return Tanh.apply(input)


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = K.softmax_forward(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved
        return K.softmax_backward(dy, y, ctx.dim)


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        y = K.log_softmax_forward(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved
        return K.log_softmax_backward(dy, y, ctx.dim)


def _check_dim(name: str, input, dim) -> int:
    """dim as an index in [0, ndim); a 0-d input takes dim 0 or -1, as in PyTorch."""
    ndim = max(len(input.shape), 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name} expected an integer dim, got {dim!r}")
    if not -ndim <= dim < ndim:
        raise IndexError(f"{name} expected dim in [{-ndim}, {ndim - 1}] for an input of shape "
                         f"{tuple(input.shape)}, got dim={dim}")
    return int(dim) % ndim


def _along(function, name: str, input, dim, dtype):
    """Apply softmax or log-softmax along dim; dtype= casts the input first, as in PyTorch
    (asked for explicitly, so not a silent upcast). A 0-d input is treated as one element."""
    check_float_input(name, input)
    d = _check_dim(name, input, dim)
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:
        return function.apply(input.reshape(1), dim=0).reshape(())
    return function.apply(input, dim=d)


def softmax(input, dim: int, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along dim (F.softmax and Tensor.softmax).

    Example:
        >>> import glassnet
        >>> softmax(glassnet.tensor([[0.0, 0.0], [0.0, 0.0]]), dim=1).tolist()
        [[0.5, 0.5], [0.5, 0.5]]
    """
    return _along(Softmax, "softmax", input, dim, dtype)


def log_softmax(input, dim: int, dtype=None):
    """log(softmax(input, dim)) by the log-sum-exp trick (F.log_softmax and Tensor.log_softmax).

    Example:
        >>> import glassnet
        >>> y = log_softmax(glassnet.tensor([1000.0, 1000.0]), dim=0)   # no overflow
        >>> tuple(round(v, 4) for v in y.tolist())
        (-0.6931, -0.6931)
    """
    return _along(LogSoftmax, "log_softmax", input, dim, dtype)
