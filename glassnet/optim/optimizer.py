"""Optimizer: the base class that holds parameter groups and per-parameter state, as torch.optim.

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt = SGD([{"params": model.features.parameters(), "lr": 0.01},
               {"params": model.classifier.parameters()}], lr=0.1, momentum=0.9)

Each group is a dict {"params": [...], "lr": ..., ...}; options missing from a group take the
defaults given to the constructor. `state[p]` holds what an algorithm keeps between steps
(momentum buffers, Adam's moments). state_dict()/load_state_dict() use torch's layout: parameters
are numbered in group order, and state maps those numbers to copies of the arrays.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor


class Optimizer:
    """The base of SGD, Adam and AdamW: parameter groups, per-parameter state, zero_grad and
    state_dict, as torch.optim.Optimizer (see the module docstring).

    Args:
        params: an iterable of parameters, or of dicts {"params": [...], option: value, ...}.
        defaults: the options of the algorithm, used where a group does not set them.

    Examples:
        >>> from glassnet import nn, optim
        >>> model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
        >>> opt = optim.SGD([{"params": model[0].parameters(), "lr": 0.01},
        ...                  {"params": model[1].parameters()}], lr=0.1)
        >>> [group["lr"] for group in opt.param_groups]
        [0.01, 0.1]
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}  # parameter -> dict; keyed by the Parameter (hashed by identity)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors or of dicts, got a single Tensor "
                            "(wrap it in a list)")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group (e.g. layers unfrozen during fine-tuning); missing options take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("optimizer can't optimize a non-leaf Tensor (one computed from others)")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]) or len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError("some parameters appear in more than one parameter group (or twice in one)")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter: .grad = None (torch's default), or zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure: Callable[[], float] | None = None):
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    # ---- state_dict ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{'state': {index: {name: value}}, 'param_groups': [{options..., 'params': [indices]}]}.

        Arrays are copies; indices count parameters across groups in order, as torch does.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and state saved by state_dict() from an optimiser over parameters of
        the same shapes, in the same group layout."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"parameter group {i} holds {len(saved['params'])} parameters in the "
                                 f"loaded state dict, but {len(own['params'])} in this optimizer")
        by_index = {}
        for saved, own in zip(groups, self.param_groups):
            for i, p in zip(saved["params"], own["params"]):
                by_index[i] = p
        new_state = {}
        for i, values in state_dict["state"].items():
            i = int(i)  # JSON round trips turn the keys into strings
            if i not in by_index:
                raise ValueError(f"loaded optimizer state refers to parameter {i}, which no group holds")
            p = by_index[i]
            restored = {}
            for k, v in values.items():
                if isinstance(v, np.ndarray) or (hasattr(v, "shape") and getattr(v, "ndim", 0) > 0):
                    v = np.array(v, dtype=p.dtype) if np.asarray(v).dtype.kind == "f" else np.array(v)
                    if v.shape != p.shape:
                        raise ValueError(f"size mismatch for optimizer state {k!r} of parameter {i}: "
                                         f"checkpoint {v.shape}, model {p.shape}")
                restored[k] = v
            new_state[p] = restored
        for saved, own in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    own[k] = copy.deepcopy(v)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _closure_loss(closure: Callable[[], float] | None):
    """closure() (which recomputes the loss and its gradients) run with gradients enabled, as
    torch's step does, or None without a closure."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


def _params_with_grad(group: dict) -> Iterable[Tensor]:
    """The group's parameters that received a gradient (those without one are left alone)."""
    return (p for p in group["params"] if p.grad is not None)
