"""Samplers: which sample indices a DataLoader reads, in which order (torch.utils.data's samplers).

A sampler is an iterable of dataset indices (`BatchSampler`: of lists of indices) with a
`__len__`. The names, arguments, errors and padding rules are PyTorch's; the random numbers are
NumPy's, so the orders differ from PyTorch's for the same seed while the structure (how many
draws, which indices can appear, how a shard is cut) is the same.

`generator` arguments take a NumPy Generator (`np.random.default_rng(seed)`); without one, a
fresh seed is drawn from glassnet's default generator on every pass, as PyTorch draws one from
its global generator, so `glassnet.manual_seed` makes the passes repeatable.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence, Sized

import numpy as np

from ..random import default_generator


def _check_generator(generator, owner: str):
    """`generator` if it can draw NumPy's way (integers, permutation, choice); else a TypeError."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if all(callable(getattr(generator, name, None)) for name in ("integers", "permutation", "choice")):
        return generator
    raise TypeError(f"{owner} expected generator=None or a NumPy Generator (np.random.default_rng(seed)), "
                    f"got {type(generator).__name__}")


def _pass_generator(generator) -> np.random.Generator:
    """The generator of one pass: the given one (its stream continues), else a fresh one seeded
    from glassnet's default generator."""
    if generator is not None:
        return generator
    return np.random.default_rng(int(default_generator().integers(2 ** 63)))


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _bool(value, name: str, error=ValueError) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{name} should be a boolean value, but got {name}={value!r}")
    return bool(value)


class Sampler:
    """Base class: subclasses define `__iter__` (indices) and usually `__len__`.

    No default `__len__`, as in PyTorch: `list(sampler)` then falls back to iteration. Pass an
    instance to DataLoader(sampler=...) to choose which samples it reads, in which order.

    Examples:
        >>> from glassnet.data import Sampler
        >>> class EvenFirst(Sampler):           # the even indices, then the odd ones
        ...     def __init__(self, data_source):
        ...         self.data_source = data_source
        ...     def __iter__(self):
        ...         n = len(self.data_source)
        ...         return iter([*range(0, n, 2), *range(1, n, 2)])
        ...     def __len__(self):
        ...         return len(self.data_source)
        >>> list(EvenFirst(range(5)))
        [0, 2, 4, 1, 3]
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1, every pass.

    Args:
        data_source: anything with a length (a dataset).

    Examples:
        >>> from glassnet.data import SequentialSampler
        >>> list(SequentialSampler(range(4)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices, new on every pass.

    replacement=False: a permutation of all n indices (num_samples > n: whole permutations one
    after another, then the start of one more). replacement=True: num_samples independent
    uniform draws from [0, n). num_samples defaults to len(data_source), read at each pass.

    Args:
        data_source: anything with a length (a dataset).
        replacement: draw with replacement.
        num_samples: indices per pass (default: len(data_source)).
        generator: a NumPy Generator (np.random.default_rng(seed)); None seeds each pass from
            glassnet's default generator, so glassnet.manual_seed makes the order repeatable.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import RandomSampler
        >>> order = list(RandomSampler(range(5), generator=np.random.default_rng(0)))
        >>> sorted(order)                       # a permutation
        [0, 1, 2, 3, 4]
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator=None):
        self.data_source = data_source
        self.replacement = _bool(replacement, "replacement", TypeError)
        self._num_samples = num_samples
        self.generator = _check_generator(generator, "RandomSampler")
        _positive_int(self.num_samples, "num_samples")

    @property
    def num_samples(self) -> int:
        # the dataset may change size between passes
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices(_pass_generator(self.generator)).tolist())

    def _indices(self, rng) -> np.ndarray:
        n, k = len(self.data_source), self.num_samples
        if self.replacement:
            return rng.integers(0, n, size=k)
        whole = [rng.permutation(n) for _ in range(k // n)]
        return np.concatenate(whole + [rng.permutation(n)[:k % n]])

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, new on every pass (no replacement).

    Args:
        indices: the indices to draw from.
        generator: a NumPy Generator (np.random.default_rng(seed)); None seeds each pass from
            glassnet's default generator, so glassnet.manual_seed makes the order repeatable.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import SubsetRandomSampler
        >>> sorted(SubsetRandomSampler([7, 3, 9], generator=np.random.default_rng(0)))
        [3, 7, 9]
    """

    def __init__(self, indices: Sequence[int], generator=None):
        self.indices = indices
        self.generator = _check_generator(generator, "SubsetRandomSampler")

    def __iter__(self) -> Iterator[int]:
        order = _pass_generator(self.generator).permutation(len(self.indices))
        return (self.indices[i] for i in order.tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn from [0, len(weights)) with probability proportional to the
    weights (float64, need not sum to 1); replacement=False never draws an index twice in a pass
    (torch.multinomial's rule, so num_samples <= number of non-zero weights).

    Args:
        weights: one non-negative weight per index (e.g. the inverse class frequency of each sample).
        num_samples: indices per pass.
        replacement: draw with replacement.
        generator: a NumPy Generator (np.random.default_rng(seed)); None seeds each pass from
            glassnet's default generator, so glassnet.manual_seed makes the order repeatable.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import WeightedRandomSampler
        >>> draws = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 100, generator=np.random.default_rng(0)))
        >>> sorted(set(draws)), len(draws)      # zero weights are never drawn
        ([1, 3], 100)
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True, generator=None):
        self.num_samples = _positive_int(num_samples, "num_samples")
        self.replacement = _bool(replacement, "replacement")
        weights = np.asarray(weights.data if hasattr(weights, "data") else weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {weights.shape}")
        if weights.size == 0 or not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError("weights should be finite, non-negative and not all zero, got "
                             f"{weights.size} weights with min {weights.min(initial=np.inf)} and sum {weights.sum()}")
        if not self.replacement and self.num_samples > np.count_nonzero(weights):
            raise ValueError(f"cannot draw {self.num_samples} samples without replacement from "
                             f"{np.count_nonzero(weights)} non-zero weights")
        self.weights = weights
        self.generator = _check_generator(generator, "WeightedRandomSampler")

    def __iter__(self) -> Iterator[int]:
        rng = _pass_generator(self.generator)
        drawn = rng.choice(len(self.weights), size=self.num_samples, replace=self.replacement,
                           p=self.weights / self.weights.sum())
        return iter(drawn.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` (any iterable) into lists of batch_size; the last, shorter
    list is dropped when drop_last.

    Args:
        sampler: a Sampler or any iterable of indices.
        batch_size: indices per batch.
        drop_last: drop the last batch when it is shorter.

    Examples:
        >>> from glassnet.data import BatchSampler, SequentialSampler
        >>> list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False))
        [[0, 1], [2, 3], [4]]
        >>> list(BatchSampler(range(5), 2, drop_last=True))
        [[0, 1], [2, 3]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.drop_last = _bool(drop_last, "drop_last")

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)


class DistributedSampler(Sampler):
    """The shard of rank `rank` out of `num_replicas`: each rank reads a disjoint part of the data
    set and together they read the whole epoch (torch.utils.data.DistributedSampler).

    The epoch's order (a permutation seeded by seed + epoch when shuffle, else 0..n-1) is made
    divisible by num_replicas: drop_last=False repeats its first indices as padding (so a few
    samples appear twice in the epoch), drop_last=True cuts its tail. Rank r takes positions
    r, r + num_replicas, r + 2 num_replicas, ... Every rank must use the same seed, and
    `set_epoch(e)` before each epoch, or every epoch has the same order.

    num_replicas / rank default to glassnet.distributed's world size and rank, which needs an
    initialised process group.

    Args:
        dataset: anything with a length (a dataset).
        num_replicas: the number of processes (ranks) sharing the epoch.
        rank: this process's rank, 0 <= rank < num_replicas.
        shuffle: a new permutation every epoch (seeded by seed + epoch) instead of 0..n-1.
        seed: the seed shared by all ranks.
        drop_last: cut the epoch to a multiple of num_replicas instead of padding it.

    len(sampler) = ceil(n / num_replicas) (drop_last: floor), the same on every rank.

    Examples:
        >>> from glassnet.data import DistributedSampler
        >>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in (0, 1)]
        [[0, 2, 4], [1, 3, 0]]
        >>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False, drop_last=True))
        ...  for r in (0, 1)]
        [[0, 2], [1, 3]]
        >>> ranks = [DistributedSampler(range(6), num_replicas=2, rank=r, seed=0) for r in (0, 1)]
        >>> for s in ranks:
        ...     s.set_epoch(3)                  # every rank, before each epoch
        >>> sorted(list(ranks[0]) + list(ranks[1]))   # disjoint shards covering the epoch
        [0, 1, 2, 3, 4, 5]
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            world_size, own_rank = _process_group()
            num_replicas = world_size if num_replicas is None else num_replicas
            rank = own_rank if rank is None else rank
        num_replicas = _positive_int(num_replicas, "num_replicas")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        n = len(dataset)
        if self.drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # = n // num_replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def epoch_indices(self) -> np.ndarray:
        """All ranks' indices of this epoch, padded or cut to total_size, before sharding."""
        n = len(self.dataset)
        order = np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        if self.drop_last:
            return order[:self.total_size]
        # padding: the order repeated from its start (several times when total_size > 2n)
        return np.resize(order, self.total_size) if n else order

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices()[self.rank::self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use epoch `epoch`'s order on the next pass (the same on every rank)."""
        self.epoch = int(epoch)


def _process_group() -> tuple[int, int]:
    """(world size, rank) of glassnet.distributed's process group."""
    try:
        from .. import distributed
        if distributed.is_initialized():
            return distributed.get_world_size(), distributed.get_rank()
    except ImportError:
        pass
    raise RuntimeError("DistributedSampler needs num_replicas and rank, or an initialised process group "
                       "(glassnet.distributed.init_process_group)")
