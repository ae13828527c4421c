"""glassnet's two threads (kernels/threads.py): how a batch is split, pinned and restored."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import glassnet
import glassnet.functional  # noqa: F401
from glassnet.kernels import threads

two_cpus = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2


def test_split_batch_gives_each_thread_one_half(two_threads):
    seen = []

    def work(n0, n1):
        seen.append((n0, n1, threading.get_ident()))
        return n1 - n0

    assert threads.split_batch(7, work) == [4, 3]
    assert sorted(s[:2] for s in seen) == [(0, 4), (4, 7)]
    assert seen[0][2] != seen[1][2]  # two different threads


@pytest.mark.parametrize("n, worth_it, workers", [(7, False, 2), (1, True, 2), (7, True, 1)])
def test_split_batch_stays_in_one_thread_when_asked(monkeypatch, n, worth_it, workers):
    monkeypatch.setattr(threads, "_workers", workers)
    caller = threading.get_ident()
    calls = []
    assert threads.split_batch(n, lambda a, b: calls.append((a, b, threading.get_ident())) or b - a,
                               worth_it) == [n]
    assert calls == [(0, n, caller)]


def test_an_error_in_one_half_is_raised_after_the_other_half_finished(two_threads):
    finished = []

    def work(n0, n1):
        if n0 == 0:
            raise ValueError("first half failed")
        threading.Event().wait(0.05)  # the helper is still writing when the caller fails
        finished.append(n0)

    with pytest.raises(ValueError, match="first half failed"):
        threads.split_batch(4, work)
    assert finished == [2]


@pytest.mark.skipif(not two_cpus, reason="needs two CPUs and Linux CPU affinity")
def test_the_halves_run_pinned_to_two_cpus_and_the_caller_is_restored(two_threads):
    before = os.sched_getaffinity(0)
    masks = {}

    def work(n0, n1):
        masks[n0] = os.sched_getaffinity(0)

    threads.split_batch(4, work)
    assert len(masks[0]) == len(masks[2]) == 1 and masks[0] != masks[2]
    assert os.sched_getaffinity(0) == before
    with pytest.raises(RuntimeError):
        threads.split_batch(4, lambda n0, n1: (_ for _ in ()).throw(RuntimeError("boom")))
    assert os.sched_getaffinity(0) == before


def test_blas_is_held_at_one_thread_once_a_kernel_ran():
    x = glassnet.tensor(np.ones((2, 3, 8, 8), np.float32))
    w = glassnet.tensor(np.ones((4, 3, 3, 3), np.float32))
    glassnet.functional.conv2d(x, w)
    for lib in threadpool_info():
        if lib["user_api"] == "blas":
            assert lib["num_threads"] == 1, lib


@pytest.mark.parametrize("bad", [0, 3, 1.0, True, "2"])
def test_set_num_threads_accepts_one_or_two(bad):
    with pytest.raises(ValueError, match="1 or 2 threads"):
        glassnet.set_num_threads(bad)


@pytest.mark.skipif(not threads._CAN_SPIN, reason="the spinning waits are Linux-only")
def test_spin_returns_once_the_counter_passes_the_value_and_gives_up_after_its_rounds():
    counter = np.array([3], dtype=np.int64)
    threads._spin_until_above(counter, 2, 10**9)  # already above: returns at once
    threads._spin_until_above(counter, 3, 10)  # never above: returns after 10 rounds
    timer = threading.Timer(0.05, lambda: counter.__setitem__(0, 4))
    timer.start()
    threads._spin_until_above(counter, 3, 10**9)  # returns when the other thread counts up
    assert counter[0] == 4
    timer.join()


def test_many_splits_from_two_threads_each_get_their_own_results(two_threads):
    """Tasks from two calling threads queue for the one helper; each caller gets its halves."""
    results, errors = {}, []

    def caller(tag):
        try:
            results[tag] = [threads.split_batch(6, lambda n0, n1: (tag, n0, n1)) for _ in range(200)]
        except BaseException as error:  # reported below: an assert in a thread would be lost
            errors.append(error)

    workers = [threading.Thread(target=caller, args=(tag,)) for tag in "ab"]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    for tag in "ab":
        assert results[tag] == [[(tag, 0, 3), (tag, 3, 6)]] * 200


def _threads_used(n=4):
    seen = set()
    threads.split_batch(n, lambda n0, n1: seen.add(threading.get_ident()))
    return len(seen)


@pytest.mark.skipif(not threads._CAN_SPIN, reason="the spinning waits are Linux-only")
def test_spins_that_lose_their_cpu_make_splits_run_in_one_thread_for_a_while(two_threads, monkeypatch):
    """Spinning threads kept off their CPU lost it to another program; then two threads would
    be slower than one, so splits run in one thread until CONTENDED_SECONDS pass."""
    helper = threads.executor()
    assert _threads_used() == 2
    monkeypatch.setattr(threads, "LOST_SECONDS", float("-inf"))  # every spin now counts as one that lost its CPU
    _threads_used(), _threads_used()  # the caller's spins in these two alone reach the threshold
    assert helper.contended()
    assert _threads_used() == 1  # ... and the next split stays in the caller
    monkeypatch.setattr(threads, "LOST_SECONDS", float("inf"))
    helper.contended_until = 0.0  # CONTENDED_SECONDS later
    assert _threads_used() == 2


def test_without_spinning_the_two_threads_wait_on_the_queue_and_the_lock(two_threads, monkeypatch):
    """Where sched_yield cannot be called (not Linux) the threads sleep between hand-offs; the
    splits give the same halves."""
    monkeypatch.setattr(threads, "_CAN_SPIN", False)
    for _ in range(3):
        first, second = threads.split_batch(5, lambda n0, n1: (n0, n1, threading.get_ident()))
        assert first[:2] == (0, 3) and second[:2] == (3, 5) and first[2] != second[2]


def test_glassnet_spin_0_makes_the_threads_sleep_between_hand_offs():
    env = dict(os.environ, GLASSNET_SPIN="0")
    code = ("import numpy as np, glassnet, glassnet.functional as F\n"
            "from glassnet.kernels import threads\n"
            "glassnet.set_num_threads(2)\n"
            "x = glassnet.tensor(np.ones((8, 3, 40, 40), np.float32))  # large enough to split\n"
            "w = glassnet.tensor(np.ones((8, 3, 3, 3), np.float32))\n"
            "print(threads._CAN_SPIN, float(F.conv2d(x, w).sum().item()))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", str(8 * 8 * 38 * 38 * 27.0)]
