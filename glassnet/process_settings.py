"""Settings of the whole process that glassnet changes only when asked.

A library shares its process with the user's own code, so by default glassnet leaves the
process as it found it: OpenBLAS is held at one thread only inside glassnet's kernels and set
back to the user's count when they return (kernels/fast/threads.py), and malloc keeps its settings.
A process that is glassnet's own (the `glassnet` command: train, eval, predict, ...) asks for
both to be tuned for glassnet instead:

    glassnet.use_process_settings()      # or GLASSNET_PROCESS_SETTINGS=1 before importing glassnet

- malloc: glibc's thresholds raised so that every freed block in the process is reused instead
  of being returned to the system and faulted in again at the next step (kernels/fast/allocator.py;
  without it glassnet's own pool still does that for the activation and pooling kernels);
- BLAS: OpenBLAS left at one thread after glassnet's calls too (NumPy products outside glassnet
  then run on one core), as glassnet did before it restored the count (kernels/fast/threads.py).
What each costs and buys, measured side by side: docs/benchmarks.md, "Process-wide settings".
"""

from __future__ import annotations

import os

from .kernels.fast.allocator import keep_freed_memory
from .kernels.fast.threads import hold_blas_for_process


def use_process_settings(malloc: bool = True, blas: bool = True) -> None:
    """Tune the whole process for glassnet: malloc keeps freed memory for reuse (malloc=True;
    glibc only; GLASSNET_KEEP_FREED_MEMORY=0 vetoes it), and OpenBLAS stays at one thread for
    good (blas=True). There is no call that undoes them: glibc cannot restore its malloc
    defaults."""
    if malloc:
        keep_freed_memory()
    if blas:
        hold_blas_for_process()


def from_environment() -> None:
    """use_process_settings() when GLASSNET_PROCESS_SETTINGS is set to anything but 0 (on import)."""
    if os.environ.get("GLASSNET_PROCESS_SETTINGS", "") not in ("", "0"):
        use_process_settings()
