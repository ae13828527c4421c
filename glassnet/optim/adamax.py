"""Adamax (Kingma & Ba 2015, section 7.1), Adam with the infinity norm, as torch.optim.Adamax
computes it. For each parameter p with gradient g (negated when maximize; plus
weight_decay * p when weight_decay != 0), at step t = 1, 2, ...:

    m <- beta1 m + (1 - beta1) g                    (exp_avg)
    u <- max(beta2 u, |g| + eps)                    (exp_inf)
    p <- p - lr / (1 - beta1^t) * m / u
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ._betas import check_adam_options
from ._options import check_cpu_switches, counted_state, lerp_, prepared_gradient
from .optimizer import Optimizer, _closure_loss, _params_with_grad


class Adamax(Optimizer):
    """Adamax: PyTorch's Adamax, update rule in the module docstring. Adam with the running
    maximum of |g| in place of the root mean square.

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: learning rate.
        betas: decay rates (beta1, beta2) of the first moment m and of the maximum u.
        eps: added to |g| before the maximum, against division by zero.
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
        >>> opt = optim.Adamax(layer.parameters(), lr=0.01)
        >>> (layer(glassnet.ones(1, 1)) ** 2).sum().backward()   # gradient 2: m = 0.2, u = 2
        >>> opt.step()
        >>> round(layer.weight.item(), 6)                         # 1 - 0.01 / 0.1 * 0.2 / 2
        0.99
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        betas = check_adam_options(lr, betas, eps, weight_decay)
        check_cpu_switches("Adamax", capturable, differentiable, foreach=foreach)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                for p in _params_with_grad(group):
                    dt = p.dtype.type  # scalars in the parameter's dtype: no float64 upcast
                    g = prepared_gradient(p, group)
                    state = counted_state(self.state, p, "exp_avg", "exp_inf")
                    m, u = state["exp_avg"], state["exp_inf"]
                    lerp_(m, g, 1 - beta1, dt)
                    u *= dt(beta2)
                    np.maximum(u, np.abs(g) + dt(eps), out=u)
                    clr = lr / (1 - beta1 ** state["step"])
                    p.data -= dt(clr) * (m / u)
        return loss
