"""weight_norm and remove_weight_norm, as torch.nn.utils (Salimans & Kingma 2016): a weight w is
replaced by a direction v and a magnitude g,

    w = g * v / ||v||,   the norm taken over every dimension but `dim` (over all of v when dim is None),

and recomputed from them before every forward. The parameters become `<name>_g` (shaped like v
with size 1 everywhere but dim) and `<name>_v`, as in PyTorch's state_dict.

Backward (per slice along dim, n = ||v||, sums over the slice):
    dL/dg = sum(dw * v) / n,        dL/dv = (g / n) * (dw - v * sum(dw * v) / n^2)
"""

from __future__ import annotations

import numpy as np

from ...autograd import Function
from ..module import Module, Parameter


def _norm_axes(ndim: int, dim: int) -> tuple[int, ...]:
    """Every axis but dim; all of them for dim = -1 (PyTorch's norm_except_dim reads -1 as 'none')."""
    return tuple(range(ndim)) if dim == -1 else tuple(a for a in range(ndim) if a != dim)


def norm_except_dim(v: np.ndarray, dim: int) -> np.ndarray:
    """||v|| over every axis but dim, keeping dims of size 1 (a 0-d array for dim = -1)."""
    axes = _norm_axes(v.ndim, dim)
    return np.sqrt(np.sum(v * v, axis=axes, keepdims=dim != -1))


class WeightNormFunction(Function):
    @staticmethod
    def forward(ctx, v, g, dim=0):
        norm = norm_except_dim(v, dim)
        ctx.save_for_backward(v, g, norm)
        ctx.dim = dim
        return v * (g / norm)

    @staticmethod
    def backward(ctx, dw):
        v, g, norm = ctx.saved
        axes = _norm_axes(v.ndim, ctx.dim)
        proj = np.sum(dw * v, axis=axes, keepdims=ctx.dim != -1)  # sum(dw * v) per slice
        dg = (proj / norm).reshape(g.shape)
        dv = (g / norm) * (dw - v * (proj / (norm * norm)))
        return dv, dg


class WeightNorm:
    """The forward pre-hook that recomputes module.<name> from <name>_g and <name>_v."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module):
        return WeightNormFunction.apply(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"),
                                        dim=self.dim)

    def __call__(self, module: Module, inputs) -> None:
        object.__setattr__(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split module.<name> into <name>_g and <name>_v (see the module docstring); returns module."""
    from ..lazy import is_lazy

    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            raise RuntimeError(f"cannot register two weight_norm hooks on the same parameter {name!r}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm expected {type(module).__name__} to have a parameter {name!r}, it has "
                         f"{[k for k, p in module._parameters.items() if p is not None]}")
    if is_lazy(weight):
        raise ValueError(f"weight_norm: {type(module).__name__}.{name} is not initialised yet; run one forward "
                         "first (lazy layers get their shapes there)")
    dim = -1 if dim is None else dim
    if not -1 <= dim < weight.ndim:
        raise ValueError(f"weight_norm expected dim in [-1, {weight.ndim}) or None for {name} of shape "
                         f"{weight.shape}, got {dim}")
    fn = WeightNorm(name, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight.data, dim)))
    module.register_parameter(name + "_v", Parameter(weight.data.copy()))
    module.register_forward_pre_hook(fn)
    fn(module, ())
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Fold <name>_g and <name>_v back into one parameter <name>; returns module."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            break
    else:
        raise ValueError(f"weight_norm of {name!r} not found in {type(module).__name__}")
    weight = hook.compute_weight(module)
    del module._forward_pre_hooks[key]
    object.__delattr__(module, name)
    del module._parameters[name + "_g"]
    del module._parameters[name + "_v"]
    module.register_parameter(name, Parameter(weight.data))
    return module
