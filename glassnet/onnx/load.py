"""ONNX -> glassnet: read a file as untrusted data and build an OnnxModel of glassnet layers.

Files from outside are untrusted. Reading never executes anything (ONNX is a protobuf message);
every size is checked before memory is allocated for it (the file, each tensor's element count
against the bytes it really holds); external tensor data is read only from files inside the
model's own folder, at offsets inside those files; operators, opsets and dtypes glassnet does not
support are refused with an error naming them and the node. Every problem is an OnnxError.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import OnnxError, require_onnx

MAX_FILE_BYTES = 2 << 30        # protobuf's own limit for one message
MAX_ELEMENTS = 1 << 29          # per tensor (2 GiB of float32)
MIN_OPSET = 7                   # the oldest opset whose operators are read here
_DTYPES = {1: np.dtype("<f4"), 6: np.dtype("<i4"), 7: np.dtype("<i8")}  # FLOAT, INT32, INT64


def _dtype_name(code: int) -> str:
    from onnx import TensorProto
    try:
        return TensorProto.DataType.Name(code).lower()
    except ValueError:
        return f"unknown ({code})"


def _read_external(t, folder: str, count: int, dtype: np.dtype, what: str) -> np.ndarray:
    info = {e.key: e.value for e in t.external_data}
    location = info.get("location", "")
    if not location or os.path.isabs(location) or os.path.splitdrive(location)[0]:
        raise OnnxError(f"{what}: external data location {location!r} must be a path relative to the model's folder")
    base = os.path.realpath(folder)
    try:
        target = os.path.realpath(os.path.join(base, location))  # symbolic links resolved too
    except (ValueError, OSError) as error:  # a NUL byte, a loop of links
        raise OnnxError(f"{what}: external data location {location!r} is not a usable path: {error}") from None
    if os.path.commonpath([base, target]) != base:
        raise OnnxError(f"{what}: external data location {location!r} leads outside the model's folder {folder}")
    if not os.path.isfile(target):
        raise OnnxError(f"{what}: external data file {location!r} not found next to the model")
    try:
        offset, length = int(info.get("offset", 0)), int(info.get("length", count * dtype.itemsize))
    except ValueError:
        raise OnnxError(f"{what}: external data offset/length must be integers, got {info}") from None
    size = os.path.getsize(target)
    if length != count * dtype.itemsize or offset < 0 or offset + length > size:
        raise OnnxError(f"{what}: external data needs {count * dtype.itemsize} bytes at offset {offset} of "
                        f"{location!r} (length {length}), but the file has {size} bytes")
    with open(target, "rb") as f:
        f.seek(offset)
        raw = f.read(length)
    return np.frombuffer(raw, dtype=dtype)


def read_tensor(t, folder: str, what: str) -> np.ndarray:
    """A TensorProto as an ndarray (float32 or int64), its size checked before anything is allocated."""
    if t.data_type not in _DTYPES:
        raise OnnxError(f"{what} has dtype {_dtype_name(t.data_type)}; glassnet imports float32 weights "
                        f"(and int32/int64 shapes and indices)")
    dims = list(t.dims)
    if any(d < 0 for d in dims) or math.prod(dims) > MAX_ELEMENTS:
        raise OnnxError(f"{what} declares an absurd shape {tuple(dims)} (at most {MAX_ELEMENTS} elements)")
    count, dtype = math.prod(dims), _DTYPES[t.data_type]
    if t.HasField("segment"):
        raise OnnxError(f"{what} is stored in segments, which glassnet does not read")
    if t.data_location == 1:  # EXTERNAL
        if folder is None:
            raise OnnxError(f"{what} refers to external data, which only initializers may")
        flat = _read_external(t, folder, count, dtype, what)
    elif t.raw_data:
        if len(t.raw_data) != count * dtype.itemsize:
            raise OnnxError(f"{what} of shape {tuple(dims)} needs {count * dtype.itemsize} bytes, the file holds "
                            f"{len(t.raw_data)}")
        flat = np.frombuffer(t.raw_data, dtype=dtype)
    else:
        field = {1: t.float_data, 6: t.int32_data, 7: t.int64_data}[t.data_type]
        if len(field) != count:
            raise OnnxError(f"{what} of shape {tuple(dims)} needs {count} values, the file holds {len(field)}")
        flat = np.asarray(field, dtype=dtype)
    array = flat.reshape(dims)
    return array.astype(np.float32) if dtype.kind == "f" else array.astype(np.int64)


def _parse(path: str):
    onnx = require_onnx()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise OnnxError(f"no ONNX file at {path}")
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise OnnxError(f"{path} has {size} bytes, more than one ONNX message can hold ({MAX_FILE_BYTES})")
    with open(path, "rb") as f:
        data = f.read()
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as error:  # protobuf raises DecodeError, or RuntimeError in some builds
        raise OnnxError(f"cannot read {path} as an ONNX model (truncated, or not ONNX): {error}") from None
    if not model.HasField("graph") or not model.graph.node:
        raise OnnxError(f"{path} holds no ONNX graph (an empty, truncated or foreign file)")
    return onnx, model


def _check_operators(onnx, model, path: str) -> int:
    from .import_ops import OPS
    versions = {imp.domain or "ai.onnx": imp.version for imp in model.opset_import}
    opset = versions.get("ai.onnx")
    newest = onnx.defs.onnx_opset_version()
    if opset is None or not MIN_OPSET <= opset <= newest:
        raise OnnxError(f"{path}: opset {opset} of the ONNX operators is not supported "
                        f"(glassnet reads opsets {MIN_OPSET} to {newest})")
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx"):
            raise OnnxError(f"ONNX node {node.name!r}: operator {node.op_type} of domain {node.domain!r} is "
                            f"not supported (only the standard ONNX operators are)")
        if node.op_type not in OPS:
            raise OnnxError(f"ONNX node {node.name!r}: unsupported operator {node.op_type}; glassnet imports "
                            f"{', '.join(sorted(OPS))}")
    return opset


def _shapes(onnx, model) -> dict:
    """Every value's shape that shape inference finds (None for unknown dimensions)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # a graph shape inference cannot follow: converters that need a rank say so
        inferred = model
    g = inferred.graph
    shapes = {}
    for v in list(g.input) + list(g.value_info) + list(g.output):
        t = v.type.tensor_type
        if t.HasField("shape"):
            shapes[v.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
    for t in g.initializer:
        shapes[t.name] = tuple(t.dims)
    return shapes


def _constant_value(node, folder: str):
    from onnx import helper
    for a in node.attribute:
        what = f"ONNX node {node.name!r} (Constant)"
        if a.name == "value":
            return read_tensor(a.t, folder, what)
        if a.name in ("value_float", "value_floats"):
            return np.asarray(helper.get_attribute_value(a), dtype=np.float32)
        if a.name in ("value_int", "value_ints"):
            return np.asarray(helper.get_attribute_value(a), dtype=np.int64)
        raise OnnxError(f"{what}: attribute {a.name} is not supported")
    raise OnnxError(f"ONNX node {node.name!r} (Constant) has no value")


def load(path):
    """An ONNX file as a glassnet nn.Module (an OnnxModel), in evaluation mode; .train() to fine-tune.

    Weights become the parameters of glassnet layers (Conv -> Conv2d, Gemm -> Linear, ...), named
    after the ONNX nodes. Raises OnnxError naming the node, operator, opset or dtype that glassnet
    does not support, and for malformed or hostile files.
    """
    from ..nn.module import Parameter
    from .graph_module import OnnxModel
    from .import_graph import GraphBuilder, attributes
    from .import_ops import OPS

    onnx, model = _parse(path)
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    opset = _check_operators(onnx, model, os.fspath(path))
    g = model.graph
    constants = {t.name: read_tensor(t, folder, f"initializer {t.name!r}") for t in g.initializer}
    for node in g.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = _constant_value(node, folder)
    inputs = [v for v in g.input if v.name not in constants]
    input_shapes = []
    for v in inputs:
        t = v.type.tensor_type
        if t.elem_type != 1:
            raise OnnxError(f"ONNX input {v.name!r} has dtype {_dtype_name(t.elem_type)}; glassnet models take float32")
        shape = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in t.shape.dim)
        if math.prod(s for s in shape if s) > MAX_ELEMENTS:
            raise OnnxError(f"ONNX input {v.name!r} declares an absurd shape {shape}")
        # the first dimension is the batch, also where the file fixed it (torch.onnx.export without
        # dynamic_axes writes the example's batch size): fine-tuning takes other batch sizes
        input_shapes.append((None,) + shape[1:] if shape else shape)
    shapes = _shapes(onnx, model)
    b = GraphBuilder(opset, constants, {k: len(v) for k, v in shapes.items()}, shapes, g.node,
                     [v.name for v in g.output])
    weights = {t.name for t in g.initializer if constants[t.name].dtype.kind == "f"}

    defined, steps = set(constants) | {v.name for v in inputs}, []
    for node in g.node:
        missing = [n for n in node.input if n and n not in defined]
        if missing:
            raise OnnxError(f"ONNX node {node.name!r} ({node.op_type}) reads {missing} before any node writes it "
                            f"(the graph is not in topological order, or refers to nothing)")
        try:
            step = OPS[node.op_type](b, node, attributes(node))
        except OnnxError:
            raise
        except (ValueError, TypeError, KeyError, IndexError) as error:  # a layer refusing the node's options
            raise OnnxError(f"ONNX node {node.name!r} ({node.op_type}): {error}") from None
        if step is not None and step.fn is not None and _foldable(step, constants, weights):
            _fold(step, constants)  # shape arithmetic on constants (torch's padding subgraphs): done once, here
        elif step is not None:
            steps.append(step)
        defined.update(n for n in node.output if n)
    for v in g.output:
        if v.name not in defined:
            raise OnnxError(f"ONNX output {v.name!r} is written by no node")

    # initializers no layer absorbed but operations read: trainable parameters of the model itself;
    # other constants the operations read (shapes, axes, Constant nodes) stay plain arrays
    read = {n for s in steps if s.fn is not None for n in s.inputs}
    params = [t.name for t in g.initializer if t.name in read and constants[t.name].dtype.kind == "f"]
    static = {k: constants[k] for k in read if k in constants and k not in params}
    result = OnnxModel([v.name for v in inputs], input_shapes, [v.name for v in g.output], steps, static)
    for name, module in b.modules.items():
        result.add_module(name, module)
    for name in params:
        attr = _unique_attr(result, name)
        result.register_parameter(attr, Parameter(constants[name]))
        result.value_names[name] = attr
    return result.eval()


def _foldable(step, constants, weights) -> bool:
    """Every input is a constant array and none is a float weight, which must stay trainable; an
    Identity of a weight is folded too (torch writes one for each deduplicated initializer), so
    the layer that reads it gets its copy."""
    names = [n for n in step.inputs if n]
    if step.op_type == "Identity":
        return bool(names) and names[0] in constants
    return bool(names) and all(n in constants and n not in weights for n in names) and step.op_type != "Shape"


def _fold(step, constants) -> None:
    try:
        out = step.fn(*[constants[n] if n else None for n in step.inputs])
    except (ValueError, TypeError, IndexError) as error:
        raise OnnxError(f"ONNX node {step.node!r} ({step.op_type}): {error}") from None
    for name, value in zip(step.outputs, out if isinstance(out, tuple) else (out,)):
        constants[name] = np.asarray(value.data if hasattr(value, "grad_fn") else value)


def _unique_attr(module, name: str) -> str:
    import re
    base = re.sub(r"\W", "_", name).strip("_") or "weight"
    attr, i = base, 1
    while attr in module._parameters or attr in module._modules or attr in module.__dict__:
        i += 1
        attr = f"{base}_{i}"
    return attr
