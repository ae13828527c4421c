"""A batch of one (and, generally, fewer samples than threads) is shared among the threads by
output positions: the input gradient of im2col.py (and so the transposed convolution's forward)
by rows of dx, single_channel.py's and direct.py's forwards by output positions, winograd.py's
three sums by chunks of tiles. At 1, 2, 3 and 4 threads the
bytes are those of one thread, the values those of glassnet/reference, and the parts each
thread was given are recorded to show that the work was in fact shared."""

import numpy as np
import pytest

from glassnet.kernels import conv
from glassnet.kernels.fast import direct, im2col, single_channel
from glassnet.reference import conv as ref


@pytest.fixture
def shared(monkeypatch, split_sizes):
    """Every problem large enough to share, and chunks of 4 patch rows (several to a thread's part,
    and the parts' borders inside chunks); the sizes of the splits that ran (split_sizes). The
    layers with few channels go through im2col too (direct.py has tests of its own below)."""
    monkeypatch.setattr(direct, "CHANNELS", (0, 0))
    monkeypatch.setattr(direct, "MIN_FLOPS", 0)
    monkeypatch.setattr(im2col, "SMALL_BYTES", 0)
    monkeypatch.setattr(im2col, "CHUNK_BYTES", 1)
    monkeypatch.setattr(im2col, "MIN_ROWS", 4)
    return split_sizes


def _data(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _spans(monkeypatch):
    """The (lo, hi) of every call of im2col.transposed, in call order."""
    spans, original = [], im2col.transposed

    def recording(dy, wm, kernel_size, stride, dilation, dx, block_samples=1, span=None):
        spans.append(span)
        return original(dy, wm, kernel_size, stride, dilation, dx, block_samples, span)
    monkeypatch.setattr(im2col, "transposed", recording)
    return spans


def _assert_parts_of(spans, total, n):
    """spans are n contiguous parts that together cover 0:total."""
    spans = sorted(spans)
    assert len(spans) == n, spans
    assert spans[0][0] == 0 and spans[-1][1] == total
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), spans


def _same_bytes_at_2_3_4_threads(at_threads, shared, parts, run, one, total):
    """run() at 2, 3 and 4 threads gives one's bytes, a split over that many threads ran, and the
    parts recorded (parts, cleared before each run) are that many contiguous parts of 0:total."""
    for n in (2, 3, 4):
        at_threads(n)
        parts.clear()
        shared.clear()
        got = run()
        assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(one).tobytes(), f"{n} threads"
        assert n in shared
        _assert_parts_of(parts, total, n)


# (x shape, w shape, keyword arguments): strides, dilation, groups, 1-D and 3-D, a batch of two
INPUT_GRAD_CASES = [
    ((1, 6, 17, 15), (8, 6, 3, 3), dict(padding=1)),
    ((1, 4, 19, 18), (6, 2, 5, 3), dict(stride=2, padding=2, groups=2)),
    ((1, 3, 16, 16), (5, 3, 3, 3), dict(dilation=2, padding_mode="reflect", padding=1)),
    ((1, 3, 70), (4, 3, 7), dict(stride=3)),
    ((1, 2, 7, 6, 8), (3, 2, 3, 3, 3), dict(padding=1)),
    ((2, 6, 15, 13), (8, 6, 3, 3), dict(stride=2)),
]


@pytest.mark.parametrize("x_shape, w_shape, kw", INPUT_GRAD_CASES)
def test_the_input_gradient_of_a_small_batch_is_shared_by_rows_of_dx(at_threads, shared, monkeypatch,
                                                                     x_shape, w_shape, kw):
    x, w = _data(0, x_shape, w_shape)
    y = conv.conv_forward(x, w, **kw)
    dy = _data(1, y.shape)[0]
    at_threads(1)
    one = conv.conv_backward(dy, x, w, needs=(True, False, False), **kw)[0]
    want = ref.conv_backward(dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64), **kw)[0]
    np.testing.assert_allclose(one, want, rtol=1e-4, atol=1e-4)
    spans = _spans(monkeypatch)
    padded = [2 * kw.get("padding", 0) + m for m in x_shape[2:]]
    _same_bytes_at_2_3_4_threads(at_threads, shared, spans,
                                 lambda: conv.conv_backward(dy, x, w, needs=(True, False, False), **kw)[0],
                                 one, x_shape[0] * x_shape[1] * np.prod(padded))
    line = np.prod(padded[1:]) * x_shape[1]
    assert all(lo % line == 0 and hi % line == 0 for lo, hi in spans)  # whole rows of the padded dx


def test_a_batch_with_as_many_blocks_as_threads_is_shared_by_samples(at_threads, shared, monkeypatch):
    """Enough samples: whole blocks of samples to each thread (no chunk multiplied twice)."""
    x, w = _data(0, (4, 3, 16, 16), (5, 3, 3, 3))
    dy = _data(1, (4, 5, 16, 16))[0]
    at_threads(1)
    one = conv.conv_backward(dy, x, w, padding=1, needs=(True, False, False))[0]
    spans = _spans(monkeypatch)
    at_threads(2)
    got = conv.conv_backward(dy, x, w, padding=1, needs=(True, False, False))[0]
    assert got.tobytes() == one.tobytes()
    sample = 18 * 18 * 3
    _assert_parts_of(spans, 4 * sample, 2)
    assert all(lo % sample == 0 and hi % sample == 0 for lo, hi in spans)


def test_the_input_gradient_has_no_more_parts_than_chunks_of_dy(at_threads, split_sizes, monkeypatch):
    """A part multiplies every chunk reaching into its rows: with one chunk all would multiply the
    same one, so it stays in one thread, and two chunks make two parts at four threads."""
    monkeypatch.setattr(im2col, "SMALL_BYTES", 0)
    monkeypatch.setattr(im2col, "CHUNK_BYTES", 1)
    monkeypatch.setattr(im2col, "MIN_ROWS", 64)
    x, w = _data(0, (1, 3, 10, 10), (5, 3, 3, 3))
    dy = _data(1, (1, 5, 8, 8))[0]  # 64 rows: one chunk
    spans = _spans(monkeypatch)
    at_threads(4)
    one = conv.conv_backward(dy, x, w, needs=(True, False, False))[0]
    assert spans == [(0, 10 * 10 * 3)] and split_sizes == []
    monkeypatch.setattr(im2col, "MIN_ROWS", 63)  # two chunks
    spans.clear()
    two = conv.conv_backward(dy, x, w, needs=(True, False, False))[0]
    assert sorted(spans) == [(0, 5 * 10 * 3), (5 * 10 * 3, 10 * 10 * 3)]  # two halves of dx's 10 rows
    assert split_sizes == [2]
    np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("x_shape, w_shape, kw", [
    ((1, 6, 9, 8), (6, 4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((1, 4, 11, 10), (4, 3, 4, 4), dict(stride=2, groups=2, dilation=2)),
    ((1, 3, 30), (3, 2, 4), dict(stride=2)),
])
def test_the_transposed_convolution_of_one_sample_is_shared_by_output_rows(at_threads, shared, monkeypatch,
                                                                           x_shape, w_shape, kw):
    x, w, b = _data(0, x_shape, w_shape, (w_shape[1] * kw.get("groups", 1),))
    at_threads(1)
    one = conv.conv_transpose_forward(x, w, b, **kw)
    want = ref.conv_transpose_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), **kw)
    np.testing.assert_allclose(one, want, rtol=1e-4, atol=1e-4)
    spans = _spans(monkeypatch)
    s, d, op = (kw.get(name, default) for name, default in (("stride", 1), ("dilation", 1), ("output_padding", 0)))
    full = [(m - 1) * s + d * (k - 1) + op + 1 for m, k in zip(x_shape[2:], w_shape[2:])]  # before the crop
    _same_bytes_at_2_3_4_threads(at_threads, shared, spans, lambda: conv.conv_transpose_forward(x, w, b, **kw),
                                 one, x_shape[0] * b.size * np.prod(full))


@pytest.mark.parametrize("x_shape, w_shape, kw", [
    ((1, 1, 23, 21), (6, 1, 5, 5), dict(padding=2)),
    ((1, 1, 20, 19), (4, 1, 3, 2), dict(dilation=(2, 1))),
    ((1, 1, 90), (3, 1, 9), dict(padding=4)),
    ((3, 1, 14, 15), (6, 1, 5, 5), dict()),
])
def test_the_single_channel_forward_of_a_small_batch_is_shared_by_output_positions(at_threads, shared,
                                                                                   monkeypatch, x_shape, w_shape, kw):
    x, w, b = _data(0, x_shape, w_shape, (w_shape[0],))
    at_threads(1)
    one = conv.conv_forward(x, w, b, **kw)
    want = ref.conv_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), **kw)
    np.testing.assert_allclose(one, want, rtol=1e-4, atol=1e-4)
    rows, original = [], single_channel._correlate

    def recording(x, lines, length, taps, w, bias, u0, u1, tail, y):
        rows.append((u0, u1))
        return original(x, lines, length, taps, w, bias, u0, u1, tail, y)
    monkeypatch.setattr(single_channel, "_correlate", recording)
    blocks = x_shape[0] * np.prod(one.shape[2:-1]) * -(-one.shape[-1] // single_channel.LANES)
    _same_bytes_at_2_3_4_threads(at_threads, shared, rows, lambda: conv.conv_forward(x, w, b, **kw),
                                 one, blocks)  # the blocks of 16 positions along the lines of the batch


@pytest.mark.parametrize("x_shape, w_shape, kw", [
    ((1, 6, 14, 14), (16, 6, 5, 5), dict()),
    ((1, 8, 13, 12), (20, 8, 3, 3), dict(stride=2, padding=1)),
    ((2, 4, 9, 30), (6, 4, 3, 3), dict(padding=1, padding_mode="reflect")),
])
def test_the_direct_forward_of_a_small_batch_is_shared_by_output_positions(at_threads, shared, monkeypatch,
                                                                          x_shape, w_shape, kw):
    monkeypatch.setattr(direct, "CHANNELS", (4, 16))
    x, w, b = _data(0, x_shape, w_shape, (w_shape[0],))
    at_threads(1)
    one = conv.conv_forward(x, w, b, **kw)
    want = ref.conv_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), **kw)
    np.testing.assert_allclose(one, want, rtol=1e-4, atol=1e-4)
    rows, original = [], direct._forward

    def recording(x, index, run, wm, bias, r0, r1, y):
        rows.append((r0, r1))
        return original(x, index, run, wm, bias, r0, r1, y)
    monkeypatch.setattr(direct, "_forward", recording)
    _same_bytes_at_2_3_4_threads(at_threads, shared, rows, lambda: conv.conv_forward(x, w, b, **kw),
                                 one, x_shape[0] * np.prod(one.shape[2:]))  # the positions of the batch


def test_a_weight_gradient_of_small_blocks_stays_in_one_thread(at_threads, split_sizes):
    """Blocks whose patch matrix is under BLOCK_SPLIT_BYTES (LeNet-5's second layer) are not
    shared: the Python around each small GEMM would make the threads take turns at the GIL."""
    rng = np.random.default_rng(0)
    at_threads(2)
    for c, k, large in ((6, 5, False), (64, 3, True)):
        x = rng.standard_normal((64, 10 + k - 1, 10 + k - 1, c)).astype(np.float32)  # (N, *Sp, C)
        dy = rng.standard_normal((64, 10, 10, 16)).astype(np.float32)  # (N, *out, C_out)
        size = im2col.block_rows(64, c, (k, k), (1, 1), (10, 10), 1, 4)
        assert (size * im2col.row_bytes((k, k), c, 4) >= im2col.BLOCK_SPLIT_BYTES) == large
        split_sizes.clear()
        dw, _ = im2col.conv_weight_grad(x, dy, (k, k), (1, 1), (1, 1), 1, c, need_db=False)
        assert dw.shape == (16, c, k, k)
        assert (split_sizes == [2]) == large, (c, k, split_sizes)


def test_a_small_convolutions_input_and_weight_gradients_run_side_by_side(two_threads, monkeypatch):
    """A (16, 20, 14x14) 5x5 layer (im2col's sums): dx and dW each in a thread of its own
    (conv.run_both), the same bytes as at one thread; a layer above SIDE_BY_SIDE_BYTES, and
    LeNet-5's (64, 6, 14x14) one, whose two sums are direct.py's compiled parts, share each sum
    instead, and one below it runs them one after the other in this thread."""
    from glassnet.kernels import conv
    from glassnet.kernels.fast import threads

    ran = []

    def recording(first, second, worth_it=True):
        ran.append(worth_it)
        return threads.run_both(first, second, worth_it)

    monkeypatch.setattr(conv, "run_both", recording)
    rng = np.random.default_rng(0)
    for n, c, h, o, k, side_by_side in [(16, 20, 14, 16, 5, True), (64, 6, 14, 16, 5, False),
                                        (64, 32, 14, 32, 3, False), (2, 6, 14, 16, 5, False)]:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = rng.standard_normal((o, c, k, k)).astype(np.float32)
        dy = rng.standard_normal((n, o, h - k + 1, h - k + 1)).astype(np.float32)
        got = conv.conv_backward(dy, x, w)
        assert ran.pop() is side_by_side
        threads.set_num_threads(1)
        want = conv.conv_backward(dy, x, w)
        threads.set_num_threads(2)
        for a, b in zip(got, want):
            assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("tile, c_in, c_out, chunk", [(2, 16, 24, 16), (4, 64, 64, 5)], ids=["F2", "F4"])
def test_winograd_shares_one_sample_by_chunks_of_tiles(at_threads, shared, monkeypatch, tile, c_in, c_out, chunk):
    """Winograd's three sums of a batch of one: its tiles, in chunks of TILES, are shared among
    the threads (a 33x31 map: F(2x2)'s 17 x 16 tiles in chunks of 16, F(4x4)'s 9 x 8 in chunks of
    5, so the parts' borders fall inside tile rows); the bytes are those of one thread, the values
    those of the float64 reference."""
    from glassnet.kernels.fast import winograd, winograd_f2, winograd_f4

    module = winograd_f4 if tile == 4 else winograd_f2
    assert winograd.tiles_for(c_in, c_out) is module
    monkeypatch.setattr(winograd_f2, "TILES", 16)  # the weight gradient's (F(2x2) in both cases): 17 chunks
    monkeypatch.setattr(module, "TILES", chunk)
    monkeypatch.setattr(winograd, "MIN_POSITIONS", 0)
    monkeypatch.setattr(conv, "SIDE_BY_SIDE_BYTES", (0, 0))  # each sum shared, not the two side by side
    x, w, b = _data(0, (1, c_in, 33, 31), (c_out, c_in, 3, 3), (c_out,))
    w /= np.sqrt(9 * c_in)  # outputs of the size of the inputs
    dy = _data(1, (1, c_out, 33, 31))[0]
    chunks, original = [], module.correlate_tiles

    def recording(x, top, left, planes, bias, t0, t1, *rest):
        chunks.append((t0, t1))
        return original(x, top, left, planes, bias, t0, t1, *rest)
    monkeypatch.setattr(module, "correlate_tiles", recording)

    def step():
        return [conv.conv_forward(x, w, b, padding=1), *conv.conv_backward(dy, x, w, padding=1)]
    at_threads(1)
    one = step()
    want = [ref.conv_forward(*(a.astype(np.float64) for a in (x, w, b)), padding=1),
            *ref.conv_backward(dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64), padding=1)]
    for got, exact in zip(one, want):
        np.testing.assert_allclose(got, exact, rtol=1e-4, atol=1e-4)
    tiles = -(-33 // tile) * -(-31 // tile)
    for n in (2, 3, 4):
        at_threads(n)
        chunks.clear()
        shared.clear()
        got = step()
        assert all(a.tobytes() == b.tobytes() for a, b in zip(got, one)), f"{n} threads"
        assert shared.count(n) >= 3  # the forward, the input gradient and the weight gradient
        forward = chunks[:n]  # the forward's parts (the input gradient's come after)
        _assert_parts_of(forward, tiles, n)
        assert all(lo % chunk == 0 for lo, _ in forward)
