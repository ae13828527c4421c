"""RMSprop (Hinton's lecture 6e), as torch.optim.RMSprop computes it. For each parameter p with
gradient g (negated when maximize; plus weight_decay * p when weight_decay != 0):

    v <- alpha v + (1 - alpha) g^2                    (square_avg)
    centered:  m <- alpha m + (1 - alpha) g           (grad_avg)
               a = sqrt(v - m^2) + eps                (an estimate of the gradient's spread)
    else:      a = sqrt(v) + eps
    momentum > 0:  b <- momentum b + g / a,  p <- p - lr b     (momentum_buffer)
    else:          p <- p - lr g / a
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ._options import check_cpu_switches, check_non_negative, counted_state, lerp_, prepared_gradient
from .optimizer import Optimizer, _closure_loss, _params_with_grad


class RMSprop(Optimizer):
    """RMSprop: PyTorch's RMSprop, update rule in the module docstring. Each weight's gradient is
    divided by the root of a running mean of its squares.

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: learning rate.
        alpha: decay rate of the running mean v of g^2.
        eps: added to the denominator, against division by zero.
        weight_decay: L2 penalty factor, added to the gradient.
        momentum: factor of the momentum buffer b (0: none).
        centered: divide by the estimated standard deviation sqrt(v - m^2) instead of sqrt(v).
        foreach: accepted for PyTorch compatibility (how PyTorch batches the same arithmetic); no
            effect here.
        capturable: CUDA graphs; glassnet runs on the CPU only, so True is refused with an error.
        differentiable: autograd through the update; glassnet does not run it, so True is refused.
        maximize: ascend instead of descend.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn, optim
        >>> layer = nn.Linear(1, 1, bias=False)
        >>> _ = nn.init.constant_(layer.weight, 1.0)
        >>> opt = optim.RMSprop(layer.parameters(), lr=0.01)
        >>> (layer(glassnet.ones(1, 1)) ** 2).sum().backward()   # gradient 2: v = 0.01 * 4
        >>> opt.step()
        >>> round(layer.weight.item(), 6)                         # 1 - 0.01 * 2 / sqrt(0.04)
        0.9
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False):
        check_non_negative(learning_rate=lr, epsilon=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        check_cpu_switches("RMSprop", capturable, differentiable, foreach=foreach)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
                centered = group["centered"]
                for p in _params_with_grad(group):
                    dt = p.dtype.type  # scalars in the parameter's dtype: no float64 upcast
                    g = prepared_gradient(p, group)
                    buffers = ["square_avg"] + ["momentum_buffer"] * (momentum > 0) + ["grad_avg"] * centered
                    state = counted_state(self.state, p, *buffers)
                    v = state["square_avg"]
                    v *= dt(alpha)
                    v += dt(1 - alpha) * g * g
                    if centered:
                        m = state["grad_avg"]
                        lerp_(m, g, 1 - alpha, dt)
                        avg = np.sqrt(v - m * m)
                    else:
                        avg = np.sqrt(v)
                    avg += dt(eps)
                    if momentum > 0:
                        buf = state["momentum_buffer"]
                        buf *= dt(momentum)
                        buf += g / avg
                        p.data -= dt(lr) * buf
                    else:
                        p.data -= dt(lr) * (g / avg)
        return loss
