"""torch.nn's factory keywords device= and dtype= for layers: glassnet computes on the CPU, so
device accepts None or "cpu" (a string or anything that prints as "cpu"), and dtype converts the
new layer's floating parameters and buffers, as Module.to(dtype) does."""

from __future__ import annotations


def check_device(label: str, device) -> None:
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"{label} was asked for device={device!r}, but glassnet runs on the CPU only "
                           "(use device='cpu' or leave it out)")


def apply_factory_kwargs(module, device=None, dtype=None):
    """Check device and convert the module to dtype (None: keep float32); returns the module."""
    check_device(type(module).__name__, device)
    return module if dtype is None else module.to(dtype)
