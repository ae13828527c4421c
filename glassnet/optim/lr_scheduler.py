"""Learning-rate schedules, as torch.optim.lr_scheduler: call scheduler.step() once per epoch,
after optimizer.step(); the scheduler writes the new rate into every parameter group's "lr".

    StepLR:            lr_e = lr_0 * gamma ** floor(e / step_size)
    CosineAnnealingLR: lr_e = eta_min + (lr_0 - eta_min) * (1 + cos(pi * e / T_max)) / 2

Both are computed the way PyTorch computes them (recursively from the current rate), so a
schedule here and the same schedule in PyTorch give the same numbers.
"""

from __future__ import annotations

import copy
import math

from .optimizer import Optimizer


class LRScheduler:
    """The base of StepLR and CosineAnnealingLR: remembers each group's initial rate and, at
    every step(), writes the rate of the next epoch into the optimizer's groups.

    Examples:
        >>> from glassnet import nn, optim
        >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
        >>> schedule = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> rates = []
        >>> for epoch in range(5):
        ...     rates.append(opt.param_groups[0]["lr"])
        ...     opt.step()
        ...     schedule.step()
        >>> rates
        [0.1, 0.1, 0.05, 0.05, 0.025]
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when "
                                   "resuming a schedule (last_epoch != -1)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()  # as torch: the first step sets the rate for epoch 0

    def get_lr(self) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def get_last_lr(self) -> list[float]:
        """The rates set by the last step(), one per parameter group."""
        return self._last_lr

    def step(self) -> None:
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    # what state_dict() holds: name -> check of a loaded value (the optimizer has its own state_dict)
    def _state_fields(self) -> dict:
        n = len(self.optimizer.param_groups)
        return {"base_lrs": _rates(n), "_last_lr": _rates(n), "last_epoch": _int_at_least(0),
                "_step_count": _int_at_least(1)}

    def state_dict(self) -> dict:
        return {name: copy.deepcopy(getattr(self, name)) for name in self._state_fields()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore state_dict(). It may come from a file: exactly the known fields, each checked,
        or a ValueError naming the field and nothing changed (never a blind `__dict__` update)."""
        fields = self._state_fields()
        if not isinstance(state_dict, dict) or set(state_dict) != set(fields):
            found = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{type(self).__name__} state: expected the fields {sorted(fields)}, found {found}")
        checked = {}
        for name, check in fields.items():
            value = state_dict[name]
            if not check(value):
                raise ValueError(f"{type(self).__name__} state field {name!r}: expected {check.__doc__}, "
                                 f"found {value!r:.80}")
            checked[name] = list(value) if isinstance(value, (list, tuple)) else value
        for name, value in checked.items():
            setattr(self, name, value)


def _finite(value, low=0.0) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and value >= low)


def _rates(n: int):
    def check(value) -> bool:
        return isinstance(value, (list, tuple)) and len(value) == n and all(_finite(v) for v in value)
    check.__doc__ = f"a list of {n} finite rates >= 0"
    return check


def _int_at_least(low: int):
    def check(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= low
    check.__doc__ = f"an int >= {low}"
    return check


def _number(value) -> bool:
    """a finite number >= 0"""
    return _finite(value)


class StepLR(LRScheduler):
    """Multiply the rate by gamma every step_size epochs: lr_e = lr_0 * gamma ** floor(e / step_size),
    PyTorch's StepLR. Call step() once per epoch, after optimizer.step().

    Args:
        optimizer: the optimizer whose groups' "lr" it sets.
        step_size: epochs between two decays, a positive int.
        gamma: the factor applied at each decay.
        last_epoch: the index of the last finished epoch when resuming; -1 starts afresh.

    Examples:
        >>> from glassnet import nn, optim
        >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=1.0)
        >>> schedule = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
        >>> rates = []
        >>> for epoch in range(7):
        ...     rates.append(round(opt.param_groups[0]["lr"], 6))
        ...     opt.step()
        ...     schedule.step()
        >>> rates
        [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _state_fields(self) -> dict:
        return {**super()._state_fields(), "step_size": _int_at_least(1), "gamma": _number}

    def get_lr(self) -> list[float]:
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lrs
        return [lr * self.gamma for lr in lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal from the initial rate to eta_min along half a cosine over T_max epochs (SGDR
    without restarts): lr_e = eta_min + (lr_0 - eta_min) * (1 + cos(pi * e / T_max)) / 2,
    PyTorch's CosineAnnealingLR (computed recursively, as PyTorch does). Past T_max the cosine
    continues and the rate rises again, as in torch. Call step() once per epoch, after
    optimizer.step().

    Args:
        optimizer: the optimizer whose groups' "lr" it sets.
        T_max: epochs from the initial rate to eta_min, a positive int.
        eta_min: the lowest rate.
        last_epoch: the index of the last finished epoch when resuming; -1 starts afresh.

    Examples:
        >>> from glassnet import nn, optim
        >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=1.0)
        >>> schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        >>> rates = []
        >>> for epoch in range(5):
        ...     rates.append(round(opt.param_groups[0]["lr"], 4))
        ...     opt.step()
        ...     schedule.step()
        >>> rates                       # (1 + cos(pi e / 4)) / 2
        [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"T_max must be a positive int, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _state_fields(self) -> dict:
        return {**super()._state_fields(), "T_max": _int_at_least(1), "eta_min": _number}

    def get_lr(self) -> list[float]:
        groups, e, T = self.optimizer.param_groups, self.last_epoch, self.T_max
        if e == 0:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and e > 0:  # resumed at epoch e: closed form
            return [self.eta_min + (base - self.eta_min) * (1 + math.cos(e * math.pi / T)) / 2
                    for base in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:
            return [group["lr"] + (base - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
                * (group["lr"] - self.eta_min) + self.eta_min for group in groups]
