"""Layer descriptions the explain tools reason about, and their conversion from glassnet.nn.

Counting, output shapes and receptive fields need only a layer's window geometry (kernel size,
stride, padding, dilation) and its channel counts, not its weights. `Layer` holds exactly that,
so the tools work both on a list written by hand for an exercise,

    [conv(1, 20, 5), max_pool(2), conv(20, 50, 5)]

and on a glassnet.nn model (`as_layers(model)` reads the same fields off the modules).
Shapes here are per sample: (C, *spatial), without the batch dimension.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..functional._checks import check_padding_mode, shape_text
from ..kernels.sizes import conv_output_size, pool_output_size, positive_tuple, resolve_padding

KINDS = ("conv", "max_pool", "avg_pool", "linear", "flatten", "pointwise")


@dataclass(frozen=True)
class Layer:
    """Geometry of one layer. kind is one of KINDS.

    conv: weight (out_channels, in_channels/groups, *kernel_size); pools: no weight, stride
    defaults to kernel_size as in PyTorch; linear: in_features -> out_features on a flat vector;
    flatten: `(C, *spatial) -> (C * prod(spatial),)`; pointwise: any per-unit map (ReLU, Tanh,
    dropout, batch norm) that keeps the shape; `parameters` counts its own parameters.
    Build one with conv, max_pool, avg_pool, linear, flatten or pointwise (or as_layers from a
    glassnet.nn model); output_shape gives the per-sample shape it produces.

    Examples:
        >>> from glassnet.explain import layers
        >>> layer = layers.conv(1, 6, 5, padding=2)
        >>> layer.label(), layer.output_shape((1, 28, 28))
        ('Conv2d(1 -> 6, k=5, s=1, p=2)', (6, 28, 28))
    """
    kind: str
    kernel_size: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: object = 0
    dilation: tuple[int, ...] = ()
    in_channels: int | None = None
    out_channels: int | None = None
    groups: int = 1
    bias: bool = False
    padding_mode: str = "zeros"
    ceil_mode: bool = False
    parameters: int = 0  # a module's own count (pointwise layers, subsampling, unshared convolutions)
    channel_links: int = 0  # (filter, input channel) pairs of a connection table; 0: all of the group
    name: str = ""
    module: object = field(default=None, compare=False, repr=False)

    @property
    def ndim(self) -> int:
        return len(self.kernel_size)

    @property
    def is_window(self) -> bool:
        return self.kind in ("conv", "max_pool", "avg_pool")

    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind == "conv":
            word = type(self.module).__name__ if self.module is not None else f"Conv{self.ndim}d"
            return f"{word}({self.in_channels} -> {self.out_channels}, k={_short(self.kernel_size)}, " \
                   f"s={_short(self.stride)}, p={_short(self.padding)})"
        if self.kind in ("max_pool", "avg_pool"):
            word = "MaxPool" if self.kind == "max_pool" else "AvgPool"
            return f"{word}{self.ndim}d(k={_short(self.kernel_size)}, s={_short(self.stride)})"
        if self.kind == "linear":
            return f"Linear({self.in_channels} -> {self.out_channels})"
        return self.kind.capitalize()

    def pads(self, spatial: tuple[int, ...] | None) -> tuple[tuple[int, int], ...]:
        """((low, high), ...) padding per spatial dimension (resolves 'same' for this input)."""
        return resolve_padding(self.padding, self.kernel_size, self.stride, self.dilation, spatial)

    def output_shape(self, input_shape) -> tuple[int, ...]:
        """Per-sample output shape for a per-sample input shape (C, *spatial)."""
        input_shape = tuple(int(v) for v in input_shape)
        if self.kind == "pointwise":
            return input_shape
        if self.kind == "flatten":
            return (int(np.prod(input_shape)),)
        if self.kind == "linear":
            if input_shape[-1] != self.in_channels:
                raise ValueError(f"{self.label()} expected input of shape (..., {self.in_channels}), "
                                 f"got {input_shape}")
            return input_shape[:-1] + (self.out_channels,)
        if len(input_shape) != self.ndim + 1:
            raise ValueError(f"{self.label()} expected a per-sample input of shape (C, {self.ndim} spatial "
                             f"sizes), got {input_shape}")
        channels, spatial = input_shape[0], input_shape[1:]
        if self.kind == "conv" and channels != self.in_channels:
            raise ValueError(f"{self.label()} expected input of shape "
                             f"{shape_text(self.ndim, self.in_channels, batched=False)}, got {input_shape}")
        pads = self.pads(spatial)
        if self.kind == "conv":
            out = tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d
                        in zip(spatial, self.kernel_size, self.stride, pads, self.dilation))
        else:
            out = tuple(pool_output_size(n, k, s, p, d, self.ceil_mode) for n, k, s, p, d
                        in zip(spatial, self.kernel_size, self.stride, pads, self.dilation))
        if any(o < 1 for o in out):
            raise ValueError(f"{self.label()} gives an empty output {out} for input {input_shape}: the "
                             f"window {self.kernel_size} is larger than the padded input")
        channels = self.out_channels if self.kind == "conv" else channels
        return (channels,) + out


def _short(t):
    if isinstance(t, tuple) and len(set(t)) == 1 and all(isinstance(v, int) for v in t):
        return t[0]
    return t


def conv(in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
         groups: int = 1, bias: bool = True, padding_mode: str = "zeros", ndim: int | None = None,
         name: str = "") -> Layer:
    """A convolution with torch.nn.ConvNd's arguments; ndim is taken from kernel_size when it is a
    tuple, else defaults to 2. `name` replaces the generated label.

    Examples:
        >>> from glassnet.explain import layers
        >>> layers.conv(3, 8, (3, 3, 3), stride=2).output_shape((3, 9, 16, 16))
        (8, 4, 7, 7)
    """
    ndim = ndim or (len(kernel_size) if isinstance(kernel_size, (tuple, list)) else 2)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                         f"divisible by groups ({groups})")
    check_padding_mode(padding_mode)
    return Layer("conv", positive_tuple(kernel_size, ndim, "kernel_size"), positive_tuple(stride, ndim, "stride"),
                 padding, positive_tuple(dilation, ndim, "dilation"), in_channels, out_channels, groups, bias,
                 padding_mode, name=name)


def _pool(kind, kernel_size, stride, padding, dilation, ceil_mode, ndim, name) -> Layer:
    ndim = ndim or (len(kernel_size) if isinstance(kernel_size, (tuple, list)) else 2)
    k = positive_tuple(kernel_size, ndim, "kernel_size")
    s = k if stride is None else positive_tuple(stride, ndim, "stride")
    return Layer(kind, k, s, padding, positive_tuple(dilation, ndim, "dilation"), ceil_mode=ceil_mode, name=name)


def max_pool(kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
             ndim: int | None = None, name: str = "") -> Layer:
    """Max pooling with torch.nn.MaxPoolNd's arguments (stride defaults to kernel_size); ndim
    as for `conv`.

    Examples:
        >>> from glassnet.explain import layers
        >>> layers.max_pool(2).output_shape((6, 28, 28))
        (6, 14, 14)
        >>> layers.max_pool(3, 2, ceil_mode=True).output_shape((6, 28, 28))
        (6, 14, 14)
    """
    return _pool("max_pool", kernel_size, stride, padding, dilation, ceil_mode, ndim, name)


def avg_pool(kernel_size, stride=None, padding=0, ceil_mode: bool = False, ndim: int | None = None,
             name: str = "") -> Layer:
    """Average pooling with torch.nn.AvgPoolNd's arguments (stride defaults to kernel_size); ndim
    as for `conv`.

    Examples:
        >>> from glassnet.explain import layers
        >>> layers.avg_pool(2, ndim=1).output_shape((4, 10))
        (4, 5)
    """
    return _pool("avg_pool", kernel_size, stride, padding, 1, ceil_mode, ndim, name)


def linear(in_features: int, out_features: int, bias: bool = True, name: str = "") -> Layer:
    """A fully connected layer y = W x + b, W of shape (out_features, in_features).

    Examples:
        >>> from glassnet.explain import layers
        >>> layers.linear(400, 120).output_shape((400,))
        (120,)
    """
    return Layer("linear", in_channels=in_features, out_channels=out_features, bias=bias, name=name)


def flatten(name: str = "") -> Layer:
    """A Flatten layer: (C, *spatial) -> (C * prod(spatial),); no parameters, no connections.

    Examples:
        >>> from glassnet.explain import layers
        >>> layers.flatten().output_shape((16, 5, 5))
        (400,)
    """
    return Layer("flatten", name=name)


def pointwise(name: str = "", parameters: int = 0) -> Layer:
    """A shape-keeping per-unit layer (activation, dropout, normalisation); `parameters` counts
    its own parameters (2 C for a batch norm over C channels).

    Examples:
        >>> from glassnet.explain import layers
        >>> layers.pointwise("BatchNorm2d", parameters=12).output_shape((6, 28, 28))
        (6, 28, 28)
    """
    return Layer("pointwise", name=name, parameters=parameters)


def _module_parameter_count(module) -> int:
    params = getattr(module, "parameters", None)
    if params is None:
        return 0
    return int(sum(np.asarray(p).size for p in params()))


def _channel_links(module) -> int:
    """How many (filter, input channel) pairs a connection table (LeNet-5's C3) links; 0 without one."""
    table = getattr(module, "table", None)
    return 0 if table is None else int(np.asarray(getattr(table, "data", table)).sum())


def as_layer(module) -> Layer:
    """Describe one module (glassnet.nn or anything with the same attribute names) as a Layer.

    The Layer holds the geometry (kernel, stride, padding, dilation, channels) that count and
    receptive_field read; transposed convolutions are refused.

    Examples:
        >>> from glassnet import nn
        >>> from glassnet.explain.layers import as_layer
        >>> layer = as_layer(nn.Conv2d(3, 8, 5, stride=2))
        >>> layer.kind, layer.label(), layer.parameters, layer.output_shape((3, 32, 32))
        ('conv', 'Conv2d(3 -> 8, k=5, s=2, p=0)', 608, (8, 14, 14))
    """
    if isinstance(module, Layer):
        return module
    cls = type(module).__name__
    name = cls
    if getattr(module, "transposed", False):
        raise ValueError(f"{cls}: transposed convolutions are not described by the explain tools (count, "
                         f"receptive_field); they grow the input instead of sliding a window over it")
    if hasattr(module, "in_channels") and hasattr(module, "kernel_size") and hasattr(module, "weight") and \
            not hasattr(module, "out_channels"):
        # LeNet-5's subsampling: a window sum per channel times a trained coefficient, plus a bias;
        # the geometry of an average pooling, with parameters
        nd = getattr(module, "num_spatial_dims", len(np.atleast_1d(module.kernel_size)))
        k = positive_tuple(module.kernel_size, nd, "kernel_size")
        s = k if getattr(module, "stride", None) is None else positive_tuple(module.stride, nd, "stride")
        return Layer("avg_pool", k, s, getattr(module, "padding", 0), (1,) * nd, module.in_channels,
                     module.in_channels, parameters=_module_parameter_count(module),
                     name=f"{cls}(k={_short(k)}, s={_short(s)})", module=module)
    if hasattr(module, "in_channels") and hasattr(module, "kernel_size") and hasattr(module, "weight"):
        k = tuple(np.atleast_1d(module.kernel_size).tolist())
        nd = getattr(module, "num_spatial_dims", len(k))
        return Layer("conv", positive_tuple(module.kernel_size, nd, "kernel_size"),
                     positive_tuple(module.stride, nd, "stride"), module.padding,
                     positive_tuple(getattr(module, "dilation", 1), nd, "dilation"),
                     module.in_channels, module.out_channels, getattr(module, "groups", 1),
                     getattr(module, "bias", None) is not None, getattr(module, "padding_mode", "zeros"),
                     parameters=_module_parameter_count(module), channel_links=_channel_links(module),
                     module=module)
    if "Pool" in cls and hasattr(module, "kernel_size") and "Adaptive" not in cls:
        kind = "max_pool" if "Max" in cls else "avg_pool"
        nd = getattr(module, "num_spatial_dims", None) or (
            len(module.kernel_size) if isinstance(module.kernel_size, (tuple, list)) else 2)
        k = positive_tuple(module.kernel_size, nd, "kernel_size")
        stride = getattr(module, "stride", None)
        s = k if stride is None else positive_tuple(stride, nd, "stride")
        return Layer(kind, k, s, getattr(module, "padding", 0),
                     positive_tuple(getattr(module, "dilation", 1), nd, "dilation"),
                     ceil_mode=bool(getattr(module, "ceil_mode", False)), module=module)
    if hasattr(module, "in_features") and hasattr(module, "out_features"):
        return Layer("linear", in_channels=module.in_features, out_channels=module.out_features,
                     bias=getattr(module, "bias", None) is not None, module=module)
    if cls == "Flatten":
        return Layer("flatten", name=name, module=module)
    return Layer("pointwise", name=name, parameters=_module_parameter_count(module), module=module)


def as_layers(model) -> list[Layer]:
    """A model as a flat list of Layers: a Layer, a list of Layers or modules, a glassnet.nn
    Sequential (nested Sequentials are flattened), or a single module. Modules with sub-modules
    and a forward of their own (residual blocks, ...) are refused: they need not be chains.

    Examples:
        >>> from glassnet import nn
        >>> from glassnet.explain import as_layers
        >>> model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        >>> [layer.kind for layer in as_layers(model)]
        ['conv', 'pointwise', 'max_pool', 'flatten']
    """
    if isinstance(model, Layer):
        return [model]
    if isinstance(model, (list, tuple)):
        return [layer for item in model for layer in as_layers(item)]
    children = getattr(model, "children", None)
    if children is not None and type(model).__name__ == "Sequential":
        return [layer for child in children() for layer in as_layers(child)]
    if children is not None and type(model).__name__ in ("ModuleList", "ModuleDict"):
        raise ValueError(f"{type(model).__name__} has no forward order; pass a Sequential or a list of layers")
    if children is not None and list(children()):
        # A module with sub-modules and its own forward may branch (a residual block adds its
        # input back): its registration order is not necessarily the order data flows in.
        raise ValueError(f"{type(model).__name__} has its own forward (it may branch, like a residual block), so "
                         f"it is not a chain of layers; pass a Sequential, or the list of layers along one path "
                         f"(count() runs any glassnet.nn model and counts it as it runs)")
    return [as_layer(model)]
