"""ONNX export and import (the optional extra `glassnet[onnx]`).

    glassnet.onnx.export(model, example_input, "model.onnx")   # torch.onnx.export's name
    model = glassnet.onnx.load("model.onnx")                   # a glassnet nn.Module

Export traces one forward pass and writes every layer, glassnet's own ones included, as standard
ONNX operators (export.py, export_layers.py); import builds a module of glassnet layers that runs
the graph (load.py, import_layers.py, import_ops.py), so training and the explain tools work on
it. The `onnx` package is needed for both; it is imported only when they are called.
"""

from .errors import OnnxError
from .export import DEFAULT_OPSET, export
from .load import load

__all__ = ["export", "load", "OnnxError", "DEFAULT_OPSET"]
