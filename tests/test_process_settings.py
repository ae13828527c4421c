"""glassnet leaves the process's BLAS threads and malloc settings as it found them, unless asked
(glassnet/process_settings.py).

Each test runs in a fresh Python process: it looks at the settings, imports glassnet, trains a
LeNet-5 step (and maybe opts in), and looks again. This file is loaded by that process too (for
`observe` and `run`), so it does not import glassnet at the top.

The BLAS threads are threadpoolctl's view (threadpool_info()). glibc has no call that reads its
malloc thresholds back, so they are seen by what malloc does (mallinfo2, glibc 2.33+): whether a
48 MiB block is served by mmap (always, with glibc's defaults: its own adjustment of the mmap
threshold stops at 32 MiB; never below the 64 MiB glassnet can set), and whether 96 MiB freed at
the top of the heap is given back to the system (always by default: the trim threshold adjusts
up to 64 MiB; never below glassnet's 256 MiB).
"""

import ctypes
import json
import os
import platform
import subprocess
import sys

import pytest

USER_BLAS_THREADS = 3  # what the user set: neither OpenBLAS's default nor glassnet's 1
glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


def malloc_behaviour() -> dict | None:
    """What glibc's malloc does with a large block and with freed memory; None off glibc."""
    if not glibc:
        return None
    libc = ctypes.CDLL("libc.so.6")
    if not hasattr(libc, "mallinfo2"):  # glibc before 2.33
        return None
    libc.mallinfo2.restype = _Mallinfo2
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    libc.malloc_trim(0)  # an empty heap top first, so that the 48 MiB cannot come from it
    mmapped_before = libc.mallinfo2().hblks
    block = libc.malloc(48 << 20)
    mmapped = libc.mallinfo2().hblks > mmapped_before
    libc.free(block)
    libc.malloc_trim(0)
    # 96 MiB in blocks of 96 KiB, below every mmap threshold: they come from the heap, and freed
    # last-first they gather at its top
    blocks = [libc.malloc(96 << 10) for _ in range(1024)]
    heap = libc.mallinfo2().arena
    for b in reversed(blocks):
        libc.free(b)
    returned = libc.mallinfo2().arena < heap - (48 << 20)
    return {"48 MiB block mmapped": mmapped, "96 MiB freed returned to the system": returned}


def blas_threads() -> dict:
    """threadpoolctl's view: each BLAS library's thread count, by file."""
    from threadpoolctl import threadpool_info
    return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def observe() -> dict:
    return {"blas": blas_threads(), "malloc": malloc_behaviour()}


def run(opt_in: str) -> dict:
    """In a fresh process: the settings before glassnet, then after importing it, opting in as
    `opt_in` says ("" not at all, "call": use_process_settings(), "command": the `glassnet`
    command's entry point) and training one LeNet-5 step."""
    import numpy as np
    import scipy.linalg  # noqa: F401  both BLAS libraries glassnet uses (NumPy's and SciPy's) loaded
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=USER_BLAS_THREADS, user_api="blas")
    before = observe()

    import glassnet
    import glassnet.models

    if opt_in == "call":
        glassnet.use_process_settings()
    elif opt_in == "command":
        from glassnet import cli
        sys.argv = ["glassnet", "models"]
        cli.main()  # the `glassnet` command (argv from sys.argv), listing the models
    glassnet.set_num_threads(2)  # the helper threads run too, on any machine
    model = glassnet.models.lenet5()
    opt = glassnet.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = glassnet.tensor(rng.standard_normal((16, 1, 28, 28)).astype(np.float32))
    y = glassnet.tensor(rng.integers(0, 10, 16))
    for _ in range(2):
        opt.zero_grad()
        glassnet.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return {"before": before, "after": observe()}


def _in_fresh_process(opt_in: str = "", **env) -> tuple[dict, dict]:
    code = ("import importlib.util, json, sys\n"
            f"spec = importlib.util.spec_from_file_location('probe', {__file__!r})\n"
            "probe = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(probe)\n"
            f"result = probe.run({opt_in!r})\n"
            "print('RESULT', json.dumps(result))\n")
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GLASSNET_", "OPENBLAS_", "MALLOC_", "GLIBC_TUNABLES"))}
    out = subprocess.run([sys.executable, "-c", code], env=dict(clean, **env), capture_output=True, text=True,
                         check=True)
    result = json.loads(out.stdout.split("RESULT ", 1)[1])
    return result["before"], result["after"]


def _glibc_defaults_seen(before: dict) -> None:
    """The probe sees glibc's defaults before glassnet is imported: the observation can tell."""
    assert before["malloc"] == {"48 MiB block mmapped": True, "96 MiB freed returned to the system": True}


@pytest.mark.parametrize("env", [{}, {"GLASSNET_PROCESS_SETTINGS": "0"}])
def test_importing_glassnet_and_training_leaves_blas_threads_and_malloc_as_they_were(env):
    before, after = _in_fresh_process(**env)
    assert before["blas"] and set(before["blas"].values()) == {USER_BLAS_THREADS}
    if before["malloc"] is not None:
        _glibc_defaults_seen(before)
    assert after == before


@pytest.mark.parametrize("opt_in, env", [("call", {}), ("command", {}), ("", {"GLASSNET_PROCESS_SETTINGS": "1"})])
def test_opting_in_holds_blas_at_one_thread_and_keeps_freed_memory(opt_in, env):
    before, after = _in_fresh_process(opt_in, **env)
    assert set(before["blas"].values()) == {USER_BLAS_THREADS}
    assert after["blas"] == {path: 1 for path in before["blas"]}
    if not glibc or before["malloc"] is None:
        pytest.skip("the malloc thresholds are glibc's")
    _glibc_defaults_seen(before)
    assert after["malloc"] == {"48 MiB block mmapped": False, "96 MiB freed returned to the system": False}


def test_glassnet_keep_freed_memory_0_keeps_malloc_alone_when_opted_in():
    before, after = _in_fresh_process("call", GLASSNET_KEEP_FREED_MEMORY="0")
    assert after["malloc"] == before["malloc"]
    assert set(after["blas"].values()) == {1}
