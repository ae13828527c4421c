"""`glassnet export RUN model.onnx` (a trained run opened in ONNX Runtime) and `--onnx` in
`glassnet explain` (count, receptive-field, features, filters, trace of an imported model)."""

import re

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import glassnet as gn  # noqa: E402
from glassnet import nn  # noqa: E402
from glassnet.cli import _load_trained, main  # noqa: E402
from glassnet.explain.cli import main as explain  # noqa: E402
from glassnet.onnx import export  # noqa: E402

from onnx_helpers import randn, run_glassnet, run_onnxruntime  # noqa: E402


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--dataset", "mnist1d", "--limit", "128", "--epochs", "1", "--batch-size", "32",
                 "--out", str(out), "--no-progress"]) == 0
    return out


def test_export_a_trained_run_and_run_it_in_onnxruntime(run_dir, tmp_path, capsys):
    path = tmp_path / "run.onnx"
    assert main(["export", str(run_dir), str(path)]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    model, meta, _ = _load_trained(str(run_dir))
    x = randn((5, 1, 40))  # mnist1d samples
    np.testing.assert_allclose(run_onnxruntime(path, x), run_glassnet(model, x), rtol=1e-4, atol=1e-5)


def test_export_of_a_missing_run_is_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none"), str(tmp_path / "m.onnx")]) == 1
    assert "no trained model at" in capsys.readouterr().err


@pytest.fixture(scope="module")
def cnn_file(tmp_path_factory):
    gn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3),
                          nn.ReLU(), nn.Flatten(), nn.Linear(6 * 4 * 4, 3))
    path = tmp_path_factory.mktemp("onnx") / "cnn.onnx"
    export(model, randn((1, 1, 12, 12)), path)
    return model, path


def test_explain_count_and_receptive_field_of_an_onnx_model(cnn_file, capsys):
    _, path = cnn_file
    assert explain(["count", "--onnx", str(path), "--input", "1x12x12"]) == 0
    out = capsys.readouterr().out
    assert "(4, 12, 12)" in out and "(6, 4, 4)" in out
    assert explain(["receptive-field", "--onnx", str(path), "--input", "1x12x12"]) == 0
    out = capsys.readouterr().out
    # conv 3 -> pool 2 -> conv 3: receptive field 3 + 1 + 2 * 2 = 8, jump 2, starting 1 before the image
    assert re.search(r"3: Conv2d\(4 -> 6.*\(6, 4, 4\)\s+8\s+2\s+-1\n", out), out


def test_explain_features_and_filters_of_an_onnx_model(cnn_file, tmp_path, capsys):
    _, path = cnn_file
    assert explain(["features", "--onnx", str(path), "--size", "12x12", "--out", str(tmp_path / "f.png")]) == 0
    out = capsys.readouterr().out
    assert "0: Conv2d: (4, 12, 12)" in out and (tmp_path / "f.png").stat().st_size > 0
    assert explain(["filters", "--onnx", str(path), "--out", str(tmp_path / "w.png")]) == 0
    assert (tmp_path / "w.png").stat().st_size > 0


def test_explain_trace_of_an_onnx_layer_matches_the_model(cnn_file, capsys):
    model, path = cnn_file
    x = randn((1, 12, 12), seed=5)
    text = "; ".join(", ".join(f"{v:.6f}" for v in row) for row in x[0])
    assert explain(["trace", "--onnx", str(path), "--layer", "3", "--input", text, "--at", "2,1,3"]) == 0
    out = capsys.readouterr().out
    with gn.no_grad():
        h = model[2](model[1](model[0](gn.tensor(x[None]))))
        expected = model[3](h).data[0, 2, 1, 3]
    assert f"the model's 3 output at (2, 1, 3): {expected:.6g}" in out
    assert out.count("×") == 4 * 9  # 4 input channels x a 3x3 kernel, every product written out
    total = next(line for line in out.splitlines() if line.startswith("= "))  # "= a + b + ... (bias) = value"
    value = float(total.rsplit("=", 1)[1])
    np.testing.assert_allclose(value, expected, rtol=1e-3, atol=1e-4)


def test_explain_trace_of_an_onnx_model_errors(cnn_file, capsys):
    _, path = cnn_file
    assert explain(["trace", "--onnx", str(path), "--layer", "9", "--input", "1"]) == 2
    assert "--layer '9' is not a convolution" in capsys.readouterr().err
    assert explain(["trace", "--onnx", str(path)]) == 2
    assert "give the model's input" in capsys.readouterr().err
