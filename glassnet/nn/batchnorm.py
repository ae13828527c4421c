"""Batch normalisation (Ioffe & Szegedy 2015), as torch.nn.BatchNorm1d/2d/3d.

For each channel c, over the batch and spatial positions:
    y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c
In training mean/var are the batch's (biased variance) and the running statistics move towards
them: running = (1 - momentum) * running + momentum * batch (the unbiased variance), or a
cumulative average when momentum is None. In eval mode the running statistics are used.

Parameters weight (ones) and bias (zeros) when affine (bias=False: weight only); buffers running_mean (zeros),
running_var (ones) and num_batches_tracked (int64 0) when track_running_stats -- the same
names and state_dict keys as PyTorch.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..functional._checks import shape_text
from ..tensor import Tensor, ones, zeros
from ._checks import check_dtype
from .module import Module, Parameter


class _BatchNorm(Module):
    _spatial_dims: tuple[int, ...]  # the accepted numbers of spatial dimensions

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, bias: bool = True):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(f"num_features must be a positive int, got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features))
            if bias:
                self.bias = Parameter(zeros(num_features))
            else:  # scale only (torch's keyword-only bias=False)
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features))
            self.register_buffer("running_var", ones(num_features))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1
            if self.bias is not None:
                self.bias.data[...] = 0

    def _label(self) -> str:
        return f"{type(self).__name__}({self.num_features})"

    def _check_input(self, input) -> None:
        shape = tuple(input.shape)
        if len(shape) - 2 not in self._spatial_dims or shape[1] != self.num_features:
            expected = " or ".join(shape_text(n, self.num_features) if n else f"(N, {self.num_features})"
                                   for n in self._spatial_dims)
            raise ValueError(f"{self._label()} expected input of shape {expected}, got {shape}")
        check_dtype(self._label(), input, self.weight if self.affine else self.running_mean)

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        # batch statistics in training, and in eval too when no running statistics are kept
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of each feature of (N, C) or each channel of (N, C, L), over the
    batch (and the positions L): PyTorch's BatchNorm1d.

        y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c

    with the batch's mean and biased variance in training, the running statistics in eval mode
    (see the module docstring).

    Args:
        num_features: the number of channels C.
        eps: added to the variance before the square root.
        momentum: how far the running statistics move towards each batch's; None for a
            cumulative average.
        affine: learn a per-channel weight (ones) and bias (zeros).
        track_running_stats: keep running_mean and running_var for eval mode; without them
            eval mode normalises with the batch's own statistics.
        bias: keyword only; False learns the weight only.

    Shape:
        input (N, C) or (N, C, L) -> output of the same shape; weight, bias, running_mean,
        running_var: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> bn = nn.BatchNorm1d(2)
        >>> y = bn(glassnet.tensor([[1.0, 10.0], [3.0, 30.0]]))   # training: batch statistics
        >>> [[round(v, 3) for v in row] for row in y.tolist()]
        [[-1.0, -1.0], [1.0, 1.0]]
        >>> [round(v, 3) for v in bn.running_mean.tolist()]       # 10% of the way to (2, 20)
        [0.2, 2.0]
    """
    _spatial_dims = (0, 1)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of each channel of (N, C, H, W) over the batch and all positions
    (module docstring): PyTorch's BatchNorm2d.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet import nn
        >>> bn = nn.BatchNorm2d(3)
        >>> x = glassnet.tensor(np.random.default_rng(0).normal(5, 2, (16, 3, 4, 4)).astype(np.float32))
        >>> y = bn(x).detach().numpy()             # training mode: the batch's own statistics
        >>> bool(abs(y.mean()) < 1e-5), bool(abs(y.std() - 1) < 1e-3)
        (True, True)
        >>> [round(v, 1) for v in bn.running_mean.tolist()]   # moved 10% of the way towards 5
        [0.5, 0.5, 0.5]
    """
    _spatial_dims = (2,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of each channel of (N, C, D, H, W) over the batch and all positions:
    PyTorch's BatchNorm3d. The formula and the arguments are BatchNorm1d's.

    Args:
        num_features: the number of channels C.
        eps: added to the variance before the square root.
        momentum: how far the running statistics move towards each batch's; None for a
            cumulative average.
        affine: learn a per-channel weight (ones) and bias (zeros).
        track_running_stats: keep running_mean and running_var for eval mode; without them
            eval mode normalises with the batch's own statistics.
        bias: keyword only; False learns the weight only.

    Shape:
        input (N, C, D, H, W) -> output of the same shape; weight, bias, running_mean,
        running_var: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> bn = nn.BatchNorm3d(4).eval()      # eval mode: running statistics (0 and 1 at first)
        >>> x = glassnet.ones(2, 4, 3, 5, 5)
        >>> y = bn(x)
        >>> y.shape, round(y.max().item(), 4)   # 1 / sqrt(1 + eps)
        ((2, 4, 3, 5, 5), 1.0)
    """
    _spatial_dims = (3,)


__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]
