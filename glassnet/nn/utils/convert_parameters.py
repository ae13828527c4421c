"""parameters_to_vector and vector_to_parameters, as torch.nn.utils: all parameters as one flat
vector (for second-order methods, weight averaging, flat optimisers) and back."""

from __future__ import annotations

import numpy as np

from ...autograd import no_grad
from ...ops import cat
from ...tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """The parameters flattened and concatenated in order: a 1-D Tensor in the graph (its
    gradient flows back to each parameter, as torch's)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not params:
        raise ValueError("parameters_to_vector got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D vec into the parameters, in order (not recorded in the
    graph). vec must have exactly as many elements as the parameters together."""
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
