"""Adagrad (Duchi, Hazan & Singer 2011), as torch.optim.Adagrad computes it. For each parameter
p with gradient g (negated when maximize; plus weight_decay * p when weight_decay != 0), at step
t = 1, 2, ...:

    s <- s + g^2                                   (sum, starting at initial_accumulator_value)
    p <- p - clr * g / (sqrt(s) + eps),   clr = lr / (1 + (t - 1) lr_decay)

Weights with large past gradients take smaller steps. As in PyTorch the state (step 0 and the
accumulator) exists from construction on, so a state_dict taken before the first step has it.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..nn.lazy import is_lazy
from ._options import check_cpu_switches, check_non_negative, prepared_gradient
from .optimizer import Optimizer, _closure_loss, _params_with_grad


class Adagrad(Optimizer):
    """Adagrad: PyTorch's Adagrad, update rule in the module docstring. Each weight's step is
    divided by the root of the sum of its squared gradients so far.

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: learning rate.
        lr_decay: the learning rate at step t is lr / (1 + (t - 1) lr_decay).
        weight_decay: L2 penalty factor, added to the gradient.
        initial_accumulator_value: the starting value of the sum s of squared gradients.
        eps: added to the denominator, against division by zero.
        foreach: accepted for PyTorch compatibility (how PyTorch batches the same arithmetic);
            no effect here.
        fused: the same as foreach (foreach=True with fused=True is refused, as in PyTorch).
        maximize: ascend instead of descend.
        differentiable: autograd through the update; glassnet does not run it, so True is refused.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn, optim
        >>> layer = nn.Linear(1, 1, bias=False)
        >>> _ = nn.init.constant_(layer.weight, 1.0)
        >>> opt = optim.Adagrad(layer.parameters(), lr=0.1)
        >>> (layer(glassnet.ones(1, 1)) ** 2).sum().backward()   # gradient 2, s = 4
        >>> opt.step()
        >>> round(layer.weight.item(), 6)                         # 1 - 0.1 * 2 / sqrt(4)
        0.9
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None):
        check_non_negative(learning_rate=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        check_cpu_switches("Adagrad", differentiable=differentiable, fused=fused, foreach=foreach)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))

    def add_param_group(self, param_group: dict) -> None:
        """As Optimizer's, and the new parameters get their state at once (PyTorch's layout)."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group)

    def _init_state(self, p, group) -> dict:
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = 0
            # a lazy layer's parameter has no shape yet: its accumulator is made at the first step
            state["sum"] = None if is_lazy(p) else np.full_like(p.data, group["initial_accumulator_value"])
        return state

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
                for p in _params_with_grad(group):
                    dt = p.dtype.type  # scalars in the parameter's dtype: no float64 upcast
                    g = prepared_gradient(p, group)
                    state = self._init_state(p, group)
                    if state["sum"] is None:
                        state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
                    state["step"] += 1
                    clr = lr / (1 + (state["step"] - 1) * lr_decay)
                    s = state["sum"]
                    s += g * g
                    p.data -= dt(clr) * (g / (np.sqrt(s) + dt(eps)))
        return loss
