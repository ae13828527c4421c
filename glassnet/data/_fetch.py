"""Building one batch from its indices: the step shared by the loader's own process and its workers.

The same Fetcher runs in both, so batch b of epoch e is the same whichever process builds it:
an array-backed dataset (see glassnet.data.dataset) gets its random transforms from a generator
seeded by (seed, e, 1, b), not from a process's global state.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .collate import _array_dtype, default_collate
from .dataset import IterableDataset, is_array_backed


def batch_generator(seed: int, epoch: int, batch: int) -> np.random.Generator:
    """The generator that augments batch `batch` of epoch `epoch`."""
    return np.random.default_rng([seed, epoch, 1, batch])


class Fetcher:
    """index (a list of indices, or one index without batching) -> batch, for one loader.

    auto_collation: batch_size or batch_sampler was given, so an index is a list of indices and
    the samples are collated (else it is one index and collate_fn converts one sample).
    """

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool, seed: int, epoch: int):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.drop_last, self.seed, self.epoch = drop_last, seed, epoch
        self.iterable = isinstance(dataset, IterableDataset)
        self.array_backed = not self.iterable and auto_collation and is_array_backed(dataset)
        self._samples = None

    def start_pass(self) -> None:
        """Begin an epoch: an iterable dataset starts over (a new iterator in this process)."""
        if self.iterable:
            self._samples = iter(self.dataset)

    def fetch(self, batch: int, index):
        """Batch number `batch` of the current epoch; StopIteration when an iterable dataset is done."""
        if self.iterable:
            return self._fetch_iterable(index)
        if self.array_backed:
            arrays = self.dataset.get_batch(np.asarray(index, dtype=np.int64),
                                            batch_generator(self.seed, self.epoch, batch))
            if self.collate_fn is default_collate:
                # what default_collate makes of these samples, without splitting them first
                return [_as_batch(a) for a in arrays]
            return self.collate_fn(list(zip(*arrays)))  # torch's hook wants a list of samples
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(index) if getitems else [self.dataset[i] for i in index]
        return self.collate_fn(samples)

    def _fetch_iterable(self, index):
        if self._samples is None:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self._samples))
        samples = []
        for _ in index:
            try:
                samples.append(next(self._samples))
            except StopIteration:
                self._samples = None
                break
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)


def _as_batch(array) -> Tensor:
    array = array.data if isinstance(array, Tensor) else np.asarray(array)
    return Tensor._wrap(np.ascontiguousarray(array.astype(_array_dtype(array), copy=False)))
