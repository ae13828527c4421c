"""How glassnet uses the CPU's cores: its own helper thread, and OpenBLAS held at one thread.

The parallelism is glassnet's: a convolution or a pooling splits its batch between
`get_num_threads()` threads (the caller and one helper thread) with `split_batch`, each running
single-threaded GEMMs, copies and scatter-adds on its own samples side by side (NumPy and numba
release the GIL). OpenBLAS is set to one thread when glassnet's kernels first run, because a
multi-threaded OpenBLAS on the modest products of a CNN only adds hand-offs between its threads:
on a busy 2-core machine a (64, 400) @ (400, 120) product took 69 ms at two OpenBLAS threads and
0.07 ms at one (docs/benchmarks.md).

The hand-off. A thread that sleeps lets its CPU go idle, and waking an idle CPU is slow in a
virtual machine that does not poll before halting (50-150 us on the 2-core machine of
docs/benchmarks.md). So neither thread sleeps while a training step is under way: after each
task the helper waits for the next one by spinning for SPIN_ROUNDS rounds of 0.5-0.6 us (about
6 ms) without the GIL, and the caller waits for the helper's half the same way, each yielding
its CPU on every round (sched_yield); only then do they sleep. OpenMP runtimes do the same
(GOMP_SPINCOUNT, KMP_BLOCKTIME). A LeNet-5 training step took 6.35 ms with sleeping waits and
5.94 ms with these (docs/benchmarks.md). Small problems still stay in one thread: a split costs
tens of microseconds even with both threads awake. When other programs keep the CPUs busy,
splits fall back to one thread for a while (_Helper).
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time

import numpy as np
from numba import njit, types
from threadpoolctl import ThreadpoolController

_workers = max(1, min(2, os.cpu_count() or 1))
_helper: _Helper | None = None
_helper_lock = threading.Lock()

# Pooling and elementwise kernels split arrays of more than this many bytes (a split costs
# tens of microseconds): splitting ReLU and pooling on LeNet-5's maps (from (64, 16, 10, 10),
# 400 KiB) made a training step 5-10% faster, paired against PyTorch (docs/benchmarks.md).
PARALLEL_BYTES = 1 << 18
SPIN_ROUNDS = 10_000  # sched_yield rounds of 0.5-0.6 us each: the helper stays awake about 6 ms
WAIT_ROUNDS = 20_000  # and the caller waits awake up to about 12 ms for the helper's half
LOST_SECONDS = 1e-3  # a spin kept off its CPU longer than this lost it to another program ...
CONTENDED_SECONDS = 1.0  # ... and after two of those splits run in one thread for this long
# sched_yield from the C library, called from numba; GLASSNET_SPIN=0 makes the threads sleep
# between hand-offs instead (OMP_WAIT_POLICY=passive's counterpart, for machines shared with
# other jobs: less CPU time taken from them, slower splits)
_CAN_SPIN = sys.platform.startswith("linux") and os.environ.get("GLASSNET_SPIN", "1") != "0"

_controller = None  # threadpoolctl's handle on the BLAS libraries NumPy and SciPy loaded, found once
_blas_lock = threading.Lock()
_blas_single = False  # whether glassnet has set them to one thread


def get_num_threads() -> int:
    """Threads a convolution splits its work over (torch.get_num_threads's name)."""
    return _workers


def set_num_threads(n: int) -> None:
    """Use n threads (1 or 2) for convolutions. 1 makes every glassnet kernel single-threaded."""
    global _workers
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 2:
        raise ValueError(f"glassnet uses 1 or 2 threads, got {n!r}")
    _workers = n


def executor() -> _Helper:
    """The helper thread (the calling thread is the other worker), started on first use."""
    global _helper
    if _helper is None:  # the lock only for the first call, not on every split
        with _helper_lock:
            if _helper is None:
                _helper = _Helper()
    return _helper


class _Task:
    """One call fn(*args) handed to the helper; result() waits for it and returns or raises."""

    __slots__ = ("fn", "args", "_done", "_value", "_error", "_helper", "_number")

    def __init__(self, fn, args, helper: _Helper, number: int):
        self.fn, self.args = fn, args
        self._done = threading.Lock()
        self._done.acquire()  # released by run(): a plain lock is CPython's cheapest wait
        self._value = self._error = None
        self._helper, self._number = helper, number  # done once helper.finished[0] >= number

    def run(self) -> None:
        try:
            self._value = self.fn(*self.args)
        except BaseException as error:  # handed to the caller, who re-raises it
            self._error = error
        finally:
            self.fn = self.args = None
            self._helper.finished[0] += 1
            self._done.release()

    def result(self):
        helper = self._helper
        # wait awake first (a thread that sleeps is woken slowly), then on the lock
        if _CAN_SPIN:
            helper.note_spin(_spin_timed(helper.finished, self._number - 1, WAIT_ROUNDS))
        with self._done:
            pass
        if self._error is not None:
            raise self._error
        return self._value


class _Helper:
    """A daemon thread running submitted tasks one after another. Between tasks it spins for
    the next one without the GIL, then sleeps on the queue.

    Spinning assumes the two CPUs are glassnet's. When another program keeps one of them busy,
    a spinning thread that yields its CPU gets it back only a time slice later (a LeNet-5 step
    took 48 ms instead of 9 with a busy loop on the helper's CPU), and even without spinning a
    half pinned to the busy CPU runs at half speed (18 ms), while one unpinned thread simply
    uses the free CPU (9 ms; docs/benchmarks.md). So each spin measures the time its thread
    was kept off its CPU (wall time minus the thread's CPU time), and when two of about the last
    three spins lost more than LOST_SECONDS, splits run in one thread for CONTENDED_SECONDS;
    then two threads are tried again. (Lateness alone is not the signal: a helper that waits
    for the GIL is late too, and on an idle virtual machine about 1 in 500 spins loses a
    millisecond to the host, hence two.)
    """

    def __init__(self):
        self._tasks = queue.SimpleQueue()
        # counters read by spinning threads without the GIL; each is changed by one side only
        self.posted = np.zeros(1, dtype=np.int64)  # tasks submitted (by callers, under the GIL)
        self.finished = np.zeros(1, dtype=np.int64)  # tasks finished (by the helper)
        self.contended_until = 0.0  # perf_counter time before which splits run in one thread
        self._lost = 0.0  # recent spins that lost their CPU, each weighing 0.75 times less per spin since
        if _CAN_SPIN:  # load the compiled spin now: its first call takes a while, not to be read as lost time
            _spin_until_above(self.finished, 0, 0)
        threading.Thread(target=self._serve, name="glassnet-worker", daemon=True).start()

    def submit(self, fn, *args) -> _Task:
        task = _Task(fn, args, self, int(self.posted[0]) + 1)
        self._tasks.put(task)
        self.posted[0] += 1  # after the put: a helper that sees the count finds the task
        return task

    def contended(self) -> bool:
        """Whether the CPUs looked busy with other programs a moment ago."""
        return time.perf_counter() < self.contended_until

    def note_spin(self, lost: float) -> None:
        """Count one spin whose thread was kept off its CPU for `lost` seconds."""
        self._lost = 0.75 * self._lost + (lost > LOST_SECONDS)
        if self._lost >= 1.5:  # two long losses in a row, or with one short between them
            self.contended_until = time.perf_counter() + CONTENDED_SECONDS
            self._lost = 0.0

    def _serve(self) -> None:
        while True:
            task = self._tasks.get()
            task.run()
            del task
            if _CAN_SPIN:  # tasks finished so far = tasks taken: spin until one more is posted
                self.note_spin(_spin_timed(self.posted, self.finished[0], SPIN_ROUNDS))


if _CAN_SPIN:
    _sched_yield = types.ExternalFunction("sched_yield", types.int32())

    def _spin_timed(counter, value, rounds) -> float:
        """_spin_until_above, returning the seconds this thread spent off its CPU meanwhile."""
        wall, cpu = time.perf_counter(), time.thread_time()
        _spin_until_above(counter, value, rounds)
        return (time.perf_counter() - wall) - (time.thread_time() - cpu)

    @njit(nogil=True, cache=True)
    def _spin_until_above(counter, value, rounds):
        """Whether counter[0] > value within `rounds` yields of the CPU. (The call to the C
        library each round also makes the loop read counter[0] afresh.)"""
        for _ in range(rounds):
            if counter[0] > value:
                return True
            _sched_yield()
        return counter[0] > value


@contextlib.contextmanager
def single_threaded_blas():
    """OpenBLAS (NumPy's, and SciPy's, which numba's np.dot calls) at one thread while glassnet's
    kernels run, and from then on. The setting is not restored afterwards on purpose: OpenBLAS's
    idle worker threads poll for work for a while after each call, and raising the count again
    after every operation kept one polling on the second core, where glassnet's helper thread
    needs it. PyTorch likewise sets the BLAS thread count to its own. (A user who raises the
    count again with threadpoolctl gets multi-threaded NumPy products, and glassnet's kernels
    then share the cores with OpenBLAS's threads.)"""
    global _controller, _blas_single
    if not _blas_single:
        with _blas_lock:
            if _controller is None:
                import scipy.linalg.cython_blas  # noqa: F401  the BLAS numba's np.dot calls: load it before the lookup
                _controller = ThreadpoolController().select(user_api="blas")
            for lib in _controller.lib_controllers:
                lib.set_num_threads(1)
            _blas_single = True
    yield


def split_batch(n: int, work, worth_it: bool = True) -> list:
    """[work(0, h), work(h, n)] with h = ceil(n / 2): the two halves of a batch of n samples, the
    first in the calling thread and the second in the helper at the same time, with OpenBLAS
    held at one thread. [work(0, n)] in this thread alone when one thread is asked for, when the
    batch has a single sample, or when the caller judges the work too small (worth_it=False)."""
    with single_threaded_blas():
        if not worth_it or n < 2 or _workers < 2:
            return [work(0, n)]
        helper = executor()
        if helper.contended():
            return [work(0, n)]
        half = -(-n // 2)
        with _two_cpus() as (mine, helpers):
            second = helper.submit(_on_cpus, helpers, work, half, n)
            _set_cpus(mine)
            try:
                first = work(0, half)
            except BaseException:
                with contextlib.suppress(BaseException):
                    second.result()  # the helper writes arrays the caller owns: let it finish first
                raise
            # wait while still pinned: the helper's wake-up call would otherwise move this
            # thread to the helper's CPU, where it then ran the single-threaded operations
            # beside the spinning helper
            return [first, second.result()]


@contextlib.contextmanager
def _two_cpus():
    """(caller's CPU, helper's CPU) for one split: two different CPUs of the caller's allowed
    set, the caller's affinity restored afterwards. Why pin: the helper is woken by the caller,
    and Linux tends to wake a thread on its waker's CPU; after a pause of some milliseconds the
    two halves then often shared one CPU for a while, the caller's half taking twice the
    helper's. Pinned, after a 0.15 s pause: a (64, 6, 14x14) convolution's forward and backward
    2.35 ms instead of 3.22, a LeNet-5 step 9.4 ms instead of 10.7 (docs/benchmarks.md).
    Where affinity cannot be read or set (not Linux), nothing is pinned."""
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        yield None, None
        return
    cpus = sorted(allowed)
    if len(cpus) < 2:
        yield None, None
        return
    try:
        yield cpus[:1], cpus[1:2]
    finally:
        _set_cpus(allowed)


def _set_cpus(cpus) -> bool:
    """Pin this thread to `cpus` (None: leave it); whether that was done."""
    if cpus is None:
        return False
    try:
        os.sched_setaffinity(0, cpus)
    except OSError:  # e.g. the CPU went offline: run wherever the scheduler likes
        return False
    return True


_helper_cpus = None  # what the helper thread is pinned to; only the helper changes it


def _on_cpus(cpus, work, *args):
    """work(*args) in the helper, pinned to `cpus` (it stays there until a task asks for other
    CPUs, so the system call is made only then)."""
    global _helper_cpus
    if cpus != _helper_cpus and _set_cpus(cpus):
        _helper_cpus = cpus
    return work(*args)


def _forget_helper_after_fork() -> None:
    """A forked child (e.g. a data-loading worker) inherits the helper object but not its
    thread: submitting to it would wait forever, so the child starts a helper of its own."""
    global _helper, _helper_lock, _blas_lock, _helper_cpus
    _helper, _helper_lock, _helper_cpus = None, threading.Lock(), None
    _blas_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_helper_after_fork)
