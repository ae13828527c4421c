"""torch.cuda as it answers on a machine without CUDA: nothing is available.

Queries (is_available, device_count, is_initialized) answer False or 0; the seeding calls do
nothing (PyTorch defers them until CUDA starts, which here is never); anything that needs a GPU
raises PyTorch's `AssertionError: Torch not compiled with CUDA enabled`.
"""

from __future__ import annotations

from .devices import NO_CUDA


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def _no_cuda(*args, **kwargs):
    raise AssertionError(NO_CUDA)


current_device = synchronize = get_device_name = get_device_properties = set_device = _no_cuda
memory_allocated = max_memory_allocated = memory_reserved = _no_cuda


def manual_seed(seed: int) -> None:
    """Accepted and ignored: there is no CUDA generator to seed (as on CPU-only PyTorch)."""


manual_seed_all = seed = seed_all = manual_seed


def empty_cache() -> None:
    """Nothing is cached on a device that does not exist."""
