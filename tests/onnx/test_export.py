"""glassnet -> ONNX -> ONNX Runtime: every model of the zoo and one test model per layer family
give glassnet's outputs at several batch sizes (the batch axis is dynamic), and so does the file
imported back into glassnet; the files pass the ONNX checker; layers that cannot be written give
errors naming them."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import glassnet as gn  # noqa: E402
from glassnet import models, nn  # noqa: E402
from glassnet.nn import tables  # noqa: E402
from glassnet.onnx import OnnxError, export, load  # noqa: E402

from onnx_helpers import randn, randomise_batch_norm, run_glassnet, run_onnxruntime  # noqa: E402

ZOO_INPUTS = {"mnist1d_cnn": (1, 40), "cnn3d": (1, 8, 12, 12)}  # the others take (1, 28, 28)
BATCHES = (1, 3, 8)


def check_round_trip(model, sample_shape, tmp_path, opset=18, atol=1e-5):
    """Export with a batch of 2, then compare ONNX Runtime, and the file imported back into
    glassnet, with the original model at several batch sizes."""
    path = tmp_path / "model.onnx"
    export(model, randn((2,) + sample_shape, seed=99), path, opset_version=opset)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    imported = load(path)
    for n in BATCHES:
        x = randn((n,) + sample_shape, seed=n)
        expected = run_glassnet(model, x)
        for got in (run_onnxruntime(path, x), run_glassnet(imported, x)):
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=atol)
    return path


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_zoo_round_trip(name, tmp_path):
    gn.manual_seed(0)
    model = randomise_batch_norm(models.get_model(name))
    check_round_trip(model, ZOO_INPUTS.get(name, (1, 28, 28)), tmp_path)


class Residual(nn.Module):
    """A residual addition and a concatenation between layers, as a custom forward writes them."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 1)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        a = self.a(x)
        h = gn.cat([a + self.b(x), (a * 0.5).tanh()], dim=1)
        return self.head(h).flatten(1).softmax(1)


FAMILIES = {
    # convolutions of every rank and padding form
    "conv1d_same_stride": (lambda: nn.Conv1d(2, 3, 4, stride=2, padding="same"), (2, 11)),
    "conv2d_full_dilated": (lambda: nn.Conv2d(2, 3, 3, padding="full", dilation=2), (2, 9, 8)),
    "conv2d_asymmetric_groups": (lambda: nn.Conv2d(4, 6, (3, 2), padding=((1, 2), (0, 1)), groups=2), (4, 7, 6)),
    "conv2d_reflect": (lambda: nn.Conv2d(2, 3, 3, padding=2, padding_mode="reflect"), (2, 7, 8)),
    "conv2d_replicate_flip": (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate", flip=True),
                              (2, 6, 6)),
    "conv3d_same": (lambda: nn.Conv3d(2, 3, 3, padding="same", bias=False), (2, 5, 6, 4)),
    "conv_transpose1d": (lambda: nn.ConvTranspose1d(2, 3, 3, stride=2, padding=1, output_padding=1), (2, 6)),
    "conv_transpose2d_groups": (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2, dilation=2), (4, 5, 4)),
    "conv_transpose3d": (lambda: nn.ConvTranspose3d(2, 2, 2, stride=2), (2, 3, 4, 3)),
    # pooling
    "max_pool2d_ceil": (lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 8, 9)),
    "max_pool1d_dilated": (lambda: nn.MaxPool1d(2, stride=1, dilation=2), (2, 9)),
    "max_pool3d": (lambda: nn.MaxPool3d(2), (2, 4, 6, 4)),
    "avg_pool2d_ceil_no_pad_count": (lambda: nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False),
                                     (2, 8, 9)),
    "avg_pool1d": (lambda: nn.AvgPool1d(3, 2, padding=1), (2, 10)),
    "avg_pool2d_divisor": (lambda: nn.AvgPool2d(2, divisor_override=3), (2, 6, 6)),
    "avg_pool3d": (lambda: nn.AvgPool3d(2, stride=1), (2, 4, 4, 5)),
    "adaptive_avg_pool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 8, 9)),
    "adaptive_max_pool1d": (lambda: nn.AdaptiveMaxPool1d(4), (2, 12)),
    "global_max_pool3d": (lambda: nn.AdaptiveMaxPool3d(1), (2, 3, 4, 5)),
    # normalisation, activations, dense
    "batch_norm1d_flat": (lambda: randomise_batch_norm(nn.BatchNorm1d(5)), (5,)),
    "batch_norm1d_sequence": (lambda: randomise_batch_norm(nn.Sequential(nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3))),
                              (2, 9)),
    "batch_norm3d_scale_only": (lambda: randomise_batch_norm(nn.BatchNorm3d(2, bias=False)), (2, 3, 4, 3)),
    "batch_norm2d": (lambda: randomise_batch_norm(nn.Sequential(nn.BatchNorm2d(3, affine=False),
                                                                nn.BatchNorm2d(3, momentum=None))), (3, 4, 4)),
    "activations": (lambda: nn.Sequential(nn.LeakyReLU(0.2), nn.ELU(0.7), nn.Tanh(), nn.ReLU(), nn.Sigmoid()), (3, 5)),
    "softmax": (lambda: nn.Sequential(nn.Softmax(dim=1), nn.LogSoftmax(dim=-1)), (3, 5)),
    "linear_3d_input": (lambda: nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 3, bias=False)), (2, 5)),
    "mlp_dropout": (lambda: nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(12, 4), nn.Identity()), (3, 4)),
    "flatten_unflatten": (lambda: nn.Sequential(nn.Flatten(2), nn.Unflatten(2, (2, 6))), (3, 4, 3)),
    "residual_concat": (Residual, (3, 6, 6)),
    # glassnet's own layers
    "locally_connected1d": (lambda: nn.LocallyConnected1d(2, 3, 3, stride=2, padding=1, input_size=9), (2, 9)),
    "locally_connected2d_groups": (lambda: nn.LocallyConnected2d(4, 2, 3, groups=2, input_size=(6, 5),
                                                                 bias_mode="channel"), (4, 6, 5)),
    "locally_connected3d": (lambda: nn.LocallyConnected3d(1, 2, 2, input_size=(3, 4, 3)), (1, 3, 4, 3)),
    "tiled_conv2d": (lambda: nn.TiledConv2d(2, 3, 3, padding=1, tiles=(2, 3), bias_mode="tile"), (2, 7, 8)),
    "tiled_conv1d_reflect": (lambda: nn.TiledConv1d(2, 2, 3, padding=1, padding_mode="reflect", tiles=3), (2, 10)),
    "conv_map2d": (lambda: nn.ConvMap2d(6, 16, 5, table=tables.lenet5_c3()), (6, 9, 9)),
    "conv_map1d_padded": (lambda: nn.ConvMap1d(3, 4, 3, padding=1, table=tables.random(3, 4, 2, seed=0)), (3, 8)),
    "subsampling2d": (lambda: nn.Subsampling2d(3, 2), (3, 6, 7)),
    "subsampling1d_padded": (lambda: nn.Subsampling1d(2, 3, stride=2, padding=1, bias=False), (2, 9)),
    "p4": (lambda: nn.Sequential(nn.P4LiftConv2d(2, 3, 3, padding=1), nn.ReLU(), nn.P4Conv2d(3, 2, 3, stride=2),
                                 nn.P4Pool("max")), (2, 9, 9)),
    "p4_avg_pool": (lambda: nn.Sequential(nn.P4LiftConv2d(1, 2, 2), nn.P4Pool("avg")), (1, 5, 5)),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_layer_family_round_trip(family, tmp_path):
    gn.manual_seed(1)
    build, shape = FAMILIES[family]
    check_round_trip(build(), shape, tmp_path)


@pytest.mark.parametrize("family", ["p4", "p4_avg_pool", "conv2d_reflect", "tiled_conv1d_reflect",
                                    "max_pool2d_ceil", "softmax"])
def test_oldest_opset_round_trip(family, tmp_path):
    """Opset 13: reductions take their axes as an attribute, not an input (from 18 on)."""
    gn.manual_seed(1)
    build, shape = FAMILIES[family]
    check_round_trip(build(), shape, tmp_path, opset=13)


def test_circular_padding_needs_opset_19(tmp_path):
    gn.manual_seed(2)
    model = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    with pytest.raises(OnnxError, match=r"'Conv2d'.*circular.*opset_version >= 19"):
        export(model, randn((1, 2, 5, 5)), tmp_path / "m.onnx")
    check_round_trip(model, (2, 5, 5), tmp_path, opset=19)


def test_graph_has_named_weights_and_dynamic_batch(tmp_path):
    gn.manual_seed(3)
    model = models.lenet5()
    proto = export(model, randn((4, 1, 28, 28)), tmp_path / "lenet.onnx")
    init = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(init[key], value)
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert (inp.name, out.name) == ("input", "output")
    assert inp.type.tensor_type.shape.dim[0].dim_param == "N"
    assert out.type.tensor_type.shape.dim[0].dim_param == "N"
    assert [d.dim_value for d in inp.type.tensor_type.shape.dim[1:]] == [1, 28, 28]
    assert proto.graph.value_info, "shape inference should annotate the intermediate values"


def test_export_restores_each_module_s_mode(tmp_path):
    model = models.allconv()
    model.train()
    model[1].eval()  # a frozen batch norm inside a model that trains
    export(model, randn((1, 1, 8, 8)), tmp_path / "m.onnx")
    assert [m.training for m in model.modules()] == [m is not model[1] for m in model.modules()]


@pytest.mark.parametrize("model, shape, message", [
    (lambda: nn.MaxPool2d(2, return_indices=True), (1, 1, 4, 4), r"layer 'MaxPool2d' \(MaxPool2d\): return_indices"),
    (lambda: nn.Sequential(nn.AdaptiveAvgPool2d(3)), (1, 1, 7, 7), r"layer '0' \(AdaptiveAvgPool2d\).*does not divide"),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, track_running_stats=False)), (2, 1, 5, 5),
     r"layer '1' \(BatchNorm2d\): track_running_stats=False"),
])
def test_layers_that_cannot_be_expressed_are_named(model, shape, message, tmp_path):
    with pytest.raises(OnnxError, match=message):
        export(model(), randn(shape), tmp_path / "m.onnx")


class Indexing(nn.Module):
    def forward(self, x):
        return x[:, :1] * 2


def test_unsupported_operation_between_layers_is_named(tmp_path):
    with pytest.raises(OnnxError, match=r"cannot export the operation GetItem \(in a forward, between layers\)"):
        export(Indexing(), randn((1, 2, 3)), tmp_path / "m.onnx")


def test_bad_example_input_and_opset(tmp_path):
    with pytest.raises(OnnxError, match="float32 example input, got float64"):
        export(nn.ReLU(), np.zeros((1, 2)), tmp_path / "m.onnx")
    with pytest.raises(OnnxError, match="opset_version must be between 13 and"):
        export(nn.ReLU(), randn((1, 2)), tmp_path / "m.onnx", opset_version=9)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Conv1d(2, 3, 3)
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        h = self.body(x).relu()
        return h, self.head(h.mean(2))


def test_several_outputs_and_custom_names(tmp_path):
    import onnxruntime as ort
    gn.manual_seed(4)
    model = TwoHeads()
    path = tmp_path / "two.onnx"
    export(model, randn((2, 2, 7)), path, input_names=["signal"], output_names=["maps", "scores"])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["maps", "scores"]
    x = randn((4, 2, 7), seed=8)
    maps, scores = session.run(None, {"signal": x})
    model.eval()
    with gn.no_grad():
        expected = model(gn.tensor(x))
    np.testing.assert_allclose(maps, expected[0].data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores, expected[1].data, rtol=1e-5, atol=1e-6)
    imported = load(path)
    got = imported(gn.tensor(x))
    np.testing.assert_allclose(got[1].data, expected[1].data, rtol=1e-5, atol=1e-6)
