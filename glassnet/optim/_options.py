"""Checks of the constructor options shared by Adadelta, Adagrad and RMSprop, so each refuses a
bad value the same way, and torch's keyword-only switches that change nothing on a CPU."""

from __future__ import annotations


def check_non_negative(**values) -> None:
    for name, value in values.items():
        if not value >= 0.0:  # NaN fails too
            raise ValueError(f"invalid {name}: expected >= 0, got {value}")


def check_cpu_switches(name: str, capturable: bool = False, differentiable: bool = False,
                       fused: bool | None = None, foreach: bool | None = None) -> None:
    """foreach and fused choose how PyTorch batches the same arithmetic: accepted, no effect here.
    capturable (CUDA graphs) and differentiable (autograd through the update) cannot be honoured:
    refused, as PyTorch refuses capturable on a CPU."""
    if capturable:
        raise RuntimeError(f"{name}(capturable=True) needs parameters on an accelerator (for CUDA graphs); "
                           "glassnet runs on the CPU only")
    if differentiable:
        raise NotImplementedError(f"{name}(differentiable=True): glassnet's optimisers update the parameters "
                                  "outside autograd, so the step cannot be differentiated")
    if fused and foreach:
        raise RuntimeError(f"{name}: fused=True and foreach=True cannot be set together")


def lerp_(start, end, weight: float, dt) -> None:
    """start <- start + weight (end - start), in place, in PyTorch's two-branch form (exact at
    weight = 1), so the rounding matches torch.lerp."""
    if weight < 0.5:
        start += dt(weight) * (end - start)
    else:
        start[...] = end - (end - start) * dt(1 - weight)
