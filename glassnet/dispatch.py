"""The one place that decides which kernels an operation runs: the fast ones or the reference ones.

Every Function in glassnet/functional reaches its kernels through `kernels("conv")` and friends:
a stand-in for the module glassnet/kernels/conv.py whose functions are looked up at each call.
Normally they are the fast kernels. In reference mode

    with glassnet.reference_mode():         # or GLASSNET_REFERENCE=1, or glassnet train --reference
        loss = F.cross_entropy(model(x), y)
        loss.backward()

they are the lecture-notation functions of glassnet/reference (through the small adapters in
glassnet/reference/adapters.py, which translate the fast kernels' calling conventions), so a
breakpoint in glassnet/reference/conv.py stops in the middle of a real training step.

The mode is recorded on each node of the autograd graph when its forward runs, and its backward
runs in the same mode (autograd.py), so a forward under `reference_mode()` is differentiated by
the reference backward even when `.backward()` is called after the `with` block.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading

__all__ = ["reference_mode", "is_reference_mode", "kernels"]

_state = threading.local()
_DEFAULT = os.environ.get("GLASSNET_REFERENCE", "") not in ("", "0")


def is_reference_mode() -> bool:
    return getattr(_state, "reference", _DEFAULT)


@contextlib.contextmanager
def reference_mode(enabled: bool = True):
    """Run operations on the reference kernels (enabled=False: on the fast ones) inside the block."""
    previous = is_reference_mode()
    _state.reference = bool(enabled)
    try:
        yield
    finally:
        _state.reference = previous


class _Kernels:
    """glassnet.kernels.<name>, with the reference versions in their place in reference mode."""

    def __init__(self, name: str):
        self._name = name
        self._fast = importlib.import_module(f"glassnet.kernels.{name}")

    def __getattr__(self, attr: str):
        if is_reference_mode():
            from .reference.adapters import ADAPTERS
            function = ADAPTERS.get(self._name, {}).get(attr)
            if function is not None:
                return function
        return getattr(self._fast, attr)

    def __repr__(self) -> str:
        return f"<kernels {self._name!r} ({'reference' if is_reference_mode() else 'fast'})>"


def kernels(name: str) -> _Kernels:
    """The kernels of glassnet/kernels/<name>.py as the current mode chooses them."""
    return _Kernels(name)
