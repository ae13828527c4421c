"""Freed memory kept for reuse instead of going back to the operating system: opt-in.

Every layer call allocates its output and every backward its gradients: arrays of megabytes,
freed a moment later and allocated again at the next step. glibc's malloc serves blocks that
large with mmap and hands them back with munmap when freed (or trims them off its heap), so the
next step touches fresh pages and takes one page fault per 4 KiB page. Page faults are slow in a
virtual machine and two threads faulting in one process wait for each other: ReLU + 2x2 max
pooling forward and backward on (64, 32, 28, 28) took 12-17 ms per step that way and 3.6-5.4 ms
with the settings below (docs/benchmarks.md), where the computation alone is about 3 ms.

keep_freed_memory() raises two of glibc's malloc thresholds (mallopt):
- M_MMAP_THRESHOLD = 64 MiB: blocks below it come from malloc's heap, where freed blocks are
  reused, instead of fresh mmaps;
- M_TRIM_THRESHOLD = 256 MiB: up to that much free memory stays in the heap instead of being
  returned to the OS.
They are the whole process's settings, not glassnet's: every other library in the process then
allocates this way too, its resident size stays near the largest working set so far, and glibc
has no call that reads them back or restores its defaults (setting a threshold also ends its
own adjustment of them). So importing glassnet leaves malloc alone; keep_freed_memory() runs only
when asked, through glassnet.use_process_settings() (process_settings.py), which the `glassnet`
command calls. GLASSNET_KEEP_FREED_MEMORY=0 makes it do nothing (for the command too); other C
libraries (musl, macOS, Windows) are left alone.

What that leaves on the table (docs/benchmarks.md, "Process-wide settings"): with glibc's
defaults, ReLU + pooling on (64, 32, 28, 28) took 2,663-3,174 page faults per step once a
LeNet-5 step had run in the process, and 1.5-2.3 times as long; with both thresholds none
(either alone did not help). A LeNet-5 step itself faults about once either way. A pool of
glassnet's own (as PyTorch's caching allocator) would keep most of this without touching malloc
(a one-off check with one in the activation and pooling kernels: 38 faults per step), but is
not built yet: every kernel allocating large arrays would have to allocate through it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

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
