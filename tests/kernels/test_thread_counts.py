"""Every kernel that shares its work among threads gives, at 2, 3 and 4 threads, the same bytes
as at one thread: values and gradients, batches of one included, and under a busy loop."""

import multiprocessing
import os
import time

import numpy as np
import pytest

from glassnet.kernels import activation as A
from glassnet.kernels import conv, pooling
from glassnet.kernels.fast import (blocks, direct, elementwise, im2col, layout, threads, winograd, winograd_f2,
                                   winograd_f4)
from glassnet.kernels.fast import pooling as fast_pooling


@pytest.fixture
def splits(monkeypatch, split_sizes):
    """Every problem large enough to share (and to take Winograd), and small blocks (several per
    thread); the sizes of the splits that ran are recorded (split_sizes)."""
    for module in (layout, fast_pooling, elementwise):
        monkeypatch.setattr(module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(im2col, "SMALL_BYTES", 0)
    monkeypatch.setattr(direct, "MIN_FLOPS", 0)
    monkeypatch.setattr(direct, "BLOCK_ROWS", 8)
    monkeypatch.setattr(blocks, "MIN_ROWS", 8)
    monkeypatch.setattr(winograd_f2, "TILES", 8)
    monkeypatch.setattr(winograd_f4, "TILES", 8)
    monkeypatch.setattr(winograd, "MIN_POSITIONS", 0)
    return split_sizes


def _channels_last(a):
    """The same values in channels-last memory (what a convolution returns), as an NCHW view."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


def _data(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _conv(x_shape, w_shape, **kw):
    x, w, b = _data(0, x_shape, w_shape, (w_shape[0],))

    def run():
        y = conv.conv_forward(x, w, b, **kw)
        dy = _data(1, y.shape)[0]
        return [y, *conv.conv_backward(dy, x, w, **kw)]
    return run


def _conv_transpose(x_shape, w_shape, **kw):
    x, w, b = _data(0, x_shape, w_shape, (w_shape[1] * kw.get("groups", 1),))

    def run():
        y = conv.conv_transpose_forward(x, w, b, **kw)
        dy = _data(1, y.shape)[0]
        return [y, *conv.conv_transpose_backward(dy, x, w, **kw)]
    return run


def _max_pool(x_shape, layout, **kw):
    x = layout(_data(0, x_shape)[0])

    def run():
        y, indices = pooling.max_pool_forward(x, **kw)
        return [y, indices, pooling.max_pool_backward(layout(_data(1, y.shape)[0]), indices, x.shape)]
    return run


def _avg_pool(x_shape, layout, **kw):
    x = layout(_data(0, x_shape)[0])

    def run():
        y = pooling.avg_pool_forward(x, **kw)
        return [y, pooling.avg_pool_backward(layout(_data(1, y.shape)[0]), x.shape, **kw)]
    return run


def _adaptive(x_shape, layout, size):
    x = layout(_data(0, x_shape)[0])

    def run():
        y = pooling.adaptive_avg_pool_forward(x, size)
        ym, indices = pooling.adaptive_max_pool_forward(x, size)
        return [y, pooling.adaptive_avg_pool_backward(layout(_data(1, y.shape)[0]), x.shape), ym, indices]
    return run


def _activation(name, x_shape, layout):
    x, dy = (layout(a) for a in _data(0, x_shape, x_shape))
    forward, backward = getattr(A, f"{name}_forward"), getattr(A, f"{name}_backward")

    def run():
        y = forward(x)
        dx = backward(dy, x) if name in ("leaky_relu", "elu") else backward(dy, y)
        return [y, dx]
    return run


same = lambda a: a  # noqa: E731  NCHW memory

CASES = {
    "conv2d": _conv((5, 3, 9, 8), (6, 3, 3, 3), padding=1),
    "conv2d stride 2 groups reflect": _conv((5, 4, 9, 8), (6, 2, 3, 3), stride=2, padding=1, groups=2,
                                            padding_mode="reflect"),
    "conv2d one channel": _conv((5, 1, 12, 12), (6, 1, 5, 5), padding=2),
    "conv2d dilation": _conv((4, 3, 11, 11), (5, 3, 3, 3), dilation=2),
    "conv2d batch 1": _conv((1, 3, 16, 16), (6, 3, 3, 3), padding=1),
    "conv2d few channels (direct)": _conv((5, 6, 12, 11), (16, 6, 5, 5), padding=1),
    "conv2d few channels stride 2 reflect": _conv((5, 8, 11, 10), (20, 8, 3, 3), stride=2, padding=1,
                                                  padding_mode="reflect"),
    "conv2d few channels batch 1": _conv((1, 4, 16, 16), (6, 4, 3, 3), padding=1),
    "conv3d few channels": _conv((3, 4, 6, 5, 7), (5, 4, 3, 3, 3), padding=1),
    "conv2d Winograd F(4x4) (dW F(2x2))": _conv((3, 64, 9, 8), (64, 64, 3, 3), padding=1),
    "conv2d Winograd F(2x2)": _conv((3, 32, 10, 9), (32, 32, 3, 3), padding=1),
    "conv2d Winograd batch 1 reflect": _conv((1, 64, 11, 10), (65, 64, 3, 3), padding=1, padding_mode="reflect"),
    "conv1d": _conv((6, 2, 40), (4, 2, 5), stride=3),
    "conv1d long kernel (FFT)": _conv((3, 1, 400), (4, 1, 101)),
    "conv3d": _conv((3, 2, 6, 5, 7), (4, 2, 3, 3, 3), padding=1),
    "conv_transpose2d": _conv_transpose((5, 4, 6, 7), (4, 3, 3, 3), stride=2, padding=1, output_padding=1),
    "conv_transpose2d few channels (direct)": _conv_transpose((4, 12, 7, 6), (12, 8, 4, 4), stride=2, padding=1),
    "conv_transpose2d groups": _conv_transpose((4, 4, 5, 5), (4, 2, 3, 3), groups=2),
    "conv_transpose1d batch 1": _conv_transpose((1, 3, 30), (3, 2, 4), stride=2),
    "max_pool2d": _max_pool((5, 3, 12, 12), same, kernel_size=(3, 3), stride=2, padding=1),
    "max_pool2d channels-last": _max_pool((5, 9, 12, 12), _channels_last, kernel_size=(2, 2)),
    "max_pool2d batch 1 channels-last": _max_pool((1, 9, 12, 12), _channels_last, kernel_size=(2, 2)),
    "avg_pool2d": _avg_pool((5, 3, 12, 12), same, kernel_size=(3, 3), stride=2, padding=1),
    "avg_pool2d batch 1 channels-last": _avg_pool((1, 9, 12, 12), _channels_last, kernel_size=(3, 3), stride=1,
                                                  padding=1, count_include_pad=False),
    "adaptive pool": _adaptive((3, 4, 13, 11), same, (5, 4)),
    "adaptive pool batch 1 channels-last": _adaptive((1, 8, 13, 11), _channels_last, (5, 4)),
}
for _name in ("relu", "leaky_relu", "elu", "sigmoid", "tanh"):
    CASES[_name] = _activation(_name, (5, 4, 6, 7), same)
    CASES[f"{_name} batch 1 channels-last"] = _activation(_name, (1, 4, 6, 7), _channels_last)


def _bytes(arrays):
    return [None if a is None else (a.shape, a.dtype, np.ascontiguousarray(a).tobytes()) for a in arrays]


@pytest.mark.parametrize("case", CASES)
def test_the_result_at_2_3_4_threads_is_the_one_thread_result(at_threads, splits, case):
    run = CASES[case]
    at_threads(1)
    reference = _bytes(run())
    assert splits == []
    with pytest.MonkeyPatch.context() as m:  # the problems too small to share: the kernels' plain path
        for module in (layout, fast_pooling, elementwise):
            m.setattr(module, "PARALLEL_BYTES", 1 << 40)
        m.setattr(im2col, "SMALL_BYTES", 1 << 40)
        for got, want in zip(reference, _bytes(run())):
            if want is not None:
                assert got[:2] == want[:2]
                np.testing.assert_allclose(np.frombuffer(got[2], want[1]), np.frombuffer(want[2], want[1]),
                                           rtol=1e-5, atol=1e-5)
    for n in (2, 3, 4):
        at_threads(n)
        splits.clear()
        assert _bytes(run()) == reference, f"{n} threads"
        if "FFT" not in case:  # the FFT path shares its transforms through scipy.fft's workers instead
            assert splits and max(splits) == n, splits  # the work was shared among n threads


@pytest.mark.parametrize("n", [2, 3, 4])
def test_a_batch_of_one_is_shared_by_output_positions(at_threads, splits, n):
    """Inference on one image: the forward convolution splits its output positions."""
    at_threads(n)
    x, w = _data(0, (1, 24, 20, 20), (16, 24, 5, 5))  # im2col's (direct.py's: test_split_by_positions.py)
    seen = []
    correlate = im2col.correlate

    def recording(xp, wm, kernel_size, stride, dilation, out_shape, y, bias=None, rows=None):
        seen.append(rows)
        return correlate(xp, wm, kernel_size, stride, dilation, out_shape, y, bias, rows)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(im2col, "correlate", recording)
        y = conv.conv_forward(x, w, padding=2)
    seen.sort()
    assert len(seen) == n and seen[0][0] == 0 and seen[-1][1] == 400
    assert all(a[1] == b[0] for a, b in zip(seen, seen[1:]))  # n parts of the 400 positions
    at_threads(1)
    assert conv.conv_forward(x, w, padding=2).tobytes() == y.tobytes()


def _busy(stop):
    while not stop.is_set():
        pass


@pytest.mark.skipif(not threads._CAN_SPIN, reason="the busy-CPU fallback watches spinning threads (Linux)")
def test_under_a_busy_loop_the_results_are_the_one_thread_results(monkeypatch):
    """Other programs keeping the CPUs busy make splits fall back to one thread for a while
    (whether and when is the machine's business); the bytes stay those of one thread."""
    monkeypatch.setattr(threads, "_workers", 2)
    runs = [CASES[c] for c in ("conv2d", "conv2d one channel", "conv2d few channels (direct)", "conv_transpose2d",
                               "max_pool2d", "relu")]
    monkeypatch.setattr(threads, "_workers", 1)
    reference = [_bytes(run()) for run in runs]
    monkeypatch.setattr(threads, "_workers", min(2, len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else 2)
    stop = multiprocessing.Event()
    busy = [multiprocessing.Process(target=_busy, args=(stop,), daemon=True) for _ in range(2)]
    for p in busy:
        p.start()
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # long enough for the fallback to come and go
            assert [_bytes(run()) for run in runs] == reference
    finally:
        stop.set()
        for p in busy:
            p.join()
    threads.executor().contended_until = 0.0


@pytest.mark.parametrize("n", [2, 3, 4])
def test_a_batch_of_one_pooling_backward_is_shared_by_channels(at_threads, splits, n):
    """One channels-last map is a single plane: the backward scatters split its channels."""
    x = _channels_last(_data(0, (1, 9, 12, 12))[0])
    y, indices = pooling.max_pool_forward(x, (2, 2))
    dy = _channels_last(_data(1, y.shape)[0])
    at_threads(1)
    want = [pooling.max_pool_backward(dy, indices, x.shape), pooling.avg_pool_backward(dy, x.shape, (2, 2))]
    at_threads(n)
    splits.clear()
    got = [pooling.max_pool_backward(dy, indices, x.shape), pooling.avg_pool_backward(dy, x.shape, (2, 2))]
    assert splits == [n, n]
    assert _bytes(got) == _bytes(want)
