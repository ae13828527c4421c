"""local_response_norm, as torch.nn.functional (formula and derivative in
glassnet.kernels.local_response_norm): AlexNet's normalisation across neighbouring channels."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import local_response_norm as K
from ._checks import check_float_input

__all__ = ["local_response_norm"]


class LocalResponseNorm(Function):
    @staticmethod
    def forward(ctx, x, size=1, alpha=1e-4, beta=0.75, k=1.0):
        y, cache = K.local_response_norm_forward(x, size, alpha, beta, k)
        ctx.save_for_backward(cache)
        return y

    @staticmethod
    def backward(ctx, dy):
        (cache,) = ctx.saved
        return K.local_response_norm_backward(dy, cache)


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
    """y_c = x_c / (k + alpha / size * sum of x^2 over `size` channels around c)^beta, for input
    (N, C, *) with at least 3 dimensions. Output: input's shape.

    The window of channel c is c - size // 2 ... c + (size - 1) // 2; channels outside 0 ... C - 1
    count as zeros (so the first and last channels have fewer neighbours), as in PyTorch.

    Args:
        input: (N, C, *), float.
        size: the number of neighbouring channels summed (AlexNet: 5).
        alpha: scale of the sum (divided by size, as PyTorch does).
        beta: exponent.
        k: additive constant (AlexNet: 2).

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> y = F.local_response_norm(glassnet.ones(1, 3, 1, 1), size=3, alpha=3.0, beta=1.0, k=1.0)
        >>> [round(v, 4) for v in y.numpy().ravel().tolist()]   # 1 / (1 + 2), 1 / (1 + 3), 1 / (1 + 2)
        [0.3333, 0.25, 0.3333]
    """
    name = "local_response_norm"
    check_float_input(name, input)
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ValueError(f"{name} expected input of shape (N, C, *) with at least 3 dimensions, got {shape}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{name} expected size as a positive int, got {size!r}")
    return LocalResponseNorm.apply(input, size=int(size), alpha=float(alpha), beta=float(beta), k=float(k))
