"""glassnet -> ONNX: trace one forward pass and write it as a checked ONNX graph.

How the graph is found. The model runs once on the example input (in evaluation mode, as
torch.onnx.export does) with the autograd tape recording and a forward hook on every layer that
glassnet.onnx.export_layers knows. Then the output is walked back to the input:

- a tensor a known layer produced becomes that layer's ONNX nodes (a Conv, or the few standard
  operators that express a glassnet layer), and the walk continues at the layer's input;
- any other tensor was made by an autograd Function between layers (a residual `+`, a reshape,
  a concatenation, `tanh()` in a custom module) and becomes that Function's ONNX node;
- a tensor with no history is a constant and becomes an initializer.

So a layer is exported as one unit, however its glassnet kernel computes it, and the glue
between layers is exactly what the forward did. Weights are initializers named after the
state_dict keys; the first dimension of the input and outputs is a dynamic batch axis "N".
"""

from __future__ import annotations

import os

import numpy as np

from ..tensor import Tensor
from .errors import OnnxError, require_onnx

DEFAULT_OPSET = 18     # torch.onnx.export's default opset in torch 2.x
MIN_OPSET = 13         # Softmax over one axis and Squeeze/Unsqueeze axes as inputs from 13 on
BATCH = "N"            # the name of the dynamic batch dimension


class GraphBuilder:
    """Collects nodes and initializers with unique names (made with onnx.helper, never by hand)."""

    def __init__(self, onnx, opset: int, batch_size: int):
        self.onnx, self.opset, self.batch_size = onnx, opset, batch_size
        self.nodes, self.initializers, self._names = [], [], set()

    def unique(self, base: str) -> str:
        base = base or "v"
        name, i = base, 1
        while name in self._names:
            name, i = f"{base}_{i}", i + 1
        self._names.add(name)
        return name

    def constant(self, array, name: str) -> str:
        """An initializer holding `array` (float32 stays float32, integers become int64)."""
        array = np.asarray(array)
        array = array.astype(np.int64) if array.dtype.kind in "iub" else array.astype(np.float32)
        name = self.unique(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values, name: str) -> str:
        return self.constant(np.asarray(values, dtype=np.int64), name)

    def node(self, op: str, inputs, name: str, outputs: int = 1, output_name: str | None = None,
             **attrs) -> str | list[str]:
        outs = [output_name] if output_name else \
            [self.unique(f"{name}_out" if outputs == 1 else f"{name}_out{i}") for i in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), outs, name=self.unique(name), **attrs))
        return outs[0] if outputs == 1 else outs

    # ---- helpers the layer converters share ----------------------------------------------------
    def reshape(self, x: str, shape, input_shape, name: str) -> str:
        """Reshape to `shape`, keeping the first dimension dynamic (0 = copy it from the input)
        when the batch stays in front, as in (N, C, H, W) -> (N, C H W)."""
        shape = list(shape)
        if shape and input_shape and shape[0] == input_shape[0] == self.batch_size:
            shape[0] = 0
        return self.node("Reshape", [x, self.ints(shape, f"{name}_shape")], name)

    def reduce(self, op: str, x: str, axes, name: str, keepdims: bool) -> str:
        """ReduceMax/ReduceMean/ReduceSum over axes: an input from opset 18 (13 for ReduceSum), an
        attribute before."""
        axes_as_input = self.opset >= (13 if op == "ReduceSum" else 18)
        if axes_as_input:
            return self.node(op, [x, self.ints(list(axes), f"{name}_axes")], name, keepdims=int(keepdims))
        return self.node(op, [x], name, axes=list(axes), keepdims=int(keepdims))


def _model_input(example_input) -> Tensor:
    x = example_input.data if isinstance(example_input, Tensor) else np.asarray(example_input)
    if x.dtype != np.float32:
        raise OnnxError(f"export expected a float32 example input, got {x.dtype} (glassnet never converts "
                        "silently: pass x.astype(np.float32))")
    if x.ndim < 2:
        raise OnnxError(f"export expected a batched example input (N, C, ...), got shape {x.shape}")
    return Tensor(x, requires_grad=True)


def _trace(model, x: Tensor):
    """Run model(x) once; returns (outputs, layer calls by output id, leaf module names by output id)."""
    from .. import enable_grad
    from .export_layers import layer_converter
    calls, owners, handles = {}, {}, []

    def hook(module, args, output, name):
        if isinstance(output, tuple) and output and isinstance(output[0], Tensor):
            output = output[0]  # (values, indices) of return_indices=True: the layer's converter refuses it
        if not args or not isinstance(output, Tensor) or output is args[0]:
            return  # Identity, Dropout in eval mode: nothing computed, nothing to write
        owners.setdefault(id(output), name)
        if layer_converter(module) is not None:
            calls[id(output)] = (name, module, args[0], output)  # an outer layer's call replaces an inner one's

    for name, module in model.named_modules():
        handles.append(module.register_forward_hook(lambda m, a, o, name=name: hook(m, a, o, name)))
    modes = [(m, m.training) for m in model.modules()]  # each module's own: a frozen batch norm stays frozen
    model.eval()
    try:
        with enable_grad():
            y = model(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    outputs = list(y) if isinstance(y, (tuple, list)) else [y]
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise OnnxError(f"export: output {i} of {type(model).__name__} is a {type(out).__name__}, not a Tensor")
    return outputs, calls, owners


def _parents(t: Tensor, x: Tensor, calls) -> list:
    if t is x:
        return []
    if id(t) in calls:
        return [calls[id(t)][2]]
    if t.grad_fn is not None:
        return [a for a in t.grad_fn.inputs if isinstance(a, Tensor)]
    return []


def _topological(outputs, x, calls) -> list[Tensor]:
    """The tensors between x and the outputs, each after the tensors it is made from (iterative:
    deep networks would overflow Python's recursion limit)."""
    order, seen, stack = [], set(), [(t, False) for t in reversed(outputs)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        stack.extend((p, False) for p in reversed(_parents(t, x, calls)) if id(p) not in seen)
    return order


def export(model, example_input, path, opset_version: int = DEFAULT_OPSET, input_names=None,
           output_names=None, dynamic_batch: bool = True):
    """Write `model` as an ONNX file at `path` (torch.onnx.export's name and first arguments).

    example_input: one float32 batch (N, C, *spatial), a Tensor or an ndarray; the model is traced
    on it in evaluation mode. The graph has one input (default name "input") and one output per
    tensor the model returns ("output", or "output_0", "output_1", ...); with dynamic_batch their
    first dimension is "N", so any batch size runs. Spatial sizes are those of the example.
    The model is checked with onnx.checker (full check) and shape inference before it is written.
    Returns the onnx.ModelProto (path=None: only returns it).
    """
    onnx = require_onnx()
    from .export_layers import convert_function, convert_layer
    from onnx import TensorProto, helper

    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset_version <= newest:
        raise OnnxError(f"opset_version must be between {MIN_OPSET} and {newest} (the onnx package's newest), "
                        f"got {opset_version}")
    x = _model_input(example_input)
    outputs, calls, owners = _trace(model, x)
    input_names = list(input_names or ["input"])
    if len(input_names) != 1:
        raise OnnxError(f"export traces models with one input, got input_names={input_names}")
    default_out = ["output"] if len(outputs) == 1 else [f"output_{i}" for i in range(len(outputs))]
    output_names = list(output_names or default_out)
    if len(output_names) != len(outputs):
        raise OnnxError(f"the model returns {len(outputs)} tensors, got {len(output_names)} output_names")

    g = GraphBuilder(onnx, opset_version, x.shape[0])
    g.unique(input_names[0])
    for n in output_names:
        g.unique(n)
    names = {id(x): input_names[0]}
    state_names = {id(v): k for k, v in model.state_dict(keep_vars=True).items()}
    for t in _topological(outputs, x, calls):
        if id(t) in names:
            continue
        if id(t) in calls:
            path_, module, inp, _ = calls[id(t)]
            names[id(t)] = convert_layer(g, module, path_ or type(module).__name__, names[id(inp)], inp, t)
        elif t.grad_fn is not None:
            names[id(t)] = convert_function(g, t, names, owners)
        else:  # a parameter or buffer used between layers, or a constant
            names[id(t)] = g.constant(t.data, state_names.get(id(t), "constant"))

    batch = [BATCH] if dynamic_batch else [x.shape[0]]
    for t, out_name in zip(outputs, output_names):  # the last value, under the output's name
        g.node("Identity", [names[id(t)]], f"{out_name}_identity", output_name=out_name)
    graph_outputs = [helper.make_tensor_value_info(
        n, TensorProto.FLOAT, (batch if t.ndim and t.shape[0] == x.shape[0] else [t.shape[0]] if t.ndim else [])
        + list(t.shape[1:])) for t, n in zip(outputs, output_names)]
    graph_input = helper.make_tensor_value_info(input_names[0], TensorProto.FLOAT, batch + list(x.shape[1:]))
    graph = helper.make_graph(g.nodes, type(model).__name__, [graph_input], graph_outputs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset_version)],
                              producer_name="glassnet", producer_version=_version())
    proto.ir_version = min(proto.ir_version, _max_ir_version(onnx, opset_version))
    try:
        onnx.checker.check_model(proto, full_check=True)
        proto = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        raise OnnxError(f"the exported graph of {type(model).__name__} does not pass the ONNX checker: "
                        f"{error}") from None
    if path is not None:
        onnx.save(proto, os.fspath(path))
    return proto


def _version() -> str:
    from .. import __version__
    return __version__


def _max_ir_version(onnx, opset: int) -> int:
    """The oldest IR version that carries this opset, so older runtimes read the file too."""
    rows = [row for row in onnx.helper.VERSION_TABLE if row[2] >= opset]  # (release, ir, opset, ...)
    return min((row[1] for row in rows), default=onnx.IR_VERSION)
