"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay,
exactly as torch.optim.SGD computes it. For each parameter p with gradient g:

    g <- g + weight_decay * p                        (L2 penalty, if weight_decay != 0)
    b <- g                                           (first step)
    b <- momentum * b + (1 - dampening) * g          (later steps, if momentum != 0)
    g <- g + momentum * b   if nesterov   else   g <- b
    p <- p - lr * g

(maximize=True ascends: g is negated first.)
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from .optimizer import Optimizer, _closure_loss, _params_with_grad


class SGD(Optimizer):
    """Stochastic gradient descent: PyTorch's SGD, update rule in the module docstring.

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: learning rate.
        momentum: factor of the running direction b (0: plain gradient descent).
        dampening: share of the new gradient held back from b.
        weight_decay: L2 penalty factor, added to the gradient.
        nesterov: take the gradient step from where momentum is about to carry the weights
            (needs momentum > 0 and dampening 0); `glassnet train --optimizer sgd` uses it.
        maximize: ascend instead of descend.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn, optim
        >>> layer = nn.Linear(1, 1, bias=False)
        >>> _ = nn.init.constant_(layer.weight, 1.0)
        >>> opt = optim.SGD(layer.parameters(), lr=0.1)
        >>> loss = (layer(glassnet.ones(1, 1)) ** 2).sum()   # (w * 1)^2, gradient 2w = 2
        >>> loss.backward()
        >>> opt.step()
        >>> round(layer.weight.item(), 6)                     # 1 - 0.1 * 2
        0.8
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if value < 0.0:
                raise ValueError(f"invalid {name}: expected >= 0, got {value}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires momentum > 0 and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def _state_spec(self, group: dict) -> dict[str, str]:
        return {"momentum_buffer": "array"} if group["momentum"] != 0 else {}

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
                weight_decay, nesterov = group["weight_decay"], group["nesterov"]
                for p in _params_with_grad(group):
                    dt = p.dtype.type  # scalars in the parameter's dtype: no float64 upcast
                    g = -p.grad if group["maximize"] else p.grad
                    if weight_decay != 0:
                        g = g + dt(weight_decay) * p.data
                    if momentum != 0:
                        state = self.state.setdefault(p, {})
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            buf = state["momentum_buffer"] = np.array(g, copy=True)
                        else:
                            buf *= dt(momentum)
                            buf += dt(1 - dampening) * g
                        g = g + dt(momentum) * buf if nesterov else buf
                    p.data -= dt(lr) * g
        return loss
