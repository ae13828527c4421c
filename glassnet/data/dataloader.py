"""DataLoader: shuffled, batched, collated passes over a dataset, repeatable for a given seed.

Randomness. A loader owns one integer `seed` (given, drawn from `generator`, or drawn from
glassnet's default generator when the loader is built, so `glassnet.manual_seed` fixes it).
Everything random in epoch e comes from generators seeded by (seed, e, ...):

    order of epoch e          = default_rng([seed, e, 0]).permutation(N)
    augmentation of batch b   = default_rng([seed, e, 1, b])

so the same seed gives the same batches, every epoch is shuffled differently, and a run resumed
at batch b of epoch e (`load_state_dict`) sees exactly the batches it would have seen, without
replaying the ones before.

Batching. For an array-backed dataset (see glassnet.data.dataset) a batch is fetched with one
fancy-indexing step per array and transformed as a whole; other datasets are read sample by
sample and collated, as in PyTorch. Batches are tuples of glassnet Tensors: floating arrays
become float32, integer arrays int64.
"""

from __future__ import annotations

import math

import numpy as np

from ..random import default_generator
from ..tensor import Tensor, float32, int64
from .dataset import is_array_backed


def _to_tensor(value) -> Tensor:
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind == "f":
        array = array.astype(float32, copy=False)
    elif array.dtype.kind in "iu":
        array = array.astype(int64, copy=False)
    elif array.dtype.kind != "b":
        raise TypeError(f"default_collate can batch numbers, arrays and tensors, got dtype {array.dtype}")
    return Tensor._wrap(np.ascontiguousarray(array))


def default_collate(samples: list):
    """Stack a list of samples into a batch, keeping the structure of one sample (torch's rule).

    [(x_0, y_0), (x_1, y_1), ...] -> (Tensor of shape (B, *x.shape), Tensor of shape (B, ...));
    dicts are collated per key, numbers and arrays become one Tensor with a leading batch axis.
    """
    if not samples:
        raise ValueError("default_collate got an empty list of samples")
    first = samples[0]
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError(f"samples of a batch must have the same number of fields, got "
                             f"{sorted({len(s) for s in samples})}")
        return type(first)(default_collate(list(field)) for field in zip(*samples))
    arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"default_collate needs samples of one shape to stack, got shapes {sorted(shapes)}")
    return _to_tensor(np.stack(arrays))  # (B, *sample_shape)


class DataLoader:
    """Iterate over `dataset` in batches (torch.utils.data.DataLoader's names and defaults).

    dataset: a map-style or array-backed dataset.
    batch_size: samples per batch; the last batch is smaller unless `drop_last`.
    shuffle: a new random order every epoch (else the dataset's order).
    collate_fn: list of samples -> batch (torch's hook). Without it, array-backed datasets are
        batched without any per-sample step and the batch is a tuple of Tensors.
    drop_last: drop the last incomplete batch.
    generator: a NumPy Generator to draw the loader's seed from; `seed`: the seed itself.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, *, collate_fn=None,
                 drop_last: bool = False, generator: np.random.Generator | None = None,
                 seed: int | None = None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if seed is not None and generator is not None:
            raise ValueError("give either seed or generator, not both")
        if seed is None:
            seed = int((generator if generator is not None else default_generator()).integers(2 ** 63))
        self.dataset, self.batch_size, self.shuffle = dataset, int(batch_size), bool(shuffle)
        self.collate_fn, self.drop_last, self.seed = collate_fn, bool(drop_last), int(seed)
        self.epoch = 0          # epoch the next __iter__ will produce
        self._start_batch = 0   # first batch of that epoch (non-zero after load_state_dict)
        self._position = (0, 0)  # (epoch, batches produced) of the pass in progress

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass produce epoch `epoch` (its order and augmentation)."""
        self.epoch, self._start_batch = int(epoch), 0

    def state_dict(self) -> dict:
        """Where the loader is: {'seed', 'epoch', 'batch'} (batches already produced in 'epoch')."""
        epoch, batch = self._position
        return {"seed": self.seed, "epoch": epoch, "batch": batch}

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()`: the next pass resumes epoch 'epoch' at batch 'batch'.

        The state may come from a file: each field is checked (ints, seed >= 0, epoch >= 0,
        batch within the epoch's len(self) batches) before anything changes."""
        if not isinstance(state, dict) or set(state) != {"seed", "epoch", "batch"}:
            found = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"DataLoader state: expected the fields ['batch', 'epoch', 'seed'], found {found}")
        for name, high in (("seed", None), ("epoch", None), ("batch", len(self))):
            value = state[name]
            if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0
                    or (high is not None and value > high)):
                expected = f"an int in [0, {high}]" if high is not None else "an int >= 0"
                raise ValueError(f"DataLoader state field {name!r}: expected {expected}, found {value!r:.40}")
        self.seed, self.epoch, self._start_batch = int(state["seed"]), int(state["epoch"]), int(state["batch"])
        self._position = (self.epoch, self._start_batch)

    def order(self, epoch: int) -> np.ndarray:
        """The sample indices of epoch `epoch`, in the order they are served."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch, 0]).permutation(n)

    def __iter__(self):
        epoch, start = self.epoch, self._start_batch
        self.epoch, self._start_batch = epoch + 1, 0
        return self._batches(epoch, start)

    def _batches(self, epoch: int, start: int):
        order = self.order(epoch)
        array_backed = is_array_backed(self.dataset)
        self._position = (epoch, start)
        for b in range(start, len(self)):
            indices = order[b * self.batch_size:(b + 1) * self.batch_size]
            generator = np.random.default_rng([self.seed, epoch, 1, b])
            if array_backed:
                arrays = self.dataset.get_batch(indices, generator)
                if self.collate_fn is None:
                    batch = tuple(_to_tensor(a) for a in arrays)
                else:
                    # torch's hook takes a list of samples; the batch was still fetched and
                    # transformed as a whole
                    batch = self.collate_fn(list(zip(*arrays)))
            else:
                samples = [self.dataset[int(i)] for i in indices]
                batch = (self.collate_fn or default_collate)(samples)
            self._position = (epoch, b + 1)
            yield batch
