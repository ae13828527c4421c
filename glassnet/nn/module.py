"""Module and Parameter: the containers that hold a network's weights, as in torch.nn.

A Module keeps three ordered dictionaries, filled by plain attribute assignment:

    self.weight = Parameter(...)      -> _parameters   (trained by the optimiser)
    self.register_buffer("running_mean", t)  -> _buffers  (state that is not trained)
    self.conv1 = Conv2d(...)          -> _modules      (sub-modules)

Insertion order is kept everywhere, so parameters(), the state_dict, summaries and optimiser
state always come out in the same order, and a model built like its PyTorch twin has the same
state_dict keys ("features.0.weight", "bn.running_var", ...).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from ..devices import check_device, to_arguments
from ..tensor import Tensor, float32


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (requires_grad=True by default).

    The data are copied. Arrays and lists follow glassnet.tensor's dtype policy (floating data
    become float32); a Tensor keeps its dtype, so a float64 tensor makes a float64 parameter
    (double models for finite-difference checks).

    Args:
        data: a Tensor, array or list; None gives an empty float32 parameter.
        requires_grad: whether autograd accumulates a gradient in .grad.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet import nn
        >>> w = nn.Parameter(np.zeros((2, 3)))     # float64 array -> float32 parameter
        >>> w.shape, w.dtype, w.requires_grad
        ((2, 3), dtype('float32'), True)
        >>> nn.Parameter(glassnet.zeros(2, dtype=glassnet.float64)).dtype
        dtype('float64')
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), float32)
        dtype = data.dtype if isinstance(data, Tensor) else None
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What load_state_dict(strict=False) could not match (torch's _IncompatibleKeys).

    Examples:
        >>> from glassnet import nn
        >>> state = nn.Linear(3, 2).state_dict()
        >>> state["scale"] = state.pop("bias")
        >>> nn.Linear(3, 2).load_state_dict(state, strict=False)
        IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['scale'])
    """
    missing_keys: list[str]
    unexpected_keys: list[str]


class RemovableHandle:
    """Returned by register_forward_hook and friends; .remove() unregisters the hook.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> layer, seen = nn.ReLU(), []
        >>> handle = layer.register_forward_hook(lambda module, inputs, output: seen.append(output.shape))
        >>> _ = layer(glassnet.zeros(2, 3))
        >>> handle.remove()
        >>> _ = layer(glassnet.zeros(5))
        >>> seen                                   # the second call ran without the hook
        [(2, 3)]
    """

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks, self.id = hooks, RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


def _as_array(value) -> np.ndarray:
    """An ndarray from a Tensor, an ndarray or anything array-like (a torch tensor, a list)."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


class Module:
    """Base class of every layer and model: PyTorch's Module. Subclasses call
    `super().__init__()`, set their layers and Parameters as attributes in `__init__` (which
    registers them by name) and define forward(); calling the module runs forward (and any
    forward hooks). Registered parameters and buffers are what parameters(), state_dict(),
    load_state_dict() and to() see; train() and eval() switch the training flag that Dropout
    and BatchNorm read.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> import glassnet.functional as F
        >>> class TwoLayer(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = nn.Linear(4, 8)
        ...         self.out = nn.Linear(8, 3)
        ...     def forward(self, x):
        ...         return self.out(F.relu(self.hidden(x)))
        >>> model = TwoLayer()
        >>> [name for name, _ in model.named_parameters()]
        ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
        >>> model(glassnet.zeros(5, 4)).shape
        (5, 3)
        >>> model.eval().training
        False
    """

    training: bool

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dictionaries to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    # ---- registration -------------------------------------------------------------------
    def _check_name(self, name: str, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter {name!r} "
                            "(glassnet.nn.Parameter or None required)")
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved in the state_dict but not trained (running statistics)."""
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(np.asarray(tensor), dtype=np.asarray(tensor).dtype)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self.__dict__.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(glassnet.nn.Parameter or None required)")
            self._parameters[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} "
                                "(a Tensor or None required)")
            self._buffers[name] = value
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r} "
                                "(a Module or None required)")
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: look in the three registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, args) -> None or new args, called before forward."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """hook(module, args, output) -> None or a replacement output, called after forward
        (how feature maps are collected for visualisation)."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ---- iteration ----------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, each once (a shared module appears once)."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        seen = set()  # ids, not the tensors: Tensor.__eq__ is elementwise
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) in registration order; a parameter shared by two modules once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path such as "features.0"."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} (looking for {target!r})")
            module = module._modules[part]
        return module

    # ---- state_dict ---------------------------------------------------------------------
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name, as PyTorch names them: for each
        module its own parameters, then its buffers, then its children. Values are ndarray copies
        (keep_vars=True gives the Tensors themselves)."""
        destination = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.data.copy()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.data.copy()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers, in place (so an optimiser that
        already holds the parameters keeps working).

        Values may be ndarrays, Tensors or anything np.asarray accepts. Every problem is collected
        first and reported together: missing and unexpected keys (only when strict) and shape
        mismatches (always), e.g. "size mismatch for 0.weight: checkpoint (6, 1, 5, 5), model
        (6, 3, 5, 5)". Floating values are cast to the model's dtype (float64 -> float32);
        a floating value for an integer buffer, or the reverse, is an error.
        """
        for prefix, module in self.named_modules():
            hook = getattr(module, "_lazy_load_hook", None)  # lazy layers take their shapes from here
            if hook is not None:
                hook(state_dict, prefix + "." if prefix else "")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        updates = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _as_array(state_dict[key])
            if value.shape != target.shape:
                problems.append(f"size mismatch for {key}: checkpoint {tuple(value.shape)}, "
                                f"model {tuple(target.shape)}")
            elif (value.dtype.kind == "f") != (target.dtype.kind == "f") and value.dtype.kind != "b":
                problems.append(f"dtype mismatch for {key}: checkpoint {value.dtype}, model {target.dtype}")
            else:
                updates.append((target, value))
        if strict:
            if missing:
                problems.insert(0, "missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
            if unexpected:
                problems.insert(1 if missing else 0,
                                "unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected))
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(problems))
        for target, value in updates:  # nothing is changed unless everything fits
            target.data[...] = value.astype(target.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # ---- modes, gradients, conversions ----------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode: dropout drops, batch norm uses batch statistics and updates running ones."""
        if not isinstance(mode, bool):
            raise TypeError(f"train() expects a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients: .grad = None (as torch's default), or zeros."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad[...] = 0

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """fn(m) for every sub-module (children first) and then self, e.g. custom initialisation."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False) -> Module:
        """Convert floating parameters and buffers to dtype, in place (float64 for gradient checks).
        torch's forms to(dtype), to(device), to(device, dtype), to(tensor) and the keywords are
        accepted; 'cpu' changes nothing and 'cuda' raises as on a PyTorch built without CUDA."""
        dtype, _ = to_arguments(args, dtype, device)
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to() takes a floating dtype, got {dtype}")
        for module in self.modules():
            for t in list(module._parameters.values()) + list(module._buffers.values()):
                if t is not None and t.dtype.kind == "f":
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad = t.grad.astype(dtype)
        return self

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        check_device("cuda")
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    # ---- printing -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown inside Name(...); layers override it."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, module in self._modules.items():
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))
