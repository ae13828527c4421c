"""The worked example of docs/onnx.md runs as written: a trained run exported and opened in ONNX
Runtime, and a PyTorch-trained CNN imported and traced with `glassnet explain`."""

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("torch")

from glassnet.cli import main  # noqa: E402
from glassnet.explain.cli import main as explain  # noqa: E402

PAGE = Path(__file__).resolve().parents[2] / "docs" / "onnx.md"


def python_block(containing: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    (block,) = [b for b in blocks if containing in b]
    return block


def test_worked_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--dataset", "shapes", "--epochs", "1", "--out", "runs/shapes", "--no-progress"]) == 0
    assert main(["export", "runs/shapes", "shapes.onnx"]) == 0
    capsys.readouterr()
    exec(python_block("ort.InferenceSession"), {})
    out = capsys.readouterr().out
    difference = float(re.search(r"largest difference from glassnet: (\S+)", out).group(1))
    assert difference < 1e-4

    exec(python_block("torch.onnx.export(net"), {})
    assert explain(["count", "--onnx", "torch_cnn.onnx", "--input", "1x28x28"]) == 0
    assert "conv2: Conv2d(8 -> 16, k=3, s=1, p=0)  (16, 12, 12)" in capsys.readouterr().out
    assert explain(["receptive-field", "--onnx", "torch_cnn.onnx", "--input", "1x28x28", "--layer", "conv2",
                    "--unit", "3,3"]) == 0
    assert "sees input [4..13] x [4..13]" in capsys.readouterr().out
    assert explain(["trace", "--onnx", "torch_cnn.onnx", "--layer", "conv2", "--image", "cross.png",
                    "--at", "0,3,3", "--figure", "trace.png"]) == 0
    out = capsys.readouterr().out
    traced = float(next(line for line in out.splitlines() if line.startswith("= ")).rsplit("=", 1)[1])
    computed = float(re.search(r"the model's conv2 output at \(0, 3, 3\): (\S+)", out).group(1))
    np.testing.assert_allclose(traced, computed, rtol=1e-3, atol=1e-3)
    assert (tmp_path / "trace.png").stat().st_size > 0
