"""Datasets, the DataLoader and batched transforms (glassnet.data).

    from glassnet.data import DataLoader, FashionMNIST, transforms
    train = FashionMNIST(train=True, transform=transforms.RandomCrop(28, padding=2))
    for x, y in DataLoader(train, batch_size=128, shuffle=True, seed=0):
        ...  # x: float32 Tensor (128, 1, 28, 28), y: int64 Tensor (128,)

Real data: MNIST, FashionMNIST (IDX files, found locally or downloaded and verified).
Generated here, nothing to install: MNIST1D, Shapes, Clips. See docs/data.md.
"""

from . import transforms
from .clips import Clips
from .dataloader import DataLoader, default_collate
from .dataset import ArrayDataset, Dataset, Subset, TensorDataset, is_array_backed, random_split
from .download import ChecksumError, DownloadError, download_url
from .idx import read_idx, write_idx
from .mnist import MNIST, FashionMNIST
from .mnist1d import MNIST1D
from .shapes import Shapes
