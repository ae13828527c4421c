"""Linear (fully connected) layer and the shape helpers around it: Identity, Flatten, Unflatten."""

from __future__ import annotations

import math

from .. import functional as F
from ..tensor import zeros
from . import init
from ._checks import check_dtype
from ._factory import apply_factory_kwargs
from .module import Module, Parameter


class Identity(Module):
    """Returns its input unchanged: PyTorch's Identity, a placeholder where a layer is optional
    (a shortcut without a projection, a removed classifier head).

    Args:
        *args: accepted and ignored, as PyTorch does.
        **kwargs: accepted and ignored, as PyTorch does.

    Shape:
        input `(*)` -> output `(*)`, the same tensor.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.zeros(2, 3)
        >>> nn.Identity(54, unused="ignored")(x) is x
        True
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """A fully connected layer, y = x W^T + b: PyTorch's Linear. Every output is connected to
    every input (the dense matrix the lectures compare a convolution with).

    Args:
        in_features: size of each input's last dimension.
        out_features: size of each output's last dimension.
        bias: learn the bias b.
        device: torch's factory keyword; the CPU only.
        dtype: the parameters' dtype (default float32).

    Shape:
        input `(*, in_features)` -> output `(*, out_features)`. weight (out_features, in_features)
        ~ U(-1/sqrt(in_features), 1/sqrt(in_features)) (PyTorch's kaiming_uniform_(a=sqrt(5))),
        bias (out_features,) from the same range.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> fc = nn.Linear(400, 120)
        >>> fc.weight.shape, fc(glassnet.zeros(8, 400)).shape
        ((120, 400), (8, 120))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features))  # filled by reset_parameters
        if bias:
            self.bias = Parameter(zeros(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        apply_factory_kwargs(self, device, dtype)

    def reset_parameters(self) -> None:
        init.default_uniform_(self.weight, self.bias)

    def _label(self) -> str:
        return f"Linear({self.in_features} -> {self.out_features})"

    def forward(self, input):
        shape = tuple(input.shape)
        if len(shape) == 0 or shape[-1] != self.in_features:
            raise ValueError(f"{self._label()} expected input of shape (*, {self.in_features}), got {shape}"
                             + (" (flatten the feature maps first, e.g. with nn.Flatten())" if len(shape) > 2 else ""))
        check_dtype(self._label(), input, self.weight)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one: (N, C, H, W) -> (N, C * H * W) by default,
    the step between the last feature maps and the first Linear layer (row-major order, as
    PyTorch, so weights carry over).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.Flatten()(glassnet.zeros(8, 16, 5, 5)).shape
        (8, 400)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        nd = len(input.shape)
        if nd and not (-nd <= self.start_dim < nd and -nd <= self.end_dim < nd):
            raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) got an input "
                             f"of shape {tuple(input.shape)} with only {nd} dimensions")
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension dim into unflattened_size, the inverse of Flatten: (N, 400) ->
    (N, 16, 5, 5). Row-major order, as PyTorch.

    Args:
        dim: the dimension to split (negative counts from the end).
        unflattened_size: the sizes it becomes; their product must equal the size of dim (one
            entry may be -1, inferred).

    Shape:
        input `(*, S, *)` -> output `(*, *unflattened_size, *)`, with S = prod(unflattened_size).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.Unflatten(1, (16, 5, 5))(glassnet.zeros(8, 400)).shape
        (8, 16, 5, 5)
        >>> nn.Unflatten(-1, (2, -1))(glassnet.zeros(3, 10)).shape
        (3, 2, 5)
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        shape = tuple(input.shape)
        dim = self.dim % len(shape)
        known = math.prod(s for s in self.unflattened_size if s != -1)
        fits = (known > 0 and shape[dim] % known == 0) if -1 in self.unflattened_size else known == shape[dim]
        if not fits:
            raise ValueError(f"Unflatten(dim={self.dim}, unflattened_size={self.unflattened_size}) cannot "
                             f"split size {shape[dim]} of input shape {shape}")
        return input.reshape(shape[:dim] + self.unflattened_size + shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["Identity", "Linear", "Flatten", "Unflatten"]
