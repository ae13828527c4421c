"""The compiled hand-off (kernels/fast/handoff.py): the mailbox protocol with a real helper
thread, and splits whose parts run compiled giving the bytes of one thread."""

import os
import threading
import time

import numpy as np
import pytest
from numba import njit

import glassnet
from glassnet.kernels import activation
from glassnet.kernels.fast import direct, handoff, layout, relu, threads

pytestmark = pytest.mark.skipif(not threads._CAN_SPIN, reason="the awake waits are Linux-only")
two_cpus = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2


def _relu_block(x: np.ndarray, y: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.array([lo, hi, x.ctypes.data, y.ctypes.data], dtype=np.int64)


def _until(condition, seconds=5.0):
    end = time.perf_counter() + seconds
    while not condition():
        assert time.perf_counter() < end, "timed out"
        time.sleep(1e-4)


@njit
def _swap(box, expected, new):
    return handoff.compare_and_swap(box, expected, new)


def test_compare_and_swap_swaps_only_the_expected_value():
    box = handoff.mailbox()
    assert _swap(box, handoff.IDLE, handoff.LISTENING)
    assert box[handoff.STATE] == handoff.LISTENING
    assert not _swap(box, handoff.IDLE, handoff.POSTED)
    assert box[handoff.STATE] == handoff.LISTENING


def test_nothing_is_posted_to_a_helper_that_is_not_listening():
    box = handoff.mailbox()
    assert handoff.post(box, handoff.compiled_part(relu.RELU_PARTS["f"]), 0) == -1
    assert box.tolist() == handoff.mailbox().tolist()  # untouched


def test_a_serving_thread_runs_posted_parts_and_leaves_for_a_python_task():
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    y = np.full_like(x, np.nan)
    box, posted, finished = handoff.mailbox(), np.zeros(1, np.int64), np.zeros(1, np.int64)
    returned = []
    helper = threading.Thread(target=lambda: returned.append(handoff.serve(box, posted, 0, 10**12, finished, 0)))
    helper.start()
    _until(lambda: box[handoff.STATE] == handoff.LISTENING)
    assert finished[0] == 1  # counted up on entry
    blocks = [_relu_block(x, y, 0, 600), _relu_block(x, y, 600, 1000)]
    for b in blocks:  # one after another: each post waits for a listening helper
        done = handoff.post(box, handoff.compiled_part(relu.RELU_PARTS["f"]), handoff.address(b))
        assert done > 0
        handoff.wait(box, done)
    assert box[handoff.DONE] == 2
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    posted[0] = 1  # a Python task: serve returns True and leaves the mailbox IDLE
    helper.join(5)
    assert returned == [True] and box[handoff.STATE] == handoff.IDLE
    assert handoff.post(box, handoff.compiled_part(relu.RELU_PARTS["f"]), 0) == -1


def test_serve_gives_up_after_its_rounds():
    box, posted, nothing = handoff.mailbox(), np.zeros(1, np.int64), np.zeros(0, np.int64)
    assert not handoff.serve(box, posted, 0, 10, nothing, 0)
    assert box[handoff.STATE] == handoff.IDLE


def _compiled_parts_run(helper) -> int:
    return int(helper.box[handoff.DONE])


def _at_one_thread(fn):
    """fn() with glassnet at one thread (back at two afterwards)."""
    glassnet.set_num_threads(1)
    try:
        return fn()
    finally:
        glassnet.set_num_threads(2)


def _bytes(arrays) -> list:
    return [a.tobytes() for a in arrays]


@pytest.mark.skipif(not two_cpus, reason="the compiled hand-off needs a CPU per worker")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_parts_run_compiled_with_the_bytes_of_one_thread(two_threads, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 6, 28, 28)).astype(dtype)  # 1.2-2.4 MB: split
    dy = rng.standard_normal(x.shape).astype(dtype)
    def both():
        return activation.relu_forward(x), activation.relu_backward(dy, activation.relu_forward(x))

    y1, dx1 = _at_one_thread(both)
    helper = threads.executor().helper(1)
    before = _compiled_parts_run(helper)
    for _ in range(5):  # the first split may find the helper asleep and wake it with a Python task
        y, dx = both()
        assert y.tobytes() == y1.tobytes() and dx.tobytes() == dx1.tobytes()
    assert _compiled_parts_run(helper) > before  # some of those ran through the compiled hand-off


@pytest.mark.skipif(not two_cpus, reason="the compiled hand-off needs a CPU per worker")
def test_direct_forward_parts_run_compiled_with_the_bytes_of_one_thread(two_threads):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 6, 14, 14)).astype(np.float32)
    w, b = rng.standard_normal((16, 6, 5, 5)).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    xp = layout.to_channels_last(x)

    def forward():
        return direct.conv_forward(xp, w, b, (1, 1), (1, 1), (10, 10))

    y1 = _at_one_thread(forward)
    helper = threads.executor().helper(1)
    before = _compiled_parts_run(helper)
    for _ in range(5):
        assert forward().tobytes() == y1.tobytes()
    assert _compiled_parts_run(helper) > before


def _record_compiled(monkeypatch) -> list:
    """The parts of the splits that ran through the compiled hand-off from now on."""
    ran, run = [], threads._run_compiled

    def recording(part, blocks, work, cuts):
        done = run(part, blocks, work, cuts)
        if done:
            ran.append(part)
        return done
    monkeypatch.setattr(threads, "_run_compiled", recording)
    return ran


def _runs_compiled_as_one_thread(compute, monkeypatch, *functions) -> None:
    """compute() at two threads, five times: the bytes of one thread every time, and the parts
    made of `functions` among the splits that ran through the compiled hand-off."""
    want = _at_one_thread(compute)
    ran = _record_compiled(monkeypatch)
    for _ in range(5):
        assert _bytes(compute()) == _bytes(want)
    assert {handoff.compiled_part(f) for f in functions} <= set(ran)


@pytest.mark.skipif(not two_cpus, reason="the compiled hand-off needs a CPU per worker")
def test_direct_gradients_run_compiled_with_the_bytes_of_one_thread(two_threads, monkeypatch):
    # LeNet-5's second layer: both sums are direct.py's, each shared among the threads
    from glassnet.kernels import conv
    rng = np.random.default_rng(6)
    x = rng.standard_normal((64, 6, 14, 14)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    dy = rng.standard_normal((64, 16, 10, 10)).astype(np.float32)
    _runs_compiled_as_one_thread(lambda: conv.conv_backward(dy, x, w), monkeypatch, direct._input_grad_part,
                                 direct._weight_grad_part)


@pytest.mark.skipif(not two_cpus, reason="the compiled hand-off needs a CPU per worker")
def test_a_helper_that_is_not_listening_gets_its_part_as_a_python_task(two_threads, monkeypatch):
    # every post refused, as when the helper is still finishing its last Python task: the parts
    # then run through work(lo, hi) in the helper, the caller's own part compiled
    monkeypatch.setattr(threads.handoff, "post", lambda box, part, block: -1)
    monkeypatch.setattr(threads.handoff, "run_pair", lambda box, part, there, here: -1)
    x = np.random.default_rng(3).standard_normal(400_000).astype(np.float32)
    y = np.full_like(x, np.nan)
    ran = []

    def work(lo, hi):
        ran.append((lo, hi, threading.get_ident()))
        relu.relu_into(x[lo:hi], y[lo:hi])

    threads.split_batch(2, lambda a, b: None)  # pins the helper to its CPU
    part = handoff.compiled_part(relu.RELU_PARTS["f"])
    threads.split_compiled(x.size, work, part, lambda lo, hi: _relu_block(x, y, lo, hi))
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    assert [r[:2] for r in ran] == [(200_000, 400_000)]  # the helper's part; the caller's ran compiled
    assert ran[0][2] != threading.get_ident()


def test_over_subscribed_splits_take_the_python_path_with_the_same_bytes(at_threads):
    at_threads(max(len(os.sched_getaffinity(0)) + 1, 3) if hasattr(os, "sched_getaffinity") else 3)
    x = np.random.default_rng(4).standard_normal((64, 6, 28, 28)).astype(np.float32)
    before = _compiled_parts_run(threads.executor().helper(1))
    y = activation.relu_forward(x)
    assert y.tobytes() == np.maximum(x, np.float32(0)).tobytes()
    assert _compiled_parts_run(threads.executor().helper(1)) == before  # no CPU of its own: no compiled part


@pytest.mark.skipif(not two_cpus, reason="the compiled hand-off needs a CPU per worker")
def test_splits_from_two_threads_at_once_each_get_their_own_results(two_threads):
    # two callers may race for one helper: only one claims its mailbox, the other's part goes
    # to the helper as a Python task; every result is still its own
    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal((64, 6, 28, 28)).astype(np.float32) for _ in range(2)]
    errors = []

    def caller(x):
        try:
            for _ in range(100):
                assert activation.relu_forward(x).tobytes() == np.maximum(x, np.float32(0)).tobytes()
        except BaseException as error:  # an assert failing in a thread would be lost otherwise
            errors.append(error)

    callers = [threading.Thread(target=caller, args=(x,)) for x in inputs]
    for t in callers:
        t.start()
    for t in callers:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in callers)


def _channels_last(a):
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


@pytest.mark.skipif(not two_cpus, reason="the compiled hand-off needs a CPU per worker")
@pytest.mark.parametrize("layout_", ["NCHW", "channels-last"])
def test_max_pooling_runs_compiled_with_the_bytes_of_one_thread(two_threads, monkeypatch, layout_):
    from glassnet.kernels import pooling
    from glassnet.kernels.fast import pooling as fast_pooling
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 16, 28, 28)).astype(np.float32)
    x[0, 0, 0, :4] = np.nan  # NaN wins its window, in both loops
    x = _channels_last(x) if layout_ == "channels-last" else x
    dy = rng.standard_normal((64, 16, 14, 14)).astype(np.float32)
    dy = _channels_last(dy) if layout_ == "channels-last" else dy

    def both():
        y, indices = pooling.max_pool_forward(x, (2, 2))
        return y, indices, pooling.max_pool_backward(dy, indices, x.shape)

    _runs_compiled_as_one_thread(both, monkeypatch, fast_pooling._max_part, fast_pooling._max_backward_part)


@pytest.mark.skipif(not two_cpus, reason="the compiled hand-off needs a CPU per worker")
def test_single_channel_sums_run_compiled_with_the_bytes_of_one_thread(two_threads, monkeypatch):
    # LeNet-5's first layer: the forward and the weight gradient (its input needs none)
    from glassnet.kernels import conv
    from glassnet.kernels.fast import single_channel
    rng = np.random.default_rng(8)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    w, b = rng.standard_normal((6, 1, 5, 5)).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    dy = rng.standard_normal((64, 6, 28, 28)).astype(np.float32)

    def both():
        return (conv.conv_forward(x, w, b, 1, 2),) + conv.conv_backward(dy, x, w, 1, 2, needs=(False, True, True))[1:]

    _runs_compiled_as_one_thread(both, monkeypatch, single_channel._correlate_part,
                                 single_channel._block_partials_part)


def test_run_pair_runs_both_parts_or_nothing():
    x = np.random.default_rng(9).standard_normal(1000).astype(np.float32)
    y = np.full_like(x, np.nan)
    part = handoff.compiled_part(relu.RELU_PARTS["f"])
    here, there = _relu_block(x, y, 0, 500), _relu_block(x, y, 500, 1000)
    box = handoff.mailbox()
    assert handoff.run_pair(box, part, handoff.address(there), handoff.address(here)) == -1  # not listening
    assert np.isnan(y).all()
    posted, finished = np.zeros(1, np.int64), np.zeros(0, np.int64)
    helper = threading.Thread(target=handoff.serve, args=(box, posted, 0, 10**12, finished, 0))
    helper.start()
    _until(lambda: box[handoff.STATE] == handoff.LISTENING)
    assert handoff.run_pair(box, part, handoff.address(there), handoff.address(here)) == 1
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    posted[0] = 1
    helper.join(5)


def test_address_is_the_arrays_first_element():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert handoff.address(a) == a.ctypes.data
    assert handoff.address(a[1:]) == a.ctypes.data + 16


def _part_for_the_race(block):
    pass


def test_threads_asking_for_a_part_at_once_get_the_one_kept():
    addresses, start = [], threading.Barrier(4)

    def ask():
        start.wait()
        addresses.append(handoff.compiled_part(_part_for_the_race))

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for t in askers:
        t.start()
    for t in askers:
        t.join(120)
    assert len(addresses) == 4 and len(set(addresses)) == 1
    assert addresses[0] == handoff.compiled_part(_part_for_the_race)
    handoff.call(addresses[0], 0)  # the code behind it is alive
