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
import math
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

    # per-parameter state each algorithm keeps: name -> "array" (the parameter's shape) or
    # "count" (a positive int); None: not declared, so only shapes and numbers are checked
    def _state_spec(self, group: dict) -> dict[str, str] | None:
        return None

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and state saved by state_dict() from an optimiser over parameters of
        the same shapes, in the same group layout.

        The state may come from a file, so it is checked whole before anything changes: only
        the options this optimiser has (and a scheduler's 'initial_lr'), each of the type it has
        now and finite; per parameter exactly the state the algorithm keeps, arrays of the
        parameter's shape. Anything else raises ValueError naming the field.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            found = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"optimizer state dict: expected the keys ['param_groups', 'state'], found {found}")
        groups = state_dict["param_groups"]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
            raise ValueError(f"optimizer state dict: 'param_groups' must be a list of dicts, found {groups!r:.80}")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        by_index, options = {}, []
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            params = saved.get("params")
            if not isinstance(params, (list, tuple)) or not all(_is_int(j) and j >= 0 for j in params):
                raise ValueError(f"param_groups[{i}]['params'] must be a list of parameter indices, "
                                 f"found {params!r:.80}")
            if len(params) != len(own["params"]):
                raise ValueError(f"parameter group {i} holds {len(params)} parameters in the "
                                 f"loaded state dict, but {len(own['params'])} in this optimizer")
            for j, p in zip(params, own["params"]):
                if int(j) in by_index:
                    raise ValueError(f"param_groups[{i}]['params']: parameter index {j} appears twice")
                by_index[int(j)] = p
            options.append(_checked_options(saved, own, i))
        new_state = {}
        state = state_dict["state"]
        if not isinstance(state, dict):
            raise ValueError(f"optimizer state dict: 'state' must be a dict, found {type(state).__name__}")
        group_of = {id(p): options[g] for g, own in enumerate(self.param_groups) for p in own["params"]}
        for i, values in state.items():
            if not (_is_int(i) or (isinstance(i, str) and i.isdigit())):
                raise ValueError(f"optimizer state: key {i!r} is not a parameter index")
            i = int(i)  # JSON round trips turn the keys into strings
            if i not in by_index:
                raise ValueError(f"loaded optimizer state refers to parameter {i}, which no group holds")
            p = by_index[i]
            new_state[p] = _checked_param_state(values, p, i, self._state_spec(group_of[id(p)]))
        for own, checked in zip(self.param_groups, options):
            own.update(checked)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _checked_options(saved: dict, own: dict, i: int) -> dict:
    """The options of saved parameter group i, checked against the group they will replace."""
    allowed = set(own) | {"initial_lr"}  # a scheduler adds initial_lr to every group
    unknown, missing = set(saved) - allowed, set(own) - set(saved)
    if unknown or missing:
        raise ValueError(f"param_groups[{i}]: expected the options {sorted(set(own) - {'params'})}, found "
                         f"unknown {sorted(unknown)} and missing {sorted(missing)}")
    checked = {}
    for name, value in saved.items():
        if name == "params":
            continue
        current = own.get(name, 0.0)
        where = f"param_groups[{i}][{name!r}]"
        if isinstance(current, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{where}: expected true or false, found {value!r:.40}")
        elif isinstance(current, (tuple, list)):
            if (not isinstance(value, (tuple, list)) or len(value) != len(current)
                    or not all(_is_number(v) and math.isfinite(v) and v >= 0 for v in value)):
                raise ValueError(f"{where}: expected {len(current)} finite numbers >= 0, found {value!r:.80}")
            value = type(current)(value)
        elif _is_number(current):
            if not _is_number(value) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{where}: expected a finite number >= 0, found {value!r:.40}")
        elif current is not None or value is not None:
            raise ValueError(f"{where}: expected {current!r}, found {value!r:.40}")
        checked[name] = copy.deepcopy(value)
    return checked


def _checked_param_state(values, p, i: int, spec: dict | None) -> dict:
    """One parameter's saved state, complete and of the right shapes, or a ValueError."""
    if not isinstance(values, dict):
        raise ValueError(f"optimizer state of parameter {i}: expected a dict, found {type(values).__name__}")
    if spec is not None and set(values) != set(spec):
        raise ValueError(f"optimizer state of parameter {i}: expected exactly {sorted(spec)}, found "
                         f"{sorted(map(str, values))}")
    restored = {}
    for k, v in values.items():
        kind = (spec or {}).get(k, "array" if getattr(v, "ndim", 0) > 0 else "number")
        if kind == "array":
            if not isinstance(v, np.ndarray) or v.dtype.kind != "f":
                raise ValueError(f"optimizer state {k!r} of parameter {i}: expected a float array of "
                                 f"shape {p.shape}, found {type(v).__name__} {getattr(v, 'dtype', '')}")
            if v.shape != p.shape:
                raise ValueError(f"size mismatch for optimizer state {k!r} of parameter {i}: "
                                 f"checkpoint {v.shape}, model {p.shape}")
            if not np.isfinite(v).all():
                raise ValueError(f"optimizer state {k!r} of parameter {i} holds NaN or infinite values")
            v = np.array(v, dtype=p.dtype)
        elif kind == "count":
            if isinstance(v, np.ndarray) and v.ndim == 0:
                v = v.item()
            if not _is_int(v) or v < 1:
                raise ValueError(f"optimizer state {k!r} of parameter {i}: expected a positive int, found {v!r:.40}")
            v = int(v)
        elif not _is_number(v) or not math.isfinite(v):
            raise ValueError(f"optimizer state {k!r} of parameter {i}: expected a finite number, found {v!r:.40}")
        restored[k] = v
    return restored


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
