"""How glassnet uses the CPU's cores: its own worker threads, and OpenBLAS held at one thread.

The parallelism is glassnet's: a convolution or a pooling splits its batch between
`get_num_threads()` threads (the caller and a pooled helper) with `split_batch`, each running
single-threaded GEMMs, copies and scatter-adds on its own samples side by side (NumPy and numba
release the GIL). One operation hands work to the helper once: a round trip costs about 25 us
when the helper has just run and about 150 us when it has slept a while (measured on the 2-core
machine of docs/benchmarks.md), so small problems stay in one thread. OpenBLAS is set to one
thread when glassnet's kernels first run, because a multi-threaded OpenBLAS on the modest
products of a CNN only adds hand-offs between its threads: on a busy 2-core machine a
(64, 400) @ (400, 120) product took 69 ms at two OpenBLAS threads and 0.07 ms at one
(docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

from threadpoolctl import ThreadpoolController

_workers = max(1, min(2, os.cpu_count() or 1))
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()

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


def executor() -> ThreadPoolExecutor:
    """The pool holding the helper thread (the calling thread is the other worker)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="glassnet-worker")
    return _pool


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
        half = -(-n // 2)
        with _two_cpus() as (mine, helpers):
            second = executor().submit(_on_cpus, helpers, work, half, n)
            _set_cpus(mine)
            try:
                first = work(0, half)
            except BaseException:
                wait([second])  # the helper writes arrays the caller owns: let it finish first
                raise
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


def _forget_pool_after_fork() -> None:
    """A forked child (e.g. a data-loading worker) inherits the pool object but not its thread:
    submitting to it would wait forever, so the child starts a pool of its own when needed."""
    global _pool, _pool_lock, _blas_lock, _helper_cpus
    _pool, _pool_lock, _helper_cpus = None, threading.Lock(), None
    _blas_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)
