"""`python -m glassnet.explain`: every subcommand's output, the figures it writes, and its errors."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from glassnet.explain.cli import main, parse_array, parse_layers

from viz.pngs import assert_valid_png  # the one PNG check, shared with tests/viz


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_matrix_pattern_and_values(capsys):
    status, out, _ = run(capsys, "matrix", "--input", "3", "--kernel-size", "2", "--out-channels", "2")
    assert status == 0
    assert "[[1 2 0]\n [0 1 2]\n [3 4 0]\n [0 3 4]]" in out
    assert "connections (non-zero entries): 8" in out and "zeros: 4" in out
    status, out, _ = run(capsys, "matrix", "--input", "10", "--kernel-size", "6")
    assert "parameters (weights): 6" in out and "connections (non-zero entries): 30" in out
    assert "zeros: 20" in out and "fully connected layer of the same size: 50 weights" in out
    status, out, _ = run(capsys, "matrix", "--input", "3", "--kernel=-2,1")
    assert status == 0 and "[[-2 1 0]\n [0 -2 1]]" in out


def test_output_size_count_receptive_field(capsys):
    status, out, _ = run(capsys, "output-size", "5", "3", "--stride", "2", "--padding", "1")
    assert status == 0 and out.strip().endswith("= floor(4/2) + 1 = 3")
    status, out, _ = run(capsys, "count", "--input", "1x10x10", "--layers", "conv(1, 20, 5, bias=False)")
    assert status == 0 and "(20, 6, 6)" in out and " 500 " in out
    status, out, _ = run(capsys, "receptive-field", "--input", "1x20",
                         "--layers", "conv(1,4,3,ndim=1); relu; conv(4,4,3,ndim=1)", "--unit", "3")
    assert status == 0 and "unit 3 of the last layer sees input [3..7]" in out


def test_count_a_zoo_model(capsys):
    models = pytest.importorskip("glassnet.models")
    status, out, _ = run(capsys, "count", "--model", "lenet5", "--input", "1x28x28")
    assert status == 0, out
    model = models.get_model("lenet5")
    total = sum(p.data.size for p in model.parameters())
    assert f"{total:,}" in out.splitlines()[-1]


def test_trace_text_and_figure(capsys, tmp_path):
    status, out, _ = run(capsys, "trace", "--at", "0,0", "--figure", str(tmp_path / "t.png"))
    assert status == 0
    assert "1×1 + 1×1 + 3×1 + 2×0 + 3×0 + 2×0 + 3×(-1) + 2×(-1) + 1×(-1) = 5 - 6 = -1" in out
    assert "[[-1 -4 -14]" in out
    assert_valid_png(tmp_path / "t.png")
    status, out, _ = run(capsys, "trace", "--input", "0,3,10,-2,5,1", "--op", "max", "--kernel-size", "3")
    assert "max(0, 3, 10) = 10" in out and "max(-2, 5, 1) = 5" in out
    status, out, _ = run(capsys, "trace", "--input", "1,2,3,4;1,3,2,3;3,2,1,4;6,1,1,2|4,3,1,2;2,6,1,2;1,3,1,2;3,2,1,0|"
                         "7,2,3,4;6,3,2,3;5,2,1,4;1,5,6,4",
                         "--kernel", "1,0,-1;1,0,-1;1,0,-1|2,0,-2;2,0,-2;2,0,-2|3,0,-3;3,0,-3;3,0,-3", "--at", "0,0")
    assert status == 0 and "= -1 + 8 + 36 = 43" in out


def test_kernels_listing(capsys):
    status, out, _ = run(capsys, "kernels")
    assert status == 0 and "scharr_x:" in out and "[[-3 0 3]" in out


@pytest.fixture
def image_files(tmp_path):
    img = np.zeros((30, 40, 3))
    img[8:22, 10:30] = [1.0, 0.6, 0.2]
    mpimg.imsave(tmp_path / "box.png", img)
    mpimg.imsave(tmp_path / "box.jpg", (img * 255).astype(np.uint8))
    return tmp_path / "box.png", tmp_path / "box.jpg"


@pytest.mark.parametrize("which", [0, 1])
def test_edges_writes_feature_maps(capsys, tmp_path, image_files, which):
    out_dir = tmp_path / "out"
    status, out, _ = run(capsys, "edges", str(image_files[which]), "--out", str(out_dir), "--pool", "2")
    assert status == 0
    for name in ("vertical", "horizontal", "slash", "backslash"):
        pixels = assert_valid_png(out_dir / f"box_{name}.png")
        f = pixels.shape[0] // 30  # small maps are enlarged by a whole factor to a readable size
        assert pixels.shape[:2] == (30 * f, 40 * f) and 30 * f >= 280  # padding 1 keeps the size
    assert_valid_png(out_dir / "box_edges.png")
    # the vertical map is bright on the box's left and right sides, dark inside it
    v = mpimg.imread(out_dir / "box_vertical.png")[..., 0][f // 2::f, f // 2::f]  # (30, 40): one pixel per cell
    assert v[15, 10] > 0.5 and v[15, 29] > 0.5 and v[15, 20] < 0.1


def test_filters_and_equivariance(capsys, tmp_path):
    status, out, _ = run(capsys, "filters", "--out", str(tmp_path / "f.png"), "--kernels", "sobel_x,sobel_y")
    assert status == 0
    assert_valid_png(tmp_path / "f.png")
    status, out, _ = run(capsys, "equivariance", "--kernel-name", "vertical")
    assert status == 0
    lines = out.splitlines()
    assert "T'f(x): the same transformation applied to the output" in out  # the terms are explained
    first = lines.index("convolution:")
    assert "translate: max |f(Tx) - T'f(x)| = 0 (relative 0)" in lines[first + 1]
    assert lines[first + 2].strip().startswith("-> equivariant")
    assert "rotate" in lines[first + 3] and "(relative 0)" not in lines[first + 3]
    assert lines[first + 4].strip().startswith("-> not equivariant") and "quarter turn" in lines[first + 4]


def test_features(capsys, tmp_path, image_files):
    import glassnet.functional as F
    if not hasattr(F, "max_pool2d"):
        pytest.skip("glassnet.functional.max_pool2d is not there yet")
    status, out, _ = run(capsys, "features", str(image_files[0]), "--out", str(tmp_path / "fm.png"))
    assert status == 0, out
    assert_valid_png(tmp_path / "fm.png")
    assert "2: MaxPool2d: (4, 15, 20)" in out


def test_errors_exit_2_with_a_message(capsys, tmp_path):
    status, _, err = run(capsys, "trace", "--kernel-name", "sobel")
    assert status == 2 and "unknown kernel 'sobel'" in err
    status, _, err = run(capsys, "edges", str(tmp_path / "missing.png"))
    assert status == 2 and "no such image file" in err
    (tmp_path / "bad.png").write_bytes(b"not an image")
    status, _, err = run(capsys, "edges", str(tmp_path / "bad.png"))
    assert status == 2 and "cannot read" in err
    status, _, err = run(capsys, "count", "--input", "1x5x5", "--layers", "__import__('os')")
    assert status == 2 and "unknown layer" in err
    status, _, err = run(capsys, "matrix", "--input", "5y5")
    assert status == 2 and "cannot read a shape from '5y5'" in err


def test_parsers():
    assert parse_array("1,2").shape == (2,)
    assert parse_array("1,2;3,4").shape == (2, 2)
    assert parse_array("1;2|3;4").shape == (2, 2, 1)
    assert [layer.kind for layer in parse_layers("conv(1, 2, 3); relu; max_pool(2); flatten")] == \
        ["conv", "pointwise", "max_pool", "flatten"]


def test_module_entry_point():
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "glassnet.explain", "output-size", "32", "3"],
                            capture_output=True, text=True, timeout=60, cwd=repo)
    assert result.returncode == 0 and result.stdout.strip().endswith("= 30")


def test_receptive_field_of_a_branching_model_and_a_chosen_layer(capsys):
    status, out, _ = run(capsys, "receptive-field", "--model", "resnet_small", "--input", "1x28x28",
                         "--unit", "0,0", "--layer", "layers.2")
    assert status == 0, out
    assert "layers.1.shortcut.0: Conv2d(16 -> 32, k=1, s=2, p=0)" in out
    assert out.strip().endswith("unit (0, 0) of layers.2: BasicBlock sees input [0..12] x [0..12] "
                                "(the first and last input it depends on)")
    status, out, _ = run(capsys, "receptive-field", "--layers", "conv(1, 1, 3, padding=3, ndim=1)", "--input", "1x5",
                         "--unit", "0")
    assert status == 0 and "unit 0 of the last layer sees no input: its window lies in the padding" in out
    status, out, _ = run(capsys, "receptive-field", "--layers", "conv(1,1,3,ndim=1); conv(1,1,3,ndim=1)",
                         "--unit", "2", "--layer", "1")
    assert status == 0 and "sees input [2..4] (its span, which may hang over into the padding)" in out
    status, _, err = run(capsys, "receptive-field", "--model", "resnet_small", "--unit", "0,0")
    assert status == 2 and "ResNet (a model with its own forward) needs input_shape" in err
    status, _, err = run(capsys, "receptive-field", "--model", "resnet_small", "--input", "1x28x28",
                         "--unit", "0,0", "--layer", "layers.7")
    assert status == 2 and "no layer named 'layers.7'" in err
    status, _, err = run(capsys, "receptive-field", "--layers", "conv(1,1,3,ndim=1)", "--layer", "0")
    assert status == 2 and "--layer picks the layer of --unit" in err


def test_grouped_trace(capsys):
    # two channels, groups=2: each output channel reads only its own input channel
    status, out, _ = run(capsys, "trace", "--input", "1,2,3;4,5,6;7,8,9|1,1,1;0,0,0;2,2,2",
                         "--kernel", "1,0;0,1|1,1;1,1", "--groups", "2", "--order", "C")
    assert status == 0, out
    assert "y[0, 0, 0] = 1×1 + 2×0 + 4×0 + 5×1 = 6" in out and "y[1, 1, 1] = 0×1 + 0×1 + 2×1 + 2×1 = 4" in out
    status, _, err = run(capsys, "trace", "--input", "1,2;3,4|1,2;3,4|1,2;3,4", "--kernel", "1|1", "--groups", "2")
    assert status == 2 and "not divisible by groups=2" in err


@pytest.mark.parametrize("via_glassnet", [True, False])
def test_program_name_in_usage(capsys, via_glassnet):
    # `glassnet explain ...` delegates to glassnet.explain.cli.main and names itself in help and errors
    from glassnet.cli import main as glassnet_main
    prog = "glassnet explain" if via_glassnet else "python -m glassnet.explain"
    call = (lambda argv: glassnet_main(["explain"] + argv)) if via_glassnet else main
    with pytest.raises(SystemExit) as exit_info:
        call(["--help"])
    out, _ = capsys.readouterr()
    assert exit_info.value.code == 0 and out.startswith(f"usage: {prog} [-h] COMMAND")
    with pytest.raises(SystemExit):
        call(["trace", "--help"])
    assert capsys.readouterr().out.startswith(f"usage: {prog} trace ")
    with pytest.raises(SystemExit) as exit_info:
        call(["no-such-command"])
    assert exit_info.value.code == 2 and f"{prog}: error: argument COMMAND" in capsys.readouterr().err
    assert main(["output-size", "5", "3"], prog="my-tool") == 0  # prog changes only the name shown


def test_trained_model_filters_and_features(capsys, tmp_path, image_files):
    models = pytest.importorskip("glassnet.models")
    from glassnet import serialization
    from glassnet.explain.cli import load_model
    model = models.get_model("lenet5")
    state = {k: np.asarray(v) for k, v in model.state_dict().items()}
    state["0.weight"] = np.arange(state["0.weight"].size, dtype=np.float32).reshape(state["0.weight"].shape)
    serialization.save(state, tmp_path / "lenet.safetensors")
    loaded = load_model("lenet5", str(tmp_path / "lenet.safetensors"))
    np.testing.assert_array_equal(np.asarray(loaded.state_dict()["0.weight"]), state["0.weight"])
    status, out, _ = run(capsys, "filters", "--model", "lenet5", "--checkpoint", str(tmp_path / "lenet.safetensors"),
                         "--out", str(tmp_path / "filters.png"))
    assert status == 0
    assert_valid_png(tmp_path / "filters.png")
    status, out, _ = run(capsys, "features", str(image_files[0]), "--model", "lenet5", "--size", "28x28",
                         "--checkpoint", str(tmp_path / "lenet.safetensors"), "--out", str(tmp_path / "fm.png"))
    assert status == 0, out
    assert_valid_png(tmp_path / "fm.png")
    assert "input: (1, 28, 28)" in out and "11: Linear: (10,)" in out


def test_features_of_a_colour_model(capsys, tmp_path, image_files, monkeypatch):
    nn = pytest.importorskip("glassnet.nn")
    import glassnet.explain.cli as cli
    monkeypatch.setattr(cli, "load_model_info",
                        lambda name, checkpoint, note=True: (nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU()), "rgb", None))
    status, out, _ = run(capsys, "features", str(image_files[1]), "--model", "rgb", "--out", str(tmp_path / "c.png"))
    assert status == 0, out
    assert "input: (3, 30, 40)" in out and "0: Conv2d: (2, 28, 38)" in out
    assert_valid_png(tmp_path / "c.png")


@pytest.fixture
def lenet_run(tmp_path):
    """A run directory as `glassnet train` leaves it: weights with the model named in the header
    (5 classes, so that a model built with the default 10 would not fit), and metrics.json."""
    import json
    models = pytest.importorskip("glassnet.models")
    from glassnet import serialization
    model = models.get_model("lenet5", num_classes=5)
    state = {k: np.asarray(v) for k, v in model.state_dict().items()}
    state["0.weight"] = np.linspace(-1, 1, state["0.weight"].size, dtype=np.float32).reshape(state["0.weight"].shape)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    serialization.save(state, run_dir / "model.safetensors",
                       metadata={"model": "lenet5", "dataset": "shapes", "classes": json.dumps(list("abcde")),
                                 "input_shape": json.dumps([1, 28, 28])})
    (run_dir / "metrics.json").write_text(json.dumps({"test_accuracy": 0.875}))
    return run_dir, state["0.weight"]


def test_filters_read_the_model_from_the_checkpoint(capsys, tmp_path, lenet_run):
    run_dir, weight = lenet_run
    for checkpoint in (run_dir, run_dir / "model.safetensors"):  # a run directory or its weights file
        status, _, err = run(capsys, "filters", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "f.png"))
        assert status == 0, err
        assert "untrained" not in err
    from glassnet.viz import plot_filters
    import glassnet.explain.cli as cli
    model, about, shape = cli.load_model_info(None, str(run_dir))
    assert about == "lenet5 trained on shapes, test accuracy 0.875" and shape == (1, 28, 28)
    fig = plot_filters(model, title=about)
    panels = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    np.testing.assert_array_equal(panels[0].images[0].get_array(), weight[0, 0])
    assert about in fig._suptitle.get_text()
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)


def test_filters_say_when_they_are_untrained(capsys, tmp_path, lenet_run):
    status, _, err = run(capsys, "filters", "--model", "lenet5", "--out", str(tmp_path / "f.png"))
    assert status == 0 and "untrained" in err and "--checkpoint" in err
    status, _, err = run(capsys, "filters", "--model", "fashion_cnn", "--checkpoint", str(lenet_run[0]),
                         "--out", str(tmp_path / "f.png"))
    assert status == 2 and "'lenet5' model, not 'fashion_cnn'" in err


def test_classic_kernel_panels_are_named_and_visible(tmp_path):
    from glassnet.explain import classic
    from glassnet.viz import plot_filters
    names = list(classic.kernels)
    fig = plot_filters(classic.kernel_bank(names), tmp_path / "k.png", names=names)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == names
    colours = {}
    for ax in panels:
        image = ax.images[0]
        colours[ax.get_title()] = rgb = image.cmap(image.norm(image.get_array()))[..., :3]  # (3, 3, 3)
        assert not np.allclose(rgb, 1, atol=0.05), f"{ax.get_title()} is drawn blank (all white)"
    gaussian = colours["gaussian"]
    assert np.abs(gaussian[1, 1] - gaussian[0, 0]).max() > 0.2  # its centre stands out from its corners
    box = panels[names.index("box")]
    assert [t.get_text() for t in box.texts] == ["0.11"] * 9


def test_features_suggest_the_input_size(capsys, tmp_path, image_files, lenet_run):
    status, _, err = run(capsys, "features", str(image_files[0]), "--checkpoint", str(lenet_run[0]),
                         "--out", str(tmp_path / "fm.png"))
    assert status == 2 and "(1, 28, 28)" in err and "(1, 30, 40)" in err and "--size 28x28" in err
    status, _, err = run(capsys, "features", str(image_files[0]), "--model", "lenet5", "--size", "32x32",
                         "--out", str(tmp_path / "fm.png"))
    assert status == 2 and "(1, 32, 32)" in err and "--size 28x28" in err


def test_negative_values_need_no_equals_sign(capsys):
    status, out, _ = run(capsys, "matrix", "--input", "3", "--kernel", "-2,1")  # as the help's example reads
    assert status == 0 and "[[-2 1 0]\n [0 -2 1]]" in out
    status, out, _ = run(capsys, "trace", "--input", "-1,2;3,-4", "--kernel", "-1,0;0,1", "--at", "0,0")
    assert status == 0 and "(-1)×(-1) + 3×0 + 2×0 + (-4)×1 = 1 - 4 = -3" in out
    with pytest.raises(SystemExit):
        main(["matrix", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "kernel values, e.g. '-2,1'" in help_text and "(default: 0)" in help_text  # --padding's default


def test_features_prepare_the_photo_as_predict_does(capsys, tmp_path, lenet_run, monkeypatch):
    import glassnet.viz
    from glassnet.data.preprocess import prepare_image
    photo = np.full((60, 50, 3), 0.9)
    photo[10:50, 15:35] = 0.1  # a dark object on a light background
    mpimg.imsave(tmp_path / "photo.png", photo)
    drawn = {}
    monkeypatch.setattr(glassnet.viz, "plot_feature_maps", lambda layers, path, **kw: drawn.update(layers=layers))
    status, out, err = run(capsys, "features", str(tmp_path / "photo.png"), "--checkpoint", str(lenet_run[0]),
                           "--prepare", "--out", str(tmp_path / "fm.png"))
    assert status == 0, err
    assert "prepared as `glassnet predict` does" in out and "inverted" in out and "input: (1, 28, 28)" in out
    expected, _ = prepare_image(mpimg.imread(tmp_path / "photo.png"), (28, 28), "shapes")
    name, shown = drawn["layers"][0]
    assert name == "input"
    np.testing.assert_array_equal(shown, expected)  # the model saw what predict would feed it
    assert shown[0, 0, 0] == 0 and shown[0, 14, 14] > 0.9  # light object on black
