"""Datasets, the DataLoader and batched transforms (glassnet.data).

    from glassnet.data import DataLoader, FashionMNIST, transforms
    train = FashionMNIST(train=True, transform=transforms.RandomCrop(28, padding=2))
    for x, y in DataLoader(train, batch_size=128, shuffle=True, seed=0):
        ...  # x: float32 Tensor (128, 1, 28, 28), y: int64 Tensor (128,)

Samplers, worker processes (num_workers) and the rest of torch.utils.data's names: docs/data.md.
Real data: MNIST, FashionMNIST (IDX files, found locally or downloaded and verified).
Generated here, nothing to install: MNIST1D, Shapes, Clips. See docs/data.md.
"""

from . import transforms
from .clips import Clips
from ._worker import get_worker_info
from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (ArrayDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,
                      is_array_backed, random_split)
from .download import ChecksumError, DownloadError, download_url
from .idx import read_idx, write_idx
from .mnist import MNIST, FashionMNIST
from .mnist1d import MNIST1D
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .shapes import Shapes
