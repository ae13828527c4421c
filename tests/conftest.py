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
