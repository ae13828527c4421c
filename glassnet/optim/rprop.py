"""Rprop (Riedmiller & Braun 1993), resilient backpropagation, as torch.optim.Rprop computes it.
Only the sign of each gradient element is used; each weight keeps its own step size. For each
parameter p with gradient g (negated when maximize) and the previous step's gradient g':

    g g' > 0:  step <- min(step * eta_plus, step_max)      (same direction: speed up)
    g g' < 0:  step <- max(step * eta_minus, step_min),    (overshot: slow down, and skip this
               g <- 0                                        update of that weight)
    p <- p - sign(g) * step,    g' <- g

step starts at lr. Full-batch gradients suit it best: a noisy mini-batch sign flips often.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ._options import check_cpu_switches, check_non_negative, counted_state, prepared_gradient
from .optimizer import Optimizer, _closure_loss, _params_with_grad


class Rprop(Optimizer):
    """Rprop: PyTorch's Rprop, update rule in the module docstring. Each weight moves by its own
    step size against the sign of its gradient; the step grows while the sign stays and shrinks
    when it flips.

    Args:
        params: model.parameters(), or a list of parameter-group dicts.
        lr: the starting step size of every weight.
        etas: (eta_minus, eta_plus), the factors that shrink and grow a step;
            0 < eta_minus < 1 < eta_plus.
        step_sizes: (step_min, step_max), the bounds of a step size.
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
        >>> opt = optim.Rprop(layer.parameters(), lr=0.01)
        >>> for _ in range(2):                   # the gradient 2w stays positive: steps 0.01, 0.012
        ...     opt.zero_grad()
        ...     (layer(glassnet.ones(1, 1)) ** 2).sum().backward()
        ...     opt.step()
        >>> round(layer.weight.item(), 6)        # 1 - 0.01 - 0.01 * 1.2
        0.978
    """

    def __init__(self, params, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False):
        check_non_negative(learning_rate=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"invalid etas: expected 0 < eta_minus < 1 < eta_plus, got {tuple(etas)}")
        check_cpu_switches("Rprop", capturable, differentiable, foreach=foreach)
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def step(self, closure=None):
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                (eta_minus, eta_plus), (step_min, step_max) = group["etas"], group["step_sizes"]
                for p in _params_with_grad(group):
                    dt = p.dtype.type  # scalars in the parameter's dtype: no float64 upcast
                    g = prepared_gradient(p, group)
                    state = counted_state(self.state, p, "prev")
                    state.setdefault("step_size", np.full_like(p.data, group["lr"]))
                    agreement = np.sign(g * state["prev"])
                    factor = np.where(agreement > 0, dt(eta_plus), np.where(agreement < 0, dt(eta_minus), dt(1)))
                    step_size = state["step_size"]
                    step_size *= factor
                    np.clip(step_size, dt(step_min), dt(step_max), out=step_size)
                    g = np.where(agreement < 0, dt(0), g)  # after a sign change, no update for that weight
                    p.data -= np.sign(g) * step_size
                    state["prev"][...] = g
        return loss
