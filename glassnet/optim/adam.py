"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as torch.optim computes them.
For each parameter p with gradient g, at step t = 1, 2, ...:

    g <- g + weight_decay * p                  (Adam: L2 penalty folded into the gradient)
    p <- p * (1 - lr * weight_decay)           (AdamW instead: decay the weights directly)
    m <- beta1 * m + (1 - beta1) * g           (first moment)
    v <- beta2 * v + (1 - beta2) * g^2         (second moment)
    v_max <- max(v_max, v)                     (amsgrad only; then v_max replaces v below)
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import no_grad
from .optimizer import Optimizer, _closure_loss, _params_with_grad


class Adam(Optimizer):
    """Adam: PyTorch's Adam, update rule in the module docstring. Each weight's step is the
    running mean of its gradient over the running root mean square, so steps have about the
    size lr whatever the gradient's scale.

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: learning rate.
        betas: decay rates (beta1, beta2) of the first and second moments.
        eps: added to the denominator, against division by zero.
        weight_decay: L2 penalty factor, added to the gradient (AdamW decays the weights instead).
        amsgrad: divide by the largest second moment seen so far.
        maximize: ascend instead of descend.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn, optim
        >>> layer = nn.Linear(1, 1, bias=False)
        >>> _ = nn.init.constant_(layer.weight, 1.0)
        >>> opt = optim.Adam(layer.parameters(), lr=0.01)
        >>> (layer(glassnet.ones(1, 1)) ** 2).sum().backward()
        >>> opt.step()
        >>> round(layer.weight.item(), 6)                     # the first step has size lr
        0.99
    """

    _decoupled = False  # AdamW sets True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"invalid learning rate: expected >= 0, got {lr}")
        if eps < 0.0:
            raise ValueError(f"invalid epsilon: expected >= 0, got {eps}")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"invalid betas: expected two values in [0, 1), got {betas}")
        if weight_decay < 0.0:
            raise ValueError(f"invalid weight_decay: expected >= 0, got {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _state_spec(self, group: dict) -> dict[str, str]:
        spec = {"step": "count", "exp_avg": "array", "exp_avg_sq": "array"}
        return {**spec, "max_exp_avg_sq": "array"} if group["amsgrad"] else spec

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
                for p in _params_with_grad(group):
                    dt = p.dtype.type  # scalars in the parameter's dtype: no float64 upcast
                    g = -p.grad if group["maximize"] else p.grad
                    state = self.state.setdefault(p, {})
                    if not state:
                        state["step"] = 0
                        state["exp_avg"] = np.zeros_like(p.data)
                        state["exp_avg_sq"] = np.zeros_like(p.data)
                        if amsgrad:
                            state["max_exp_avg_sq"] = np.zeros_like(p.data)
                    state["step"] += 1
                    t = state["step"]
                    if weight_decay != 0:
                        if self._decoupled:
                            p.data *= dt(1 - lr * weight_decay)
                        else:
                            g = g + dt(weight_decay) * p.data
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    m += dt(1 - beta1) * (g - m)  # = beta1 m + (1 - beta1) g, torch's lerp form
                    v *= dt(beta2)
                    v += dt(1 - beta2) * g * g
                    if amsgrad:
                        np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                        v = state["max_exp_avg_sq"]
                    step_size = lr / (1 - beta1 ** t)
                    denom = np.sqrt(v) / dt(math.sqrt(1 - beta2 ** t)) + dt(eps)
                    p.data -= dt(step_size) * m / denom  # torch's addcdiv order: (s m) / denom
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): PyTorch's AdamW. Each step
    first shrinks every weight, w <- w (1 - lr * weight_decay), then takes Adam's step with the
    plain gradient, so the decay does not pass through the moments (with Adam's
    weight_decay it is divided by the root mean square like any gradient).

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: learning rate.
        betas: decay rates (beta1, beta2) of the first and second moments.
        eps: added to the denominator, against division by zero.
        weight_decay: the decoupled decay factor (default 1e-2, as PyTorch).
        amsgrad: divide by the largest second moment seen so far.
        maximize: ascend instead of descend.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn, optim
        >>> layer = nn.Linear(1, 1, bias=False)
        >>> _ = nn.init.constant_(layer.weight, 1.0)
        >>> opt = optim.AdamW(layer.parameters(), lr=0.1, weight_decay=0.5)
        >>> (layer(glassnet.zeros(1, 1)) ** 2).sum().backward()   # a zero gradient
        >>> opt.step()
        >>> round(layer.weight.item(), 6)                         # only the decay: 1 - 0.1 * 0.5
        0.95
    """

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
