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
    """||v|| over every axis but dim, keeping dims of size 1 (a 0-d array, the norm of all of v,
    for dim = -1): the magnitude g that weight_norm starts from. Works on ndarrays; unlike
    torch.norm_except_dim(v, pow, dim) it has no pow (always the 2-norm).

    Examples:
        >>> import numpy as np
        >>> from glassnet.nn.utils.weight_norm import norm_except_dim
        >>> v = np.array([[3.0, 4.0], [0.0, 0.0]])
        >>> norm_except_dim(v, 0).tolist()              # one norm per row
        [[5.0], [0.0]]
        >>> norm_except_dim(v, 1).tolist()              # one per column
        [[3.0, 4.0]]
        >>> float(norm_except_dim(v, -1))               # all of v
        5.0
    """
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
    """The forward pre-hook that recomputes `module.<name>` from `<name>_g` and `<name>_v`."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module):
        return WeightNormFunction.apply(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"),
                                        dim=self.dim)

    def __call__(self, module: Module, inputs) -> None:
        object.__setattr__(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split `module.<name>` into a magnitude `<name>_g` and a direction `<name>_v`, and recompute

        w = g * v / ||v||   (the norm over every dimension but dim)

    before every forward (Salimans & Kingma 2016; torch.nn.utils.weight_norm). At first g = ||w||
    and v = w, so the layer computes the same; training then updates g and v. Returns module.

    Args:
        module: the layer holding the parameter.
        name: the parameter's name.
        dim: the dimension that keeps one magnitude per slice (0: one per output unit); None
            for one magnitude for the whole tensor.

    Shape:
        `<name>_v`: the parameter's shape; `<name>_g`: size 1 in every dimension but dim.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> layer = nn.utils.weight_norm(nn.Linear(3, 2))
        >>> list(layer.state_dict()), layer.weight_g.shape
        (['bias', 'weight_g', 'weight_v'], (2, 1))
        >>> layer.weight_v.data[...] = [[3.0, 4.0, 0.0], [0.0, 0.0, 2.0]]
        >>> layer.weight_g.data[...] = [[10.0], [1.0]]
        >>> y = layer(glassnet.zeros(1, 3))              # recomputes the weight
        >>> layer.weight.tolist()                       # rows of norm 10 and 1
        [[6.0, 8.0, 0.0], [0.0, 0.0, 1.0]]
    """
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
    """Fold `<name>_g` and `<name>_v` back into one parameter `<name>` = g * v / ||v|| and remove the
    hook weight_norm added (torch.nn.utils.remove_weight_norm); returns module.

    Examples:
        >>> from glassnet import nn
        >>> layer = nn.utils.weight_norm(nn.Linear(3, 2))
        >>> list(nn.utils.remove_weight_norm(layer).state_dict())
        ['bias', 'weight']
    """
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
