"""What the optimisers added beside SGD and Adam share: checks of their constructor options (so
each refuses a bad value the same way), torch's keyword-only switches that change nothing on a
CPU, the gradient as the update rules start from it, and per-parameter state with a step count."""

from __future__ import annotations

import numpy as np


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


def prepared_gradient(p, group: dict, decoupled: bool = False):
    """p's gradient as the update rules start from it: negated when maximize, plus
    weight_decay * p (L2 in the gradient) -- or, with decoupled (AdamW-style), the weights shrunk
    by lr * weight_decay instead."""
    dt = p.dtype.type
    g = -p.grad if group["maximize"] else p.grad
    weight_decay = group.get("weight_decay", 0)
    if weight_decay != 0:
        if decoupled:
            p.data *= dt(1 - group["lr"] * weight_decay)
        else:
            g = g + dt(weight_decay) * p.data
    return g


def counted_state(states: dict, p, *zero_buffers: str) -> dict:
    """p's state, created with step 0 and the named zero arrays on first use; step counts this call."""
    state = states.setdefault(p, {})
    if not state:
        state["step"] = 0
        for name in zero_buffers:
            state[name] = np.zeros_like(p.data)
    state["step"] += 1
    return state
