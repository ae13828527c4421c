"""Adadelta (Zeiler 2012), as torch.optim.Adadelta computes it. For each parameter p with
gradient g (negated when maximize; plus weight_decay * p when weight_decay != 0):

    v <- rho v + (1 - rho) g^2                              (square_avg)
    delta = sqrt(u + eps) / sqrt(v + eps) * g               (u: acc_delta, the squared updates)
    u <- rho u + (1 - rho) delta^2
    p <- p - lr * delta

The ratio sqrt(u + eps) / sqrt(v + eps) gives each weight its own step size with the units of
the weight, which is why the default lr is 1.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ._options import check_cpu_switches, check_non_negative, counted_state, prepared_gradient
from .optimizer import Optimizer, _closure_loss, _params_with_grad


class Adadelta(Optimizer):
    """Adadelta: PyTorch's Adadelta, update rule in the module docstring. Each weight's step is
    the root mean square of its past updates over that of its past gradients, so no learning
    rate has to be tuned (lr = 1 scales the step as is).

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: factor on the computed step (1: the step as the formula gives it).
        rho: decay rate of both running averages (v of g^2, u of the squared updates).
        eps: added inside both square roots; sqrt(eps) also sets the size of the first steps.
        weight_decay: L2 penalty factor, added to the gradient.
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
        >>> opt = optim.Adadelta(layer.parameters())
        >>> (layer(glassnet.ones(1, 1)) ** 2).sum().backward()   # gradient 2
        >>> opt.step()
        >>> round(1 - layer.weight.item(), 6)   # sqrt(eps) / sqrt(0.1 * 2^2 + eps) * 2: a tiny first step
        0.003162
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False):
        check_non_negative(learning_rate=lr, epsilon=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"invalid rho: expected a value in [0, 1], got {rho}")
        check_cpu_switches("Adadelta", capturable, differentiable, foreach=foreach)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, rho, eps = group["lr"], group["rho"], group["eps"]
                for p in _params_with_grad(group):
                    dt = p.dtype.type  # scalars in the parameter's dtype: no float64 upcast
                    g = prepared_gradient(p, group)
                    state = counted_state(self.state, p, "square_avg", "acc_delta")
                    v, u = state["square_avg"], state["acc_delta"]
                    v *= dt(rho)
                    v += dt(1 - rho) * g * g
                    delta = np.sqrt(u + dt(eps)) / np.sqrt(v + dt(eps)) * g
                    u *= dt(rho)
                    u += dt(1 - rho) * delta * delta
                    p.data -= dt(lr) * delta
        return loss
