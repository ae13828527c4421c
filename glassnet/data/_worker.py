"""The data-loading worker process and the pipe it answers on (the DataLoader's num_workers > 0).

Each worker owns two one-way pipes: tasks come in on one, batches go out on the other. A task
is one whole batch: (task number, epoch, batch number, indices); the worker builds it with the
same fetcher the single-process loader uses, so a batch does not depend on which process made it.

Transfer: a batch is pickled with protocol 5 and its arrays' memory is passed *out of band*, each
buffer written straight from the array into the pipe and read straight into a fresh array in the
parent. Two copies per array (into the kernel and out of it); a plain multiprocessing.Queue makes
four (pickle bytes, kernel in, kernel out, unpickle). Pickle is safe here: both ends are
processes of this program. A sender thread does the writing, so the worker builds its next batch
while the parent is still reading the previous one (as multiprocessing.Queue's feeder thread does).

Exit paths: a None task (the parent is done), the parent's end of the task pipe closing, the
parent process going away (checked every second), or Ctrl-C (the terminal sends SIGINT to the
whole process group; the worker leaves quietly and the parent reports the interrupt).
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import threading
import traceback
from dataclasses import dataclass

import numpy as np

_POLL_SECONDS = 1.0  # how often an idle worker checks that its parent is still alive


@dataclass(frozen=True)
class WorkerInfo:
    """What glassnet.data.get_worker_info() returns inside a worker (torch's WorkerInfo)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker: its id, num_workers, seed and its own copy of the dataset (to
    shard an IterableDataset, or seed other libraries in worker_init_fn). None in the main process.

    Examples:
        >>> from glassnet.data import get_worker_info
        >>> get_worker_info() is None           # here, in the main process
        True

        IterableDataset's example shows it sharding a stream across workers.
    """
    return _worker_info


@dataclass(frozen=True)
class ExceptionWrapper:
    """An exception raised in a worker, carried to the parent with the worker's traceback text."""

    exc_type: type | None
    where: str
    text: str

    @classmethod
    def capture(cls, exc: BaseException, where: str) -> ExceptionWrapper:
        exc_type = type(exc)
        try:  # a class pickles by name; one that cannot (defined in a function) becomes RuntimeError
            pickle.loads(pickle.dumps(exc_type))
        except Exception:
            exc_type = None
        return cls(exc_type, where, "".join(traceback.format_exception(exc)))

    def reraise(self):
        """Raise the worker's exception type in the parent, its message the worker's traceback."""
        name = self.exc_type.__name__ if self.exc_type is not None else "exception"
        message = f"Caught {name} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:  # KeyError would print the message with its newlines escaped
            raise RuntimeError(message)
        try:
            error = (self.exc_type or RuntimeError)(message)
        except Exception:  # a constructor that wants other arguments
            error = RuntimeError(message)
        raise error


def encode(message) -> list:
    """`message` as the byte strings `send` writes: buffer sizes, pickle protocol 5 header, and
    flat views of the arrays' own memory (out of band, not copied)."""
    buffers = []
    header = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    views = [b.raw() for b in buffers]
    return [pickle.dumps([v.nbytes for v in views], protocol=5), header, *views]


def send(connection, message) -> None:
    """Write `message` (or the parts `encode` made of it) to `connection`."""
    for part in message if isinstance(message, list) else encode(message):
        connection.send_bytes(part)


def receive(connection):
    """Read one message written by `send`; its arrays get fresh, writable memory."""
    sizes = pickle.loads(connection.recv_bytes())
    header = connection.recv_bytes()
    buffers = []
    for size in sizes:
        buffer = np.empty(size, np.uint8)
        if connection.recv_bytes_into(buffer) != size:
            raise RuntimeError(f"DataLoader worker message: expected a buffer of {size} bytes")
        buffers.append(buffer)
    return pickle.loads(header, buffers=buffers)


class _Sender:
    """A thread that writes this worker's results, so the worker can build the next batch while
    the parent reads the last one. Messages are encoded by the caller: a batch that cannot be
    pickled then fails where its error can still be sent."""

    def __init__(self, connection):
        self.connection, self.queue = connection, queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="glassnet-loader-sender", daemon=True)
        self.thread.start()

    def put(self, message) -> None:
        self.queue.put(encode(message))

    def _run(self) -> None:
        while (message := self.queue.get()) is not None:
            try:
                send(self.connection, message)
            except (BrokenPipeError, OSError):  # the parent has gone or closed its end: stop
                return

    def stop(self) -> None:
        """Stop after the messages already queued. Not waited for: the parent stops reading once
        it has told the worker to stop, and the (daemon) thread ends with the process."""
        self.queue.put(None)


def seed_worker(base_seed: int, worker_id: int, num_workers: int, dataset) -> int:
    """Seed every global generator of this worker from (base_seed, worker_id), as PyTorch does:
    glassnet's default generator and Python's `random` with base_seed + worker_id, NumPy's legacy
    global generator with a state mixed from both (consecutive integer seeds would give it
    correlated streams)."""
    from ..random import manual_seed
    global _worker_info
    seed = base_seed + worker_id
    manual_seed(seed)
    random.seed(seed)
    np.random.seed(np.random.SeedSequence([base_seed, worker_id]).generate_state(4))
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    return seed


def worker_loop(fetcher, tasks, results, worker_id: int, num_workers: int, base_seed: int,
                worker_init_fn, parent_pid: int) -> None:
    """The body of worker `worker_id`: answer tasks until told to stop.

    Messages in: ("epoch", epoch, loader seed) starts another pass of persistent workers
    (restarting an iterable dataset); (task, batch, indices) asks for one batch; None stops.
    Messages out: (task, batch) or (task, ExceptionWrapper), and ("epoch", None) to acknowledge
    a new pass.
    """
    from ..kernels.fast.threads import set_num_threads
    set_num_threads(1)  # the workers are the parallelism; no helper thread per worker
    sender = _Sender(results)
    where = f"in DataLoader worker process {worker_id}"
    try:
        seed_worker(base_seed, worker_id, num_workers, fetcher.dataset)
        init_error = None
        try:
            if worker_init_fn is not None:
                worker_init_fn(worker_id)
            fetcher.start_pass()
        except Exception as exc:
            init_error = ExceptionWrapper.capture(exc, where)  # reported with the first task, as torch does
        while True:
            if not tasks.poll(_POLL_SECONDS):
                if os.getppid() != parent_pid:  # orphaned: the parent died without telling us
                    return
                continue
            message = tasks.recv()
            if message is None:
                return
            if message[0] == "epoch":  # persistent workers: not reseeded, as in PyTorch
                _, fetcher.epoch, fetcher.seed = message
                try:
                    fetcher.start_pass()
                except Exception as exc:
                    init_error = ExceptionWrapper.capture(exc, where)
                sender.put(("epoch", None))
                continue
            task, batch, indices = message
            if init_error is not None:
                sender.put((task, init_error))
                init_error = None
                continue
            try:
                sender.put((task, fetcher.fetch(batch, indices)))  # pickled here: errors are caught
            except StopIteration:  # an iterable dataset ran out in this worker
                sender.put((task, StopIteration))
            except Exception as exc:
                sender.put((task, ExceptionWrapper.capture(exc, where)))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        # Ctrl-C reaches the whole process group; the parent raises it. EOF: the parent closed.
        return
    finally:
        sender.stop()
