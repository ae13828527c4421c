"""The command line on tiny data: every subcommand, and its one-line errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.serialization import load, save


def _run(*args, env=None):
    """glassnet in a subprocess (as a user runs it): (exit status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "glassnet", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    status = main(["train", "--dataset", "mnist1d", "--limit", "256", "--epochs", "2", "--batch-size", "32",
                   "--out", str(out), "--no-progress", "--optimizer", "adam", "--lr", "0.01"])
    assert status == 0
    return out


def test_train_writes_weights_metrics_and_figures(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]
    for key in ("train_loss", "train_accuracy", "val_accuracy", "seconds"):
        assert all(np.isfinite(e[key]) for e in metrics["epochs"])
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    for name in ("curves.png", "confusion.png"):
        data = (run_dir / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        import matplotlib.image
        image = matplotlib.image.imread(run_dir / name)
        assert image.std() > 0.01  # not a blank canvas
    assert (run_dir / "checkpoints").is_dir()


def test_eval_json_reports_accuracy(run_dir, capsys):
    assert main(["eval", str(run_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert result["accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert np.array(result["confusion_matrix"]).sum() == 1000  # the full MNIST-1D test split
    assert result["split"] == "test"


def test_predict_npy(run_dir, tmp_path, capsys):
    sample = np.random.default_rng(0).standard_normal((1, 40)).astype(np.float32)
    np.save(tmp_path / "x.npy", sample)
    assert main(["predict", str(run_dir), str(tmp_path / "x.npy"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    probs = result["probabilities"]
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    assert result["label"] == max(probs, key=probs.get)


def test_predict_rejects_wrong_shape(run_dir, tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((3, 7), np.float32))
    status, _, err = _run("predict", str(run_dir), str(tmp_path / "bad.npy"))
    assert status == 1 and "shape (3, 7)" in err and "(1, 40)" in err and "Traceback" not in err


def test_summary_prints_the_layer_table(capsys):
    assert main(["summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert "61,706" in out  # LeNet-5's parameter count
    assert "(6, 28, 28)" in out and "(10,)" in out


@pytest.mark.parametrize("args, message", [
    (["train", "--model", "nosuchnet", "--dataset", "mnist1d"], "unknown model 'nosuchnet'"),
    (["summary", "nosuchnet"], "unknown model 'nosuchnet'"),
    (["eval", "no/such/run"], "no trained model at no/such/run"),
])
def test_errors_are_one_line_without_traceback(args, message):
    status, _, err = _run(*args)
    assert status == 1
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_dataset_says_how_to_get_it(tmp_path):
    status, _, err = _run("train", "--dataset", "mnist", "--no-download", "--out", str(tmp_path / "r"),
                          env={"GLASSNET_DATA": str(tmp_path), "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)})
    assert status == 1 and "Traceback" not in err
    assert "GLASSNET_DATA" in err


def test_checkpoint_of_another_model_lists_mismatched_keys(run_dir, tmp_path):
    weights = load(run_dir / "model.safetensors")
    save(weights, tmp_path / "model.safetensors",
         metadata={"model": "lenet5", "classes": json.dumps([str(i) for i in range(10)])})
    status, _, err = _run("eval", str(tmp_path))
    assert status == 1 and "Traceback" not in err
    assert "lenet5" in err and "0.weight" in err


def test_corrupt_weights_file_is_a_clean_error(run_dir, tmp_path):
    data = (run_dir / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 2])
    status, _, err = _run("eval", str(tmp_path))
    assert status == 1 and "Traceback" not in err
    assert "model.safetensors is not a valid glassnet weights file: the tensors take" in err
    assert "does not fit" not in err  # broken, not made for another model


def test_debug_shows_the_traceback():
    status, _, err = _run("--debug", "summary", "nosuchnet")
    assert status != 0 and "Traceback" in err


def _weights_with(run_dir, tmp_path, change_state=None, **metadata):
    """A copy of run_dir's weights in tmp_path, its state and header fields changed."""
    from glassnet.serialization import load_metadata
    state = load(run_dir / "model.safetensors")
    if change_state is not None:
        change_state(state)
    path = tmp_path / "model.safetensors"
    save(state, path, metadata=load_metadata(run_dir / "model.safetensors"))
    data = path.read_bytes()  # the header edited by hand: save() writes glassnet.key_order itself
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header["__metadata__"].update(metadata)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + n:])
    return path


@pytest.mark.parametrize("field, value, message", [
    ("input_shape", "[1, 100000, 100000]", "field 'input_shape': expected a JSON list of 1 to 4 sizes"),
    ("classes", "5", "field 'classes': expected a JSON list of 1 to 100000 class names"),
    ("glassnet.key_order", "[not json", "field '__metadata__.glassnet.key_order': expected JSON"),
])
def test_hostile_header_fields_are_clean_errors(run_dir, tmp_path, capsys, field, value, message):
    weights = _weights_with(run_dir, tmp_path, **{field: value})
    np.save(tmp_path / "x.npy", np.zeros((1, 40), np.float32))
    assert main(["predict", str(weights), str(tmp_path / "x.npy")]) == 1
    err = capsys.readouterr().err
    assert f"{weights} is not a valid glassnet weights file: {message}" in err and "Traceback" not in err


@pytest.mark.parametrize("value, message", [(np.nan, "holds 1 NaN and 0 infinite value(s)"),
                                            (np.inf, "holds 0 NaN and 1 infinite value(s)")])
def test_non_finite_weights_are_refused(run_dir, tmp_path, capsys, value, message):
    def spoil(state):
        key = next(k for k, v in state.items() if v.dtype == np.float32)
        state[key].flat[0] = value
    weights = _weights_with(run_dir, tmp_path, spoil)
    assert main(["eval", str(weights), "--json"]) == 1
    err = capsys.readouterr().err
    assert f"{weights} is not a valid glassnet weights file: tensor" in err and message in err


def test_eval_json_is_json_even_when_the_loss_overflows(run_dir, tmp_path, capsys):
    def blow_up(state):  # finite weights whose logits overflow float32: the loss is not a number
        for key, v in state.items():
            if key.endswith("weight"):
                v *= np.float32(1e30)
    weights = _weights_with(run_dir, tmp_path, blow_up)
    assert main(["eval", str(weights), "--json"]) == 0
    out = capsys.readouterr().out

    def refuse(constant):
        raise AssertionError(f"{constant} in the output is not JSON")
    result = json.loads(out, parse_constant=refuse)
    assert result["loss"] is None and 0 <= result["accuracy"] <= 1


def test_predict_refuses_an_image_bomb_with_its_own_message(run_dir, tmp_path):
    from tests.data.test_images import png_of_zeros
    (tmp_path / "bomb.png").write_bytes(png_of_zeros(20000, 20000))
    status, _, err = _run("predict", str(run_dir), str(tmp_path / "bomb.png"))
    assert status == 1 and "Traceback" not in err and "DecompressionBomb" not in err
    assert f"{tmp_path / 'bomb.png'} is not a valid image: the image has 400,000,000 pixels, more than the 25,000,000" in err


# ---- predict: photos prepared like the training data ------------------------------------------

@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    """An (untrained) LeNet-5 saved as `glassnet train` saves a Fashion-MNIST model."""
    import glassnet
    from glassnet.models import get_model
    out = tmp_path_factory.mktemp("image_run")
    glassnet.manual_seed(0)
    model = get_model("lenet5", num_classes=10)
    classes = [f"class {i}" for i in range(10)]
    save(model.state_dict(), out / "model.safetensors",
         metadata={"model": "lenet5", "dataset": "fashion-mnist", "classes": json.dumps(classes),
                   "input_shape": json.dumps([1, 28, 28])})
    return out


def _dark_shirt_on_white():
    image = np.full((300, 300, 3), 235, dtype=np.uint8)
    image[60:250, 90:210] = (40, 50, 70)
    image[60:120, 50:250] = (40, 50, 70)
    return image


def _predict(capsys, run, path, *extra):
    assert main(["predict", str(run), str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_predict_prepares_a_photo_like_the_training_data(image_run, tmp_path, capsys):
    from PIL import Image
    from glassnet import no_grad, tensor
    from glassnet.models.trained import load_trained
    Image.fromarray(_dark_shirt_on_white()).save(tmp_path / "shirt.png")
    result = _predict(capsys, image_run, tmp_path / "shirt.png")
    notes = " ".join(result["preprocessing"])
    assert "turned grey" in notes and "inverted" in notes and "centred" in notes
    # what the model saw is the prepared photo (tests/data/test_preprocess.py checks its steps)
    from glassnet.data.preprocess import prepare_image
    sample, _ = prepare_image(_dark_shirt_on_white(), (28, 28), "fashion-mnist")
    assert sample[0, -1, 0] == 0 and sample[0, 14, 14] == pytest.approx(1, abs=0.05)  # light shirt on black
    model = load_trained(image_run).model
    with no_grad():
        logits = model(tensor(sample[None])).data[0].astype(np.float64)
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    got = np.array(list(result["probabilities"].values()))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # --raw skips the inversion and centring, and says so
    raw = _predict(capsys, image_run, tmp_path / "shirt.png", "--raw")
    assert any("--raw" in n for n in raw["preprocessing"]) and not any("inverted" in n for n in raw["preprocessing"])
    raw_probs = np.array(list(raw["probabilities"].values()))
    assert np.abs(raw_probs - got).max() > 1e-4


def test_png_and_uint8_npy_of_one_image_give_one_answer(image_run, tmp_path, capsys):
    from PIL import Image
    image = np.zeros((28, 28), np.uint8)
    image[5:23, 8:20] = 200
    Image.fromarray(image).save(tmp_path / "x.png")
    np.save(tmp_path / "x.npy", image)
    np.save(tmp_path / "x_float.npy", image.astype(np.float32) / 255)
    np.save(tmp_path / "x_chw.npy", image[None])
    answers = [_predict(capsys, image_run, tmp_path / name)["probabilities"]
               for name in ("x.png", "x.npy", "x_float.npy", "x_chw.npy")]
    for other in answers[1:]:
        assert other == pytest.approx(answers[0], abs=1e-6)


def test_predict_text_says_what_it_did(image_run, tmp_path):
    from PIL import Image
    Image.fromarray(_dark_shirt_on_white()).save(tmp_path / "shirt.png")
    status, out, err = _run("predict", str(image_run), str(tmp_path / "shirt.png"))
    assert status == 0, err
    first = out.splitlines()[0]
    assert first.startswith(f"input {tmp_path / 'shirt.png'}: 300x300 colour image, turned grey")
    assert "inverted" in first


# ---- eval -----------------------------------------------------------------------------------

def test_eval_confusion_matrix_has_headers(run_dir, capsys):
    assert main(["eval", str(run_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[1]
    assert "predicted" in header and "accuracy" in header
    assert header.split()[-10:] == [str(i) for i in range(10)]  # one column per predicted class
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for i, (row, counts) in enumerate(zip(lines[2:12], metrics["confusion_matrix"])):
        assert row.split()[0] == str(i) and [int(v) for v in row.split()[-10:]] == counts


def test_eval_on_a_data_set_of_another_shape_fails_before_loading(run_dir):
    status, _, err = _run("eval", str(run_dir), "--dataset", "shapes")
    assert status == 1 and "Traceback" not in err
    assert "(1, 40)" in err and "(1, 28, 28)" in err


# ---- train: defaults and early checks ------------------------------------------------------

def test_a_model_that_does_not_fit_the_data_fails_before_loading(tmp_path):
    # no Fashion-MNIST files anywhere and no download: only a check made before loading can answer
    status, _, err = _run("train", "--model", "cnn3d", "--dataset", "fashion-mnist", "--no-download",
                          "--out", str(tmp_path / "r"),
                          env={"GLASSNET_DATA": str(tmp_path), "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)})
    assert status == 1 and "Traceback" not in err
    assert "'cnn3d' cannot take fashion-mnist's samples of shape (1, 28, 28)" in err and "made for clips" in err


def test_every_data_sets_default_model_takes_its_samples():
    from glassnet.data.registry import DATASETS
    from glassnet.models import get_model
    from glassnet.models.trained import input_error
    for name, info in DATASETS.items():
        assert input_error(get_model(info.default_model), info.input_shape) is None, name
    # LeNet-5 for Fashion-MNIST: 85% after one epoch in seconds, where fashion_cnn needs many epochs
    assert DATASETS["fashion-mnist"].default_model == "lenet5"


# ---- help, listings, first-run notice -------------------------------------------------------

def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    # the data sets' own defaults differ here (glassnet datasets lists them), and agree on the momentum
    per_data_set = "(default: per data set, see `glassnet datasets`)"
    assert f"--epochs EPOCHS passes over the training data {per_data_set}" in out
    assert f"learning rate {per_data_set}" in out and f"model name {per_data_set}" in out
    assert "SGD's (Nesterov) momentum (default 0.9)" in out and "(default 0)" in out  # --seed
    assert "run directory (default: runs/latest)" in out and "validation split (default 0)" in out
    assert "Nesterov" in out
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "how many classes to list (default: 3)" in out and "--raw" in out


def test_models_lists_every_model_with_the_shapes_it_takes(capsys):
    from glassnet.models import MODELS, get_model
    assert main(["models"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:] if line.strip()}
    for name in MODELS:
        assert name in rows
        params = sum(p.numel() for p in get_model(name, num_classes=10).parameters())
        assert f"{params:,}" in rows[name]
    assert rows["lenet5"][1] == "1x28x28" and rows["mnist1d_cnn"][1] == "1x40" and rows["cnn3d"][1] == "1x8x16x16"


def test_datasets_lists_every_data_set_with_its_shape_and_model(capsys):
    from glassnet.data.registry import DATASETS
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name, info in DATASETS.items():
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert line.split()[1:3] == ["x".join(map(str, info.input_shape)), info.default_model]


def test_datasets_lists_each_data_sets_training_defaults_as_train_uses_them(capsys, tmp_path):
    from glassnet.data.registry import DATASETS
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if "--optimizer" in line)
    flags = lines[header].split()[2:]  # after "data set"
    assert flags == ["--optimizer", "--lr", "--momentum", "--weight-decay", "--batch-size", "--scheduler", "--epochs"]
    shown = {line.split()[0]: dict(zip(flags, line.split()[1:])) for line in lines[header + 1:header + 1 + len(DATASETS)]}
    assert set(shown) == set(DATASETS)
    # what a run without those flags records (the same settings list, read the other way round)
    for name in ("mnist1d", "clips"):  # generated: nothing to download
        out = tmp_path / name
        assert main(["train", "--dataset", name, "--limit", "40", "--epochs", "1", "--val-split", "0",
                     "--out", str(out), "--no-progress"]) == 0
        config = json.loads((out / "metrics.json").read_text())["config"]
        for flag, value in shown[name].items():
            key = flag[2:].replace("-", "_")
            if flag == "--epochs":
                assert config[key] == 1
            elif flag == "--momentum" and config["optimizer"] != "sgd":
                assert value == "-"  # Adam has no momentum to set
            else:
                assert str(config[key]) == value, (name, flag)
        assert config["model"] == DATASETS[name].default_model


def test_a_notice_while_kernels_compile_the_first_time(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    args = ("explain", "equivariance", "--kernel-name", "vertical")
    status, _, err = _run(*args, env=env)
    assert status == 0 and "compiling glassnet's kernels" in err and "first run only" in err
    status, _, err = _run(*args, env=env)  # the compiled kernels are cached now
    assert status == 0 and "compiling" not in err


def test_the_notice_looks_for_compiled_kernels_in_every_kernel_folder(tmp_path, monkeypatch, capsys):
    """numba caches each module beside it: the fast engine's in kernels/fast/__pycache__."""
    from glassnet import cli
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "cli.py"))
    cache = tmp_path / "kernels" / "fast" / "__pycache__"
    cache.mkdir(parents=True)
    cli.compile_notice()
    assert "compiling glassnet's kernels" in capsys.readouterr().err  # nothing compiled yet
    (cache / "im2col._fill-1.py311.nbi").write_bytes(b"")
    cli.compile_notice()
    assert capsys.readouterr().err == ""
