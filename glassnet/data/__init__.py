"""Datasets, the DataLoader and batched transforms (glassnet.data).

    from glassnet.data import DataLoader, FashionMNIST, transforms
    train = FashionMNIST(train=True, transform=transforms.RandomCrop(28, padding=2))
    for x, y in DataLoader(train, batch_size=128, shuffle=True, seed=0):
        ...  # x: float32 Tensor (128, 1, 28, 28), y: int64 Tensor (128,)

See docs/data.md for where the files come from and how each generated dataset is made.
"""

from . import transforms
from .dataloader import DataLoader, default_collate
from .dataset import ArrayDataset, Dataset, Subset, TensorDataset, is_array_backed, random_split
