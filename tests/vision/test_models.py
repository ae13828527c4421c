"""glassnet.vision.models against torchvision's definitions. torchvision is not a test dependency,
so the reference here is torchvision's ResNet-18 rewritten with torch.nn (same module names): the
glassnet state_dict must load into it strictly (every key and shape), and both must compute the
same outputs and gradients. Parameter counts are torchvision's documented ones."""

import numpy as np
import pytest
import torch
import torch.nn as tnn

import glassnet
from glassnet import functional as F
from glassnet.vision import models


class TorchBasicBlock(tnn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU()
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchResNet18(tnn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU()
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        widths, c = (64, 128, 256, 512), 64
        for i, w in enumerate(widths):
            setattr(self, f"layer{i + 1}", tnn.Sequential(TorchBasicBlock(c, w, 1 if i == 0 else 2), TorchBasicBlock(w, w)))
            c = w
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@pytest.mark.parametrize("training", [False, True])
def test_resnet18_matches_torchvisions_architecture_outputs_and_gradients(training):
    glassnet.manual_seed(0)
    model = models.resnet18(num_classes=10)
    reference = TorchResNet18(10).double()
    state = {k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in model.state_dict().items()}
    reference.load_state_dict(state, strict=True)  # every key and shape as torchvision's
    model.double().train(training)
    reference.train(training)
    x = np.random.default_rng(1).standard_normal((2, 3, 64, 64))
    y = np.array([3, 7])
    out = model(glassnet.tensor(x, dtype=np.float64))
    tout = reference(torch.tensor(x))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-8, atol=1e-10)
    F.cross_entropy(out, glassnet.tensor(y)).backward()
    torch.nn.functional.cross_entropy(tout, torch.tensor(y)).backward()
    tgrads = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, tgrads[name].grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("name, count", [("resnet18", 11_689_512), ("resnet34", 21_797_672),
                                         ("resnet50", 25_557_032), ("alexnet", 61_100_840)])
def test_parameter_counts_are_torchvisions(name, count):
    assert sum(p.data.size for p in getattr(models, name)().parameters()) == count


def test_alexnet_output_and_keys():
    model = models.alexnet(num_classes=5).eval()
    assert model(glassnet.zeros(1, 3, 224, 224)).shape == (1, 5)
    assert {"features.0.weight", "features.10.bias", "classifier.1.weight", "classifier.6.bias"} <= set(model.state_dict())


def test_pretrained_weights_are_refused():
    with pytest.raises(ValueError, match="downloads no pretrained weights"):
        models.resnet18(weights="IMAGENET1K_V1")
