"""SyncBatchNorm: batch normalisation with the statistics of the global batch (all ranks).

Per channel c, with M = the number of values of c over every rank's batch:

    mu  = (1/M) sum_ranks sum x                         (Allreduce of the local sums and counts)
    var = (1/M) sum_ranks sum (x - mu)^2                (a second Allreduce: no E[x^2] - mu^2)
    y   = gamma (x - mu) / sqrt(var + eps) + beta

Backward, the batch-norm formula with the sums taken over all ranks (s = 1 / sqrt(var + eps),
x_hat = (x - mu) s):

    dx = gamma s (dy - (1/M) sum_ranks sum dy - x_hat (1/M) sum_ranks sum dy x_hat)

where the two sums travel in one Allreduce; dgamma = sum dy x_hat and dbeta = sum dy stay local
(DistributedDataParallel averages them with the other gradients). With one process it is
BatchNorm.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..distributed import collectives
from .batchnorm import _BatchNorm



def _global_sum(array: np.ndarray) -> np.ndarray:
    if collectives.is_initialized() and collectives.get_world_size() > 1:
        collectives.all_reduce(array)
    return array


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))  # (C,) -> (1, C, 1, ...)


class SyncBatchNormFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean=None, running_var=None, momentum=0.1, eps=1e-5):
        axes = (0,) + tuple(range(2, x.ndim))
        sums = np.concatenate([x.sum(axis=axes), [x.size // x.shape[1]]]).astype(np.float64)  # (C + 1,)
        sums = _global_sum(sums)
        count = sums[-1]
        mean = (sums[:-1] / count).astype(x.dtype)  # (C,)
        centred = x - _per_channel(mean, x.ndim)
        var = (_global_sum((centred * centred).sum(axis=axes).astype(np.float64)) / count).astype(x.dtype)
        inv_std = 1 / np.sqrt(var + np.asarray(eps, x.dtype))  # s, (C,)
        x_hat = centred * _per_channel(inv_std, x.ndim)
        if running_mean is not None:  # PyTorch's update, with the unbiased global variance
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += momentum * var * (count / max(count - 1, 1))
        ctx.save_for_backward(x_hat, inv_std, weight, count)
        y = x_hat if weight is None else x_hat * _per_channel(weight, x.ndim)
        return y if bias is None else y + _per_channel(bias, x.ndim)

    @staticmethod
    def backward(ctx, dy):
        x_hat, inv_std, weight, count = ctx.saved
        axes = (0,) + tuple(range(2, dy.ndim))
        dbeta, dgamma = dy.sum(axis=axes), (dy * x_hat).sum(axis=axes)  # local sums, (C,)
        both = _global_sum(np.concatenate([dbeta, dgamma]).astype(np.float64))  # (2C,)
        c = dbeta.size
        mean_dy, mean_dy_xhat = (both[:c] / count).astype(dy.dtype), (both[c:] / count).astype(dy.dtype)
        g_s = inv_std if weight is None else weight * inv_std  # gamma s, (C,)
        dx = (dy - _per_channel(mean_dy, dy.ndim) - x_hat * _per_channel(mean_dy_xhat, dy.ndim)) \
            * _per_channel(g_s, dy.ndim)
        return dx, (dgamma if weight is not None else None), (dbeta if ctx.needs_input_grad[2] else None)


class SyncBatchNorm(_BatchNorm):
    """torch.nn.SyncBatchNorm: BatchNorm over the global batch in training, the statistics
    summed over every rank of the process group (the module docstring gives forward and
    backward); in evaluation it uses the running statistics, like BatchNorm. With one process,
    or before init_process_group, it is BatchNorm. Any number of spatial dimensions.

        y = gamma (x - mu) / sqrt(var + eps) + beta,  mu and var over all ranks' (N, *) values

    Args:
        num_features: the number of channels C.
        eps: added to the variance before the square root.
        momentum: how far the running statistics move towards each global batch's; None for a
            cumulative average.
        affine: learn a per-channel weight gamma (ones) and bias beta (zeros).
        track_running_stats: keep running_mean and running_var for eval mode.
        process_group: accepted for PyTorch's signature; the statistics are summed over the one
            process group of glassnet.distributed.

    Shape:
        input (N, C, *) -> output of the same shape; weight, bias, running_mean, running_var: (C,).

    Examples:
        convert_sync_batchnorm swaps every BatchNorm of a model for a SyncBatchNorm (with the
        same values); in one process the layer normalises with the batch's own statistics:

        >>> import glassnet
        >>> from glassnet import nn
        >>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
        >>> type(nn.SyncBatchNorm.convert_sync_batchnorm(model)[1]).__name__
        'SyncBatchNorm'
        >>> bn = nn.SyncBatchNorm(2)
        >>> y = bn(glassnet.tensor([[1.0, 10.0], [3.0, 30.0]]))
        >>> [[round(v, 3) for v in row] for row in y.tolist()]
        [[-1.0, -1.0], [1.0, 1.0]]
    """

    _spatial_dims = (0, 1, 2, 3)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats)

    def forward(self, input):
        if not self.training and self.track_running_stats:
            return super().forward(input)
        self._check_input(input)
        momentum = self.momentum
        track = self.training and self.track_running_stats
        if track:
            self.num_batches_tracked.data[...] += 1
            if momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.data)
        return SyncBatchNormFunction.apply(
            input, self.weight, self.bias, running_mean=self.running_mean.data if track else None,
            running_var=self.running_var.data if track else None, momentum=momentum, eps=self.eps)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every BatchNorm1d/2d/3d in module (recursively) by a SyncBatchNorm holding the same
        parameters and running statistics; returns the converted module."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats)
            reference = module.weight if module.affine else module.running_mean
            if reference is not None and reference.dtype == np.float64:
                converted.double()  # keep the layer's dtype (load_state_dict copies into ours)
            converted.load_state_dict(module.state_dict())
            converted.train(module.training)
            return converted
        for name, child in list(module.named_children()):
            module.add_module(name, cls.convert_sync_batchnorm(child))
        return module
