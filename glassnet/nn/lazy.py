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
    materialize(shape) gives it data, after which it is an ordinary Parameter (or Tensor).

    Examples:
        >>> from glassnet.nn.parameter import UninitializedParameter
        >>> p = UninitializedParameter()
        >>> p
        <UninitializedParameter>
        >>> p.materialize((2, 3))
        >>> type(p).__name__, p.shape
        ('Parameter', (2, 3))
    """

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
    """A Parameter without a shape yet (torch.nn.parameter.UninitializedParameter): what a lazy
    layer's weight and bias are until its first input. It is registered and can be handed to an
    optimiser; reading its shape is an error. materialize(shape) gives it data (uninitialised
    values: the layer's reset_parameters fills them) and turns it into a Parameter, the same
    object.

    Args:
        requires_grad: as for Parameter.
        device: None or "cpu"; anything else is an error.
        dtype: the dtype its data will have (float32 by default).

    Examples:
        >>> from glassnet import nn
        >>> weight = nn.UninitializedParameter()
        >>> weight, isinstance(weight, nn.Parameter)
        (<UninitializedParameter>, True)
        >>> weight.materialize((2, 3))
        >>> type(weight).__name__, weight.shape, weight.dtype
        ('Parameter', (2, 3), dtype('float32'))
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        check_device(type(self).__name__, device)
        super().__init__(Tensor._wrap(np.empty((0,), float32 if dtype is None else np.dtype(dtype))),
                         requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer without a shape yet (torch.nn.parameter.UninitializedBuffer): what a lazy
    normalisation layer's running_mean and running_var are until its first input.
    materialize(shape) gives it data and turns it into a Tensor, the same object.

    Args:
        requires_grad: False for a buffer, as in PyTorch.
        device: None or "cpu"; anything else is an error.
        dtype: the dtype its data will have (float32 by default).

    Examples:
        >>> from glassnet import nn
        >>> running_mean = nn.UninitializedBuffer()
        >>> running_mean.materialize((4,))
        >>> type(running_mean).__name__, running_mean.shape
        ('Tensor', (4,))
    """

    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        check_device(type(self).__name__, device)
        super().__init__(np.empty((0,), float32 if dtype is None else np.dtype(dtype)),
                         requires_grad=requires_grad, dtype=float32 if dtype is None else dtype)


def is_lazy(tensor) -> bool:
    """True for a parameter or buffer whose shape is not known yet (an UninitializedParameter or
    UninitializedBuffer): optimisers and load_state_dict wait for its first forward.

    Examples:
        >>> from glassnet import nn
        >>> from glassnet.nn.lazy import is_lazy
        >>> layer = nn.LazyLinear(4)
        >>> is_lazy(layer.weight), is_lazy(nn.Linear(3, 4).weight)
        (True, False)
    """
    return isinstance(tensor, UninitializedTensorMixin)


class LazyModuleMixin:
    """What the Lazy* layers share (torch.nn.modules.lazy.LazyModuleMixin): before the first
    forward it runs initialize_parameters(input), which reads the sizes from the input, shapes
    every UninitializedParameter and UninitializedBuffer and runs reset_parameters; then the
    module becomes its cls_to_become (LazyLinear -> Linear). load_state_dict does the same from
    the checkpoint's shapes. has_uninitialized_params() says whether that has happened yet.

    A subclass defines _sizes_from_input(input) -> {attribute: value} (in_channels, ...),
    _sizes_from_weights() (the same, read from loaded weights) and _shapes() -> {parameter or
    buffer name: shape} once those attributes are set.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> layer = nn.LazyLinear(10)
        >>> isinstance(layer, nn.LazyModuleMixin), layer.has_uninitialized_params()
        (True, True)
        >>> layer(glassnet.zeros(2, 7)).shape
        (2, 10)
        >>> isinstance(layer, nn.LazyModuleMixin), layer.weight.shape
        (False, (10, 7))
        >>> checkpoint = nn.Linear(5, 10).state_dict()
        >>> nn.LazyLinear(10).load_state_dict(checkpoint)     # shapes from the checkpoint
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    """

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
    """in_channels from the input's channel dimension; weight and bias lazy. The constructor is
    cls_to_become's without in_channels."""

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1, groups: int = 1,
                 bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        # groups stands in for in_channels: any multiple of groups passes the eager class's checks
        self.cls_to_become.__init__(self, groups, out_channels, kernel_size, stride, padding, dilation, groups,
                                    bias, padding_mode)
        self._lazy_conv_init(bias, device, dtype)

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


class _LazyConvTransposeMixin(_LazyConvMixin):
    """The transposed convolutions' constructor (output_padding, dilation after bias)."""

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None):
        self.cls_to_become.__init__(self, groups, out_channels, kernel_size, stride, padding, output_padding,
                                    groups, bias, dilation, padding_mode)
        self._lazy_conv_init(bias, device, dtype)


class LazyConv1d(_LazyConvMixin, Conv1d):
    """Conv1d whose in_channels is read from the first input's channel dimension:
    torch.nn.LazyConv1d. At the first forward (or load_state_dict) weight and bias get their
    shapes and Conv1d's default initialisation, in place, and the module becomes a Conv1d.

    The arguments are Conv1d's without in_channels, and device (None or "cpu") and dtype (the
    parameters' dtype, float32 by default).

    Shape:
        input (N, C, L) or unbatched (C, L), any C divisible by groups -> output
        (N, out_channels, L_out) as Conv1d's. weight, once known: (out_channels, C / groups, k).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> conv = nn.LazyConv1d(6, 5)
        >>> conv(glassnet.zeros(8, 3, 100)).shape
        (8, 6, 96)
        >>> type(conv).__name__, conv.weight.shape
        ('Conv1d', (6, 3, 5))
    """

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvMixin, Conv2d):
    """Conv2d whose in_channels is read from the first input's channel dimension:
    torch.nn.LazyConv2d. At the first forward (or load_state_dict) weight and bias get their
    shapes and Conv2d's default initialisation, in place, and the module becomes a Conv2d.

    The arguments are Conv2d's without in_channels, and device (None or "cpu") and dtype (the
    parameters' dtype, float32 by default).

    Shape:
        input (N, C, H, W) or unbatched (C, H, W), any C divisible by groups -> output
        (N, out_channels, H_out, W_out) as Conv2d's. weight, once known: (out_channels,
        C / groups, kH, kW).

    Examples:
        An optimiser can be made before the shapes are known; it holds the very parameters
        that the first forward shapes:

        >>> import glassnet
        >>> from glassnet import nn, optim
        >>> conv = nn.LazyConv2d(6, 5)
        >>> opt = optim.SGD(conv.parameters(), lr=0.1)
        >>> conv(glassnet.zeros(8, 3, 28, 28)).shape
        (8, 6, 24, 24)
        >>> type(conv).__name__, conv.weight.shape
        ('Conv2d', (6, 3, 5, 5))
        >>> opt.param_groups[0]["params"][0] is conv.weight
        True
    """

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvMixin, Conv3d):
    """Conv3d whose in_channels is read from the first input's channel dimension:
    torch.nn.LazyConv3d. At the first forward (or load_state_dict) weight and bias get their
    shapes and Conv3d's default initialisation, in place, and the module becomes a Conv3d.

    The arguments are Conv3d's without in_channels, and device (None or "cpu") and dtype (the
    parameters' dtype, float32 by default).

    Shape:
        input (N, C, D, H, W) or unbatched (C, D, H, W), any C divisible by groups -> output
        (N, out_channels, D_out, H_out, W_out) as Conv3d's. weight, once known: (out_channels,
        C / groups, kD, kH, kW).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> conv = nn.LazyConv3d(4, 3, padding=1)
        >>> conv(glassnet.zeros(2, 2, 4, 8, 8)).shape
        (2, 4, 4, 8, 8)
        >>> type(conv).__name__, conv.weight.shape
        ('Conv3d', (4, 2, 3, 3, 3))
    """

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTransposeMixin, ConvTranspose1d):
    """ConvTranspose1d whose in_channels is read from the first input's channel dimension:
    torch.nn.LazyConvTranspose1d. At the first forward (or load_state_dict) weight and bias get
    their shapes and the default initialisation, in place, and the module becomes a
    ConvTranspose1d.

    The arguments are ConvTranspose1d's without in_channels, and device (None or "cpu") and
    dtype (the parameters' dtype, float32 by default).

    Shape:
        input (N, C, L) or unbatched (C, L), any C divisible by groups -> output
        (N, out_channels, L_out) as ConvTranspose1d's. weight, once known: (C, out_channels /
        groups, k).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> up = nn.LazyConvTranspose1d(4, 2, stride=2)
        >>> up(glassnet.zeros(8, 6, 14)).shape
        (8, 4, 28)
        >>> type(up).__name__, up.weight.shape
        ('ConvTranspose1d', (6, 4, 2))
    """

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeMixin, ConvTranspose2d):
    """ConvTranspose2d whose in_channels is read from the first input's channel dimension:
    torch.nn.LazyConvTranspose2d. At the first forward (or load_state_dict) weight and bias get
    their shapes and the default initialisation, in place, and the module becomes a
    ConvTranspose2d.

    The arguments are ConvTranspose2d's without in_channels, and device (None or "cpu") and
    dtype (the parameters' dtype, float32 by default).

    Shape:
        input (N, C, H, W) or unbatched (C, H, W), any C divisible by groups -> output
        (N, out_channels, H_out, W_out) as ConvTranspose2d's. weight, once known: (C,
        out_channels / groups, kH, kW).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> up = nn.LazyConvTranspose2d(1, 2, stride=2)
        >>> up(glassnet.zeros(8, 6, 14, 14)).shape
        (8, 1, 28, 28)
        >>> type(up).__name__, up.weight.shape
        ('ConvTranspose2d', (6, 1, 2, 2))
    """

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeMixin, ConvTranspose3d):
    """ConvTranspose3d whose in_channels is read from the first input's channel dimension:
    torch.nn.LazyConvTranspose3d. At the first forward (or load_state_dict) weight and bias get
    their shapes and the default initialisation, in place, and the module becomes a
    ConvTranspose3d.

    The arguments are ConvTranspose3d's without in_channels, and device (None or "cpu") and
    dtype (the parameters' dtype, float32 by default).

    Shape:
        input (N, C, D, H, W) or unbatched (C, D, H, W), any C divisible by groups -> output
        (N, out_channels, D_out, H_out, W_out) as ConvTranspose3d's. weight, once known: (C,
        out_channels / groups, kD, kH, kW).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> up = nn.LazyConvTranspose3d(1, 2, stride=2)
        >>> up(glassnet.zeros(2, 6, 4, 8, 8)).shape
        (2, 1, 8, 16, 16)
        >>> type(up).__name__, up.weight.shape
        ('ConvTranspose3d', (6, 1, 2, 2, 2))
    """

    cls_to_become = ConvTranspose3d


class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is read from the first input's last dimension:
    torch.nn.LazyLinear. At the first forward (or load_state_dict) weight and bias get their
    shapes and Linear's default initialisation, in place, and the module becomes a Linear.

    Args:
        out_features: the size of each output.
        bias: learn an additive bias.
        device: None or "cpu" (glassnet layers compute on the CPU); anything else is an error.
        dtype: the parameters' dtype (float32 by default).

    Shape:
        input `(*, H_in)`, any H_in -> output `(*, out_features)`. weight, once known:
        (out_features, H_in); bias: (out_features,).

    Examples:
        After a convolution, the flattened size need not be worked out by hand:

        >>> import glassnet
        >>> from glassnet import nn
        >>> model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Flatten(), nn.LazyLinear(10))
        >>> model(glassnet.zeros(8, 1, 28, 28)).shape
        (8, 10)
        >>> model[2]
        Linear(in_features=3456, out_features=10, bias=True)
    """

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
    """num_features from the channel dimension; weight, bias and running statistics lazy. The
    constructor is cls_to_become's without num_features."""

    _channel_dim: dict[int, int]  # input rank -> the channel dimension at that rank

    # PyTorch's lazy instance norms default to affine=True, track_running_stats=True too (unlike the
    # eager ones), so one signature serves batch and instance norm
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None):
        self.cls_to_become.__init__(self, 1, eps, momentum, affine, track_running_stats)
        check_device(type(self).__name__, device)
        self.num_features = 0
        for name in ("weight", "bias"):
            if self._parameters.get(name) is not None:
                self.register_parameter(name, UninitializedParameter(dtype=dtype))
        for name in ("running_mean", "running_var"):
            if self._buffers.get(name) is not None:
                self.register_buffer(name, UninitializedBuffer(dtype=dtype))
        self._start_lazy()

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


class LazyBatchNorm1d(_LazyNormMixin, BatchNorm1d):
    """BatchNorm1d whose num_features is read from the first input's channel dimension:
    torch.nn.LazyBatchNorm1d. At the first forward (or load_state_dict) the parameters and
    running statistics get their shapes and BatchNorm1d's initial values, and the module
    becomes a BatchNorm1d.

    The arguments are BatchNorm1d's without num_features (eps, momentum, affine,
    track_running_stats), and device (None or "cpu") and dtype (float32 by default).

    Shape:
        input (N, C) or (N, C, L), any C -> output of the same shape. weight, bias,
        running_mean, running_var, once known: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> bn = nn.LazyBatchNorm1d()
        >>> bn(glassnet.zeros(8, 5)).shape
        (8, 5)
        >>> bn
        BatchNorm1d(5, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    cls_to_become = BatchNorm1d
    _channel_dim = {2: 1, 3: 1}  # batched inputs only


class LazyBatchNorm2d(_LazyNormMixin, BatchNorm2d):
    """BatchNorm2d whose num_features is read from the first input's channel dimension:
    torch.nn.LazyBatchNorm2d. At the first forward (or load_state_dict) the parameters and
    running statistics get their shapes and BatchNorm2d's initial values, and the module
    becomes a BatchNorm2d.

    The arguments are BatchNorm2d's without num_features (eps, momentum, affine,
    track_running_stats), and device (None or "cpu") and dtype (float32 by default).

    Shape:
        input (N, C, H, W), any C -> output of the same shape. weight, bias, running_mean,
        running_var, once known: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> bn = nn.LazyBatchNorm2d()
        >>> bn(glassnet.zeros(8, 3, 4, 4)).shape
        (8, 3, 4, 4)
        >>> type(bn).__name__, bn.running_mean.shape
        ('BatchNorm2d', (3,))
    """

    cls_to_become = BatchNorm2d
    _channel_dim = {4: 1}


class LazyBatchNorm3d(_LazyNormMixin, BatchNorm3d):
    """BatchNorm3d whose num_features is read from the first input's channel dimension:
    torch.nn.LazyBatchNorm3d. At the first forward (or load_state_dict) the parameters and
    running statistics get their shapes and BatchNorm3d's initial values, and the module
    becomes a BatchNorm3d.

    The arguments are BatchNorm3d's without num_features (eps, momentum, affine,
    track_running_stats), and device (None or "cpu") and dtype (float32 by default).

    Shape:
        input (N, C, D, H, W), any C -> output of the same shape. weight, bias, running_mean,
        running_var, once known: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> bn = nn.LazyBatchNorm3d(affine=False)
        >>> bn(glassnet.zeros(2, 4, 3, 5, 5)).shape
        (2, 4, 3, 5, 5)
        >>> type(bn).__name__, bn.running_var.shape, bn.weight
        ('BatchNorm3d', (4,), None)
    """

    cls_to_become = BatchNorm3d
    _channel_dim = {5: 1}


class LazyInstanceNorm1d(_LazyNormMixin, InstanceNorm1d):
    """InstanceNorm1d whose num_features is read from the first input's channel dimension:
    torch.nn.LazyInstanceNorm1d. Unlike InstanceNorm1d, affine and track_running_stats default
    to True, as in PyTorch. At the first forward (or load_state_dict) the parameters and
    running statistics get their shapes and initial values, and the module becomes an
    InstanceNorm1d.

    The arguments are InstanceNorm1d's without num_features (eps, momentum, affine,
    track_running_stats), and device (None or "cpu") and dtype (float32 by default).

    Shape:
        input (N, C, L) or unbatched (C, L), any C -> output of the same shape. weight, bias,
        running_mean, running_var, once known: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> norm = nn.LazyInstanceNorm1d()
        >>> norm(glassnet.zeros(3, 10)).shape        # unbatched: C = 3
        (3, 10)
        >>> type(norm).__name__, norm.weight.shape
        ('InstanceNorm1d', (3,))
    """

    cls_to_become = InstanceNorm1d
    _channel_dim = {3: 1, 2: 0}  # batched or unbatched


class LazyInstanceNorm2d(_LazyNormMixin, InstanceNorm2d):
    """InstanceNorm2d whose num_features is read from the first input's channel dimension:
    torch.nn.LazyInstanceNorm2d. Unlike InstanceNorm2d, affine and track_running_stats default
    to True, as in PyTorch. At the first forward (or load_state_dict) the parameters and
    running statistics get their shapes and initial values, and the module becomes an
    InstanceNorm2d.

    The arguments are InstanceNorm2d's without num_features (eps, momentum, affine,
    track_running_stats), and device (None or "cpu") and dtype (float32 by default).

    Shape:
        input (N, C, H, W) or unbatched (C, H, W), any C -> output of the same shape. weight,
        bias, running_mean, running_var, once known: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> norm = nn.LazyInstanceNorm2d()
        >>> norm(glassnet.zeros(8, 3, 5, 5)).shape
        (8, 3, 5, 5)
        >>> type(norm).__name__, norm.weight.shape
        ('InstanceNorm2d', (3,))
    """

    cls_to_become = InstanceNorm2d
    _channel_dim = {4: 1, 3: 0}


class LazyInstanceNorm3d(_LazyNormMixin, InstanceNorm3d):
    """InstanceNorm3d whose num_features is read from the first input's channel dimension:
    torch.nn.LazyInstanceNorm3d. Unlike InstanceNorm3d, affine and track_running_stats default
    to True, as in PyTorch. At the first forward (or load_state_dict) the parameters and
    running statistics get their shapes and initial values, and the module becomes an
    InstanceNorm3d.

    The arguments are InstanceNorm3d's without num_features (eps, momentum, affine,
    track_running_stats), and device (None or "cpu") and dtype (float32 by default).

    Shape:
        input (N, C, D, H, W) or unbatched (C, D, H, W), any C -> output of the same shape.
        weight, bias, running_mean, running_var, once known: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> norm = nn.LazyInstanceNorm3d()
        >>> norm(glassnet.zeros(4, 3, 3, 3)).shape      # unbatched: C = 4
        (4, 3, 3, 3)
        >>> type(norm).__name__, norm.num_features, norm.running_var.shape
        ('InstanceNorm3d', 4, (4,))
    """

    cls_to_become = InstanceNorm3d
    _channel_dim = {5: 1, 4: 0}


__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "LazyConv1d", "LazyConv2d",
           "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyLinear",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyInstanceNorm3d"]
