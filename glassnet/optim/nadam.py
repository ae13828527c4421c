"""NAdam (Dozat 2016), Adam with Nesterov momentum, as torch.optim.NAdam computes it. For each
parameter p with gradient g (negated when maximize), at step t = 1, 2, ...:

    g <- g + weight_decay * p   or, decoupled_weight_decay:  p <- p (1 - lr weight_decay)
    mu_t = beta1 (1 - 0.96^(t momentum_decay) / 2)          (the momentum schedule)
    P_t = mu_1 ... mu_t                                      (mu_product, kept in float32 as PyTorch)
    m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
    d = sqrt(v / (1 - beta2^t)) + eps
    p <- p - lr (1 - mu_t) / (1 - P_t) * g / d - lr mu_(t+1) / (1 - P_t mu_(t+1)) * m / d
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ._betas import check_adam_options
from ._options import check_cpu_switches, check_non_negative, counted_state, lerp_, prepared_gradient
from .optimizer import Optimizer, _closure_loss, _params_with_grad


class NAdam(Optimizer):
    """NAdam: PyTorch's NAdam, update rule in the module docstring. Adam whose step looks ahead
    along the momentum, as Nesterov momentum does for SGD, with a momentum that warms up over the
    first steps (momentum_decay).

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: learning rate.
        betas: decay rates (beta1, beta2) of the first and second moments.
        eps: added to the denominator, against division by zero.
        weight_decay: weight-decay factor (an L2 penalty, or decoupled as in AdamW).
        momentum_decay: psi in mu_t = beta1 (1 - 0.96^(t psi) / 2).
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
        >>> opt = optim.NAdam(layer.parameters(), lr=0.01)
        >>> (layer(glassnet.ones(1, 1)) ** 2).sum().backward()   # gradient 2: m = 0.2, d = 2
        >>> opt.step()
        >>> mu1, mu2 = (0.9 * (1 - 0.96 ** (t * 0.004) / 2) for t in (1, 2))
        >>> step = 0.01 * (2 / 2 + mu2 / (1 - mu1 * mu2) * 0.2 / 2)   # Adam's lr, plus a look-ahead along m
        >>> round(layer.weight.item(), 6) == round(1 - step, 6), round(layer.weight.item(), 4)
        (True, 0.9894)
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        betas = check_adam_options(lr, betas, eps, weight_decay)
        check_non_negative(momentum_decay=momentum_decay)
        check_cpu_switches("NAdam", capturable, differentiable, foreach=foreach)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                momentum_decay = group["momentum_decay"]
                for p in _params_with_grad(group):
                    dt = p.dtype.type  # scalars in the parameter's dtype: no float64 upcast
                    g = prepared_gradient(p, group, decoupled=group["decoupled_weight_decay"])
                    state = counted_state(self.state, p, "exp_avg", "exp_avg_sq")
                    state.setdefault("mu_product", np.float32(1.0))  # a float32 scalar in PyTorch too
                    t = state["step"]
                    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
                    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
                    state["mu_product"] = np.float32(state["mu_product"] * np.float32(mu))
                    mu_product = float(state["mu_product"])
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    lerp_(m, g, 1 - beta1, dt)
                    v *= dt(beta2)
                    v += dt(1 - beta2) * g * g
                    denom = np.sqrt(v / dt(1 - beta2 ** t)) + dt(eps)
                    p.data += dt(-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
                    p.data += dt(-lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)
        return loss
