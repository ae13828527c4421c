"""ONNX files written by torch.onnx.export imported into glassnet: LeNet-5, a VGG-style net, a
ResNet with residual blocks, a 1-D and a 3-D CNN, and the other operators PyTorch writes (Pad
for padding_mode='reflect', Resize, Concat, ConvTranspose, ...) give PyTorch's outputs; an
imported model fine-tunes in glassnet exactly as PyTorch trains the original."""

import warnings

import numpy as np
import pytest

pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

import glassnet as gn  # noqa: E402
from glassnet import functional as F  # noqa: E402
from glassnet import optim  # noqa: E402
from glassnet.onnx import load  # noqa: E402

tnn = torch.nn


def torch_export(model, sample_shape, path, opset=17, fold=True):
    """The TorchScript exporter (dynamo=False needs no extra package), batch axis dynamic.
    fold=True lets torch fold batch norm into the convolutions before it, as it does by default."""
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notice of the TorchScript exporter
        torch.onnx.export(model, (torch.randn((2,) + sample_shape),), str(path), dynamo=False,
                          opset_version=opset, do_constant_folding=fold, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    return path


class LeNet5(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = tnn.Conv2d(1, 6, 5, padding=2), tnn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = tnn.Linear(400, 120), tnn.Linear(120, 84), tnn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.nn.functional.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)  # exported as Shape -> Gather -> Unsqueeze -> Concat -> Reshape
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def vgg_style():
    def block(cin, cout):
        return [tnn.Conv2d(cin, cout, 3, padding=1), tnn.BatchNorm2d(cout), tnn.ReLU(),
                tnn.Conv2d(cout, cout, 3, padding=1), tnn.BatchNorm2d(cout), tnn.ReLU(), tnn.MaxPool2d(2)]
    return tnn.Sequential(*block(3, 8), *block(8, 16), tnn.AdaptiveAvgPool2d(1), tnn.Flatten(),
                          tnn.Dropout(0.5), tnn.Linear(16, 32), tnn.ReLU(), tnn.Dropout(0.5), tnn.Linear(32, 5))


class Block(tnn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(cout)
        self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(cout)
        self.down = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout)) \
            if stride != 1 or cin != cout else tnn.Identity()

    def forward(self, x):
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))) + self.down(x))


class ResNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.stem = tnn.Sequential(tnn.Conv2d(3, 8, 3, padding=1, bias=False), tnn.BatchNorm2d(8), tnn.ReLU())
        self.layers = tnn.Sequential(Block(8, 8, 1), Block(8, 16, 2), Block(16, 16, 1))
        self.fc = tnn.Linear(16, 4)

    def forward(self, x):
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(self.layers(self.stem(x)), 1), 1))


def cnn1d():
    return tnn.Sequential(tnn.Conv1d(2, 8, 5, padding=2), tnn.BatchNorm1d(8), tnn.LeakyReLU(0.1), tnn.MaxPool1d(2),
                          tnn.Conv1d(8, 8, 3, stride=2, dilation=2), tnn.ELU(), tnn.AdaptiveMaxPool1d(1),
                          tnn.Flatten(), tnn.Linear(8, 3), tnn.LogSoftmax(dim=1))


def cnn3d():
    return tnn.Sequential(tnn.Conv3d(1, 4, 3, padding=1), tnn.BatchNorm3d(4), tnn.ReLU(), tnn.MaxPool3d(2),
                          tnn.Conv3d(4, 8, (1, 3, 3), padding=(0, 1, 1)), tnn.Sigmoid(),
                          tnn.AvgPool3d(2, ceil_mode=True),
                          tnn.AdaptiveAvgPool3d(1), tnn.Flatten(), tnn.Linear(8, 2), tnn.Softmax(dim=1))


class Decoder(tnn.Module):
    """The other operators torch writes for image-to-image nets: reflect padding (a Pad before
    the Conv), transposed convolution, upsampling (Resize), concatenation, clamp (Clip)."""

    def __init__(self, mode):
        super().__init__()
        self.enc = tnn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect")
        self.down = tnn.Conv2d(4, 4, 3, stride=2, padding=1, padding_mode="replicate")
        self.up = tnn.ConvTranspose2d(4, 4, 2, stride=2)
        self.resize = tnn.Upsample(scale_factor=2, mode=mode, **({} if mode == "nearest" else {"align_corners": False}))
        self.head = tnn.Conv2d(12, 1, 1)

    def forward(self, x):
        e = torch.relu(self.enc(x))
        d = self.down(e)
        h = torch.cat([e, self.up(d), self.resize(d)], dim=1)
        return torch.clamp(self.head(h), -1.0, 1.0)


MODELS = {
    "lenet5": (LeNet5, (1, 28, 28)),
    "vgg_style": (vgg_style, (3, 16, 16)),
    "resnet": (ResNet, (3, 12, 12)),
    "cnn1d": (cnn1d, (2, 24)),
    "cnn3d": (cnn3d, (1, 6, 8, 8)),
    "decoder_nearest": (lambda: Decoder("nearest"), (2, 8, 8)),
    "decoder_bilinear": (lambda: Decoder("bilinear"), (2, 8, 8)),
}


def randomise_batch_norm(model):
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, tnn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g))
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=g))
    return model


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("opset", [13, 17])
def test_torch_model_matches_pytorch(name, opset, tmp_path):
    torch.manual_seed(0)
    build, shape = MODELS[name]
    model = randomise_batch_norm(build()).eval()
    imported = load(torch_export(model, shape, tmp_path / f"{name}.onnx", opset))
    for n in (1, 3, 5):
        x = torch.randn((n,) + shape)
        with torch.no_grad():
            expected = model(x).numpy()
        with gn.no_grad():
            got = imported(gn.tensor(x.numpy())).data
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_imported_layers_are_glassnet_layers(tmp_path):
    torch.manual_seed(0)
    model = ResNet()
    imported = load(torch_export(model, (3, 12, 12), tmp_path / "resnet.onnx", fold=False))
    kinds = {type(m).__name__ for m in imported.modules()}
    assert {"Conv2d", "BatchNorm2d", "ReLU", "AdaptiveAvgPool2d", "Linear"} <= kinds
    for cls, tcls in ((gn.nn.Conv2d, tnn.Conv2d), (gn.nn.BatchNorm2d, tnn.BatchNorm2d)):
        assert sum(isinstance(m, cls) for m in imported.modules()) == sum(isinstance(m, tcls) for m in model.modules())
    weights = sorted(tuple(m.weight.shape) for m in imported.modules() if isinstance(m, gn.nn.Conv2d))
    assert weights == sorted(tuple(m.weight.shape) for m in model.modules() if isinstance(m, tnn.Conv2d))


def test_reflect_padding_is_folded_into_the_convolution(tmp_path):
    torch.manual_seed(0)
    imported = load(torch_export(Decoder("nearest"), (2, 8, 8), tmp_path / "d.onnx"))
    modes = sorted(m.padding_mode for m in imported.modules() if isinstance(m, gn.nn.Conv2d))
    assert modes == ["reflect", "replicate", "zeros"]


@pytest.mark.parametrize("name", ["lenet5", "resnet"])
def test_fine_tuning_an_imported_model_follows_pytorch(name, tmp_path):
    """Three SGD steps with momentum on the imported model in glassnet and on the original in
    PyTorch, from the same weights on the same batches: the same losses, the same model after."""
    torch.manual_seed(1)
    build, shape = MODELS[name]
    model = build()
    imported = load(torch_export(model, shape, tmp_path / "m.onnx", fold=False))  # batch norm kept
    with torch.no_grad():  # in eval mode still: batch norm's running statistics stay as exported
        classes = model(torch.zeros((1,) + shape)).shape[1]
    model.train()
    imported.train()
    t_opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    g_opt = optim.SGD(imported.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((4,) + shape).astype(np.float32)
        y = rng.integers(0, classes, 4)
        t_loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        t_opt.zero_grad()
        t_loss.backward()
        t_opt.step()
        g_loss = F.cross_entropy(imported(gn.tensor(x)), gn.tensor(y))
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        np.testing.assert_allclose(g_loss.item(), t_loss.item(), rtol=1e-4)
    model.eval()
    imported.eval()
    x = rng.standard_normal((2,) + shape).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(imported(gn.tensor(x)).data, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["lenet5", "resnet", "decoder_bilinear"])
def test_an_imported_model_exports_again(name, tmp_path):
    """PyTorch -> ONNX -> glassnet -> ONNX -> ONNX Runtime still computes PyTorch's outputs."""
    pytest.importorskip("onnxruntime")
    from glassnet.onnx import export

    from onnx_helpers import run_onnxruntime

    torch.manual_seed(0)
    build, shape = MODELS[name]
    model = build().eval()
    imported = load(torch_export(model, shape, tmp_path / "torch.onnx"))
    export(imported, np.zeros((2,) + shape, np.float32), tmp_path / "again.onnx")
    x = np.random.default_rng(0).standard_normal((3,) + shape).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(run_onnxruntime(tmp_path / "again.onnx", x), expected, rtol=1e-4, atol=1e-5)
