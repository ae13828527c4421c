"""Without the optional onnx package, glassnet imports and runs, and export/load say how to get it."""

import sys

import numpy as np
import pytest

from glassnet import nn
from glassnet.onnx import export, load


def test_missing_onnx_package_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # what `import onnx` meets when it is not installed
    with pytest.raises(ImportError, match=r"pip install 'glassnet\[onnx\]'"):
        export(nn.ReLU(), np.zeros((1, 2), np.float32), tmp_path / "m.onnx")
    with pytest.raises(ImportError, match=r"pip install 'glassnet\[onnx\]'"):
        load(tmp_path / "m.onnx")
