"""Freed memory kept for reuse instead of going back to the operating system.

Every layer call allocates its output and every backward its gradients: arrays of megabytes,
freed a moment later and allocated again at the next step. glibc's malloc serves blocks that
large with mmap and hands them back with munmap when freed (or trims them off its heap), so the
next step touches fresh pages and takes one page fault per 4 KiB page. Page faults are slow in a
virtual machine and two threads faulting in one process wait for each other: ReLU + 2x2 max
pooling forward and backward on (64, 32, 28, 28) took 12-17 ms per step that way and 3.6-5.4 ms
with freed memory kept (docs/benchmarks.md), where the computation alone is about 3 ms.

Two ways to keep it, measured side by side in docs/benchmarks.md ("Process-wide settings"):

glassnet's own pool (always on; PyTorch's caching allocator does the same). empty() and
empty_like() lend buffers of POOL_MIN_BYTES or more, each an anonymous mmap of its own, and
take them back when the last array viewing one dies; up to POOL_IDLE_BYTES of unused buffers
are kept for the next array of the same byte size. The engine allocates its results here: the
activations' and poolings' outputs and gradients, the convolutions' outputs, channels-last
copies and input gradients, the dense layers' products. Knowing when the last array died: each
loan is an instance of _Loan, an ndarray subclass over the buffer, and every array handed out
is a view of it; NumPy points a view at the first array up its chain that owns its memory or
has another type, so the loan stays in every view's chain and its __del__ runs when the last
view goes. (tracemalloc does not see these buffers: they are mmaps, not NumPy's allocations.)
With it, ReLU + pooling on (64, 32, 28, 28) after a LeNet-5 step took no page faults instead of
2,663-3,174 per step under malloc's defaults.

malloc's thresholds (opt-in). keep_freed_memory() raises two of glibc's malloc thresholds
(mallopt), so that every allocation, NumPy's temporaries included, is reused by malloc itself:
- M_MMAP_THRESHOLD = 64 MiB: blocks below it come from malloc's heap, where freed blocks are
  reused, instead of fresh mmaps;
- M_TRIM_THRESHOLD = 256 MiB: up to that much free memory stays in the heap instead of being
  returned to the OS.
Both are needed (either alone left 2,463 and 2,663 faults per step in the case above). They
are the whole process's settings, not glassnet's: every other library in the process then
allocates this way too, its resident size stays near the largest working set so far, and glibc
has no call that reads them back or restores its defaults (setting a threshold also ends its
own adjustment of them). So importing glassnet leaves malloc alone; keep_freed_memory() runs
only when asked, through glassnet.use_process_settings() (process_settings.py), which the
`glassnet` command calls. GLASSNET_KEEP_FREED_MEMORY=0 makes it do nothing (for the command
too); other C libraries (musl, macOS, Windows) are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import mmap
import os
import threading

import numpy as np

MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)


def keep_freed_memory() -> bool:
    """Apply the thresholds above to the whole process; True when glibc's mallopt accepted both."""
    if os.environ.get("GLASSNET_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018  present only in glibc
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


# ---------------------------------------------------------------- glassnet's own pool

# From 64 KiB: glibc maps blocks from 128 KiB on (its threshold then moves with what is freed)
# and trims its heap's top, so LeNet-5's maps and gradients of 100-400 KB still came as fresh
# pages with a 1 MiB limit (763 page faults per training step; 2-3 with this one). Below it
# malloc's heap serves and reuses them.
POOL_MIN_BYTES = 1 << 16
POOL_IDLE_BYTES = 256 << 20  # at most this much memory kept while no array uses it

_idle: dict[int, list[mmap.mmap]] = {}  # byte size -> buffers no array uses now
_idle_bytes = 0
_pool_lock = threading.RLock()  # re-entrant: a garbage collection inside it may give a buffer back


class _Loan(np.ndarray):
    """One lending of a pooled buffer (its base). The arrays handed out are views of it; NumPy
    keeps it in their base chain because its type differs from theirs (a plain ndarray here would
    be skipped: NumPy points a view at the first array that owns its memory or has another type),
    so it dies with the last of them, and __del__ gives the buffer back. (A weakref.finalize on
    it did the same: lending and giving back took 2.9 us that way, 0.9 this way.)"""

    def __del__(self):
        if _give_back is not None:  # None only while the interpreter shuts down
            _give_back(self.base)


def empty(shape: tuple, dtype) -> np.ndarray:
    """np.empty(shape, dtype) (C order), from the pool when it is POOL_MIN_BYTES or larger."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < POOL_MIN_BYTES:
        return np.empty(shape, dtype)
    global _idle_bytes
    with _pool_lock:
        free = _idle.get(nbytes)
        if free:
            buffer = free.pop()
            _idle_bytes -= nbytes
        else:
            buffer = None
    if buffer is None:
        buffer = mmap.mmap(-1, nbytes)  # its own pages, zero until first touched, kept when reused
        if hasattr(mmap, "MADV_HUGEPAGE"):  # 2 MiB pages where the system allows, as NumPy asks for
            buffer.madvise(mmap.MADV_HUGEPAGE)
    return np.ndarray(shape, dtype, buffer=_Loan(shape=(nbytes,), dtype=np.uint8, buffer=buffer))  # C order


def empty_like(a: np.ndarray) -> np.ndarray:
    """np.empty_like(a): a's shape, dtype and axis order in memory (channels-last stays
    channels-last), from the pool as empty() is."""
    if a.flags.c_contiguous:  # the common case, without working out the axis order (a few us per call)
        return empty(a.shape, a.dtype)
    strides = a.strides
    order = sorted(range(a.ndim), key=lambda i: -abs(strides[i]))  # axes from outermost in memory
    back = [0] * a.ndim  # the inverse permutation (np.argsort of a list alone took 1.8 us)
    for position, axis in enumerate(order):
        back[axis] = position
    return empty(tuple([a.shape[i] for i in order]), a.dtype).transpose(back)


def _give_back(buffer: mmap.mmap) -> None:
    """The last array on `buffer` died: keep it for the next loan of its size, within POOL_IDLE_BYTES."""
    global _idle_bytes
    with _pool_lock:
        if _idle_bytes + len(buffer) <= POOL_IDLE_BYTES:
            _idle.setdefault(len(buffer), []).append(buffer)
            _idle_bytes += len(buffer)
            return
    buffer.close()  # over the limit: back to the system


def _forget_pool_after_fork() -> None:
    """A forked child starts with an empty pool and a fresh lock (another thread may hold the parent's)."""
    global _pool_lock, _idle, _idle_bytes
    _pool_lock, _idle, _idle_bytes = threading.RLock(), {}, 0


os.register_at_fork(after_in_child=_forget_pool_after_fork)
