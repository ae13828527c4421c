"""glassnet's threads (kernels/fast/threads.py): how work is split, pinned and restored, and how many threads."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import glassnet
import glassnet.functional  # noqa: F401
from glassnet.kernels.fast import threads

two_cpus = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2


@pytest.mark.parametrize("n_threads", [2, 3, 4])
def test_split_batch_gives_each_thread_one_part(at_threads, n_threads):
    at_threads(n_threads)
    seen = []

    def work(n0, n1):
        seen.append((n0, n1, threading.get_ident()))
        return n1 - n0

    assert threads.split_batch(7, work) == {2: [4, 3], 3: [3, 2, 2], 4: [2, 2, 2, 1]}[n_threads]
    assert sorted(s[:2] for s in seen) == threads.parts(7, n_threads)
    assert len({s[2] for s in seen}) == n_threads  # each part in a thread of its own


@pytest.mark.parametrize("most, expected", [(1, [7]), (2, [4, 3]), (3, [3, 2, 2]), (9, [2, 2, 2, 1])])
def test_split_batch_makes_no_more_parts_than_most(at_threads, most, expected):
    at_threads(4)
    assert threads.split_batch(7, lambda n0, n1: n1 - n0, most=most) == expected


@pytest.mark.parametrize("n, k", [(7, 1), (7, 2), (7, 3), (8, 4), (3, 5), (0, 2)])
def test_parts_cover_the_range_in_order_with_sizes_one_apart(n, k):
    cut = threads.parts(n, k)
    assert len(cut) == k and cut[0][0] == 0 and cut[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(cut, cut[1:]))
    sizes = [hi - lo for lo, hi in cut]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize("n, worth_it, workers", [(7, False, 2), (1, True, 2), (7, True, 1), (7, False, 4)])
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
def test_the_parts_run_pinned_to_cpus_of_their_own_and_the_caller_is_restored(two_threads):
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


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs Linux CPU affinity")
def test_more_workers_than_cpus_run_unpinned_and_without_spinning(at_threads, monkeypatch):
    """Over-subscribed (say 4 threads on a 2-CPU machine): every part may run on every allowed
    CPU, and nobody spins (a spinning thread would take a CPU from a working one)."""
    allowed = os.sched_getaffinity(0)
    at_threads(len(allowed) + 2)
    spins = []
    monkeypatch.setattr(threads, "_spin_timed", lambda *a: spins.append(a) or 0.0, raising=False)
    masks, idents = [], set()

    def work(n0, n1):
        masks.append(os.sched_getaffinity(0))
        idents.add(threading.get_ident())

    threads.split_batch(len(allowed) + 2, work)
    assert len(idents) == len(allowed) + 2
    assert all(m == allowed for m in masks)
    assert spins == []
    assert os.sched_getaffinity(0) == allowed


def _blas_counts() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.fixture
def user_blas_threads(monkeypatch):
    """The user's BLAS thread count, 3, for the test; glassnet not opted in to holding it at 1."""
    monkeypatch.setattr(threads, "_blas_for_process", False)
    with threadpool_limits(limits=3, user_api="blas"):
        yield 3


def test_blas_is_at_one_thread_inside_glassnet_calls_and_back_at_the_users_count_after(user_blas_threads):
    inside = []
    threads.split_batch(4, lambda n0, n1: inside.append(_blas_counts()), worth_it=False)
    with threads.single_threaded_blas():
        with threads.single_threaded_blas():  # blocks nest: the inner end restores nothing
            pass
        inside.append(_blas_counts())
    assert inside == [{1}, {1}]
    assert _blas_counts() == {user_blas_threads}
    x = glassnet.tensor(np.ones((2, 3, 8, 8), np.float32), requires_grad=True)
    w = glassnet.tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    glassnet.functional.conv2d(x, w).sum().backward()
    assert _blas_counts() == {user_blas_threads}


def test_blas_is_restored_once_calls_from_two_threads_have_all_ended(user_blas_threads, two_threads, in_threads):
    """Two threads' glassnet calls overlap: OpenBLAS stays at one thread until the last one ends
    (a count saved per thread would restore 1, the count the second thread found)."""
    counts = []

    def caller():
        for _ in range(200):
            threads.split_batch(4, lambda n0, n1: counts.append(_blas_counts()) if n0 == 0 else None)

    assert in_threads(caller, 2) == [] and all(c == {1} for c in counts)
    assert _blas_counts() == {user_blas_threads}


@pytest.mark.parametrize("bad", [0, -1, 1.0, True, "2", None])
def test_set_num_threads_accepts_any_positive_int(bad, monkeypatch):
    monkeypatch.setattr(threads, "_workers", threads._workers)
    with pytest.raises(ValueError, match="positive int"):
        glassnet.set_num_threads(bad)
    for n in (1, 3, 64, np.int64(5)):
        glassnet.set_num_threads(n)
        assert glassnet.get_num_threads() == n and type(glassnet.get_num_threads()) is int


def _threads_in_fresh_process(**env) -> tuple[int, str]:
    """get_num_threads() at import in a new process with these environment variables, and its stderr."""
    clean = {k: v for k, v in os.environ.items() if k not in ("GLASSNET_NUM_THREADS", "OMP_NUM_THREADS")}
    code = "import glassnet; print(glassnet.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], env=dict(clean, **env), capture_output=True, text=True,
                         check=True)
    return int(out.stdout), out.stderr


@pytest.mark.parametrize("env, expected", [
    ({}, None),  # the CPUs this process may run on
    ({"OMP_NUM_THREADS": "3"}, 3),
    ({"OMP_NUM_THREADS": "5,2"}, 5),  # nested OpenMP levels: the first
    ({"GLASSNET_NUM_THREADS": "6"}, 6),
    ({"GLASSNET_NUM_THREADS": "7", "OMP_NUM_THREADS": "3"}, 7),  # glassnet's own wins
])
def test_the_default_thread_count_comes_from_the_environment_or_the_cpus(env, expected):
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert _threads_in_fresh_process(**env)[0] == (cpus if expected is None else expected)


@pytest.mark.parametrize("bad", ["0", "many", "-2"])
def test_a_bad_thread_count_in_the_environment_is_ignored_with_a_warning(bad):
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n, err = _threads_in_fresh_process(GLASSNET_NUM_THREADS=bad)
    assert n == cpus and "GLASSNET_NUM_THREADS" in err and "not a positive integer" in err


@pytest.mark.skipif(not threads._CAN_SPIN, reason="the spinning waits are Linux-only")
def test_spin_returns_once_the_counter_passes_the_value_and_gives_up_after_its_rounds():
    counter, nothing = np.array([3], dtype=np.int64), np.zeros(0, dtype=np.int64)
    assert threads._spin_until_above(counter, 2, 10**9, nothing, 0)  # already above: returns at once
    assert not threads._spin_until_above(counter, 3, 10, nothing, 0)  # never above: returns after 10 rounds
    timer = threading.Timer(0.05, lambda: counter.__setitem__(0, 4))
    timer.start()
    assert threads._spin_until_above(counter, 3, 10**9, nothing, 0)  # returns when the other thread counts up
    assert counter[0] == 4
    timer.join()
    finished = np.array([7], dtype=np.int64)  # a helper's count of finished tasks: counted up first
    threads._spin_until_above(counter, 4, 10, finished, 0)
    assert finished[0] == 8
    assert threads._spin_until_above(counter, 3, 10, nothing, 50)  # above, after 50 more rounds of settling
    # the settling rounds are measured once per process: about SETTLE_SECONDS of them, at most 1000
    assert 0 < threads.executor().settle_rounds <= 1000


def test_many_splits_from_two_threads_each_get_their_own_results(two_threads):
    """Tasks from two calling threads queue for the same helper; each caller gets its halves."""
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
    pool = threads.executor()
    assert _threads_used() == 2
    monkeypatch.setattr(threads, "LOST_SECONDS", float("-inf"))  # every spin now counts as one that lost its CPU
    _threads_used(), _threads_used()  # the caller's spins in these two alone reach the threshold
    assert pool.contended()
    assert _threads_used() == 1  # ... and the next split stays in the caller
    monkeypatch.setattr(threads, "LOST_SECONDS", float("inf"))
    pool.contended_until = 0.0  # CONTENDED_SECONDS later
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
            "from glassnet.kernels.fast import threads\n"
            "glassnet.set_num_threads(2)\n"
            "x = glassnet.tensor(np.ones((8, 3, 40, 40), np.float32))  # large enough to split\n"
            "w = glassnet.tensor(np.ones((8, 3, 3, 3), np.float32))\n"
            "print(threads._CAN_SPIN, float(F.conv2d(x, w).sum().item()))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", str(8 * 8 * 38 * 38 * 27.0)]


def test_run_both_runs_the_two_calls_in_two_threads_and_splits_inside_them_stay_in_one(two_threads):
    """Each of the two calls runs in a thread of its own; a split either asks for then runs in
    that thread alone (its helpers are busy with the other call, and a helper waiting on a
    task queued to itself would wait forever)."""
    seen = {}

    def call(name):
        def run():
            parts = threads.split_batch(6, lambda a, b: (a, b, threading.get_ident()))
            seen[name] = (threading.get_ident(), parts)
            return name
        return run

    assert threads.run_both(call("first"), call("second")) == ("first", "second")
    assert seen["first"][0] == threading.get_ident() != seen["second"][0]
    for ident, parts in seen.values():
        assert parts == [(0, 6, ident)]  # the whole range, in the call's own thread
    assert threads.split_batch(6, lambda a, b: threading.get_ident()) != [threading.get_ident()]  # afterwards: split again


@pytest.mark.parametrize("workers, worth_it", [(1, True), (2, False)])
def test_run_both_runs_one_after_the_other_when_one_thread_is_asked_for(at_threads, workers, worth_it):
    at_threads(workers)
    order = []
    assert threads.run_both(lambda: order.append(threading.get_ident()) or 1,
                            lambda: order.append(threading.get_ident()) or 2, worth_it) == (1, 2)
    assert order == [threading.get_ident()] * 2


def test_an_error_in_run_both_is_raised_after_the_other_call_finished(two_threads):
    finished = []

    def fail():
        raise ValueError("first call failed")

    def slow():
        threading.Event().wait(0.05)
        finished.append(True)

    with pytest.raises(ValueError, match="first call failed"):
        threads.run_both(fail, slow)
    assert finished == [True]
