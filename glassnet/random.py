"""One seeded random generator for everything random in glassnet (initialisation, dropout,
shuffling defaults), so `glassnet.manual_seed(s)` makes a run repeatable."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, float32

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the generator in place (as torch.manual_seed does), so that code which fetched it
    earlier with default_generator() follows the new seed too. Same stream as default_rng(seed)."""
    _generator.bit_generator.state = np.random.PCG64(seed).state
    return _generator


def default_generator() -> np.random.Generator:
    return _generator


def get_rng_state() -> dict:
    """The generator's full state as plain JSON-able data (for checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    _generator.bit_generator.state = state


def _size(size):
    return size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size


def randn(*size, dtype=float32, requires_grad: bool = False) -> Tensor:
    return Tensor._wrap(_generator.standard_normal(_size(size), dtype=np.float32).astype(dtype, copy=False),
                        requires_grad=requires_grad)


def rand(*size, dtype=float32, requires_grad: bool = False) -> Tensor:
    return Tensor._wrap(_generator.random(_size(size), dtype=np.float32).astype(dtype, copy=False),
                        requires_grad=requires_grad)


def randint(low: int, high=None, size=None) -> Tensor:
    """Integers in [low, high), int64; torch's forms randint(high, size) and randint(low, high, size)."""
    if high is None:  # randint(high, size=...)
        low, high = 0, low
    elif size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint needs a size, e.g. randint(10, (3,)) or randint(0, 10, (3,))")
    return Tensor._wrap(_generator.integers(low, high, size=size, dtype=np.int64))
