"""parameters_to_vector and vector_to_parameters, as torch.nn.utils: all parameters as one flat
vector (for second-order methods, weight averaging, flat optimisers) and back."""

from __future__ import annotations

import numpy as np

from ...autograd import no_grad
from ...ops import cat
from ...tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """The parameters flattened and concatenated in order: a 1-D Tensor in the graph (its
    gradient flows back to each parameter, as torch's).

    Args:
        parameters: a Tensor or an iterable of them (e.g. model.parameters()).

    Shape:
        parameters of shapes s_1, ..., s_n -> (sum of prod(s_i),).

    Examples:
        >>> from glassnet import nn
        >>> layer = nn.Linear(3, 2)                  # weight (2, 3), bias (2,)
        >>> vector = nn.utils.parameters_to_vector(layer.parameters())
        >>> vector.shape, vector.tolist()[6:] == layer.bias.tolist()
        ((8,), True)
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not params:
        raise ValueError("parameters_to_vector got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D vec into the parameters, in order (not recorded in the
    graph): the inverse of parameters_to_vector.

    Args:
        vec: a 1-D Tensor with exactly as many elements as the parameters together, of their dtype.
        parameters: a Tensor or an iterable of them (e.g. model.parameters()).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> layer = nn.Linear(2, 1)
        >>> nn.utils.vector_to_parameters(glassnet.tensor([1.0, 2.0, 3.0]), layer.parameters())
        >>> layer.weight.tolist(), layer.bias.tolist()
        ([[1.0, 2.0]], [3.0])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters expected vec as a Tensor, got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters expected a 1-D vec, got shape {vec.shape}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters got a vec of {vec.numel()} elements for parameters holding "
                         f"{total} (shapes {[tuple(p.shape) for p in params]})")
    if any(p.dtype != vec.dtype for p in params):
        raise TypeError(f"vector_to_parameters expected vec of the parameters' dtype, got {vec.dtype} for "
                        f"{sorted({str(p.dtype) for p in params})} (no silent conversion)")
    offsets = np.cumsum([0] + [p.numel() for p in params])
    with no_grad():
        for p, start, stop in zip(params, offsets[:-1], offsets[1:]):
            p.data[...] = vec.data[start:stop].reshape(p.shape)
            p._version += 1
