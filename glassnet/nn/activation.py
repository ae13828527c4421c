"""Activation layers: thin modules over glassnet.functional's activations (the formulas and
derivatives live in glassnet.kernels.activation). `inplace` is accepted for PyTorch
compatibility; the result is always a new tensor."""

from __future__ import annotations

from .. import functional as F
from .module import Module


def _inplace(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class ReLU(Module):
    """max(x, 0), element by element: PyTorch's ReLU. Its gradient is 1 where x > 0, else 0.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.ReLU()(glassnet.tensor([-1.0, 0.0, 2.0])).tolist()
        [0.0, 0.0, 2.0]
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x, element by element: PyTorch's LeakyReLU. Its
    gradient is 1 where x > 0, else negative_slope, so negative inputs still pass a gradient.

    Args:
        negative_slope: the slope for x <= 0.
        inplace: accepted for PyTorch compatibility; the result is always a new tensor.

    Shape:
        input `(*)` -> output `(*)`, the same shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.LeakyReLU(0.1)(glassnet.tensor([-2.0, 0.0, 3.0])).tolist()
        [-0.2..., 0.0, 3.0]
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x if x > 0 else alpha * (exp(x) - 1), element by element: PyTorch's ELU. Smooth for
    alpha = 1; negative outputs saturate at -alpha.

    Args:
        alpha: the value the output tends to, negated, as x -> -infinity.
        inplace: accepted for PyTorch compatibility; the result is always a new tensor.

    Shape:
        input `(*)` -> output `(*)`, the same shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> [round(v, 4) for v in nn.ELU()(glassnet.tensor([-1.0, 0.0, 2.0])).tolist()]
        [-0.6321, 0.0, 2.0]
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + exp(-x)), element by element, in (0, 1): PyTorch's Sigmoid. Its gradient is
    sigmoid(x) * (1 - sigmoid(x)).

    Shape:
        input `(*)` -> output `(*)`, the same shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> [round(v, 4) for v in nn.Sigmoid()(glassnet.tensor([-2.0, 0.0, 2.0])).tolist()]
        [0.1192, 0.5, 0.8808]
    """

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)), element by element, in (-1, 1).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> [round(v, 4) for v in nn.Tanh()(glassnet.tensor([-1.0, 0.0, 1.0])).tolist()]
        [-0.7616, 0.0, 0.7616]
    """

    def forward(self, input):
        return F.tanh(input)


def _softmax_dim(dim, input) -> int:
    # torch's legacy rule when dim is None: 0 for 0-, 1- and 3-d inputs, else 1
    if dim is not None:
        return dim
    return 0 if len(input.shape) in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x_i) / sum_j exp(x_j) along dim: probabilities that sum to 1 (computed after
    subtracting the maximum, so large inputs do not overflow).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> p = nn.Softmax(dim=1)(glassnet.tensor([[1.0, 1.0, 1000.0]]))
        >>> [round(v, 4) for v in p.tolist()[0]]
        [0.0, 0.0, 1.0]
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, _softmax_dim(self.dim, input))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along dim: x_i - log sum_j exp(x_j), computed after subtracting the maximum
    so that large inputs do not overflow. Pair it with NLLLoss for a cross-entropy.

    Args:
        dim: the dimension the probabilities are taken along (for (N, C) inputs, 1). None
            follows PyTorch's legacy rule: 0 for 0-, 1- and 3-d inputs, else 1.

    Shape:
        input `(*)` -> output `(*)`, the same shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> out = nn.LogSoftmax(dim=1)(glassnet.tensor([[0.0, 0.0]]))
        >>> [round(v, 4) for v in out.tolist()[0]]
        [-0.6931, -0.6931]
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, _softmax_dim(self.dim, input))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels at every spatial position: input (N, C, H, W) or (C, H, W),
    softmax along dim -3, as torch.nn.Softmax2d.

    Shape:
        input (N, C, H, W) or (C, H, W) -> output of the same shape, summing to 1 over C.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> p = nn.Softmax2d()(glassnet.zeros(2, 4, 3, 3))
        >>> p.shape, p.tolist()[0][0][0][0]
        ((2, 4, 3, 3), 0.25)
    """

    def forward(self, input):
        if len(input.shape) not in (3, 4):
            raise ValueError(f"Softmax2d expected input of shape (N, C, H, W) or (C, H, W), got "
                             f"{tuple(input.shape)}")
        return F.softmax(input, -3)


__all__ = ["ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softmax2d"]
