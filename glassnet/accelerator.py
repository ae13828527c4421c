"""torch.accelerator on a CPU-only machine: no accelerator."""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator (PyTorch's answer on a CPU-only build)."""
    return None
