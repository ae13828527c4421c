"""RAdam (Liu et al. 2020), Adam with a rectified adaptive step, as torch.optim.RAdam computes
it. For each parameter p with gradient g (negated when maximize), at step t = 1, 2, ...:

    g <- g + weight_decay * p   or, decoupled_weight_decay:  p <- p (1 - lr weight_decay)
    m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2,   m_hat = m / (1 - beta1^t)
    rho_inf = 2 / (1 - beta2) - 1,  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    rho_t > 5:   r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                 p <- p - lr m_hat sqrt(1 - beta2^t) / (sqrt(v) + eps) r
    otherwise:   p <- p - lr m_hat        (too few steps for a trustworthy variance: plain momentum)
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ._betas import check_adam_options
from ._options import check_cpu_switches, counted_state, lerp_, prepared_gradient
from .optimizer import Optimizer, _closure_loss, _params_with_grad


class RAdam(Optimizer):
    """RAdam: PyTorch's RAdam, update rule in the module docstring. Adam that takes plain momentum
    steps until enough steps have passed for the variance estimate v to be trusted (rho_t > 5,
    the sixth step with the default betas), then rescales Adam's step by r.

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: learning rate.
        betas: decay rates (beta1, beta2) of the first and second moments.
        eps: added to the denominator, against division by zero.
        weight_decay: weight-decay factor (an L2 penalty, or decoupled as in AdamW).
        decoupled_weight_decay: decay the weights directly (AdamW's way) instead of adding
            weight_decay * p to the gradient.
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
        >>> opt = optim.RAdam(layer.parameters(), lr=0.01)
        >>> (layer(glassnet.ones(1, 1)) ** 2).sum().backward()   # gradient 2
        >>> opt.step()
        >>> round(layer.weight.item(), 6)   # the first step is plain momentum: 1 - lr * m_hat = 1 - 0.01 * 2
        0.98
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        betas = check_adam_options(lr, betas, eps, weight_decay)
        check_cpu_switches("RAdam", capturable, differentiable, foreach=foreach)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                for p in _params_with_grad(group):
                    dt = p.dtype.type  # scalars in the parameter's dtype: no float64 upcast
                    g = prepared_gradient(p, group, decoupled=group["decoupled_weight_decay"])
                    state = counted_state(self.state, p, "exp_avg", "exp_avg_sq")
                    t = state["step"]
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    lerp_(m, g, 1 - beta1, dt)
                    v *= dt(beta2)
                    v += dt(1 - beta2) * g * g
                    bias_correction1, bias_correction2 = 1 - beta1 ** t, 1 - beta2 ** t
                    m_hat = m / dt(bias_correction1)
                    rho_inf = 2 / (1 - beta2) - 1
                    rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
                    if rho_t > 5.0:
                        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                        adaptive = dt(bias_correction2 ** 0.5) / (np.sqrt(v) + dt(eps))
                        p.data -= m_hat * dt(lr) * adaptive * dt(rect)
                    else:
                        p.data -= m_hat * dt(lr)
        return loss
