"""Suite-wide settings and fixtures.

PyTorch is the test oracle. Its default thread pool hands tiny operations to worker threads,
which on a busy 2-core machine turns a 3 ms step into half a second; one thread keeps the
oracle fast and its results independent of the machine's load.
"""

import pytest

try:
    import torch
except ImportError:  # the suites that need torch import it themselves and fail loudly
    torch = None

if torch is not None:
    torch.set_num_threads(1)


@pytest.fixture
def at_threads(monkeypatch):
    """at_threads(n) puts glassnet at n threads, splitting whenever asked: the run-time check
    that falls back to one thread while other programs keep the CPUs busy
    (threads.LOST_SECONDS) is switched off, so a test of the split does not depend on the
    machine's load. (n may exceed the machine's CPUs: the split is then over-subscribed.)"""
    from glassnet.kernels.fast import threads

    monkeypatch.setattr(threads, "LOST_SECONDS", float("inf"))
    threads.executor().contended_until = 0.0

    def at(n):
        monkeypatch.setattr(threads, "_workers", n)
    return at


@pytest.fixture
def two_threads(at_threads):
    """glassnet at two threads, splitting whenever asked (at_threads)."""
    at_threads(2)


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory):
    """The documentation site built once with `mkdocs build --strict` (the build is a test: it
    fails on any warning), shared by the tests of the site and of the API reference's pages."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out
