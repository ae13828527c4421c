"""`python -m glassnet.explain ...`: the lecture tools on the command line.

    matrix           the matrix of a convolution (weight numbers or values) and its counts
    output-size      the output-size formula with the numbers filled in
    count            parameters, connections, multiply-adds per layer of a model
    trace            every output element as its sum of products (text, and a PNG with --figure)
    kernels          the classic kernels
    edges IMAGE      filter a PNG/JPEG with classic kernels, write the feature maps as PNGs
    filters          a grid of first-layer filters (of a model, or the classic kernels)
    features         feature maps of every layer for one image
    equivariance     translation / rotation / scaling checks of a convolution (+ pooling)
    receptive-field  receptive field size, jump and start after every layer (any model, branches too)

--onnx FILE opens an imported ONNX model wherever --model is accepted, and `trace --onnx FILE
--layer NAME --image PNG --at C,I,J` traces one output element of one of its convolutions.

Arrays are written as text: "1,2,3" (1-D), "1,0,-1; 1,0,-1; 1,0,-1" (rows of 2-D), channels
separated by "|". Shapes as "5", "5x5", "3x32x32". Layers as
"conv(1, 6, 5, padding=2); relu; max_pool(2); flatten; linear(1176, 10)".
`main(argv)` returns the exit status, so `glassnet explain ...` can delegate to it.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys

import numpy as np

from . import classic, examples
from .counting import count, output_size
from .layers import avg_pool, conv, flatten, linear, max_pool, pointwise
from .matrix import conv_matrix, conv_matrix_pattern, matrix_counts
from .receptive import receptive_field
from .trace import trace

LAYER_BUILDERS = {"conv": conv, "max_pool": max_pool, "avg_pool": avg_pool, "linear": linear}


class UsageError(ValueError):
    """A malformed command-line value; reported as 'error: ...' with exit status 2."""


def parse_array(text: str) -> np.ndarray:
    """'1,2' -> (2,); '1,2;3,4' -> (2, 2); 'a;b|c;d' -> (C, H, W), channels separated by '|'."""
    try:
        channels = [[[float(v) for v in row.replace(" ", ",").split(",") if v] for row in ch.split(";") if row.strip()]
                    for ch in text.split("|")]
        a = np.array(channels, dtype=np.float64)
    except ValueError as error:
        raise UsageError(f"cannot read an array from {text!r} (expected numbers like '1,0,-1; 1,0,-1'): {error}")
    if a.ndim != 3:
        raise UsageError(f"rows of different lengths in {text!r}")
    if a.shape[0] == 1:
        a = a[0]
        if a.shape[0] == 1:
            a = a[0]
    return a


def parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(v) for v in text.lower().replace(",", "x").split("x"))
    except ValueError:
        raise UsageError(f"cannot read a shape from {text!r} (expected e.g. '5', '5x5' or '3x32x32')") from None
    if any(v < 1 for v in shape):
        raise UsageError(f"shape sizes must be >= 1, got {text!r}")
    return shape


def parse_ints(text: str | None):
    """'2' -> 2; '2,1' -> (2, 1); padding strings pass through."""
    if text is None:
        return None
    if text in ("valid", "same", "full"):
        return text
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"expected an int or comma-separated ints, got {text!r}") from None
    return values[0] if len(values) == 1 else values


def parse_layers(text: str):
    """A ';'-separated list of conv(...), max_pool(...), avg_pool(...), linear(...), flatten, or
    any other bare name (an activation: a shape-keeping layer). Only literal arguments."""
    layers = []
    for item in (part.strip() for part in text.split(";")):
        if not item:
            continue
        try:
            node = ast.parse(item, mode="eval").body
        except SyntaxError:
            raise UsageError(f"cannot read the layer {item!r}") from None
        if isinstance(node, ast.Name):
            layers.append(flatten() if node.id == "flatten" else pointwise(node.id))
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in LAYER_BUILDERS):
            raise UsageError(f"unknown layer {item!r}; use {', '.join(LAYER_BUILDERS)}, flatten or an activation name")
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        except ValueError:
            raise UsageError(f"layer arguments must be literal numbers, tuples or strings: {item!r}") from None
        try:
            layers.append(LAYER_BUILDERS[node.func.id](*args, **kwargs))
        except TypeError as error:
            raise UsageError(f"{item}: {error}") from None
    if not layers:
        raise UsageError("no layers given")
    return layers


def load_model(name: str | None, checkpoint: str | None, note: bool = True):
    """A zoo model by name, with the weights of checkpoint (a run directory or .safetensors file)
    when given; the model's name is read from the checkpoint's header when name is None. Without
    a checkpoint the weights are the untrained initial ones, and (note=True) stderr says so."""
    return load_model_info(name, checkpoint, note)[0]


def load_model_info(name: str | None, checkpoint: str | None, note: bool = True):
    """load_model -> (model, a phrase for figure titles, the input shape it was trained for or None).

    The phrase: 'lenet5 trained on fashion-mnist, test accuracy 0.891' or 'lenet5, untrained
    (random initial weights)'. The shape comes from the checkpoint's header, else from the data
    set the model is the default for."""
    from .. import models
    if checkpoint:
        from ..models.trained import load_trained
        trained = load_trained(checkpoint, name)
        shape = trained.input_shape or _usual_input_shape(trained.name)
        return trained.model, trained.describe(), shape
    if not name:
        raise UsageError("give --model NAME or --checkpoint RUN")
    if note:
        print(f"note: no --checkpoint given, so {name}'s weights are untrained (random initial values); "
              "give --checkpoint RUN_DIR for a trained model's", file=sys.stderr)
    return models.get_model(name), f"{name}, untrained (random initial weights)", _usual_input_shape(name)


def _usual_input_shape(name: str) -> tuple[int, ...] | None:
    """The sample shape of the data sets whose default model this is (None if there is none)."""
    from ..data.registry import DATASETS
    shapes = {info.input_shape for info in DATASETS.values() if info.default_model == name}
    return shapes.pop() if len(shapes) == 1 else None


def load_onnx(path: str):
    """An ONNX file imported as a glassnet model (`--onnx`, wherever `--model` is accepted)."""
    from ..onnx import load
    return load(path)


def _named_model_info(args, note: bool = True):
    """(model, a phrase for figure titles, its input shape or None) of --onnx, or of --model and
    --checkpoint (see load_model_info); None when none of them is given."""
    if getattr(args, "onnx", None):
        return load_onnx(args.onnx), f"{os.path.basename(args.onnx)} (imported from ONNX)", None
    if getattr(args, "model", None) or getattr(args, "checkpoint", None):
        return load_model_info(args.model, getattr(args, "checkpoint", None), note)
    return None


def _named_model(args, note: bool = True):
    """The model of --onnx, or of --model and --checkpoint; None when none of them is given."""
    info = _named_model_info(args, note)
    return None if info is None else info[0]


def read_image(path: str) -> np.ndarray:
    """An image as an array (H, W) or (H, W, 3|4), uint8 (a 16-bit grey PNG as float in [0, 1]);
    read like every image from outside, its size checked before decoding (data/images.py)."""
    if not os.path.exists(path):
        raise UsageError(f"no such image file: {path}")
    from ..data.images import open_image
    from ..untrusted import InvalidFileError
    try:
        image = open_image(path)
    except InvalidFileError as error:
        raise UsageError(f"cannot read {path}: {error.reason}") from None
    if image.mode in ("I;16", "I"):  # a 16-bit grey PNG: scaled to [0, 1]
        return (np.asarray(image, dtype=np.float64) / 65535.0).astype(np.float32)
    if image.mode not in ("L", "RGB", "RGBA"):  # palette, 1-bit, LA, CMYK ...
        image = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
    return np.asarray(image)


def _rgb(image) -> np.ndarray:
    """(H, W, 3|4) image -> (H, W, 3) float32 in [0, 1] (8-bit images scaled, alpha dropped)."""
    from ..data.preprocess import to_unit_range
    return to_unit_range(np.asarray(image)[..., :3])[0]


def resize_nearest(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    rows = (np.arange(shape[0]) * a.shape[0] / shape[0]).astype(int)
    cols = (np.arange(shape[1]) * a.shape[1] / shape[1]).astype(int)
    return a[rows][:, cols]


def _image_or_example(args) -> np.ndarray:
    if getattr(args, "image", None):
        return classic.to_gray(read_image(args.image))
    return {"square": examples.square, "diamond": examples.diamond}[args.example]()


def _kernel(args, default: str | None = "vertical") -> np.ndarray | None:
    if getattr(args, "kernel", None):
        return parse_array(args.kernel)
    name = getattr(args, "kernel_name", None) or default
    if name is None:
        return None
    if name not in classic.kernels:
        raise UsageError(f"unknown kernel {name!r}; known: {', '.join(classic.kernels)}")
    return np.array(classic.kernels[name], dtype=np.float64)


def _window_options(p: argparse.ArgumentParser, stride_default: str | None = "1") -> None:
    p.add_argument("--stride", default=stride_default, help="int or one int per dimension, e.g. 2 or 2,1")
    p.add_argument("--padding", default="0", help="int, ints, or valid / same / full")
    p.add_argument("--dilation", default="1")


# ---- subcommands ---------------------------------------------------------------------------

def cmd_matrix(args) -> int:
    spatial = parse_shape(args.input)
    options = dict(stride=parse_ints(args.stride), padding=parse_ints(args.padding),
                   dilation=parse_ints(args.dilation), groups=args.groups, padding_mode=args.padding_mode,
                   order=args.order, flip=args.flip)
    input_shape = (args.in_channels,) + spatial
    if args.kernel or args.kernel_name:
        k = _kernel(args)
        if k.ndim == len(spatial):
            k = np.broadcast_to(k, (args.out_channels, args.in_channels // args.groups) + k.shape)
        m = conv_matrix(k, input_shape, **options)
        weight_shape = k.shape
        print(f"M ({m.shape[0]} x {m.shape[1]}), vec order {args.order!r}:")
        print(np.array2string(m, max_line_width=200, threshold=100000, formatter={"float": lambda v: f"{v:g}"}))
    else:
        ksize = parse_ints(args.kernel_size)
        ksize = (ksize,) * len(spatial) if isinstance(ksize, int) else tuple(ksize)
        weight_shape = (args.out_channels, args.in_channels // args.groups) + ksize
        pattern = conv_matrix_pattern(weight_shape, input_shape, **options)
        print(f"M ({pattern.shape[0]} x {pattern.shape[1]}): entry i = weight number i of "
              f"weight.ravel() (1-based, row-major over {weight_shape}), 0 = zero; vec order {args.order!r}")
        print(np.array2string(pattern, max_line_width=200, threshold=100000))
    c = matrix_counts(weight_shape, input_shape, **options)
    print(f"parameters (weights): {c.parameters}\ninput units: {c.input_units}\noutput units: {c.output_units}\n"
          f"connections (non-zero entries): {c.connections}\nzeros: {c.zeros}\n"
          f"fully connected layer of the same size: {c.dense_parameters} weights\n"
          f"entries per weight (sharing): {np.array2string(c.shares.reshape(-1))}")
    return 0


def cmd_output_size(args) -> int:
    result = output_size(parse_ints(args.n), parse_ints(args.k), parse_ints(args.stride), parse_ints(args.padding),
                         parse_ints(args.dilation), ceil_mode=args.ceil_mode)
    print(result)
    return 0


def _model_from(args):
    model = _named_model(args, note=False)
    if model is not None:
        return model
    if args.layers:
        return parse_layers(args.layers)
    raise UsageError("give --layers '...', --model NAME or --onnx FILE")


def cmd_count(args) -> int:
    print(count(_model_from(args), parse_shape(args.input)))
    return 0


def cmd_receptive_field(args) -> int:
    shape = parse_shape(args.input) if args.input else None
    rf = receptive_field(_model_from(args), shape)
    print(rf)
    if args.layer and not args.unit:
        raise UsageError("--layer picks the layer of --unit; give --unit too")
    if args.unit:
        unit = parse_ints(args.unit)
        layer = -1 if args.layer is None else int(args.layer) if args.layer.lstrip("-").isdigit() else args.layer
        where = "the last layer" if args.layer is None else rf.row(layer).name
        region = rf.region(unit, layer)
        if region is None:
            print(f"unit {unit} of {where} sees no input: its window lies in the padding")
        else:
            print(f"unit {unit} of {where} sees input " + " x ".join(f"[{lo}..{hi}]" for lo, hi in region) +
                  (" (the first and last input it depends on)" if shape else " (its span, which may hang over "
                                                                              "into the padding)"))
    return 0


def cmd_trace(args) -> int:
    if args.onnx:
        return _trace_model_layer(args)
    x = parse_array(args.input) if args.input else np.array(examples.SEED002_INPUT, dtype=np.float64)
    if args.op == "conv":
        w = _kernel(args)
        if args.groups > 1 and w.ndim == x.ndim:
            # "a|b|..." lists kernels of C/groups channels each, filter after filter
            w = w.reshape((-1, x.shape[0] // args.groups) + w.shape[1:])  # (O, C/groups, *k)
        bias = None if args.bias is None else np.atleast_1d(parse_array(args.bias))
        t = trace(x, w, bias, stride=parse_ints(args.stride), padding=parse_ints(args.padding),
                  dilation=parse_ints(args.dilation), groups=args.groups, order=args.order, flip=args.flip)
    else:
        if not args.kernel_size:
            raise UsageError(f"--op {args.op} needs --kernel-size")
        t = trace(x, op=args.op, kernel_size=parse_ints(args.kernel_size), stride=parse_ints(args.stride),
                  padding=parse_ints(args.padding), dilation=parse_ints(args.dilation), order=args.order)
    index = None
    if args.at:
        at = parse_ints(args.at)
        index = (at,) if isinstance(at, int) else at
        print(t.step(*index))
    else:
        print(t)
    print("output:\n" + np.array2string(t.output, formatter={"float": lambda v: f"{v:g}"}))
    if args.figure:
        from ..viz import plot_trace
        full = None if index is None else (index if len(index) == len(t.kernel_size) + 1 else (0,) + tuple(index))
        plot_trace(t, full, args.figure)
        print(f"wrote {args.figure}")
    return 0


def _trace_model_layer(args) -> int:
    """Trace one output element of a convolution layer of an imported model, on the input that
    layer receives when the model runs on one sample (--image or --input)."""
    from .. import nn, tensor
    from ._hooks import run_with_hooks
    model = load_onnx(args.onnx)
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.ConvNd)]
    if not convs:
        raise UsageError(f"{args.onnx} has no convolution layer to trace")
    names = dict(convs)
    name = args.layer or convs[0][0]
    if name not in names:
        raise UsageError(f"--layer {name!r} is not a convolution of {args.onnx}; its convolutions: "
                         f"{', '.join(names)}")
    layer, shape = names[name], model.input_shapes[0][1:]  # (C, *spatial) of one sample
    if args.image:
        if len(shape) != 3 or shape[0] is None:
            raise UsageError(f"--image needs a model of images (C, H, W); this one takes {shape}")
        gray = classic.to_gray(read_image(args.image))
        size = tuple(n or m for n, m in zip(shape[1:], gray.shape))  # a dynamic size keeps the image's
        x = np.repeat(resize_nearest(gray, size)[None], shape[0], axis=0)  # (C, H, W), grey in every channel
    elif args.input:
        x = parse_array(args.input)
        if None in shape or x.size != int(np.prod(shape)):
            raise UsageError(f"--input holds {x.size} numbers; the model takes one sample of shape {shape}")
        x = x.reshape(shape)
    else:
        raise UsageError("with --onnx, give the model's input: --image FILE or --input ARRAY")
    seen = {}
    run_with_hooks(model, tensor(x[None].astype(np.float32)), [(layer, lambda m, a, out: seen.update(x=a[0], y=out))])
    t = trace(seen["x"].data[0], layer.weight.data, None if layer.bias is None else layer.bias.data,
              stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups,
              padding_mode=layer.padding_mode, order=args.order, flip=layer.flip)
    index = (0,) * (1 + len(layer.kernel_size)) if not args.at else parse_ints(args.at)
    index = (index,) if isinstance(index, int) else tuple(index)
    print(f"{name}: {layer!r}, input {tuple(seen['x'].shape[1:])} -> output {tuple(seen['y'].shape[1:])}")
    print(t.step(*index))
    print(f"the model's {name} output at {index}: {float(seen['y'].data[(0,) + index]):.6g}")
    if args.figure:
        from ..viz import plot_trace
        plot_trace(t, index, args.figure)
        print(f"wrote {args.figure}")
    return 0


def cmd_kernels(args) -> int:
    for name, k in classic.kernels.items():
        print(f"{name}:\n{np.array2string(k, formatter={'float': lambda v: f'{v:g}'})}")
    return 0


def _names(text: str | None, default) -> list[str]:
    names = list(default) if not text else [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in classic.kernels]
    if unknown:
        raise UsageError(f"unknown kernel(s) {unknown}; known: {', '.join(classic.kernels)}")
    return names


def cmd_edges(args) -> int:
    from ..kernels.pooling import max_pool_forward
    from ..viz import plot_edges, save_map_png
    gray = classic.to_gray(read_image(args.image))
    names = _names(args.kernels, classic.EDGE_KERNELS[:4])
    maps = classic.apply_kernels(gray, names, padding=parse_ints(args.padding), padding_mode=args.padding_mode)
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.image))[0]
    for name, m in maps.items():
        print(f"wrote {save_map_png(m, os.path.join(args.out, f'{stem}_{name}.png'))}")
    pooled = None
    if args.pool:
        pooled = {n: max_pool_forward(m[None, None], (args.pool, args.pool))[0][0, 0] for n, m in maps.items()}
    overview = os.path.join(args.out, f"{stem}_edges.png")
    plot_edges(gray, maps, overview, pooled, title=f"{os.path.basename(args.image)} filtered with classic kernels "
                                                   f"(padding {args.padding}, {args.padding_mode})")
    print(f"wrote {overview}")
    return 0


def cmd_filters(args) -> int:
    from ..viz import plot_filters
    info = _named_model_info(args)
    if info is not None:
        model, about, _ = info
        plot_filters(model, args.out, title=f"first-layer filters of {about}")
    else:
        names = _names(args.kernels, classic.kernels)
        plot_filters(classic.kernel_bank(names), args.out, names=names, title="classic kernels")
    print(f"wrote {args.out}")
    return 0


def cmd_features(args) -> int:
    from .. import nn
    from ..viz import plot_feature_maps
    from .features import feature_maps
    image = read_image(args.image) if args.image else \
        {"square": examples.square, "diamond": examples.diamond}[args.example]()
    expected, about = None, "classic kernels + ReLU + 2x2 max pool"
    info = _named_model_info(args)
    if info is not None:
        model, about, expected = info
        first = next((m for m in model.modules() if hasattr(m, "in_channels")), None)
        channels = first.in_channels if first is not None else 1
    else:
        model = nn.Sequential(classic.fixed_conv2d(_names(args.kernels, classic.EDGE_KERNELS[:4]), padding=1),
                              nn.ReLU(), nn.MaxPool2d(2))
        channels = 1
    if channels == 3 and np.ndim(image) == 3:
        x = np.moveaxis(_rgb(image), -1, 0)  # (H, W, 3) -> (3, H, W)
    else:
        x = np.repeat(classic.to_gray(image)[None], channels, axis=0)  # (C, H, W), grey in every channel
    if args.prepare:
        if not (expected and len(expected) == 3):
            raise UsageError("--prepare needs a model of images whose input size is known: give --checkpoint")
        from ..data.preprocess import prepare_image
        x, notes = prepare_image(image, tuple(expected[1:]), _trained_on(args), channels=expected[0])
        print("prepared as `glassnet predict` does: " + "; ".join(notes))
    elif args.size:
        size = parse_shape(args.size)
        x = np.stack([resize_nearest(c, size) for c in x])  # (C, *size)
    size_hint = "x".join(map(str, expected[1:])) if expected else "HxW"
    if expected and not args.size and x.shape != tuple(expected):
        raise UsageError(f"{about.split(',')[0]} takes inputs of shape {tuple(expected)}, the image gives "
                         f"{x.shape}: add --size {size_hint} to resize it, or --prepare to prepare it as "
                         "`glassnet predict` does")
    try:
        layers = [("input", x)] + feature_maps(model, x)
    except ValueError as error:
        raise UsageError(f"the model cannot take an input of shape {x.shape} ({error}); "
                         f"resize it with --size {size_hint}") from None
    plot_feature_maps(layers, args.out, max_maps=args.max_maps, title=f"feature maps of {about}")
    for name, a in layers:
        print(f"{name}: {a.shape}")
    print(f"wrote {args.out}")
    return 0


def _trained_on(args) -> str | None:
    """The data set the checkpoint's model was trained on (None without a checkpoint)."""
    if not args.checkpoint:
        return None
    from ..models.trained import weights_file
    from ..serialization import load_metadata
    return load_metadata(weights_file(args.checkpoint)).get("dataset")


def cmd_equivariance(args) -> int:
    from ..kernels.conv import conv_forward
    from ..kernels.pooling import max_pool_forward
    from .equivariance import equivariance
    img = _image_or_example(args)
    x = np.zeros((1, 1) + tuple(s + 8 for s in img.shape), dtype=np.float32)
    x[0, 0, 4:-4, 4:-4] = img  # a dark border, so that shifts move content, not the image edge
    w = _kernel(args).astype(np.float32)[None, None]  # (1, 1, kh, kw)

    def conv_layer(a):
        return conv_forward(a.astype(np.float32), w, padding="same")

    def conv_relu_pool(a):
        return max_pool_forward(np.maximum(conv_layer(a), 0), (args.pool, args.pool), stride=1)[0]

    margin = w.shape[-1] + args.pool + abs(args.shift)
    print(EQUIVARIANCE_LEGEND.format(shift=args.shift))
    for label, f in (("convolution", conv_layer), (f"convolution + ReLU + {args.pool}x{args.pool} max pool "
                                                    f"(stride 1)", conv_relu_pool)):
        print(f"{label}:")
        for transform, options in (("translate", dict(shift_by=args.shift, margin=margin)), ("rotate", {}),
                                   ("scale", {})):
            result = equivariance(f, x, transform, **options)
            print(f"  {result}")
            print(f"    -> {_verdict(result)}")
    return 0


EQUIVARIANCE_LEGEND = """\
Is the layer f equivariant to a transformation T of its input, f(Tx) = T'f(x)?
  T: translate = shift right by {shift} pixel(s); rotate = a quarter turn; scale = enlarge 2x.
  T'f(x): the same transformation applied to the output f(x) instead.
  max |f(Tx) - T'f(x)|: the largest difference between the two (0: equivariant).
  relative: the size of that difference against the output's, ||f(Tx) - T'f(x)|| / ||T'f(x)||
            (0: equal; near 1 or above: as different as unrelated outputs).
  For translations also invariance: max |f(Tx) - f(x)|, and how many output units changed at
  all against how many input units did (pooling leaves more of them unchanged).
"""


def _verdict(result) -> str:
    if result.equivariant:
        text = "equivariant: transforming the input transforms the output the same way"
    elif result.relative_error < 0.1:
        text = f"nearly equivariant (the difference is {100 * result.relative_error:.0f}% of the output)"
    else:
        why = {"rotate": " (the kernel looks different after a quarter turn)",
               "scale": " (the kernel keeps its size while the image grows)"}.get(result.transform, "")
        text = f"not equivariant: the difference is {100 * result.relative_error:.0f}% of the output's size{why}"
    if result.transform == "translate" and result.changed_fraction is not None:
        text += (f"; {100 * result.changed_fraction:.0f}% of the output changed where "
                 f"{100 * result.input_changed_fraction:.0f}% of the input did")
    return text


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The parser; prog is the program name its usage and help show (default
    'python -m glassnet.explain'; `glassnet explain` passes its own)."""
    parser = argparse.ArgumentParser(prog=prog or "python -m glassnet.explain",
                                     description="The lecture tools on the command line: one command per idea of the lectures "
                                                 "(docs/lectures/, pages 000-004).",
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Values that start with a minus need no '=': --kernel -2,1 "
                                            "works like --kernel=-2,1.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("matrix", help="the matrix M of a convolution, vec(y) = M vec(x), and its counts")
    p.add_argument("--input", required=True, help="spatial input shape, e.g. 3 or 5x5")
    p.add_argument("--kernel-size", default="2", help="kernel size (when no --kernel is given)")
    p.add_argument("--kernel", help="kernel values, e.g. '-2,1' (else weight numbers are shown)")
    p.add_argument("--kernel-name", help="a classic kernel by name")
    p.add_argument("--in-channels", type=int, default=1)
    p.add_argument("--out-channels", type=int, default=1)
    p.add_argument("--groups", type=int, default=1)
    p.add_argument("--padding-mode", default="zeros", choices=("zeros", "reflect", "replicate", "circular"))
    p.add_argument("--order", default="C", choices=("C", "F"), help="vec order: C row-major, F stacked columns")
    p.add_argument("--flip", action="store_true", help="true convolution (kernel rotated by 180 degrees)")
    _window_options(p)
    p.set_defaults(run=cmd_matrix)

    p = sub.add_parser("output-size", help="output size, formula with the numbers filled in")
    p.add_argument("n", help="input size (int or ints)")
    p.add_argument("k", help="kernel size")
    p.add_argument("--ceil-mode", action="store_true")
    _window_options(p)
    p.set_defaults(run=cmd_output_size)

    for name, run, helptext in (("count", cmd_count, "parameters, connections, multiply-adds per layer"),
                                ("receptive-field", cmd_receptive_field, "receptive field after every layer")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--layers", help="e.g. 'conv(1, 6, 5, padding=2); relu; max_pool(2)'")
        p.add_argument("--model", help="a model of glassnet.models by name (`glassnet models` lists them)")
        p.add_argument("--checkpoint", help="a run directory or .safetensors file (names the model itself)")
        p.add_argument("--onnx", help="an ONNX file, imported as the model")
        p.add_argument("--input", required=(name == "count"), help="per-sample input shape, e.g. 1x28x28")
        if name == "receptive-field":
            p.add_argument("--unit", help="a unit of the last layer, e.g. 3,4: which input does it see?")
            p.add_argument("--layer", help="the layer of --unit: a row number or a module name, e.g. layers.1")
        p.set_defaults(run=run)

    p = sub.add_parser("trace", help="each output element as its sum of products (lecture 002, the worked examples)")
    p.add_argument("--input", help="input array (default: the 5x5 example of lecture 002, worked examples)")
    p.add_argument("--kernel", help="kernel array; channels separated by '|'")
    p.add_argument("--kernel-name", help="a classic kernel (default vertical)")
    p.add_argument("--bias", help="one bias per filter")
    p.add_argument("--groups", type=int, default=1,
                   help="grouped convolution: --kernel lists the filters' C/groups-channel kernels")
    p.add_argument("--op", default="conv", choices=("conv", "max", "avg"))
    p.add_argument("--kernel-size", help="pooling window")
    p.add_argument("--order", default="F", choices=("C", "F"),
                   help="term order inside a window: F column by column (as lecture 002 writes "
                        "its sums), C row by row")
    p.add_argument("--flip", action="store_true")
    p.add_argument("--at", help="one output element, e.g. 0,1 (default: all)")
    p.add_argument("--figure", help="write a PNG of the element (--at, default the first)")
    p.add_argument("--onnx", help="trace a convolution layer of this ONNX model (with --layer, --image or --input)")
    p.add_argument("--layer", help="with --onnx: the layer's name (default: the first convolution)")
    p.add_argument("--image", help="with --onnx: a PNG or JPEG as the model's input (grey, resized)")
    _window_options(p, stride_default=None)
    p.set_defaults(run=cmd_trace)

    p = sub.add_parser("kernels", help="print the classic kernels")
    p.set_defaults(run=cmd_kernels)

    p = sub.add_parser("edges", help="filter an image with classic kernels, write the maps as PNGs")
    p.add_argument("image", help="a PNG or JPEG file")
    p.add_argument("--out", default="edges", help="output folder")
    p.add_argument("--kernels", help="comma-separated kernel names (default vertical,horizontal,slash,backslash)")
    p.add_argument("--padding", default="1", help="pixels added on every side")
    p.add_argument("--padding-mode", default="replicate", choices=("zeros", "reflect", "replicate", "circular"),
                   help="what the added pixels hold; zeros turns a light photo's border into a strong edge")
    p.add_argument("--pool", type=int, default=0, help="also show the maps max pooled with this window")
    p.set_defaults(run=cmd_edges)

    p = sub.add_parser("filters", help="PNG grid of first-layer filters")
    p.add_argument("--model", help="a model by name (untrained unless --checkpoint is given)")
    p.add_argument("--checkpoint", help="a run directory or .safetensors file written by `glassnet train`; "
                                        "the model is read from it")
    p.add_argument("--onnx", help="an ONNX file, imported as the model")
    p.add_argument("--kernels", help="classic kernels to show when no model is given (default all)")
    p.add_argument("--out", default="filters.png")
    p.set_defaults(run=cmd_filters)

    p = sub.add_parser("features", help="PNG of the feature maps every layer produces for one image")
    p.add_argument("image", nargs="?", help="a PNG or JPEG file (default: --example)")
    p.add_argument("--example", default="square", choices=("square", "diamond"))
    p.add_argument("--model", help="a model of glassnet.models (default: classic kernels + ReLU + max pool)")
    p.add_argument("--checkpoint", help="a run directory or .safetensors file written by `glassnet train`; "
                                        "the model is read from it")
    p.add_argument("--onnx", help="an ONNX file, imported as the model")
    p.add_argument("--kernels", help="kernels of the default model")
    p.add_argument("--size", help="resize the image to HxW first (nearest neighbour)")
    p.add_argument("--prepare", action="store_true",
                   help="prepare the image as `glassnet predict` does: grey, light object on black, "
                        "centred, at the model's input size")
    p.add_argument("--max-maps", type=int, default=8)
    p.add_argument("--out", default="features.png")
    p.set_defaults(run=cmd_features)

    p = sub.add_parser("equivariance", help="translation, rotation and scaling checks (lectures 001, the convolution "
                        "operation, and 004, conv1d, conv2d and beyond)")
    p.add_argument("image", nargs="?", help="a PNG or JPEG file (default: --example)")
    p.add_argument("--example", default="diamond", choices=("square", "diamond"))
    p.add_argument("--kernel", help="kernel array")
    p.add_argument("--kernel-name", help="classic kernel (default vertical)")
    p.add_argument("--shift", type=int, default=1)
    p.add_argument("--pool", type=int, default=3)
    p.set_defaults(run=cmd_equivariance)
    from ..cli import show_defaults
    return show_defaults(parser)


def glue_negative_values(argv: list[str]) -> list[str]:
    """['--kernel', '-2,1'] -> ['--kernel=-2,1']: argparse reads a value that starts with '-'
    and is not a plain number as an option, so that the lectures' kernels and arrays would fail."""
    out: list[str] = []
    for a in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and len(a) > 1 and a[0] == "-" \
                and (a[1].isdigit() or a[1] == "."):
            out[-1] = f"{out[-1]}={a}"
        else:
            out.append(a)
    return out


def main(argv=None, prog: str | None = None) -> int:
    """Run one subcommand; returns the exit status. prog names the program in usage and help."""
    parser = build_parser(prog)
    args = parser.parse_args(glue_negative_values(sys.argv[1:] if argv is None else list(argv)))
    try:
        return args.run(args)
    except (UsageError, ValueError, KeyError, IndexError, TypeError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
