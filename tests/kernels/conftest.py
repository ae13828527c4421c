"""Fixtures for the kernels' tests."""

import threading

import pytest

from glassnet.kernels.fast import threads


@pytest.fixture
def split_sizes(monkeypatch):
    """The number of workers of every split that ran (threads.run_side_by_side), to show that
    the work was in fact shared."""
    sizes = []
    run = threads.run_side_by_side

    def counting(calls):
        sizes.append(len(calls))
        return run(calls)
    monkeypatch.setattr(threads, "run_side_by_side", counting)
    return sizes


@pytest.fixture
def in_threads():
    """in_threads(fn, n) runs fn() in n threads at once and returns the errors they raised (an
    assert failing in a thread would otherwise be lost)."""
    def run(fn, n: int) -> list:
        errors = []

        def guarded():
            try:
                fn()
            except BaseException as error:  # handed to the test
                errors.append(error)

        workers = [threading.Thread(target=guarded) for _ in range(n)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return errors
    return run
