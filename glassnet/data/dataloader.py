"""DataLoader: batched passes over a dataset, in this process or in worker processes, repeatable
for a given seed (torch.utils.data.DataLoader's arguments, defaults and errors).

Which samples, in which batches: `sampler` gives indices (default: SequentialSampler, or with
shuffle=True the loader's own seeded RandomSampler), `batch_sampler` groups them (default:
BatchSampler(sampler, batch_size, drop_last)); an IterableDataset is read as a stream instead.

Randomness. A loader owns one integer `seed` (given, drawn from `generator`, or drawn from
glassnet's default generator when the loader is built, so `glassnet.manual_seed` fixes it).
Everything random the loader does in epoch e comes from generators seeded by (seed, e, ...):

    order of epoch e (shuffle=True)         = default_rng([seed, e, 0]).permutation(N)
    augmentation of batch b (array-backed)  = default_rng([seed, e, 1, b])
    worker w's global generators            = seeded with base_seed + w, base_seed drawn from
                                              default_rng([seed, e, 2]) (PyTorch's rule)

so the same seed gives the same batches, every epoch is shuffled differently, a run resumed at
batch b of epoch e (`load_state_dict`) sees exactly the batches it would have seen, and for
array-backed datasets the batches do not depend on num_workers.

Batching. An array-backed dataset (see glassnet.data.dataset) is fetched a batch at a time and
transformed as a whole; other datasets are read sample by sample and collated with
default_collate, as in PyTorch (glassnet.data.collate).

Workers (num_workers > 0). Each worker process builds whole batches, handed out in turn, with
the same code as the loader's own process (glassnet/data/_fetch.py and _worker.py); batches come
back in order. Processes are forked where the platform can (Linux), so datasets and transforms
need not be picklable; glassnet's helper thread is not inherited (kernels/fast/threads.py starts a new
one in a child that needs it), and each worker runs glassnet's kernels in one thread.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
import warnings

import numpy as np

from ..random import default_generator
from ._fetch import Fetcher
from ._worker import ExceptionWrapper, receive, worker_loop
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _check_generator

_STATUS_SECONDS = 1.0  # how often a waiting loader checks that its workers are alive
_JOIN_SECONDS = 2.0  # how long a stopping worker gets before it is terminated


class _EpochShuffle(RandomSampler):
    """The loader's own shuffle: epoch e's order is default_rng([seed, e, 0]).permutation(n), so
    it is repeatable and can be resumed mid-epoch. The loader sets `seed` and `epoch`."""

    def __init__(self, data_source, seed: int):
        super().__init__(data_source)
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self):
        return iter(np.random.default_rng([self.seed, self.epoch, 0]).permutation(len(self.data_source)).tolist())


class _InfiniteConstantSampler(Sampler):
    """None, None, ... : the 'indices' of an IterableDataset, whose samples come in stream order."""

    def __iter__(self):
        return itertools.repeat(None)


def _default_context():
    """fork where the platform has it: no pickling of the dataset, and a quick start."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class DataLoader:
    """Iterate over `dataset` in batches (torch.utils.data.DataLoader's names, order and defaults).

    batch_size: samples per batch (None: no batching, one sample at a time through collate_fn).
    shuffle: a new random order every epoch, from the loader's seed.
    sampler / batch_sampler: the indices to read / the batches of indices (exclusive with shuffle;
        batch_sampler also with batch_size, drop_last, sampler), as in PyTorch.
    num_workers: worker processes building batches (0: in this process).
    collate_fn: list of samples -> batch (default_collate; default_convert without batching).
    pin_memory: accepted; no effect, as in PyTorch without an accelerator (it warns).
    drop_last: drop the last incomplete batch.
    timeout: seconds to wait for a worker's batch before raising (0: forever; workers only).
    worker_init_fn(worker_id): called in each worker after seeding, before any batch.
    multiprocessing_context: 'fork', 'spawn', 'forkserver' or a context (default: fork on Linux).
    generator: a NumPy Generator to draw the loader's seed from.
    prefetch_factor: batches in flight per worker (default 2 with workers).
    persistent_workers: keep the workers between epochs.
    seed (glassnet): the seed itself, instead of drawing it.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import ArrayDataset, DataLoader
        >>> data = ArrayDataset(np.zeros((10, 1, 28, 28), np.float32), np.arange(10))
        >>> loader = DataLoader(data, batch_size=4, shuffle=True, seed=0)
        >>> [(tuple(x.shape), len(y)) for x, y in loader]     # the last batch holds the rest
        [((4, 1, 28, 28), 4), ((4, 1, 28, 28), 4), ((2, 1, 28, 28), 2)]
        >>> sorted(int(v) for _, y in loader for v in y.numpy())   # every sample once per epoch
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """

    _initialized = False

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True,
                 seed: int | None = None):
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             f"multiprocessing, got num_workers={num_workers!r}")
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got timeout={timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing: let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and (isinstance(prefetch_factor, bool) or prefetch_factor < 1):
            raise ValueError(f"prefetch_factor option should be a positive integer, got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if not in_order:
            raise ValueError("in_order=False is not offered: glassnet's DataLoader returns batches in order")
        if seed is not None and generator is not None:
            raise ValueError("give either seed or generator, not both")
        generator = _check_generator(generator, "DataLoader")
        if seed is None:
            seed = int((generator if generator is not None else default_generator()).integers(2 ** 63))

        if isinstance(dataset, IterableDataset):
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler "
                                 f"option, but got batch_sampler={batch_sampler}")
            sampler = _InfiniteConstantSampler()
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None:
            sampler = _EpochShuffle(dataset, seed) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, bool(drop_last)
        self.sampler, self.batch_sampler, self.generator, self.seed = sampler, batch_sampler, generator, int(seed)
        self.collate_fn = collate_fn or (default_collate if batch_sampler is not None else default_convert)
        self.num_workers, self.prefetch_factor, self.timeout = int(num_workers), prefetch_factor, timeout
        self.pin_memory, self.pin_memory_device, self.in_order = bool(pin_memory), pin_memory_device, True
        self.worker_init_fn, self.persistent_workers = worker_init_fn, bool(persistent_workers)
        self.multiprocessing_context = self._context(multiprocessing_context)
        self.epoch = 0           # epoch the next __iter__ will produce
        self._start_batch = 0    # first batch of that epoch (non-zero after load_state_dict)
        self._position = [0, 0]  # (epoch, batches handed out) of the pass in progress
        self._iterator = None    # the persistent workers' iterator
        self._initialized = True
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        if self.num_workers > cpus:  # PyTorch warns too
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total, more "
                          f"than the {cpus} CPUs this process may use; they will share them", stacklevel=2)

    def __setattr__(self, name, value):
        # the batch sampler was built from these: changing one alone would go unnoticed (PyTorch's rule)
        if self._initialized and name in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                          "persistent_workers"):
            raise ValueError(f"{name} attribute should not be set after DataLoader is initialized")
        super().__setattr__(name, value)

    def _context(self, context):
        if context is None:
            return None
        if self.num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading "
                             f"(num_workers > 0), but got num_workers={self.num_workers}")
        if isinstance(context, str):
            methods = multiprocessing.get_all_start_methods()
            if context not in methods:
                raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                 f"{methods!r}, but got multiprocessing_context={context!r}")
            return multiprocessing.get_context(context)
        if not isinstance(context, multiprocessing.context.BaseContext):
            raise TypeError("multiprocessing_context option should be a valid context object or a string "
                            f"specifying the start method, but got multiprocessing_context={context!r}")
        return context

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        """What yields one index per batch: the batch sampler, or the sampler without batching."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def _fetcher(self, epoch: int) -> Fetcher:
        """What builds the batches of epoch `epoch`, in this process or (a copy) in a worker."""
        return Fetcher(self.dataset, self._auto_collation, self.collate_fn, self.drop_last, self.seed, epoch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # the stream's own length, if it has one
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass produce epoch `epoch` (its order and augmentation). A sampler or batch
        sampler with a set_epoch of its own (DistributedSampler) is moved to that epoch too."""
        self.epoch, self._start_batch = int(epoch), 0
        self._set_sampler_epoch(self.epoch)

    def _set_sampler_epoch(self, epoch: int) -> None:
        for sampler in (self.sampler, self.batch_sampler):
            if callable(getattr(sampler, "set_epoch", None)):
                sampler.set_epoch(epoch)

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
        self._position[:] = [self.epoch, self._start_batch]
        self._set_sampler_epoch(self.epoch)

    def __iter__(self):
        epoch, start = self.epoch, self._start_batch
        self.epoch, self._start_batch = epoch + 1, 0
        if start and isinstance(self.dataset, IterableDataset):
            raise ValueError(f"an IterableDataset cannot resume in the middle of an epoch (at batch {start})")
        if isinstance(self.sampler, _EpochShuffle):
            self.sampler.seed, self.sampler.epoch = self.seed, epoch
        if self.num_workers == 0:
            return _SingleProcessIter(self, epoch, start)
        if not self.persistent_workers:
            return _MultiProcessIter(self, epoch, start)
        if self._iterator is None or self._iterator.stopped:
            self._iterator = _MultiProcessIter(self, epoch, start)
        else:
            self._iterator.start_pass(self, epoch, start)
        return self._iterator


class _BaseIter:
    """One pass over the loader: batches `start`, `start + 1`, ... of epoch `epoch`."""

    def __init__(self, loader: DataLoader, epoch: int, start: int):
        if loader.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device "
                          "pinned memory won't be used.", stacklevel=3)
        self._index_sampler = loader._index_sampler
        self._begin(loader, epoch, start)

    def _begin(self, loader: DataLoader, epoch: int, start: int) -> None:
        self._epoch, self._batch = epoch, start
        self._indices = itertools.islice(iter(loader._index_sampler), start, None)
        self._position = loader._position
        self._position[:] = [epoch, start]

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __next__(self):
        data = self._next_data()
        self._batch += 1
        self._position[:] = [self._epoch, self._batch]
        return data


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader: DataLoader, epoch: int, start: int):
        if loader.timeout:
            raise ValueError(f"timeout applies to worker processes: timeout={loader.timeout} needs num_workers > 0")
        super().__init__(loader, epoch, start)
        self._fetcher = loader._fetcher(epoch)
        self._fetcher.start_pass()

    def _next_data(self):
        index = next(self._indices)
        return self._fetcher.fetch(self._batch, index)


def base_seed(seed: int, epoch: int) -> int:
    """The workers' base seed for epoch `epoch` (worker w seeds its global generators with base + w).

    Drawn from `default_rng([seed, epoch, 2])`, so every epoch's workers get fresh seeds that the
    loader's seed alone decides (docs/data.md, "Worker processes").

    Examples:
        >>> import numpy as np
        >>> from glassnet.data.dataloader import base_seed
        >>> base_seed(5, 0) == base_seed(5, 0), base_seed(5, 0) == base_seed(5, 1)
        (True, False)
        >>> base_seed(5, 1) == int(np.random.default_rng([5, 1, 2]).integers(2 ** 62))
        True
    """
    return int(np.random.default_rng([seed, epoch, 2]).integers(2 ** 62))


class _MultiProcessIter(_BaseIter):
    """A pass with worker processes. Task t (batch start + t) goes to the next active worker in
    turn; each worker answers its tasks in the order it got them, so the answer to the oldest
    task is always the next message on its worker's pipe and order needs no reordering buffer.
    Any exception leaving __next__ (a worker's error, a timeout, a dead worker, Ctrl-C) stops the
    workers first, so no process outlives the error."""

    def __init__(self, loader: DataLoader, epoch: int, start: int):
        super().__init__(loader, epoch, start)
        self.stopped = False
        self._workers, self._tasks, self._results = [], [], []
        self._timeout, self._per_worker = loader.timeout, loader.prefetch_factor
        self._keep = loader.persistent_workers
        context = loader.multiprocessing_context or _default_context()
        fetcher = loader._fetcher(epoch)
        try:
            for worker_id in range(loader.num_workers):
                task_out, task_in = context.Pipe(duplex=False)      # (receiving end, sending end)
                result_out, result_in = context.Pipe(duplex=False)
                process = context.Process(
                    target=worker_loop, daemon=True, name=f"glassnet-loader-{worker_id}",
                    args=(fetcher, task_out, result_in, worker_id, loader.num_workers,
                          base_seed(loader.seed, epoch), loader.worker_init_fn, os.getpid()))
                process.start()
                task_out.close()  # the worker's ends: the parent keeps only its own
                result_in.close()
                self._workers.append(process)
                self._tasks.append(task_in)
                self._results.append(result_out)
        except BaseException:
            self.shutdown()
            raise
        self._reset_counters()

    def start_pass(self, loader: DataLoader, epoch: int, start: int) -> None:
        """Reuse the (persistent) workers for another pass: drop what the last pass left in
        flight, tell every worker the new epoch and wait for each to acknowledge it."""
        self._begin(loader, epoch, start)
        try:
            for task_in in self._tasks:
                task_in.send(("epoch", epoch, loader.seed))  # the seed may have changed (load_state_dict)
            for worker_id in range(len(self._workers)):
                while self._receive(worker_id) != ("epoch", None):
                    pass  # a batch of the previous pass that was never asked for
        except BaseException:
            self.shutdown()
            raise
        self._reset_counters()

    def _reset_counters(self) -> None:
        n = len(self._workers)
        self._sent = self._received = 0             # tasks numbered from 0 within the pass
        self._first = self._batch                   # the batch number of task 0
        self._owner = {}                            # task -> worker
        self._active = [True] * n                   # False once an IterableDataset ran out there
        self._in_flight = [0] * n
        self._turn = itertools.cycle(range(n))
        self._exhausted = False
        for _ in range(self._per_worker * n):
            self._send_task()

    def _send_task(self) -> None:
        if self._exhausted or not any(self._active):
            return
        for worker_id in self._turn:
            if self._active[worker_id]:
                break
        try:
            index = next(self._indices)
        except StopIteration:
            self._exhausted = True
            return
        self._tasks[worker_id].send((self._sent, self._first + self._sent, index))
        self._owner[self._sent] = worker_id
        self._in_flight[worker_id] += 1
        self._sent += 1

    def _next_data(self):
        if self.stopped:
            raise StopIteration
        try:
            return self._next_batch()
        except StopIteration:
            if not self._keep:
                self.shutdown()
            raise
        except BaseException:
            self.shutdown()
            raise

    def _next_batch(self):
        while self._received < self._sent:
            worker_id = self._owner.pop(self._received)
            task, data = self._receive(worker_id)
            if task != self._received:
                raise RuntimeError(f"DataLoader worker {worker_id} answered task {task}, expected {self._received}")
            self._received += 1
            self._in_flight[worker_id] -= 1
            if data is StopIteration:  # this worker's copy of the stream is done
                self._active[worker_id] = False
                continue
            self._send_task()
            if isinstance(data, ExceptionWrapper):
                data.reraise()
            return data
        raise StopIteration

    def _receive(self, worker_id: int):
        """The next message of worker `worker_id`, checking meanwhile that it is alive."""
        results, process = self._results[worker_id], self._workers[worker_id]
        waited = 0.0
        while True:
            wait = _STATUS_SECONDS if not self._timeout else min(_STATUS_SECONDS, self._timeout - waited)
            started = time.monotonic()
            if results.poll(max(wait, 0.0)):
                try:
                    return receive(results)
                except EOFError:
                    pass  # its end closed: the worker died; reported below
            waited += time.monotonic() - started
            if not process.is_alive() or results.closed:
                process.join(0.1)
                raise RuntimeError(f"DataLoader worker {worker_id} (pid {process.pid}) exited unexpectedly "
                                   f"with exit code {process.exitcode}")
            if self._timeout and waited >= self._timeout:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def shutdown(self) -> None:
        """Stop and reap every worker: ask, wait up to 2 s, then terminate (no zombies left)."""
        if self.stopped:
            return
        self.stopped = True
        for task_in in self._tasks:
            try:
                task_in.send(None)
            except OSError:
                pass
            task_in.close()
        for result_out in self._results:
            result_out.close()  # a worker blocked writing a batch gets a broken pipe and leaves
        deadline = time.monotonic() + _JOIN_SECONDS
        for process in self._workers:
            process.join(max(deadline - time.monotonic(), 0.0))
        for process in self._workers:
            if process.is_alive():
                process.terminate()
                process.join(_JOIN_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()

    def __del__(self):
        try:
            self.shutdown()
        except Exception:  # at interpreter exit, modules may already be gone
            pass
