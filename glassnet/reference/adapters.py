"""The fast kernels' calling conventions, answered by the reference functions (reference mode).

The Functions in glassnet/functional call their kernels with the fast path's signatures: a
`needs` mask for the gradients to compute, `return_padded` to keep the padded input, and
cache dictionaries between forward and backward. Each adapter below accepts those arguments
and calls the lecture-notation function of this package, so that the reference functions
themselves stay free of them. glassnet/dispatch.py looks the adapters up by kernel module and
function name; a function missing here (dropout, p4 pooling over the rotation axis: already a
few lines of plain NumPy) runs its fast kernel in reference mode too.

Options the reference functions do not model (label smoothing and probability targets of
cross-entropy, weights of binary cross-entropy) run the fast kernel as well.
"""

from __future__ import annotations

from ..kernels import loss as fast_loss
from ..kernels.pooling import adaptive_output_size
from . import activation, conv, linear, local, loss, normalization, p4, pooling, subsampling

ALL = (True, True, True)


def _only(grads, needs):
    """Keep the gradients `needs` asks for, None for the others."""
    return tuple(g if need else None for g, need in zip(grads, tuple(needs) + (False,) * len(grads)))


# ---- convolution ----------------------------------------------------------------------------

def conv_forward(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", flip=False,
                 return_padded=False):
    y = conv.conv_forward(x, w, bias, stride, padding, dilation, groups, padding_mode, flip)
    return (y, None) if return_padded else y


def conv_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", flip=False,
                  needs=ALL, xp=None):
    return _only(conv.conv_backward(dy, x, w, stride, padding, dilation, groups, padding_mode, flip), needs)


def conv_transpose_backward(dy, x, w, stride=1, padding=0, output_padding=0, groups=1, dilation=1, needs=ALL):
    return _only(conv.conv_transpose_backward(dy, x, w, stride, padding, output_padding, groups, dilation), needs)


# ---- pooling --------------------------------------------------------------------------------

def adaptive_avg_pool_forward(x, output_size):
    return pooling.adaptive_avg_pool_forward(x, adaptive_output_size(x.shape[2:], output_size))


def adaptive_max_pool_forward(x, output_size):
    return pooling.adaptive_max_pool_forward(x, adaptive_output_size(x.shape[2:], output_size))


def global_avg_pool_forward(x):
    ones = (1,) * (x.ndim - 2)
    return pooling.adaptive_avg_pool_forward(x, ones).reshape(x.shape[:2])  # (N, C)


def global_avg_pool_backward(dy, input_shape):
    return pooling.adaptive_avg_pool_backward(dy.reshape(dy.shape + (1,) * (len(input_shape) - 2)), input_shape)


# ---- linear, activations, batch norm --------------------------------------------------------

def linear_backward(dy, x, w, has_bias=True, needs=ALL):
    return _only(linear.linear_backward(dy, x, w), tuple(needs[:2]) + (has_bias and needs[2],))


def batch_norm_forward(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                       eps=1e-5):
    if training:
        mean, var = normalization.batch_statistics(x)
        count = x.size // x.shape[1]
        # the running statistics, as PyTorch keeps them (the variance unbiased)
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
        if running_var is not None:
            running_var[...] = (1 - momentum) * running_var + momentum * var * (count / max(count - 1, 1))
    else:
        mean, var = running_mean.astype(x.dtype), running_var.astype(x.dtype)
    y = normalization.batch_norm_forward(x, mean, var, weight, bias, eps)
    return y, dict(mean=mean, var=var, weight=weight, has_bias=bias is not None, eps=eps, training=training)


def batch_norm_backward(dy, x, cache, needs=ALL):
    grads = normalization.batch_norm_backward(dy, x, cache["mean"], cache["var"], cache["weight"], cache["eps"],
                                              cache["training"])
    return _only(grads, (needs[0], needs[1] and cache["weight"] is not None, needs[2] and cache["has_bias"]))


# ---- losses: the cache holds the arguments; options the reference lacks use the fast kernel ----

def cross_entropy_forward(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    if label_smoothing or target.shape == x.shape:
        value, cache = fast_loss.cross_entropy_forward(x, target, weight, ignore_index, reduction, label_smoothing)
        return value, dict(fast=cache)
    args = (x, target, weight, ignore_index, reduction)
    return loss.cross_entropy_forward(*args), dict(args=args)


def cross_entropy_backward(dloss, cache, needs_target_grad=False):
    if "fast" in cache:
        return fast_loss.cross_entropy_backward(dloss, cache["fast"], needs_target_grad)
    return loss.cross_entropy_backward(dloss, *cache["args"]), None


def nll_loss_forward(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    args = (logp, target, weight, ignore_index, reduction)
    return loss.nll_loss_forward(*args), dict(args=args)


def nll_loss_backward(dloss, cache):
    return loss.nll_loss_backward(dloss, *cache["args"])


def mse_loss_forward(x, target, reduction="mean"):
    return loss.mse_loss_forward(x, target, reduction), dict(args=(x, target, reduction))


def mse_loss_backward(dloss, cache):
    dx = loss.mse_loss_backward(dloss, *cache["args"])
    return dx, -dx


def binary_cross_entropy_with_logits_forward(x, target, weight=None, reduction="mean", pos_weight=None):
    if weight is not None or pos_weight is not None:
        value, cache = fast_loss.binary_cross_entropy_with_logits_forward(x, target, weight, reduction, pos_weight)
        return value, dict(fast=cache)
    args = (x, target, reduction)
    return loss.binary_cross_entropy_with_logits_forward(*args), dict(args=args)


def binary_cross_entropy_with_logits_backward(dloss, cache, needs_target_grad=False):
    if "fast" in cache:
        return fast_loss.binary_cross_entropy_with_logits_backward(dloss, cache["fast"], needs_target_grad)
    dx, dt = loss.binary_cross_entropy_with_logits_backward(dloss, *cache["args"])
    return dx, dt if needs_target_grad else None


# ---- glassnet's own layers ------------------------------------------------------------------

def tiled_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", tiles=None,
                   bias_shape=None, needs=ALL):
    return _only(local.tiled_backward(dy, x, w, stride, padding, dilation, groups, padding_mode, bias_shape), needs)


def subsampling_backward(dy, x, w, kernel_size, stride=None, padding=0, needs=ALL):
    return _only(subsampling.subsampling_backward(dy, x, w, kernel_size, stride, padding), needs)


def p4_lift_backward(dy, x, w, stride=1, padding=0, dilation=1, padding_mode="zeros", needs=ALL):
    return _only(p4.p4_lift_backward(dy, x, w, stride, padding, dilation, padding_mode), needs)


def p4_conv_backward(dy, x, w, stride=1, padding=0, dilation=1, padding_mode="zeros", needs=ALL):
    return _only(p4.p4_conv_backward(dy, x, w, stride, padding, dilation, padding_mode), needs)


ADAPTERS = {
    "conv": dict(conv_forward=conv_forward, conv_backward=conv_backward,
                 conv_transpose_forward=conv.conv_transpose_forward, conv_transpose_backward=conv_transpose_backward),
    "pooling": dict(max_pool_forward=pooling.max_pool_forward, max_pool_backward=pooling.max_pool_backward,
                    avg_pool_forward=pooling.avg_pool_forward, avg_pool_backward=pooling.avg_pool_backward,
                    adaptive_avg_pool_forward=adaptive_avg_pool_forward,
                    adaptive_avg_pool_backward=pooling.adaptive_avg_pool_backward,
                    adaptive_max_pool_forward=adaptive_max_pool_forward,
                    global_avg_pool_forward=global_avg_pool_forward, global_avg_pool_backward=global_avg_pool_backward),
    "activation": dict(relu_forward=activation.relu_forward, relu_backward=activation.relu_backward,
                       leaky_relu_forward=activation.leaky_relu_forward,
                       leaky_relu_backward=activation.leaky_relu_backward,
                       elu_forward=activation.elu_forward, elu_backward=activation.elu_backward,
                       sigmoid_forward=activation.sigmoid_forward, sigmoid_backward=activation.sigmoid_backward,
                       tanh_forward=activation.tanh_forward, tanh_backward=activation.tanh_backward,
                       softmax_forward=activation.softmax_forward, softmax_backward=activation.softmax_backward,
                       log_softmax_forward=activation.log_softmax_forward,
                       log_softmax_backward=activation.log_softmax_backward),
    "linear": dict(linear_forward=linear.linear_forward, linear_backward=linear_backward),
    "normalization": dict(batch_norm_forward=batch_norm_forward, batch_norm_backward=batch_norm_backward),
    "loss": dict(cross_entropy_forward=cross_entropy_forward, cross_entropy_backward=cross_entropy_backward,
                 nll_loss_forward=nll_loss_forward, nll_loss_backward=nll_loss_backward,
                 mse_loss_forward=mse_loss_forward, mse_loss_backward=mse_loss_backward,
                 binary_cross_entropy_with_logits_forward=binary_cross_entropy_with_logits_forward,
                 binary_cross_entropy_with_logits_backward=binary_cross_entropy_with_logits_backward),
    "local": dict(tiled_forward=local.tiled_forward, tiled_backward=tiled_backward),
    "subsampling": dict(subsampling_forward=subsampling.subsampling_forward, subsampling_backward=subsampling_backward),
    "p4": dict(p4_lift_forward=p4.p4_lift_forward, p4_lift_backward=p4_lift_backward,
               p4_conv_forward=p4.p4_conv_forward, p4_conv_backward=p4_conv_backward),
}
