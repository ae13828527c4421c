"""examples/porting_tutorial.py (the worked example of docs/porting.md) runs end to end on the
built-in shapes data, learns, and its ONNX file opens with the explain tools."""

import importlib.util
import os

import numpy as np
import pytest

import glassnet

pytest.importorskip("onnx")

_PATH = os.path.join(os.path.dirname(__file__), "..", "examples", "porting_tutorial.py")
_spec = importlib.util.spec_from_file_location("porting_tutorial", _PATH)
porting_tutorial = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(porting_tutorial)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("porting") / "net.onnx")
    result = porting_tutorial.main(["--data", "shapes", "--epochs", "2", "--limit", "1024", "--onnx", path])
    return result, path


def test_tiny_run_learns(trained):
    result, _ = trained
    assert result["accuracy"] > 0.4  # five classes: chance is 0.2


def test_onnx_file_computes_what_the_trained_model_computes(trained):
    result, path = trained
    model = result["model"].eval()
    imported = glassnet.onnx.load(path)
    x = glassnet.tensor(np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32))
    with glassnet.no_grad():
        np.testing.assert_allclose(imported(x).data, model(x).data, rtol=1e-4, atol=1e-5)


def test_receptive_field_of_the_imported_model(trained):
    from glassnet.explain.receptive import receptive_field
    _, path = trained
    rf = receptive_field(glassnet.onnx.load(path), input_shape=(1, 28, 28))
    # reference: size grows by (k - 1) * jump per layer, jump by the stride
    size, jump = 1, 1
    for k, s in ((3, 1), (3, 1), (2, 2)):  # conv1, conv2, pool
        size, jump = size + (k - 1) * jump, jump * s
    text = str(rf)
    row = next(line for line in text.splitlines() if line.startswith("pool"))
    assert row.split()[-3:] == [str(size), str(jump), "0"], row
