"""Fixtures for the kernels' tests."""

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
