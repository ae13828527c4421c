"""Freed memory kept for reuse (kernels/fast/allocator.py): glassnet's own pool of large buffers, and
the malloc thresholds glassnet sets only when asked. What the thresholds change, and that
importing glassnet does not set them: tests/test_process_settings.py (in fresh processes, as
they cannot be undone)."""

import gc

import numpy as np
import pytest

from glassnet.kernels.fast import allocator

LARGE = (64, 32, 28, 28)  # 6.1 MiB of float32: pooled


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


@pytest.fixture
def empty_pool(monkeypatch):
    monkeypatch.setattr(allocator, "_idle", {})
    monkeypatch.setattr(allocator, "_idle_bytes", 0)


def test_the_environment_variable_keeps_the_defaults(monkeypatch):
    monkeypatch.setenv("GLASSNET_KEEP_FREED_MEMORY", "0")
    assert allocator.keep_freed_memory() is False


@pytest.mark.parametrize("shape, dtype", [(LARGE, np.float32), ((3, 5), np.float64), ((1 << 18,), np.int64), ((), np.float32),
                                          ((0, 4), np.float32)])
def test_empty_gives_a_writable_c_contiguous_array_of_the_shape_and_dtype(empty_pool, shape, dtype):
    a = allocator.empty(shape, dtype)
    assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
    a[...] = 7
    assert np.all(a == 7)


def test_a_buffer_is_lent_again_only_once_every_view_of_it_died(empty_pool):
    a = allocator.empty(LARGE, np.float32)
    where = _address(a)
    a[...] = 1.0
    views = [a[1:].transpose(3, 0, 1, 2), a.reshape(-1)[::2], a.view(np.int32), np.asarray(a)]
    del a
    while views:
        gc.collect()
        b = allocator.empty(LARGE, np.float32)
        assert _address(b) != where  # a view of the first buffer is alive: it is not lent again
        b[...] = 2.0
        assert all(np.all(v.view(np.float32) == 1.0) for v in views)
        del b
        views.pop()
    c = allocator.empty(LARGE, np.float32)  # the last view died: the buffer is lent again
    assert _address(c) == where


def test_freed_buffers_are_reused_by_size_whatever_the_shape_and_dtype(empty_pool):
    a = allocator.empty((1024, 1024), np.float32)
    where = _address(a)
    del a
    assert allocator._idle_bytes == 4 << 20
    b = allocator.empty((512, 1024), np.float64)  # the same 4 MiB
    assert _address(b) == where and allocator._idle_bytes == 0


def test_small_arrays_are_left_to_malloc(empty_pool):
    a = allocator.empty((16, 16), np.float32)
    del a
    assert allocator._idle == {} and allocator._idle_bytes == 0


def test_idle_memory_is_bounded(empty_pool, monkeypatch):
    monkeypatch.setattr(allocator, "POOL_IDLE_BYTES", 5 << 20)
    arrays = [allocator.empty((1 << 20,), np.float32) for _ in range(3)]  # 4 MiB each
    del arrays
    assert allocator._idle_bytes == 4 << 20  # one kept, two given back to the system


@pytest.mark.parametrize("axes", [(0, 1, 2, 3), (0, 3, 1, 2), (3, 2, 1, 0)])
def test_empty_like_keeps_the_order_of_the_axes_in_memory(empty_pool, axes):
    source = np.empty((8, 28, 28, 32), np.float32).transpose(np.argsort(axes))  # channels-last and others
    for like in (source, source[:2]):  # a large one and a small one with gaps
        out = allocator.empty_like(like)
        assert out.shape == like.shape and out.dtype == like.dtype
        assert out.strides == np.empty_like(like).strides  # NumPy's order "K"


def test_loans_from_several_threads_never_share_a_buffer(empty_pool, in_threads):
    seen, numbers = [], iter(range(1, 5))

    def borrow():
        mine = next(numbers)  # each thread writes a number of its own
        for _ in range(50):
            a = allocator.empty((1 << 18,), np.float32)  # 1 MiB
            a[...] = mine
            seen.append(bool(np.all(a == mine)))
            del a

    assert in_threads(borrow, 4) == [] and len(seen) == 200 and all(seen)
