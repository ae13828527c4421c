"""Freed memory is kept for reuse instead of going back to the operating system.

Every layer call allocates its output and every backward its gradients: arrays of megabytes,
freed a moment later and allocated again at the next step. glibc's malloc serves blocks that
large with mmap and hands them back with munmap when freed (or trims them off its heap), so the
next step touches fresh pages and takes one page fault per 4 KiB page. Page faults are slow in a
virtual machine and two threads faulting in one process wait for each other: ReLU + 2x2 max
pooling forward and backward on (64, 32, 28, 28) took 12-17 ms per step that way and 3.6-5.4 ms
with the settings below (docs/benchmarks.md), where the computation alone is about 3 ms.

So, on glibc, glassnet raises two malloc thresholds when it is imported (mallopt):
- M_MMAP_THRESHOLD = 64 MiB: blocks below it come from malloc's heap, where freed blocks are
  reused, instead of fresh mmaps;
- M_TRIM_THRESHOLD = 256 MiB: up to that much free memory stays in the heap instead of being
  returned to the OS.
The cost is a resident size that stays near the largest working set so far. Set the environment
variable GLASSNET_KEEP_FREED_MEMORY=0 before importing glassnet to keep malloc's defaults; other
C libraries (musl, macOS, Windows) are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)


def keep_freed_memory() -> bool:
    """Apply the thresholds above; True when glibc's mallopt accepted both."""
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
