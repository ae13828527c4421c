"""The one error type of glassnet.onnx, and the import of the optional `onnx` package."""

from __future__ import annotations


class OnnxError(ValueError):
    """A model that cannot be exported, or a file that cannot be imported; the message names the
    layer, node, operator, dtype or file concerned."""


def require_onnx():
    """The `onnx` module, or an error saying how to install it (it is an optional extra)."""
    try:
        import onnx
    except ImportError:
        raise ImportError("glassnet.onnx needs the onnx package: pip install 'glassnet[onnx]'") from None
    return onnx
