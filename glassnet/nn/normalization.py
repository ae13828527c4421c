"""Per-sample normalisation layers, as torch.nn: LayerNorm, RMSNorm, GroupNorm, InstanceNorm1d/2d/3d
and LocalResponseNorm. (BatchNorm, which normalises over the batch, is in nn.batchnorm.) The formulas
and their gradients are in glassnet.kernels.group_norm and kernels.local_response_norm.

Parameters and buffers have torch's names, shapes, defaults and state_dict keys:
- LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True): weight (ones),
  bias (zeros) of shape normalized_shape.
- `GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, *, bias=True)`: weight (ones),
  bias (zeros), (C,).
- `InstanceNorm*d(num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False)`:
  BatchNorm's parameters and buffers (weight, bias, running_mean, running_var,
  num_batches_tracked), present only when affine / track_running_stats.
All take torch's device= (the CPU only) and dtype= keywords.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import functional as F
from ..tensor import ones, zeros
from ._checks import call_functional, check_dtype, positive_int
from ._factory import apply_factory_kwargs
from .batchnorm import _BatchNorm
from .module import Module, Parameter


def _check_eps(label: str, eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"{label} expected eps > 0, got {eps!r}")
    return eps


def _normalized_shape_argument(label: str, normalized_shape) -> tuple[int, ...]:
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if not shape or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in shape):
        raise ValueError(f"{label} expected normalized_shape as a positive int or a tuple of them, "
                         f"got {normalized_shape!r}")
    return tuple(int(n) for n in shape)


def _register_affine(module: Module, shape: tuple, affine: bool, bias: bool) -> None:
    """weight (ones) and bias (zeros) of the given shape, or None in their place, as torch registers them."""
    module.register_parameter("weight", Parameter(ones(shape)) if affine else None)
    module.register_parameter("bias", Parameter(zeros(shape)) if affine and bias else None)


def _reset_affine(module: Module) -> None:
    if module.weight is not None:
        module.weight.data[...] = 1
    if module.bias is not None:
        module.bias.data[...] = 0


class LayerNorm(Module):
    """Standardise each sample over its last len(normalized_shape) dimensions, then scale and
    shift elementwise: y = (x - mean) / sqrt(var + eps) * weight + bias (biased variance), the
    same in training and eval mode. PyTorch's LayerNorm.

    Args:
        normalized_shape: an int or the trailing shape to normalise over.
        eps: added to the variance before the square root.
        elementwise_affine: learn weight (ones) and bias (zeros) of shape normalized_shape.
        bias: False learns the weight only.
        device: None or "cpu" (glassnet layers compute on the CPU); anything else is an error.
        dtype: the parameters' dtype (float32 by default).

    Shape:
        input (*, *normalized_shape) -> same shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> y = nn.LayerNorm(3)(glassnet.tensor([[1.0, 2.0, 3.0]]))
        >>> [round(v, 3) for v in y.tolist()[0]]
        [-1.225, 0.0, 1.225]
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape_argument("LayerNorm", normalized_shape)
        self.eps = _check_eps("LayerNorm", eps)
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias)
        apply_factory_kwargs(self, device, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        label = f"LayerNorm({self.normalized_shape})"
        shape, k = tuple(input.shape), len(self.normalized_shape)
        if shape[len(shape) - k:] != self.normalized_shape or len(shape) < k:
            raise ValueError(f"{label} expected input of shape (*, {', '.join(map(str, self.normalized_shape))}), "
                             f"got {shape}")
        check_dtype(label, input, self.weight)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Divide each sample by the root mean square over its last len(normalized_shape) dimensions,
    then scale elementwise (weight of ones, no bias): y = x / sqrt(mean(x^2) + eps) * weight.
    PyTorch's RMSNorm.

    Args:
        normalized_shape: an int or the trailing shape to normalise over.
        eps: added to the mean square; None is the dtype's machine epsilon.
        elementwise_affine: learn a weight of shape normalized_shape.
        device: None or "cpu" (glassnet layers compute on the CPU); anything else is an error.
        dtype: the parameters' dtype (float32 by default).

    Shape:
        input (*, *normalized_shape) -> same shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> y = nn.RMSNorm(2)(glassnet.tensor([[3.0, 4.0]]))
        >>> [round(v, 4) for v in y.tolist()[0]]
        [0.8485, 1.1314]
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape_argument("RMSNorm", normalized_shape)
        self.eps = eps if eps is None else _check_eps("RMSNorm", eps)
        self.elementwise_affine = elementwise_affine
        self.register_parameter("weight", Parameter(ones(self.normalized_shape)) if elementwise_affine else None)
        apply_factory_kwargs(self, device, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        label = f"RMSNorm({self.normalized_shape})"
        check_dtype(label, input, self.weight)
        return call_functional(label, F.rms_norm, input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Standardise each sample's channels in num_groups groups, then scale and shift per channel.
    Input (N, num_channels, *) -> same shape. GroupNorm(1, C) normalises all of a sample's
    values (LayerNorm over (C, *) with per-channel affine); GroupNorm(C, C) is instance norm.
    y = (x - mean_g) / sqrt(var_g + eps) * weight_c + bias_c, the statistics over each group's
    channels and positions. PyTorch's GroupNorm.

    Args:
        num_groups: the number of groups; it must divide num_channels.
        num_channels: C.
        eps: added to the variance before the square root.
        affine: learn a per-channel weight (ones) and bias (zeros).
        device: None or "cpu" (glassnet layers compute on the CPU); anything else is an error.
        dtype: the parameters' dtype (float32 by default).
        bias: keyword only; False learns the weight only.

    Shape:
        input (N, C, *) -> same shape; weight, bias (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> norm = nn.GroupNorm(2, 4)
        >>> y = norm(glassnet.tensor([[1.0, 3.0, 10.0, 30.0]]))      # groups (1, 3) and (10, 30)
        >>> [round(v, 3) for v in y.tolist()[0]]
        [-1.0, 1.0, -1.0, 1.0]
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_groups = positive_int(num_groups, "num_groups")
        self.num_channels = positive_int(num_channels, "num_channels")
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.eps = _check_eps("GroupNorm", eps)
        self.affine = affine
        _register_affine(self, (num_channels,), affine, bias)
        apply_factory_kwargs(self, device, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        label = f"GroupNorm({self.num_groups}, {self.num_channels})"
        shape = tuple(input.shape)
        if len(shape) < 2 or shape[1] != self.num_channels:
            raise ValueError(f"{label} expected input of shape (N, {self.num_channels}, *), got {shape}")
        check_dtype(label, input, self.weight)
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """AlexNet's normalisation across `size` neighbouring channels (Krizhevsky et al. 2012):
    each value is divided by a power of the energy of the channels around it, at the same
    position. PyTorch's LocalResponseNorm:

    y[n, c] = x[n, c] / (k + alpha / size * sum over c' in window(c) of x[n, c']^2)^beta

    window(c) = c - floor(size / 2), ..., c + floor((size - 1) / 2), cut at the first and last
    channel (the missing channels count as zeros, and the sum is still divided by size).

    Args:
        size: the number of neighbouring channels in the window.
        alpha: the multiplier of the window's mean square.
        beta: the exponent.
        k: the additive constant.

    Shape:
        input (N, C, *) -> same shape. No parameters.

    Examples:
        With k = alpha = beta = 1 and size 2, channel c is divided by
        1 + (x[c-1]^2 + x[c]^2) / 2: 1 / 1.5, 2 / 3.5 and 3 / 7.5.

        >>> import glassnet
        >>> from glassnet import nn
        >>> norm = nn.LocalResponseNorm(2, alpha=1.0, beta=1.0, k=1.0)
        >>> y = norm(glassnet.tensor([[[1.0], [2.0], [3.0]]]))   # (N, C, L) = (1, 3, 1)
        >>> [round(v, 4) for v in y.flatten().tolist()]
        [0.6667, 0.5714, 0.4]
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = positive_int(size, "size")
        self.alpha, self.beta, self.k = alpha, beta, k

    def forward(self, input):
        return call_functional(type(self).__name__, F.local_response_norm, input, self.size, self.alpha,
                               self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _InstanceNorm(_BatchNorm):
    """BatchNorm's parameters and buffers (torch's _NormBase) with instance norm's defaults and
    forward. momentum=None means 0 here (PyTorch does not average cumulatively for instance norm)
    and num_batches_tracked is kept but never counted, as in PyTorch."""

    _spatial: int  # number of spatial dimensions

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None, dtype=None, *,
                 bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias)
        _check_eps(type(self).__name__, eps)
        apply_factory_kwargs(self, device, dtype)

    def forward(self, input):
        label = self._label()
        shape, n = tuple(input.shape), self._spatial
        if len(shape) not in (n + 1, n + 2):
            raise ValueError(f"{label} expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) input, got "
                             f"shape {shape}")
        channel_dim = len(shape) - n - 1
        if shape[channel_dim] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ValueError(f"{label} expected input's size at dim={channel_dim} to match num_features "
                                 f"({self.num_features}), got input of shape {shape}")
            warnings.warn(f"{label}: input's size at dim={channel_dim} ({shape[channel_dim]}) does not match "
                          "num_features; it is not used because affine=False", stacklevel=2)
        check_dtype(label, input, self.weight if self.affine else self.running_mean)
        x = input if len(shape) == n + 2 else input.unsqueeze(0)
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y if len(shape) == n + 2 else y.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L): every channel of every
    sample is standardised over its own positions, y = (x - mean_nc) / sqrt(var_nc + eps)
    (* weight_c + bias_c when affine). PyTorch's InstanceNorm1d.

    Args:
        num_features: the number of channels C.
        eps: added to the variance before the square root.
        momentum: how far the running statistics move towards each batch's (None means 0).
        affine: learn a per-channel weight (ones) and bias (zeros); off by default, as PyTorch.
        track_running_stats: keep running statistics and use them in eval mode; off by default.
        device: None or "cpu" (glassnet layers compute on the CPU); anything else is an error.
        dtype: the parameters' and buffers' dtype (float32 by default).
        bias: keyword only; False learns the weight only.

    Shape:
        input (N, C, L) or (C, L) -> same shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> y = nn.InstanceNorm1d(2)(glassnet.tensor([[[1.0, 3.0], [10.0, 30.0]]]))
        >>> [[round(v, 3) for v in row] for row in y.tolist()[0]]
        [[-1.0, 1.0], [-1.0, 1.0]]
    """
    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W): every channel of every
    sample is standardised over its own positions, y = (x - mean_nc) / sqrt(var_nc + eps)
    (* weight_c + bias_c when affine). PyTorch's InstanceNorm2d.

    Args:
        num_features: the number of channels C.
        eps: added to the variance before the square root.
        momentum: how far the running statistics move towards each batch's (None means 0).
        affine: learn a per-channel weight (ones) and bias (zeros); off by default, as PyTorch.
        track_running_stats: keep running statistics and use them in eval mode; off by default.
        device: None or "cpu" (glassnet layers compute on the CPU); anything else is an error.
        dtype: the parameters' and buffers' dtype (float32 by default).
        bias: keyword only; False learns the weight only.

    Shape:
        input (N, C, H, W) or (C, H, W) -> same shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> y = nn.InstanceNorm2d(3, affine=True)(glassnet.zeros(8, 3, 5, 5))
        >>> y.shape, y.abs().max().item()          # a constant map becomes 0
        ((8, 3, 5, 5), 0.0)
    """
    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or unbatched (C, D, H, W): every channel of every
    sample is standardised over its own positions, y = (x - mean_nc) / sqrt(var_nc + eps)
    (* weight_c + bias_c when affine). PyTorch's InstanceNorm3d.

    Args:
        num_features: the number of channels C.
        eps: added to the variance before the square root.
        momentum: how far the running statistics move towards each batch's (None means 0).
        affine: learn a per-channel weight (ones) and bias (zeros); off by default, as PyTorch.
        track_running_stats: keep running statistics and use them in eval mode; off by default.
        device: None or "cpu" (glassnet layers compute on the CPU); anything else is an error.
        dtype: the parameters' and buffers' dtype (float32 by default).
        bias: keyword only; False learns the weight only.

    Shape:
        input (N, C, D, H, W) or (C, D, H, W) -> same shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.InstanceNorm3d(4)(glassnet.zeros(4, 2, 3, 3)).shape     # unbatched
        (4, 2, 3, 3)
    """
    _spatial = 3


__all__ = ["LayerNorm", "RMSNorm", "GroupNorm", "LocalResponseNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
