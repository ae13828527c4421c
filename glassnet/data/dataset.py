"""Datasets: indexable collections of (input, target) samples, named as in `torch.utils.data`.

Three ways to be a dataset:

- a *map-style* dataset: `__len__` and `__getitem__(i) -> sample` (any Python object), the
  PyTorch protocol. The DataLoader fetches such samples one by one and collates them.
- an *array-backed* dataset (`ArrayDataset` and everything built on it: TensorDataset, MNIST,
  FashionMNIST, MNIST1D, Shapes, Clips; Subsets and ConcatDatasets of them): the samples are
  rows of NumPy arrays, and `get_batch(indices, generator)` returns a whole batch with one
  fancy-indexing step per array. The DataLoader uses that path, so no Python loop runs over the
  samples of a batch.
- an *iterable* dataset (`IterableDataset`): a stream of samples read in order.

Transforms of an array-backed dataset are *batched*: `transform(x, generator=g)` gets the
inputs of a whole batch, shape (B, C, *spatial), and draws its randomness from `g` (see
glassnet.data.transforms).
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Sequence

import numpy as np

from ..random import default_generator
from ..tensor import Tensor
from .sampler import _check_generator


class Dataset:
    """Base class of map-style datasets: PyTorch's Dataset. Subclasses define `__len__` (the
    number of samples) and `__getitem__(index)` (one sample, usually an (input, target) pair).
    `a + b` concatenates two datasets (a ConcatDataset).

    Examples:
        >>> from glassnet.data import Dataset
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return i, i * i
        >>> squares = Squares()
        >>> len(squares), squares[3]
        (4, (3, 9))
        >>> both = squares + squares
        >>> len(both), both[5]
        (8, (1, 1))
    """

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} must define __len__()")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of datasets that are a stream of samples: subclasses define `__iter__`.

    The DataLoader reads the stream in order (no sampler, no shuffle). With num_workers > 0 every
    worker iterates its own copy, so `__iter__` should read only its share, found with
    glassnet.data.get_worker_info() (id, num_workers), or each sample comes once per worker.

    Examples:
        >>> from glassnet.data import DataLoader, IterableDataset, get_worker_info
        >>> class Numbers(IterableDataset):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         info = get_worker_info()        # None in the main process: read everything
        ...         start, step = (0, 1) if info is None else (info.id, info.num_workers)
        ...         return iter(range(start, self.n, step))
        >>> [batch.tolist() for batch in DataLoader(Numbers(5), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __iter__(self):
        raise TypeError(f"{type(self).__name__} must define __iter__()")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an iterable dataset: it has no __getitem__")


def _as_array(a) -> np.ndarray:
    return a.data if isinstance(a, Tensor) else np.asarray(a)


def _apply_transform(transform, x: np.ndarray, generator: np.random.Generator | None) -> np.ndarray:
    """Call a batched transform, passing the generator to those that take one."""
    if transform is None:
        return x
    # a plain function x -> x (no generator parameter) is a valid deterministic transform
    return transform(x, generator=generator) if _takes_generator(transform) else transform(x)


def _takes_generator(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return any(p.name == "generator" or p.kind is p.VAR_KEYWORD for p in params)


class ArrayDataset(Dataset):
    """Samples are rows of NumPy arrays: sample i is (inputs[i], targets[i]). The DataLoader
    fetches a whole batch at once with `get_batch` (one fancy index, no Python loop over samples).

    Args:
        inputs: (N, *sample_shape), any dtype (uint8 images are stored as they are and converted
            per batch by `input_fn`); a Tensor is read as its array.
        targets: (N,) integer class labels or (N, ...) anything.
        transform: a batched transform applied to fetched inputs (see the module docstring).
        target_transform: the same for targets.
        input_fn: array -> array applied to a fetched batch before `transform` (e.g. uint8 ->
            float32 in [0, 1]).

    Shape:
        dataset[i] -> (sample_shape, target_shape); get_batch(indices) -> ((B, *sample_shape),
        (B, ...)) for B indices.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import ArrayDataset
        >>> images = np.zeros((100, 1, 28, 28), np.uint8)
        >>> data = ArrayDataset(images, np.arange(100) % 10, input_fn=lambda x: x.astype(np.float32) / 255)
        >>> x, y = data[13]
        >>> len(data), x.shape, x.dtype, int(y)
        (100, (1, 28, 28), dtype('float32'), 3)
        >>> xb, yb = data.get_batch([0, 1, 2])
        >>> xb.shape, yb.tolist()
        ((3, 1, 28, 28), [0, 1, 2])
    """

    def __init__(self, inputs, targets, transform=None, target_transform=None, input_fn=None):
        inputs, targets = _as_array(inputs), _as_array(targets)
        if len(inputs) != len(targets):
            raise ValueError(f"inputs and targets must have the same number of samples, got "
                             f"inputs of shape {inputs.shape} and targets of shape {targets.shape}")
        self.data, self.targets = inputs, targets
        self.transform, self.target_transform, self.input_fn = transform, target_transform, input_fn

    def __len__(self) -> int:
        return len(self.data)

    def get_batch(self, indices, generator: np.random.Generator | None = None):
        """The samples at `indices` as a pair of arrays: ((B, *sample_shape), (B, ...))."""
        indices = np.asarray(indices, dtype=np.int64)
        x, y = self.data[indices], self.targets[indices]
        if self.input_fn is not None:
            x = self.input_fn(x)
        x = _apply_transform(self.transform, x, generator)
        y = _apply_transform(self.target_transform, y, generator)
        return x, y

    def __getitem__(self, index):
        """One sample (x, y) as arrays without the batch dimension; random transforms draw from
        glassnet's default generator (the DataLoader passes its own instead)."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for a dataset of {n} samples")
        x, y = self.get_batch([index % n], generator=None)
        return x[0], y[0]

    def arrays(self):
        """All samples as (inputs, targets) after input_fn but without random transforms."""
        x = self.data if self.input_fn is None else self.input_fn(self.data)
        return x, self.targets


class TensorDataset(ArrayDataset):
    """Dataset wrapping tensors or arrays that share their first dimension (torch's TensorDataset).

    `TensorDataset(x, y)` gives samples (x[i], y[i]); any number of arrays may be given, and the
    DataLoader batches each one. `transform` (batched) is applied to the first array only.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.data import TensorDataset
        >>> data = TensorDataset(glassnet.zeros(6, 1, 4, 4), np.arange(6))
        >>> x, y = data[5]
        >>> len(data), x.shape, int(y)
        (6, (1, 4, 4), 5)
    """

    def __init__(self, *tensors, transform=None):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor or array")
        arrays = [_as_array(t) for t in tensors]
        n = len(arrays[0])
        if any(len(a) != n for a in arrays):
            raise ValueError("TensorDataset needs tensors with the same first dimension, got shapes "
                             + ", ".join(str(a.shape) for a in arrays))
        self.tensors = tuple(arrays)
        super().__init__(arrays[0], arrays[-1], transform=transform)

    def get_batch(self, indices, generator=None):
        indices = np.asarray(indices, dtype=np.int64)
        batch = [a[indices] for a in self.tensors]
        batch[0] = _apply_transform(self.transform, batch[0], generator)
        return tuple(batch)

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for a dataset of {n} samples")
        return tuple(b[0] for b in self.get_batch([index % n], generator=None))


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order (torch's Subset).

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import ArrayDataset, Subset
        >>> data = ArrayDataset(np.arange(10, dtype=np.float32)[:, None], np.arange(10))
        >>> part = Subset(data, [7, 2])
        >>> len(part), int(part[0][1])
        (2, 7)
    """

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset indices must lie in [-{n}, {n}) for a dataset of {n} samples, "
                             f"got min {self.indices.min()} and max {self.indices.max()}")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices, generator=None):
        """A batch of the parent's samples (array-backed parents only, see `is_array_backed`)."""
        if not is_array_backed(self.dataset):
            raise TypeError(f"get_batch needs an array-backed parent dataset, got {type(self.dataset).__name__}")
        return self.dataset.get_batch(self.indices[np.asarray(indices, dtype=np.int64)], generator)


class ConcatDataset(Dataset):
    """The samples of several datasets one after another (torch's ConcatDataset).

    cumulative_sizes[k] is the number of samples in datasets[0..k]; index i belongs to the first
    dataset whose cumulative size exceeds it. Negative indices count from the end.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import ArrayDataset, ConcatDataset
        >>> a = ArrayDataset(np.zeros((3, 2), np.float32), np.arange(3))
        >>> b = ArrayDataset(np.ones((2, 2), np.float32), np.arange(3, 5))
        >>> both = ConcatDataset([a, b])
        >>> len(both), both.cumulative_sizes, int(both[3][1]), int(both[-1][1])
        (5, [3, 5], 3, 4)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset does not support IterableDataset, got {type(d).__name__}")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def _locate(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which dataset, index inside it) for each index."""
        n = len(self)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(f"index out of range for a ConcatDataset of {n} samples: got min "
                             f"{indices.min()} and max {indices.max()}")
        indices = indices % n if n else indices
        part = np.searchsorted(self.cumulative_sizes, indices, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]]).astype(np.int64)
        return part, indices - starts[part]

    def __getitem__(self, index):
        part, local = self._locate(np.asarray([index], dtype=np.int64))
        return self.datasets[int(part[0])][int(local[0])]

    def get_batch(self, indices, generator=None):
        """A batch gathered from the parts (array-backed parts only, see `is_array_backed`): each
        part fetches its samples at once, in part order, and the rows go back to `indices`' order."""
        if not is_array_backed(self):
            raise TypeError("get_batch needs array-backed datasets, got "
                            + ", ".join(type(d).__name__ for d in self.datasets))
        part, local = self._locate(np.asarray(indices, dtype=np.int64))
        rows, fields = [], []
        for k in np.unique(part):
            rows.append(np.flatnonzero(part == k))
            fields.append(self.datasets[k].get_batch(local[rows[-1]], generator))
        if len({len(f) for f in fields}) > 1:
            raise ValueError(f"ConcatDataset parts give batches of {sorted({len(f) for f in fields})} arrays")
        back = np.argsort(np.concatenate(rows), kind="stable")  # from part order to indices' order
        return tuple(np.concatenate([_as_array(f[i]) for f in fields])[back] for i in range(len(fields[0])))


def is_array_backed(dataset) -> bool:
    """True when `dataset.get_batch(indices, generator)` can fetch a whole batch at once.

    The DataLoader then reads a batch with one fancy index instead of one `__getitem__` per sample;
    a Subset or a ConcatDataset is array-backed when what it wraps is.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import ArrayDataset, Subset, is_array_backed
        >>> data = ArrayDataset(np.zeros((4, 2), np.float32), np.arange(4))
        >>> is_array_backed(data), is_array_backed(Subset(data, [0, 2])), is_array_backed([(0, 1), (2, 3)])
        (True, True, False)
    """
    if isinstance(dataset, Subset):
        return is_array_backed(dataset.dataset)
    if isinstance(dataset, ConcatDataset):
        return all(is_array_backed(d) for d in dataset.datasets)
    return callable(getattr(dataset, "get_batch", None))


def random_split(dataset, lengths: Sequence[int | float], generator: np.random.Generator | None = None
                 ) -> list[Subset]:
    """Split `dataset` into non-overlapping random Subsets of the given lengths (torch's rules).

    lengths: integers summing to len(dataset), or fractions summing to 1; with fractions each
    length is floor(frac * n) and the remainder is dealt one by one to the first subsets.
    generator: a NumPy Generator (default: glassnet's, so `glassnet.manual_seed` fixes the split).

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import ArrayDataset, random_split
        >>> data = ArrayDataset(np.zeros((10, 2), np.float32), np.arange(10))
        >>> train, val = random_split(data, [0.8, 0.2], generator=np.random.default_rng(0))
        >>> len(train), len(val)
        (8, 2)
        >>> sorted([*train.indices, *val.indices]) == list(range(10))    # every sample once
        True
    """
    n = len(dataset)
    lengths = list(lengths)
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1 + 1e-9:
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"fractions must lie in [0, 1], got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(f"sum of lengths {lengths} = {sum(lengths)} does not equal the dataset "
                         f"length {n}")
    rng = default_generator() if generator is None else _check_generator(generator, "random_split")
    perm = rng.permutation(n)
    offsets = np.cumsum([0] + lengths)
    return [Subset(dataset, perm[lo:hi]) for lo, hi in zip(offsets[:-1], offsets[1:])]
