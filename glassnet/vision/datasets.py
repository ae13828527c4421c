"""torchvision.datasets' MNIST and FashionMNIST: one (PIL image, class index) sample at a time.

MNIST(root, train=True, transform=None, target_transform=None, download=False), as torchvision.
The files are found (or, with download=True, downloaded and verified) by glassnet.data's
readers, so the same places are searched: root, $GLASSNET_DATA, the user cache and, for
Fashion-MNIST, Debian's dataset-fashion-mnist. `.data` is the uint8 image tensor (N, 28, 28),
`.targets` the int64 labels (N,), `.classes` the class names.
"""

from __future__ import annotations

from PIL import Image

from .. import data as _data
from ..data.dataset import Dataset
from ..tensor import Tensor


class _VisionDataset(Dataset):
    _source: type = None

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        arrays = self._source(root, train=train, download=download)
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        self.data = Tensor._wrap(arrays.data)  # (N, 28, 28) uint8
        self.targets = Tensor._wrap(arrays.targets)  # (N,) int64
        self.classes = list(arrays.classes)

    def __len__(self) -> int:
        return len(self.data.data)

    def __getitem__(self, index: int):
        """(image, target): a PIL image of mode 'L' through `transform`, an int through `target_transform`."""
        image = Image.fromarray(self.data.data[index], mode="L")
        target = int(self.targets.data[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Split: {'Train' if self.train else 'Test'}")


class MNIST(_VisionDataset):
    _source = _data.MNIST


class FashionMNIST(_VisionDataset):
    _source = _data.FashionMNIST


__all__ = ["MNIST", "FashionMNIST"]
