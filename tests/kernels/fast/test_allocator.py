"""The malloc thresholds glassnet sets on import (kernels/fast/allocator.py)."""

import os
import platform
import subprocess
import sys

import pytest

from glassnet.kernels.fast import allocator

glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not glibc, reason="mallopt is glibc's")
def test_glibc_accepts_the_thresholds():
    assert allocator.keep_freed_memory() is True


def test_the_environment_variable_keeps_the_defaults(monkeypatch):
    monkeypatch.setenv("GLASSNET_KEEP_FREED_MEMORY", "0")
    assert allocator.keep_freed_memory() is False


def test_importing_with_the_opt_out_still_works():
    env = dict(os.environ, GLASSNET_KEEP_FREED_MEMORY="0")
    code = "import glassnet, numpy as np; print(glassnet.tensor(np.ones(3, np.float32)).sum().item())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3.0"
