"""How glassnet uses the CPU's cores: its own worker threads, and OpenBLAS held at one thread.

The parallelism is glassnet's: a convolution or a pooling splits its batch between
`get_num_threads()` threads (the caller and a pooled helper) with `split_batch`, each running
single-threaded GEMMs, copies and scatter-adds on its own samples side by side (NumPy and numba
release the GIL). One operation hands work to the helper once: a round trip costs about 25 us
when the helper has just run and about 150 us when it has slept a while (measured on the 2-core
machine of docs/benchmarks.md), so small problems stay in one thread. OpenBLAS is held at one thread
while glassnet's kernels run, because a multi-threaded OpenBLAS on the modest products of a CNN
only adds hand-offs between its threads: on a busy 2-core machine a (64, 400) @ (400, 120)
product took 69 ms at two OpenBLAS threads and 0.07 ms at one (docs/benchmarks.md).
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

_controller = None  # threadpoolctl's handle on the BLAS libraries NumPy loaded, found once
_blas_lock = threading.Lock()
_blas_users = 0
_blas_saved: list = []


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
    """OpenBLAS at one thread while any glassnet kernel that uses it runs. The thread count is
    process-wide, so with kernels running in several user threads the first to start sets it and
    the last to finish restores it (nested set/restore pairs would leave it wrong)."""
    global _controller, _blas_users, _blas_saved
    with _blas_lock:
        if _blas_users == 0:
            if _controller is None:
                import scipy.linalg.cython_blas  # noqa: F401  the BLAS numba's np.dot calls: load it before the lookup
                _controller = ThreadpoolController().select(user_api="blas")
            _blas_saved = [(lib, lib.get_num_threads()) for lib in _controller.lib_controllers]
            for lib, n in _blas_saved:
                if n != 1:
                    lib.set_num_threads(1)
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                for lib, n in _blas_saved:
                    if n != 1:
                        lib.set_num_threads(n)


def split_batch(n: int, work, worth_it: bool = True) -> list:
    """[work(0, h), work(h, n)] with h = ceil(n / 2): the two halves of a batch of n samples, the
    first in the calling thread and the second in the helper at the same time, with OpenBLAS
    held at one thread. [work(0, n)] in this thread alone when one thread is asked for, when the
    batch has a single sample, or when the caller judges the work too small (worth_it=False)."""
    with single_threaded_blas():
        if not worth_it or n < 2 or _workers < 2:
            return [work(0, n)]
        half = -(-n // 2)
        second = executor().submit(work, half, n)
        try:
            first = work(0, half)
        except BaseException:
            wait([second])  # the helper writes arrays the caller owns: let it finish first
            raise
        return [first, second.result()]


def _forget_pool_after_fork() -> None:
    """A forked child (e.g. a data-loading worker) inherits the pool object but not its thread:
    submitting to it would wait forever, so the child starts a pool of its own when needed."""
    global _pool, _pool_lock, _blas_lock, _blas_users
    _pool, _pool_lock = None, threading.Lock()
    _blas_lock, _blas_users = threading.Lock(), 0


os.register_at_fork(after_in_child=_forget_pool_after_fork)
