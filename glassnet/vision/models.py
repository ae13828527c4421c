"""torchvision.models' classic CNNs: AlexNet, VGG and ResNet, with torchvision's architecture,
initialisation and state_dict keys (so weights trained in PyTorch load by name).

    model = glassnet.vision.models.resnet18(num_classes=10)

No pretrained weights are downloaded (`weights=` other than None is refused: glassnet loads no
files from a hub); train them, or load a state_dict saved from PyTorch as safetensors.
"""

from __future__ import annotations

from .. import nn
from ..nn import init


def _no_weights(weights, name: str) -> None:
    if weights not in (None, False):
        raise ValueError(f"{name}: glassnet downloads no pretrained weights (got weights={weights!r}); build it "
                         "with weights=None and load a state_dict you saved (glassnet.load)")


# ---- AlexNet (Krizhevsky et al. 2012, torchvision's one-GPU variant) ---------------------------

class AlexNet(nn.Module):
    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))  # (N, 256, 6, 6)
        return self.classifier(x.flatten(1))  # (N, 9216) -> (N, num_classes)


def alexnet(*, weights=None, progress: bool = True, **kwargs) -> AlexNet:
    _no_weights(weights, "alexnet")
    return AlexNet(**kwargs)


# ---- VGG (Simonyan & Zisserman 2015) ------------------------------------------------------------

_VGG = {"A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
        "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
        "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
        "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]}


def _vgg_features(cfg: list, batch_norm: bool) -> nn.Sequential:
    layers, channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        layers.append(nn.Conv2d(channels, v, 3, padding=1))
        layers += [nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else [nn.ReLU(inplace=True)]
        channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True, dropout: float = 0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(dropout), nn.Linear(4096, num_classes))
        if init_weights:  # torchvision's: He for the convolutions, N(0, 0.01) for the dense layers
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    init.ones_(m.weight)
                    init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    init.normal_(m.weight, 0, 0.01)
                    init.zeros_(m.bias)

    def forward(self, x):
        x = self.avgpool(self.features(x))  # (N, 512, 7, 7)
        return self.classifier(x.flatten(1))


def _vgg(cfg: str, batch_norm: bool, weights, name: str, **kwargs) -> VGG:
    _no_weights(weights, name)
    return VGG(_vgg_features(_VGG[cfg], batch_norm), **kwargs)


def vgg11(*, weights=None, progress=True, **kw): return _vgg("A", False, weights, "vgg11", **kw)  # noqa: E704
def vgg11_bn(*, weights=None, progress=True, **kw): return _vgg("A", True, weights, "vgg11_bn", **kw)  # noqa: E704
def vgg13(*, weights=None, progress=True, **kw): return _vgg("B", False, weights, "vgg13", **kw)  # noqa: E704
def vgg13_bn(*, weights=None, progress=True, **kw): return _vgg("B", True, weights, "vgg13_bn", **kw)  # noqa: E704
def vgg16(*, weights=None, progress=True, **kw): return _vgg("D", False, weights, "vgg16", **kw)  # noqa: E704
def vgg16_bn(*, weights=None, progress=True, **kw): return _vgg("D", True, weights, "vgg16_bn", **kw)  # noqa: E704
def vgg19(*, weights=None, progress=True, **kw): return _vgg("E", False, weights, "vgg19", **kw)  # noqa: E704
def vgg19_bn(*, weights=None, progress=True, **kw): return _vgg("E", True, weights, "vgg19_bn", **kw)  # noqa: E704


# ---- ResNet (He et al. 2016) ---------------------------------------------------------------------

class BasicBlock(nn.Module):
    """Two 3x3 convolutions and the identity (or a strided 1x1 projection) added: y = relu(F(x) + x)."""
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 (reduce), 3x3 (with the stride, as torchvision's ResNet v1.5), 1x1 (expand by 4), + identity."""
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual: bool = False):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                init.ones_(m.weight)
                init.zeros_(m.bias)
        if zero_init_residual:  # each block starts as the identity
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    init.zeros_(m.bn3.weight if isinstance(m, Bottleneck) else m.bn2.weight)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, 512 e, H/32, W/32)
        return self.fc(self.avgpool(x).flatten(1))


def _resnet(block, layers, weights, name: str, **kwargs) -> ResNet:
    _no_weights(weights, name)
    return ResNet(block, layers, **kwargs)


def resnet18(*, weights=None, progress=True, **kw): return _resnet(BasicBlock, [2, 2, 2, 2], weights, "resnet18", **kw)  # noqa: E704,E501
def resnet34(*, weights=None, progress=True, **kw): return _resnet(BasicBlock, [3, 4, 6, 3], weights, "resnet34", **kw)  # noqa: E704,E501
def resnet50(*, weights=None, progress=True, **kw): return _resnet(Bottleneck, [3, 4, 6, 3], weights, "resnet50", **kw)  # noqa: E704,E501
def resnet101(*, weights=None, progress=True, **kw): return _resnet(Bottleneck, [3, 4, 23, 3], weights, "resnet101", **kw)  # noqa: E704,E501
def resnet152(*, weights=None, progress=True, **kw): return _resnet(Bottleneck, [3, 8, 36, 3], weights, "resnet152", **kw)  # noqa: E704,E501


__all__ = ["AlexNet", "VGG", "ResNet", "BasicBlock", "Bottleneck", "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn",
           "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
