"""Random Tensors (randn, rand, randint, randperm, normal, ...) drawn from glassnet's one seeded
generator (glassnet/generator.py, whose manual_seed, default_generator, get_rng_state and
set_rng_state are named here too), so `glassnet.manual_seed(s)` makes a run repeatable."""

from __future__ import annotations

import numpy as np

from .devices import check_device
from .generator import _generator, default_generator, get_rng_state, manual_seed, set_rng_state  # noqa: F401
from .tensor import Tensor, _size, float32


def _draw(sample, size, dtype, device, requires_grad, generator) -> Tensor:
    check_device(device)
    dtype = float32 if dtype is None else np.dtype(dtype)
    values = sample(generator or _generator, _size(size)).astype(dtype, copy=False)
    return Tensor._wrap(values, requires_grad=requires_grad)


def _size_or_keyword(shape: tuple, size) -> tuple:
    """torch.rand(2, 3), rand((2, 3)) and rand(size=(2, 3)) all name one shape."""
    if size is None:
        return shape
    if shape:
        raise TypeError(f"give the size positionally or as size=, not both (got {shape} and size={size})")
    return (size,)


def randn(*shape, size=None, dtype=None, device=None, requires_grad: bool = False, generator=None, out=None,
          layout=None, pin_memory: bool = False) -> Tensor:
    """Standard normal samples (drawn in float32, then cast to dtype)."""
    return _draw(lambda g, s: g.standard_normal(s, dtype=np.float32), _size_or_keyword(shape, size), dtype,
                 device, requires_grad, generator)


def rand(*shape, size=None, dtype=None, device=None, requires_grad: bool = False, generator=None, out=None,
         layout=None, pin_memory: bool = False) -> Tensor:
    """Uniform samples in [0, 1) (drawn in float32, then cast to dtype)."""
    return _draw(lambda g, s: g.random(s, dtype=np.float32), _size_or_keyword(shape, size), dtype, device,
                 requires_grad, generator)


def randint(low: int, high=None, size=None, *, dtype=None, device=None, requires_grad: bool = False,
            generator=None) -> Tensor:
    """Integers in [low, high), int64; torch's forms randint(high, size) and randint(low, high, size)."""
    if high is None:  # randint(high, size=...)
        low, high = 0, low
    elif size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint needs a size, e.g. randint(10, (3,)) or randint(0, 10, (3,))")
    check_device(device)
    values = (generator or _generator).integers(low, high, size=size, dtype=np.int64)
    return Tensor._wrap(values if dtype is None else values.astype(dtype), requires_grad=requires_grad)


def randperm(n: int, *, dtype=None, device=None, requires_grad: bool = False, generator=None) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    check_device(device)
    values = (generator or _generator).permutation(n)
    return Tensor._wrap(values.astype(np.int64 if dtype is None else dtype), requires_grad=requires_grad)


def rand_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randn_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples: torch.normal(mean, std, size) with numbers, or elementwise with tensors
    mean and/or std (the result has their broadcast shape)."""
    check_device(device)
    m = mean.data if isinstance(mean, Tensor) else mean
    s = std.data if isinstance(std, Tensor) else std
    if size is None:
        size = np.broadcast_shapes(np.shape(m), np.shape(s))
        if isinstance(mean, Tensor) or isinstance(std, Tensor):
            dtype = dtype or (mean if isinstance(mean, Tensor) else std).dtype
    sample = (generator or _generator).standard_normal(_size((size,) if isinstance(size, int) else size),
                                                      dtype=np.float32)
    values = (sample * s + m).astype(float32 if dtype is None else np.dtype(dtype), copy=False)
    return Tensor._wrap(values, requires_grad=requires_grad)
