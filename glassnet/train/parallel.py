"""Data-parallel training for the fit loop and `glassnet train`, on the ranks mpiexec started.

    mpiexec -n 4 glassnet train --model lenet5 --dataset fashion-mnist --batch-size 64

Every rank runs the same loader, so the global batches, their order and their augmentation (all
drawn from the seed, the epoch and the batch index) are the same everywhere, and each rank
trains on its contiguous share of every global batch: rank r of N takes rows
[r n / N, (r + 1) n / N) of a batch of n. DistributedDataParallel averages the gradients, and a
rank's loss is weighted by its share (n_r N / n), so that the average is the gradient of the
global batch's mean loss even when n does not divide by N: N ranks train as one process with
batch n does, up to float32 rounding.

Because the position in the loader does not depend on N, a run checkpointed at N ranks resumes
at any other number of ranks (one included): the world size is not part of the saved state.
Rank 0 alone prints, shows progress and writes files; checkpoints are written atomically by it.
"""

from __future__ import annotations

import os

import numpy as np


_WORLD_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")  # MPICH (hydra), Open MPI


def launched_in_parallel() -> bool:
    """Whether mpiexec started this process as one of several ranks (read from its environment,
    before MPI is initialised)."""
    for name in _WORLD_VARIABLES:
        try:
            if int(os.environ.get(name, "1")) > 1:
                return True
        except ValueError:
            continue
    return False


def world():
    """(rank, world size) of the initialised process group when it has several ranks, else None."""
    from .. import distributed
    if not distributed.is_initialized() or distributed.get_world_size() < 2:
        return None
    return distributed.get_rank(), distributed.get_world_size()


class ShardedLoader:
    """A loader's batches cut into one rank's share; its position (state_dict, set_epoch) is the
    wrapped loader's, the same on every rank."""

    def __init__(self, loader, rank: int, world_size: int):
        self.loader, self.rank, self.world_size = loader, rank, world_size
        self.weight = 1.0  # n_r N / n of the batch last handed out

    def __iter__(self):
        for batch in self.loader:
            n = len(batch[1])
            lo, hi = self.rank * n // self.world_size, (self.rank + 1) * n // self.world_size
            self.weight = (hi - lo) * self.world_size / n
            yield [part[lo:hi] for part in batch]  # (x, y) rows of this rank

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name):  # state_dict, load_state_dict, set_epoch, dataset, batch_size ...
        return getattr(self.loader, name)


def global_sums(values) -> np.ndarray:
    """values (a few numbers) summed over every rank, in float64."""
    from .. import distributed
    array = np.asarray(values, dtype=np.float64)
    distributed.all_reduce(array)
    return array


def unwrap(model):
    """The model inside DistributedDataParallel (else model itself): the one whose state_dict a
    checkpoint and the run's weights file hold, so that they load at any number of ranks."""
    from ..distributed.ddp import DistributedDataParallel
    return model.module if isinstance(model, DistributedDataParallel) else model


__all__ = ["launched_in_parallel", "world", "ShardedLoader", "global_sums", "unwrap"]
