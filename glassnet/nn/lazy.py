"""Lazy layers, as torch.nn: the input size is left out and read from the first input.

    model = Sequential(LazyConv2d(16, 3), ReLU(), Flatten(), LazyLinear(10))
    opt = optim.SGD(model.parameters(), lr=0.1)   # before any forward: still works
    model(x)                                      # shapes fixed here; now a Conv2d and a Linear

Until the first call the weights are UninitializedParameter objects: real, registered Parameters
with no data yet. The first forward (or a load_state_dict, which takes the shapes from the
checkpoint) gives them their shape and PyTorch's default initialisation *in place*, so the very
same objects an optimiser was handed are the ones that train. Then the module turns into its
ordinary class (LazyConv2d -> Conv2d, cls_to_become), as in PyTorch.

Layers: LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d (in_channels from the input's channel
dimension), LazyLinear (in_features from the last dimension), LazyBatchNorm1d/2d/3d and
LazyInstanceNorm1d/2d/3d (num_features from the channel dimension).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, float32
from ._factory import check_device
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .module import Parameter
from .normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d


class UninitializedTensorMixin:
    """A tensor whose shape is not known yet: it holds an empty array of its future dtype until
    materialize(shape) gives it data, after which it is an ordinary Parameter (or Tensor)."""

    cls_to_become: type

    def materialize(self, shape, device=None, dtype=None) -> None:
        check_device(type(self).__name__, device)
        self.data = np.empty(tuple(shape), np.dtype(dtype) if dtype is not None else self.data.dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(f"can't access the shape of an {type(self).__name__}: it gets one at the module's "
                           "first forward call (or from load_state_dict)")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter without a shape yet (torch.nn.parameter.UninitializedParameter)."""

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        check_device(type(self).__name__, device)
        super().__init__(Tensor._wrap(np.empty((0,), float32 if dtype is None else np.dtype(dtype))),
                         requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer without a shape yet (torch.nn.parameter.UninitializedBuffer)."""

    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        check_device(type(self).__name__, device)
        super().__init__(np.empty((0,), float32 if dtype is None else np.dtype(dtype)),
                         requires_grad=requires_grad, dtype=float32 if dtype is None else dtype)


def is_lazy(tensor) -> bool:
    return isinstance(tensor, UninitializedTensorMixin)


class LazyModuleMixin:
    """Runs initialize_parameters(input) before the first forward, then becomes cls_to_become.
    Subclasses define _sizes_from_input(input) -> {attribute: value} (in_channels, ...) and
    _shapes() -> {parameter or buffer name: shape} once those attributes are set."""

    cls_to_become: type | None = None

    def _start_lazy(self) -> None:
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters)

    def has_uninitialized_params(self) -> bool:
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in tensors)

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        """Fix the sizes from the first input, shape every uninitialized tensor and run the
        layer's default initialisation (reset_parameters)."""
        if not self.has_uninitialized_params():
            return
        for name, value in self._sizes_from_input(input).items():
            object.__setattr__(self, name, value)
        for name, shape in self._shapes().items():
            tensor = self._parameters.get(name, self._buffers.get(name))
            if is_lazy(tensor):
                tensor.materialize(shape)
        self.reset_parameters()

    @staticmethod
    def _infer_parameters(module, args):
        if not args:
            raise ValueError(f"{type(module).__name__} needs an input to infer its parameters' shapes")
        module.initialize_parameters(*args)
        module._finish_lazy()

    def _finish_lazy(self) -> None:
        if self.has_uninitialized_params():
            return
        self._initialize_hook.remove()
        del self.__dict__["_initialize_hook"]
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def _lazy_load_hook(self, state_dict, prefix: str) -> None:
        """Called by Module.load_state_dict: shape the uninitialized tensors from the checkpoint's
        arrays and set the sizes they imply, so the values can then be copied in."""
        for registry in (self._parameters, self._buffers):
            for name, tensor in registry.items():
                if is_lazy(tensor) and prefix + name in state_dict:
                    value = state_dict[prefix + name]
                    tensor.materialize(tuple(value.shape) if hasattr(value, "shape") else np.shape(value))
        if not self.has_uninitialized_params():
            for name, value in self._sizes_from_weights().items():
                object.__setattr__(self, name, value)
            # default values until the checkpoint's are copied in (or if a later check refuses it)
            self.reset_parameters()
            self._finish_lazy()


def _channels(module, input) -> int:
    """The channel count of an (N, C, *spatial) or unbatched (C, *spatial) input."""
    n, shape = module.num_spatial_dims, tuple(input.shape)
    if len(shape) not in (n + 1, n + 2):
        raise ValueError(f"{type(module).__name__} expected input of {n + 2} dimensions (N, C, *spatial) or "
                         f"{n + 1} (C, *spatial), got shape {shape}")
    return shape[1] if len(shape) == n + 2 else shape[0]


class _LazyConvMixin(LazyModuleMixin):
    def _lazy_conv_init(self, bias: bool, device, dtype) -> None:
        check_device(type(self).__name__, device)
        self.in_channels = 0  # unknown until the first input, as torch's lazy layers show it
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        self._start_lazy()

    def _sizes_from_input(self, input) -> dict:
        channels = _channels(self, input)
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__}: the input's {channels} channels must be divisible by "
                             f"groups ({self.groups}), got input of shape {tuple(input.shape)}")
        return {"in_channels": channels}

    def _sizes_from_weights(self) -> dict:
        weight = self.weight.data
        return {"in_channels": weight.shape[0] if self.transposed else weight.shape[1] * self.groups}

    def _shapes(self) -> dict:
        if self.transposed:
            weight = (self.in_channels, self.out_channels // self.groups)
        else:
            weight = (self.out_channels, self.in_channels // self.groups)
        return {"weight": weight + self.kernel_size, "bias": (self.out_channels,)}


def _lazy_conv(base, n: int, transposed: bool):
    """LazyConv{n}d / LazyConvTranspose{n}d: base's constructor without in_channels."""

    if transposed:
        def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                     groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                     device=None, dtype=None):
            # groups stands in for in_channels: any multiple of groups passes base's checks
            base.__init__(self, groups, out_channels, kernel_size, stride, padding, output_padding, groups,
                          bias, dilation, padding_mode)
            self._lazy_conv_init(bias, device, dtype)
    else:
        def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                     bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
            base.__init__(self, groups, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                          padding_mode)
            self._lazy_conv_init(bias, device, dtype)

    name = f"LazyConv{'Transpose' if transposed else ''}{n}d"
    doc = (f"{base.__name__} whose in_channels is read from the first input's channel dimension "
           f"(torch.nn.{name}).")
    return type(name, (_LazyConvMixin, base), {"__init__": __init__, "cls_to_become": base, "__doc__": doc,
                                               "__module__": __name__})


LazyConv1d = _lazy_conv(Conv1d, 1, False)
LazyConv2d = _lazy_conv(Conv2d, 2, False)
LazyConv3d = _lazy_conv(Conv3d, 3, False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, 1, True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, 2, True)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, 3, True)


class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is read from the first input's last dimension."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        check_device(type(self).__name__, device)
        Linear.__init__(self, 0, out_features, bias)
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        self._start_lazy()

    def _sizes_from_input(self, input) -> dict:
        if len(input.shape) == 0:
            raise ValueError(f"LazyLinear expected input of shape (*, in_features), got {tuple(input.shape)}")
        return {"in_features": input.shape[-1]}

    def _sizes_from_weights(self) -> dict:
        return {"in_features": self.weight.data.shape[1]}

    def _shapes(self) -> dict:
        return {"weight": (self.out_features, self.in_features), "bias": (self.out_features,)}


class _LazyNormMixin(LazyModuleMixin):
    """num_features from the channel dimension; weight, bias and running statistics lazy."""

    def _lazy_norm_init(self, device, dtype) -> None:
        check_device(type(self).__name__, device)
        self.num_features = 0
        for name in ("weight", "bias"):
            if self._parameters.get(name) is not None:
                self.register_parameter(name, UninitializedParameter(dtype=dtype))
        for name in ("running_mean", "running_var"):
            if self._buffers.get(name) is not None:
                self.register_buffer(name, UninitializedBuffer(dtype=dtype))
        self._start_lazy()

    _channel_dim: dict[int, int]  # input rank -> the channel dimension at that rank

    def _sizes_from_input(self, input) -> dict:
        shape = tuple(input.shape)
        if len(shape) not in self._channel_dim:
            ranks = " or ".join(f"{r}-D" for r in sorted(self._channel_dim))
            raise ValueError(f"{type(self).__name__} expected a {ranks} input, got shape {shape}")
        return {"num_features": shape[self._channel_dim[len(shape)]]}

    def _sizes_from_weights(self) -> dict:
        tensor = next(t for t in list(self._parameters.values()) + list(self._buffers.values())
                      if t is not None and t.data.ndim == 1)
        return {"num_features": tensor.data.shape[0]}

    def _shapes(self) -> dict:
        return {name: (self.num_features,) for name in ("weight", "bias", "running_mean", "running_var")}


def _lazy_norm(base, channel_dim: dict[int, int], affine_default: bool, track_default: bool):
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = affine_default,
                 track_running_stats: bool = track_default, device=None, dtype=None):
        base.__init__(self, 1, eps, momentum, affine, track_running_stats)
        self._lazy_norm_init(device, dtype)

    name = "Lazy" + base.__name__
    doc = f"{base.__name__} whose num_features is read from the first input (torch.nn.{name})."
    return type(name, (_LazyNormMixin, base), {"__init__": __init__, "cls_to_become": base, "__doc__": doc,
                                               "_channel_dim": channel_dim, "__module__": __name__})


# batch norm: batched inputs only; instance norm: also unbatched (C, *spatial)
LazyBatchNorm1d = _lazy_norm(BatchNorm1d, {2: 1, 3: 1}, True, True)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, {4: 1}, True, True)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, {5: 1}, True, True)
# PyTorch's lazy instance norms default to affine=True, track_running_stats=True (unlike the eager ones)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, {3: 1, 2: 0}, True, True)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, {4: 1, 3: 0}, True, True)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, {5: 1, 4: 0}, True, True)

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "LazyConv1d", "LazyConv2d",
           "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyLinear",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyInstanceNorm3d"]
