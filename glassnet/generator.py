"""The one seeded random generator behind everything random in glassnet (initialisation, dropout,
shuffling defaults, Tensor.normal_), so `glassnet.manual_seed(s)` makes a run repeatable.

It sits below tensor.py, which draws from it in normal_ and uniform_; glassnet.random, above
tensor.py, makes random Tensors from it and re-exports these functions under torch's names.
"""

from __future__ import annotations

import numpy as np

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
