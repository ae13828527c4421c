"""Activation functions with torch.nn.functional's names and signatures.

relu, sigmoid, tanh, softmax and log_softmax are Tensor methods as well (x.relu()), so their
Functions live one layer down, in glassnet/activations.py, which both spellings call. Leaky ReLU
and ELU are defined here. Each Function calls the NumPy kernels of glassnet.kernels.activation
(where the derivations are written out) and saves only what its backward needs: the output for
ReLU, sigmoid, tanh, softmax and log-softmax, the input for leaky ReLU and ELU.

Inputs must be floating point (float32, or float64 for gradient checks); the result has the
input's dtype. `inplace=True` is accepted for PyTorch compatibility but behaves exactly like
`inplace=False`: a new tensor is returned and the input is left untouched.
"""

from __future__ import annotations

from .. import activations
from ..autograd import Function
from ..dispatch import kernels
from ._checks import check_float_input

K = kernels("activation")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "log_softmax"]


def relu(input, inplace: bool = False):
    """max(input, 0), elementwise. Shape `(*) -> (*)`. The gradient is 1 where input > 0, else 0.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> F.relu(glassnet.tensor([-2.0, 0.5])).tolist()
        [0.0, 0.5]
    """
    return activations.relu(input)


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return K.leaky_relu_forward(x, negative_slope)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved
        return K.leaky_relu_backward(dy, x, ctx.negative_slope)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """input where input > 0, negative_slope * input elsewhere. Shape `(*) -> (*)`. The gradient
    is 1 where input > 0, else negative_slope.

    Args:
        input: a floating tensor.
        negative_slope: the slope for input <= 0.
        inplace: accepted for PyTorch compatibility; the result is always a new tensor.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> F.leaky_relu(glassnet.tensor([-2.0, 3.0]), 0.5).tolist()
        [-1.0, 3.0]
    """
    check_float_input("leaky_relu", input)
    return LeakyReLU.apply(input, negative_slope=float(negative_slope))


class ELU(Function):
    @staticmethod
    def forward(ctx, x, alpha=1.0):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return K.elu_forward(x, alpha)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved
        return K.elu_backward(dy, x, ctx.alpha)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """input where input > 0, alpha * (exp(input) - 1) elsewhere. Shape `(*) -> (*)`. The
    gradient is 1 where input > 0, else alpha * exp(input).

    Args:
        input: a floating tensor.
        alpha: the negative saturation value's magnitude.
        inplace: accepted for PyTorch compatibility; the result is always a new tensor.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> [round(v, 4) for v in F.elu(glassnet.tensor([-1.0, 2.0]), alpha=2.0).tolist()]
        [-1.2642, 2.0]
    """
    check_float_input("elu", input)
    return ELU.apply(input, alpha=float(alpha))


def sigmoid(input):
    """1 / (1 + exp(-input)), numerically stable for large |input|. Shape `(*) -> (*)`. The
    gradient is sigmoid(input) * (1 - sigmoid(input)).

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> [round(v, 4) for v in F.sigmoid(glassnet.tensor([-1000.0, 0.0, 1000.0])).tolist()]
        [0.0, 0.5, 1.0]
    """
    return activations.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent, (exp(x) - exp(-x)) / (exp(x) + exp(-x)), in (-1, 1). Shape
    `(*) -> (*)`. The gradient is 1 - tanh(x)^2.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> [round(v, 4) for v in F.tanh(glassnet.tensor([-1.0, 0.0, 1.0])).tolist()]
        [-0.7616, 0.0, 0.7616]
    """
    return activations.tanh(input)


def softmax(input, dim: int, _stacklevel: int = 3, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along dim (max-subtracted, so it never overflows).
    Shape `(*) -> (*)`, every slice along dim sums to 1.

    Args:
        input: a floating tensor.
        dim: the dimension the probabilities are taken along.
        dtype: cast the input to this dtype first, as PyTorch's dtype= argument.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> p = F.softmax(glassnet.tensor([[0.0, 0.0], [0.0, 1000.0]]), dim=1)
        >>> [[round(v, 4) for v in row] for row in p.tolist()]
        [[0.5, 0.5], [0.0, 1.0]]
    """
    return activations.softmax(input, dim, dtype)


def log_softmax(input, dim: int, _stacklevel: int = 3, dtype=None):
    """log(softmax(input, dim)) by the log-sum-exp trick: x_i - m - log sum_j exp(x_j - m),
    with m the maximum along dim. Shape `(*) -> (*)`.

    Args:
        input: a floating tensor.
        dim: the dimension the probabilities are taken along.
        dtype: cast the input to this dtype first, as PyTorch's dtype= argument.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> out = F.log_softmax(glassnet.tensor([[0.0, 1000.0]]), dim=1)   # no overflow
        >>> [round(v, 4) for v in out.tolist()[0]]
        [-1000.0, 0.0]
    """
    return activations.log_softmax(input, dim, dtype)
