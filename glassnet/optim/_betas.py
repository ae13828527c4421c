"""The checks of the Adam family's constructor options (Adamax, NAdam, RAdam), so each refuses a
bad value the same way."""

from __future__ import annotations

from ._options import check_non_negative


def check_adam_options(lr: float, betas, eps: float, weight_decay: float) -> tuple[float, float]:
    check_non_negative(learning_rate=lr, epsilon=eps, weight_decay=weight_decay)
    betas = tuple(betas)
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"invalid betas: expected two values in [0, 1), got {betas}")
    return betas
