"""Pooling kernels against PyTorch, an explicit-loop reference and float64 finite differences."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.kernels import pooling as P
from glassnet.kernels.fast import pooling as fast_pooling
from glassnet.testing import check_gradients

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
TORCH_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
TORCH_ADAPTIVE_AVG = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}
TORCH_ADAPTIVE_MAX = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}


def distinct(shape, seed=0, dtype=np.float32):
    """Random values at least 0.01 apart: no ties, so the max (and its gradient) is unique."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(math.prod(shape)).reshape(shape) * 0.01 - 1.0).astype(dtype)


def torch_grad(fn, x, dy, **options):
    xt = torch.tensor(x, requires_grad=True)
    out = fn(xt, **options)
    out = out[0] if isinstance(out, tuple) else out
    out.backward(torch.tensor(dy))
    return out.detach().numpy(), xt.grad.numpy()


# (spatial, kernel_size, stride, padding, dilation, ceil_mode): ranks 1-3, non-square, overlap, overhang
MAX_CASES = [
    ((9,), (3,), None, 0, 1, False),
    ((10,), (2,), (2,), 1, 1, True),
    ((11,), (3,), (2,), 1, (2,), True),
    ((7, 6), (2, 2), None, 0, 1, False),
    ((8, 7), (3, 2), (2, 1), (1, 1), 1, False),
    ((9, 8), (3, 3), (2, 2), 1, (2, 1), True),
    ((6, 9), (2, 3), (1, 2), (1, 0), (1, 2), True),
    ((5, 6, 7), (2, 2, 2), None, 0, 1, False),
    ((6, 5, 7), (3, 2, 3), (2, 1, 2), (1, 1, 0), (1, 2, 1), True),
]


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("spatial, kernel_size, stride, padding, dilation, ceil_mode", MAX_CASES)
def test_max_pool_matches_torch(batch, spatial, kernel_size, stride, padding, dilation, ceil_mode):
    nd = len(spatial)
    x = distinct((batch, 3) + spatial)
    y, indices = P.max_pool_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
    options = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    yt, it = TORCH_MAX[nd](torch.tensor(x), return_indices=True, **options)
    np.testing.assert_array_equal(y, yt.numpy())
    np.testing.assert_array_equal(indices, it.numpy())
    assert indices.dtype == np.int64
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    _, dxt = torch_grad(TORCH_MAX[nd], x, dy, **options)
    np.testing.assert_allclose(P.max_pool_backward(dy, indices, x.shape), dxt, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("nd", [1, 2, 3])
def _torch_accepts(fn, x, **options):
    try:
        return fn(torch.tensor(x), **options)
    except RuntimeError:  # a geometry PyTorch refuses: glassnet must refuse it too
        return None


@settings(max_examples=60, deadline=None)
@given(data=st.data(), nd=st.integers(1, 3), batch=st.integers(1, 2),
       values=st.sampled_from(["distinct", "ties", "nan"]))
def test_max_and_avg_pool_match_torch_on_random_geometries(data, nd, batch, values):
    spatial = tuple(data.draw(st.lists(st.integers(1, 8), min_size=nd, max_size=nd)))
    k = tuple(data.draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd)))
    s = tuple(data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    d = tuple(data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    p = tuple(data.draw(st.integers(0, kk // 2)) for kk in k)
    ceil_mode = data.draw(st.booleans())
    x = distinct((batch, 2) + spatial, seed=data.draw(st.integers(0, 100)))
    if values == "ties":
        x = np.round(x * 2)  # values in {-2, ..., 2}: many ties
    elif values == "nan":
        x.reshape(-1)[:: 5] = np.nan
    options = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
    expected = _torch_accepts(TORCH_MAX[nd], x, return_indices=True, **options)
    if expected is None:
        with pytest.raises(ValueError):
            P.max_pool_forward(x, **options)
        return
    try:
        y, indices = P.max_pool_forward(x, **options)
    except ValueError as err:
        # dilation can put a whole window on padding: PyTorch returns -inf there (with an index
        # outside the input), glassnet refuses the geometry
        assert "entirely on padding" in str(err) and np.isneginf(expected[0].numpy()).any()
    else:
        np.testing.assert_array_equal(y, expected[0].numpy())
        np.testing.assert_array_equal(indices, expected[1].numpy())
    del options["dilation"]
    for count_include_pad in (True, False):
        expected = _torch_accepts(TORCH_AVG[nd], x, count_include_pad=count_include_pad, **options)
        if expected is None:
            if nd == 3 and any(n < kk for n, kk in zip(spatial, k)):
                continue  # only torch's avg_pool3d refuses an unpadded input smaller than the kernel
            with pytest.raises(ValueError):
                P.avg_pool_forward(x, count_include_pad=count_include_pad, **options)
        else:
            np.testing.assert_allclose(P.avg_pool_forward(x, count_include_pad=count_include_pad, **options),
                                       expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_ties_go_to_the_first_maximum_as_in_torch(nd):
    # integers in [0, 3): most windows hold the maximum more than once
    x = np.random.default_rng(2).integers(0, 3, (2, 2) + (6,) * nd).astype(np.float32)
    x[0, 0] = 0.0  # an all-equal plane: every window is one big tie
    options = dict(kernel_size=(3,) * nd, stride=(2,) * nd, padding=1, ceil_mode=True)
    y, indices = P.max_pool_forward(x, **options)
    yt, it = TORCH_MAX[nd](torch.tensor(x), return_indices=True, **options)
    np.testing.assert_array_equal(indices, it.numpy())
    dy = np.ones(y.shape, np.float32)
    _, dxt = torch_grad(TORCH_MAX[nd], x, dy, **options)
    np.testing.assert_array_equal(P.max_pool_backward(dy, indices, x.shape), dxt)


def test_max_pool_nan_propagates_as_in_torch():
    x = distinct((1, 1, 6, 6))
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = x[0, 0, 4, 2] = np.nan  # some windows hold two NaNs
    y, indices = P.max_pool_forward(x, (3, 3), (1, 1), 1)
    yt, it = F.max_pool2d(torch.tensor(x), 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(y, yt.numpy())  # NaNs compare equal here
    np.testing.assert_array_equal(indices, it.numpy())
    assert np.isnan(y).sum() == 18  # each NaN fills the (up to) 3 x 3 outputs whose windows hold it


def test_max_pool_padding_never_wins():
    x = distinct((1, 1, 4, 4)) - 10.0  # every input far below 0: zero padding would win
    y, _ = P.max_pool_forward(x, (2, 2), (2, 2), 1)
    assert (y < -10).all()


AVG_CASES = [
    ((9,), (3,), None, 0, False),
    ((10,), (4,), (3,), 2, True),
    ((7, 6), (2, 2), None, 0, False),
    ((8, 7), (3, 2), (2, 1), (1, 1), True),
    ((9, 8), (3, 3), (2, 2), 1, True),
    ((5, 6, 7), (2, 3, 2), (2, 2, 3), (1, 1, 0), True),
]


AVG_OPTIONS = [dict(count_include_pad=True), dict(count_include_pad=False),
               dict(divisor_override=1), dict(divisor_override=5)]
# torch's avg_pool1d has no divisor_override: the 1-D cases get it in the test below
AVG_RUNS = [case + (extra,) for case in AVG_CASES for extra in AVG_OPTIONS
            if len(case[0]) > 1 or "divisor_override" not in extra]


@pytest.mark.parametrize("spatial, kernel_size, stride, padding, ceil_mode, extra", AVG_RUNS)
def test_avg_pool_matches_torch(spatial, kernel_size, stride, padding, ceil_mode, extra):
    nd = len(spatial)
    x = distinct((2, 3) + spatial)
    options = dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode, **extra)
    y = P.avg_pool_forward(x, **options)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    yt, dxt = torch_grad(TORCH_AVG[nd], x, dy, **options)
    np.testing.assert_allclose(y, yt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(P.avg_pool_backward(dy, x.shape, **options), dxt, rtol=1e-5, atol=1e-6)


def test_avg_pool_1d_divisor_override_against_2d_torch():
    # torch's avg_pool1d lacks divisor_override: a (1, k) window over (N, C, 1, L) is the same pooling
    x = distinct((2, 3, 11))
    y = P.avg_pool_forward(x, (3,), (2,), 1, True, divisor_override=2)
    yt = F.avg_pool2d(torch.tensor(x[:, :, None]), (1, 3), (1, 2), (0, 1), True, divisor_override=2)
    np.testing.assert_allclose(y, yt.numpy()[:, :, 0], rtol=1e-6)


# ---------------------------------------------------------------- forms PyTorch lacks: explicit reference

def reference_pool(x, kernel_size, stride, pads, dilation, ceil_mode, reduce):
    """Explicit loops over every output and window position (no shared code with the kernels).

    reduce(values, in_input, in_padded) gets the window's values and which positions lie in the
    input and in the padded input."""
    nd = len(kernel_size)
    spatial = x.shape[2:]
    out = []
    for n, k, s, (lo, hi), d in zip(spatial, kernel_size, stride, pads, dilation):
        span = n + lo + hi - d * (k - 1) - 1
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + lo:
            o -= 1
        out.append(o)
    y = np.zeros(x.shape[:2] + tuple(out))
    for o in itertools.product(*[range(v) for v in out]):
        values, in_input, in_padded = [], [], []
        for j in itertools.product(*[range(v) for v in kernel_size]):
            coord = [o[i] * stride[i] + j[i] * dilation[i] - pads[i][0] for i in range(nd)]
            inside = all(0 <= c < n for c, n in zip(coord, spatial))
            in_input.append(inside)
            in_padded.append(all(-pads[i][0] <= coord[i] < spatial[i] + pads[i][1] for i in range(nd)))
            values.append(x[(slice(None), slice(None)) + tuple(coord)] if inside else np.zeros(x.shape[:2]))
        y[(slice(None), slice(None)) + o] = reduce(np.stack(values, -1), np.array(in_input), np.array(in_padded))
    return y


def ref_max(values, in_input, in_padded):
    return values[..., in_input].max(-1)


@pytest.mark.parametrize("spatial, kernel_size, stride, pads, dilation, ceil_mode", [
    ((7, 6), (3, 2), (2, 1), ((0, 1), (1, 0)), (1, 2), False),
    ((9, 8), (3, 3), (2, 2), ((1, 0), (0, 1)), (1, 1), True),
    ((4, 5, 4, 5), (2, 3, 2, 2), (2, 1, 1, 2), ((1, 0), (1, 1), (0, 0), (0, 1)), (1, 1, 2, 1), True),
])
def test_max_pool_asymmetric_and_4d_against_reference(spatial, kernel_size, stride, pads, dilation, ceil_mode):
    x = distinct((2, 2) + spatial)
    y, indices = P.max_pool_forward(x, kernel_size, stride, pads, dilation, ceil_mode)
    expected = reference_pool(x, kernel_size, stride, pads, dilation, ceil_mode, ref_max)
    np.testing.assert_array_equal(y, expected.astype(np.float32))
    planes = x.reshape(4, -1)
    np.testing.assert_array_equal(np.take_along_axis(planes, indices.reshape(4, -1), 1).reshape(y.shape), y)


@pytest.mark.parametrize("count_include_pad, divisor_override", [(True, None), (False, None), (True, 3)])
@pytest.mark.parametrize("spatial, kernel_size, stride, pads, ceil_mode", [
    ((7, 6), (3, 2), (2, 1), ((0, 1), (1, 0)), True),
    ((4, 5, 4, 5), (2, 3, 2, 2), (2, 1, 1, 2), ((1, 0), (1, 1), (0, 0), (0, 1)), True),
])
def test_avg_pool_asymmetric_and_4d_against_reference(spatial, kernel_size, stride, pads, ceil_mode,
                                                      count_include_pad, divisor_override):
    def ref_avg(values, in_input, in_padded):
        counted = in_padded if count_include_pad else in_input
        return values.sum(-1) / (divisor_override or counted.sum())

    x = distinct((2, 2) + spatial)
    y = P.avg_pool_forward(x, kernel_size, stride, pads, ceil_mode, count_include_pad, divisor_override)
    expected = reference_pool(x, kernel_size, stride, pads, (1,) * len(spatial), ceil_mode, ref_avg)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- adaptive and global pooling

@pytest.mark.parametrize("spatial, output_size", [
    ((10,), (3,)), ((7,), (7,)), ((5,), (8,)),
    ((9, 7), (4, 3)), ((6, 10), (5, 4)), ((5, 5), (1, 1)), ((4, 6), (6, 4)),
    ((5, 7, 6), (2, 3, 4)),
])
def test_adaptive_pooling_matches_torch(spatial, output_size):
    nd = len(spatial)
    x = distinct((2, 3) + spatial)
    dy = np.random.default_rng(1).standard_normal((2, 3) + output_size).astype(np.float32)
    y = P.adaptive_avg_pool_forward(x, output_size)
    yt, dxt = torch_grad(TORCH_ADAPTIVE_AVG[nd], x, dy, output_size=output_size)
    np.testing.assert_allclose(y, yt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(P.adaptive_avg_pool_backward(dy, x.shape), dxt, rtol=1e-5, atol=1e-6)

    y, indices = P.adaptive_max_pool_forward(x, output_size)
    yt, it = TORCH_ADAPTIVE_MAX[nd](torch.tensor(x), output_size, return_indices=True)
    np.testing.assert_array_equal(y, yt.numpy())
    np.testing.assert_array_equal(indices, it.numpy())
    _, dxt = torch_grad(TORCH_ADAPTIVE_MAX[nd], x, dy, output_size=output_size)
    np.testing.assert_allclose(P.max_pool_backward(dy, indices, x.shape), dxt, rtol=1e-6, atol=1e-6)


def test_adaptive_windows_follow_the_floor_ceil_rule():
    start, end = P.adaptive_windows(10, 4)  # 10 / 4 = 2.5 inputs per window
    np.testing.assert_array_equal(start, [0, 2, 5, 7])
    np.testing.assert_array_equal(end, [3, 5, 8, 10])


@pytest.mark.parametrize("spatial", [(7,), (5, 6), (3, 4, 5)])
def test_global_avg_pool_matches_torch_mean(spatial):
    x = distinct((2, 3) + spatial)
    dims = tuple(range(2, 2 + len(spatial)))
    dy = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    yt, dxt = torch_grad(lambda t: t.mean(dim=dims), x, dy)
    np.testing.assert_allclose(P.global_avg_pool_forward(x), yt, rtol=1e-6)
    np.testing.assert_allclose(P.global_avg_pool_backward(dy, x.shape), dxt, rtol=1e-6)


# ---------------------------------------------------------------- float64 finite differences

@pytest.mark.parametrize("spatial, kernel_size, stride, padding, dilation, ceil_mode", [
    ((7,), (3,), (2,), 1, (2,), True),
    ((5, 6), (3, 2), (2, 1), 1, (1, 2), True),
    ((4, 4, 3), (2, 2, 2), (1, 2, 1), (1, 0, 1), 1, False),
])
def test_max_pool_gradient_by_finite_differences(spatial, kernel_size, stride, padding, dilation, ceil_mode):
    x = distinct((2, 2) + spatial, dtype=np.float64)  # no ties: the max is differentiable
    options = (kernel_size, stride, padding, dilation, ceil_mode)
    check_gradients(lambda x: P.max_pool_forward(x, *options)[0],
                    lambda dy, x: (P.max_pool_backward(dy, P.max_pool_forward(x, *options)[1], x.shape),), [x])


@pytest.mark.parametrize("count_include_pad, divisor_override", [(True, None), (False, None), (False, 2)])
@pytest.mark.parametrize("spatial, kernel_size, stride, padding, ceil_mode", [
    ((7,), (3,), (2,), 1, True),
    ((5, 6), (3, 2), (2, 1), ((1, 0), (1, 1)), True),
    ((4, 4, 3), (2, 2, 2), (1, 2, 1), (1, 0, 1), False),
])
def test_avg_pool_gradient_by_finite_differences(spatial, kernel_size, stride, padding, ceil_mode,
                                                 count_include_pad, divisor_override):
    x = distinct((1, 2) + spatial, dtype=np.float64)
    options = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    check_gradients(lambda x: P.avg_pool_forward(x, *options),
                    lambda dy, x: (P.avg_pool_backward(dy, x.shape, *options),), [x])


@pytest.mark.parametrize("spatial, output_size", [((7,), (3,)), ((5, 6), (3, 4)), ((4, 5, 3), (3, 2, 2))])
def test_adaptive_and_global_gradients_by_finite_differences(spatial, output_size):
    x = distinct((1, 2) + spatial, dtype=np.float64)
    check_gradients(lambda x: P.adaptive_avg_pool_forward(x, output_size),
                    lambda dy, x: (P.adaptive_avg_pool_backward(dy, x.shape),), [x])
    check_gradients(lambda x: P.adaptive_max_pool_forward(x, output_size)[0],
                    lambda dy, x: (P.max_pool_backward(dy, P.adaptive_max_pool_forward(x, output_size)[1],
                                                       x.shape),), [x])
    check_gradients(P.global_avg_pool_forward, lambda dy, x: (P.global_avg_pool_backward(dy, x.shape),), [x])


def test_float32_stays_float32_and_float64_stays_float64():
    for dtype in (np.float32, np.float64):
        x = distinct((1, 2, 6, 6), dtype=dtype)
        y, indices = P.max_pool_forward(x, (2, 2))
        assert y.dtype == dtype and P.max_pool_backward(y, indices, x.shape).dtype == dtype
        y = P.avg_pool_forward(x, (3, 3), (1, 1), 1)
        assert y.dtype == dtype and P.avg_pool_backward(y, x.shape, (3, 3), (1, 1), 1).dtype == dtype
        assert P.adaptive_avg_pool_forward(x, (4, 4)).dtype == dtype


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, error, message", [
    (lambda x: P.max_pool_forward(x, (3, 3), padding=2), ValueError, "at most half the kernel size"),
    (lambda x: P.max_pool_forward(x, (3, 3), padding=((0, 2), (0, 0))), ValueError, "at most half"),
    (lambda x: P.avg_pool_forward(x, (2, 2), padding=(1, 2)), ValueError, "at most half"),
    (lambda x: P.max_pool_forward(x, (7, 2)), ValueError, "larger than the padded input of spatial size (5, 6)"),
    (lambda x: P.avg_pool_forward(x, (2, 9), padding=1), ValueError, "larger than the padded input"),
    (lambda x: P.max_pool_forward(x, (2, 2), stride=0), ValueError, "stride must be >= 1"),
    (lambda x: P.max_pool_forward(x, (2, 2), dilation=(1, 0)), ValueError, "dilation must be >= 1"),
    (lambda x: P.max_pool_forward(x, (0, 2)), ValueError, "kernel_size must be >= 1"),
    (lambda x: P.max_pool_forward(x, (2, 2), stride=(1, 2, 3)), ValueError, "stride must be an int or a tuple of 2"),
    (lambda x: P.avg_pool_forward(x, (2, 2), divisor_override=0), ValueError, "divisor_override must be a nonzero"),
    (lambda x: P.adaptive_avg_pool_forward(x, (0, 2)), ValueError, "output_size must be >= 1"),
    (lambda x: P.max_pool_forward(x[..., :2], (2, 2), dilation=3, padding=1), ValueError, "entirely on padding"),
])
def test_bad_arguments_raise_clear_errors(call, error, message):
    x = distinct((2, 3, 5, 6))
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        call(x)


def test_ceil_mode_allows_an_overhanging_window_like_torch():
    # extent 5 > 3 inputs, but ceil_mode keeps one output (PyTorch accepts this too)
    x = distinct((1, 1, 3))
    y, indices = P.max_pool_forward(x, (3,), (3,), 0, (2,), True)
    yt, it = F.max_pool1d(torch.tensor(x), 3, 3, 0, 2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(y, yt.numpy())
    np.testing.assert_array_equal(indices, it.numpy())


def channels_last(x):
    """The same values as x (N, C, *S), as an (N, C, *S) view of channels-last memory (what
    convolutions return)."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)


def is_channels_last(a):
    return np.moveaxis(a, 1, -1).flags.c_contiguous and not a.flags.c_contiguous


@pytest.mark.parametrize("spatial, kernel_size", [((7,), (2,)), ((7, 6), (3, 2)), ((5, 4, 6), (2, 2, 3))])
@pytest.mark.parametrize("kind", ["max", "avg", "adaptive_max", "adaptive_avg"])
@pytest.mark.parametrize("channels", [3, 17])  # plane-by-plane loops, channels-innermost loops
def test_pooling_keeps_a_channels_last_layout_with_identical_values(spatial, kernel_size, kind, channels):
    """A channels-last input gives bit-identical outputs and gradients, laid out channels-last,
    whatever the layout of the incoming gradient (NCHW from a Flatten, channels-last from a conv)."""
    x = distinct((2, channels) + spatial, seed=4)
    x_last = channels_last(x)
    forward = {"max": lambda a: P.max_pool_forward(a, kernel_size, None, 1 if min(kernel_size) > 1 else 0),
               "avg": lambda a: (P.avg_pool_forward(a, kernel_size, 1, 0, False), None),
               "adaptive_max": lambda a: P.adaptive_max_pool_forward(a, kernel_size),
               "adaptive_avg": lambda a: (P.adaptive_avg_pool_forward(a, kernel_size), None)}[kind]
    y, indices = forward(x)
    y_last, indices_last = forward(x_last)
    assert is_channels_last(y_last) and not is_channels_last(y)
    np.testing.assert_array_equal(y_last, y)
    if indices is not None:
        np.testing.assert_array_equal(indices_last, indices)
    dy = np.random.default_rng(5).standard_normal(y.shape).astype(np.float32)
    for dy_given in (dy, channels_last(dy)):
        if kind.endswith("max"):
            dx, dx_last = (P.max_pool_backward(dy_given, i, x.shape) for i in (indices, indices_last))
        elif kind == "avg":
            dx, dx_last = (P.avg_pool_backward(g, x.shape, kernel_size, 1, 0, False, True)
                           for g in (dy, dy_given))
        else:
            dx, dx_last = (P.adaptive_avg_pool_backward(g, x.shape) for g in (dy, dy_given))
        np.testing.assert_array_equal(dx_last, dx)
        assert is_channels_last(dx_last) == (kind.endswith("max") or dy_given is not dy)


@pytest.mark.parametrize("layout, channels", [("nchw", 4), ("channels_last", 4), ("channels_last", 17)])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_split_between_threads_is_identical(monkeypatch, two_threads, layout, channels, kind):
    """Large inputs are pooled by two threads, each taking half of the samples: forward and
    backward match the one-thread result bit for bit, NaNs (which win a max window) included."""
    x = distinct((5, channels, 9, 8), seed=6)
    x[0, 1, 2, 3] = x[3, 2, 0, 0] = x[3, 2, 0, 1] = np.nan
    x = channels_last(x) if layout == "channels_last" else x
    dy = np.random.default_rng(6).standard_normal((5, channels, 5, 5)).astype(np.float32)  # the output's shape

    def run():
        if kind == "max":
            y, indices = P.max_pool_forward(x, (3, 2), 2, 1)
            return y, indices, P.max_pool_backward(dy, indices, x.shape)
        y = P.avg_pool_forward(x, (3, 2), 2, 1, False, False)
        return y, None, P.avg_pool_backward(dy, x.shape, (3, 2), 2, 1, False, False)

    monkeypatch.setattr(fast_pooling, "PARALLEL_BYTES", 1 << 40)
    alone = run()
    monkeypatch.setattr(fast_pooling, "PARALLEL_BYTES", 0)
    split = run()
    for a, b in zip(alone, split):
        if a is not None:
            np.testing.assert_array_equal(b, a)
    if kind == "max":  # and against PyTorch, NaNs included
        yt, it = F.max_pool2d(torch.tensor(np.ascontiguousarray(x)), (3, 2), 2, 1, return_indices=True)
        np.testing.assert_array_equal(split[0], yt.numpy())
        np.testing.assert_array_equal(split[1], it.numpy())


def test_an_output_gradient_of_the_wrong_shape_is_refused():
    """The loops read dy through the window table unchecked; a dy of another shape would read
    past its end (the forward of (5, 4, 9, 8) with a 3x2 window, stride 2, padding 1 is 5x5)."""
    x = distinct((5, 4, 9, 8), seed=7)
    y, indices = P.max_pool_forward(x, (3, 2), 2, 1)
    assert y.shape == (5, 4, 5, 5)
    small = np.ones((5, 4, 4, 4), np.float32)
    with pytest.raises(ValueError, match=r"expected an output gradient of shape \(5, 4, 5, 5\).*got \(5, 4, 4, 4\)"):
        P.avg_pool_backward(small, x.shape, (3, 2), 2, 1)
    with pytest.raises(ValueError, match=r"expected an output gradient of shape \(5, 4, 5, 5\)"):
        P.max_pool_backward(small, indices, x.shape)
    with pytest.raises(ValueError, match="batch and channel"):
        P.max_pool_backward(np.ones_like(y), indices, (5, 3, 9, 8))
