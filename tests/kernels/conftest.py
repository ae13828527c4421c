"""Fixtures for the kernels' tests."""

import threading

import pytest

from glassnet.kernels.fast import threads


@pytest.fixture
def split_sizes(monkeypatch):
    """The number of workers of every split that ran (threads.run_side_by_side, or the compiled
    hand-off's threads._run_compiled), to show that the work was in fact shared."""
    sizes = []
    run, run_compiled = threads.run_side_by_side, threads._run_compiled

    def counting(calls):
        sizes.append(len(calls))
        return run(calls)

    def counting_compiled(part, blocks, work, cuts):
        ran = run_compiled(part, blocks, work, cuts)
        if ran:
            sizes.append(len(blocks))
        return ran
    monkeypatch.setattr(threads, "run_side_by_side", counting)
    monkeypatch.setattr(threads, "_run_compiled", counting_compiled)
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
