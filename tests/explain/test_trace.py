"""Worked-example traces: seed 002's sums written out exactly, seed 000's pooling and strided
exercises, seed 004's 5x5x3 example; every traced output against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from glassnet.explain import kernels, trace
from glassnet.explain.examples import (SEED000_POOL_K, SEED000_POOL_X, SEED000_V, SEED000_X, SEED002_CHANNEL_KERNELS,
                                       SEED002_CHANNELS, SEED002_EDGE, SEED002_EDGE_REVERSED, SEED002_INPUT,
                                       SEED002_OUTPUT, SEED004_FILTER, SEED004_INPUT)
from glassnet.explain.counting import output_size

from .helpers import torch_conv

V = kernels["vertical"]


def test_seed002_valid_convolution_sums_exactly():
    t = trace(SEED002_INPUT, V, order="F")  # seed 002 writes each sum column by column
    np.testing.assert_array_equal(t.output[0], SEED002_OUTPUT)
    assert t.step(0, 0).expression == \
        "1×1 + 1×1 + 3×1 + 2×0 + 3×0 + 2×0 + 3×(-1) + 2×(-1) + 1×(-1) = 5 - 6 = -1"
    assert t.step(0, 1).expression == \
        "2×1 + 3×1 + 2×1 + 3×0 + 2×0 + 1×0 + 4×(-1) + 3×(-1) + 4×(-1) = 7 - 11 = -4"
    # the slide prints "= 6 - 25 = -14"; 5 + 10 + 5 is 20, and -14 is right
    assert t.step(0, 2).expression == \
        "3×1 + 2×1 + 1×1 + 4×0 + 3×0 + 4×0 + 5×(-1) + 10×(-1) + 5×(-1) = 6 - 20 = -14"
    assert t.step(1, 0).expression == \
        "1×1 + 3×1 + 6×1 + 3×0 + 2×0 + 1×0 + 2×(-1) + 1×(-1) + 1×(-1) = 10 - 4 = 6"
    assert str(t.step(0, 0)).startswith("y[0, 0, 0] = 1×1")


def test_row_major_order_reads_rows():
    t = trace(SEED002_INPUT, V, order="C")
    assert t.step(0, 0).expression.startswith("1×1 + 2×0 + 3×(-1) + 1×1 + 3×0 + 2×(-1)")


@pytest.mark.parametrize("padding, stride", [(1, 1), (0, 2), (1, 2)])
def test_seed002_same_and_strided(padding, stride):
    t = trace(SEED002_INPUT, V, padding=padding, stride=stride)
    expected = torch_conv(SEED002_INPUT[None], V[None, None], padding=padding, stride=stride)
    np.testing.assert_array_equal(t.output, expected)
    assert t.output.shape[1:] == output_size(5, 3, stride, padding).size * 2


def test_seed002_same_padding_keeps_5x5_and_stride2_values():
    assert trace(SEED002_INPUT, V, padding=1).output.shape == (1, 5, 5)
    np.testing.assert_array_equal(trace(SEED002_INPUT, V, stride=2).output[0], [[-1, -14], [9, -8]])
    # padded positions appear as 0 terms of the sum, as on the slide's 7x7 padded input
    first = trace(SEED002_INPUT, V, padding=1, order="F").step(0, 0)
    assert first.expression.startswith("0×1 + 0×1 + 0×1 + 0×0 + 1×0 + 1×0 + 0×(-1) + 2×(-1) + 3×(-1)")
    assert first.value == -5


def test_seed002_edge_images():
    t = trace(SEED002_EDGE, V, order="F")
    np.testing.assert_array_equal(t.output[0], [[0, 30, 30, 0]] * 3)
    first, second = t.step(0, 0).expression, t.step(0, 1).expression
    assert first.startswith("10×1 + 10×1 + 10×1 + 10×0 + 10×0 + 10×0 + 10×(-1) + 10×(-1) + 10×(-1) =")
    assert first.endswith("= 0")
    assert second == "10×1 + 10×1 + 10×1 + 10×0 + 10×0 + 10×0 + 0×(-1) + 0×(-1) + 0×(-1) = 30"
    # dark -> light: the sign flips
    np.testing.assert_array_equal(trace(SEED002_EDGE_REVERSED, V).output[0], [[0, -30, -30, 0]] * 3)
    # horizontal edges are found by the horizontal kernel, not the vertical one
    np.testing.assert_array_equal(trace(SEED002_EDGE.T, kernels["horizontal"]).output[0],
                                  trace(SEED002_EDGE, V).output[0].T)


def test_seed002_three_channels_gives_43():
    t = trace(SEED002_CHANNELS, SEED002_CHANNEL_KERNELS, order="F")
    assert t.output[0, 0, 0] == 43
    assert t.step(0, 0, 0).expression == (
        "1×1 + 1×1 + 3×1 + 2×0 + 3×0 + 2×0 + 3×(-1) + 2×(-1) + 1×(-1)\n"
        "+ 4×2 + 2×2 + 1×2 + 3×0 + 6×0 + 3×0 + 1×(-2) + 1×(-2) + 1×(-2)\n"
        "+ 7×3 + 6×3 + 5×3 + 2×0 + 3×0 + 2×0 + 3×(-3) + 2×(-3) + 1×(-3)\n"
        "= -1 + 8 + 36 = 43")
    np.testing.assert_array_equal(t.output, torch_conv(SEED002_CHANNELS, SEED002_CHANNEL_KERNELS[None]))
    # two 3x3x3 filters on a 32x32x3 input: 30x30x2 and 54 weights
    two = trace(np.zeros((3, 32, 32)), np.zeros((2, 3, 3, 3)))
    assert two.output.shape == (2, 30, 30) and two.weight.size == 54


def test_seed000_pooling_and_strided_exercises():
    mean = trace(SEED000_POOL_X, op="avg", kernel_size=2)
    np.testing.assert_array_equal(mean.output[0], [1.5, 4, 3])
    assert mean.step(0, 0).expression == "(0 + 3)/2 = 3/2 = 1.5"
    top = trace(SEED000_POOL_X, op="max", kernel_size=3)
    np.testing.assert_array_equal(top.output[0], [10, 5])
    assert top.step(0, 1).expression == "max(-2, 5, 1) = 5"
    strided = trace(SEED000_POOL_X, SEED000_POOL_K, stride=2)
    np.testing.assert_array_equal(strided.output[0], [3, -22, -9])
    assert strided.step(0, 1).expression == "10×(-2) + (-2)×1 = -22"
    np.testing.assert_array_equal(trace(SEED000_X, SEED000_V).output[0], [3, 4])
    x = torch.tensor(SEED000_POOL_X, dtype=torch.float64)[None, None]
    np.testing.assert_array_equal(mean.output[0], TF.avg_pool1d(x, 2)[0, 0].numpy())
    np.testing.assert_array_equal(top.output[0], TF.max_pool1d(x, 3)[0, 0].numpy())


def test_seed004_two_filters_padding1_stride2():
    # 5x5x3 input, two 3x3x3 filters, padding 1, stride 2 -> 3x3x2
    rng = np.random.default_rng(4)
    weight = np.stack([SEED004_FILTER, rng.integers(-1, 2, size=(3, 3, 3))]).astype(np.float32)
    bias = np.array([0.0, 1.0], dtype=np.float32)
    t = trace(SEED004_INPUT, weight, bias, stride=2, padding=1)
    assert t.output.shape == (2, 3, 3)
    np.testing.assert_allclose(t.output, torch_conv(SEED004_INPUT, weight, bias, stride=2, padding=1))
    # the legible filter, by hand: top-left output sees the padded corner
    step = t.step(0, 0, 0)
    assert step.inputs.shape == (3, 3, 3) and step.inside[:, 0, :].sum() == 0  # first row is padding
    assert step.value == float(np.sum(SEED004_INPUT[:, :2, :2] * SEED004_FILTER[:, 1:, 1:]))
    assert "(bias)" in step.expression


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("options", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding=2),
                                     dict(padding="same"), dict(flip=True, padding=1)])
def test_random_traces_match_torch(nd, options):
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((2,) + (7,) * nd)
    w = rng.standard_normal((3, 2) + (3,) * nd)
    b = rng.standard_normal(3)
    t = trace(x, w, b, **options)
    np.testing.assert_allclose(t.output, torch_conv(x, w, b, **options), rtol=1e-10, atol=1e-10)
    # every step's value is its own sum of products
    for step in list(t)[:5]:
        assert step.value == pytest.approx(float(np.sum(step.inputs * step.weights)) + step.bias)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("channels, filters, groups", [(4, 6, 2), (6, 3, 3), (3, 6, 3), (4, 4, 4)])
@pytest.mark.parametrize("options", [dict(), dict(stride=2, padding=1, dilation=2)])
def test_grouped_traces_match_torch(nd, channels, filters, groups, options):
    rng = np.random.default_rng(10 * nd + groups)
    x = rng.standard_normal((channels,) + (6,) * nd)
    w = rng.standard_normal((filters, channels // groups) + (2,) * nd)
    b = rng.standard_normal(filters)
    t = trace(x, w, b, groups=groups, **options)
    np.testing.assert_allclose(t.output, torch_conv(x, w, b, groups=groups, **options), rtol=1e-10, atol=1e-10)
    per_in, per_out = channels // groups, filters // groups
    for o in range(filters):
        step = t.step((o,) + (0,) * nd)
        # output channel o reads only the input channels of its group, o // (O/groups)
        g = o // per_out
        assert step.channels == tuple(range(g * per_in, (g + 1) * per_in))
        assert step.inputs.shape == step.weights.shape == (per_in,) + (2,) * nd
        assert step.value == pytest.approx(float(np.sum(step.inputs * step.weights)) + step.bias)
        assert step.expression.count("\n") == per_in  # one line per channel read, then the total


def test_grouped_trace_in_float32_against_torch():
    # depthwise: every channel has its own kernel and nothing is summed across channels
    x = np.random.default_rng(0).standard_normal((3, 5, 5)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((3, 1, 3, 3)).astype(np.float32)
    t = trace(x, w, groups=3, padding=1)
    assert t.output.dtype == np.float32
    ref = TF.conv2d(torch.tensor(x)[None], torch.tensor(w), padding=1, groups=3)[0].numpy()
    np.testing.assert_allclose(t.output, ref, rtol=1e-4, atol=1e-5)
    for c in range(3):
        np.testing.assert_allclose(t.output[c], trace(x[c], w[c, 0], padding=1).output[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op, k, s, p, d", [(op, *g) for op in ("max", "avg") for g in
                                             [(2, 2, 0, 1), (3, 1, 1, 1), (3, 2, 1, 1)]] + [("max", 2, 1, 1, 2)])
def test_pool_traces_match_torch(op, k, s, p, d):
    x = np.random.default_rng(k * 10 + s).standard_normal((2, 6, 7))
    t = trace(x, op=op, kernel_size=k, stride=s, padding=p, dilation=d)
    xt = torch.tensor(x)[None]
    ref = TF.max_pool2d(xt, k, s, p, dilation=d) if op == "max" else TF.avg_pool2d(xt, k, s, p)
    np.testing.assert_allclose(t.output, ref[0].numpy(), rtol=1e-12)
    if op == "max" and p:
        assert "-inf" not in t.step(0, 0, 0).expression  # padding never shows up in a max


def test_avg_pool_without_padding_in_the_count():
    x = np.arange(1.0, 7.0)
    t = trace(x, op="avg", kernel_size=3, stride=1, padding=1, count_include_pad=False)
    ref = TF.avg_pool1d(torch.tensor(x)[None, None], 3, 1, 1, count_include_pad=False)[0, 0].numpy()
    np.testing.assert_allclose(t.output[0], ref)
    assert t.step(0, 0).expression == "(1 + 2)/2 = 3/2 = 1.5"


def test_a_dilated_average_window_on_the_padding_alone_is_refused():
    """Taps at -1 and 1 of a one-element input: no input to average over without the padding
    (with it, the mean of two zeros is 0)."""
    with pytest.raises(ValueError, match=r"window of output \[0, 0\] covers no input, only padding"):
        trace(np.ones(1), op="avg", kernel_size=2, stride=1, padding=1, dilation=2, count_include_pad=False)
    assert trace(np.ones(1), op="avg", kernel_size=2, stride=1, padding=1, dilation=2).output.tolist() == [[0.0]]


def test_trace_errors():
    with pytest.raises(ValueError, match=r"weight of shape \(O, 3, \*k\) for an input of shape \(3, 4, 4\)"):
        trace(np.zeros((3, 4, 4)), np.zeros((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="needs a weight"):
        trace(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="needs a kernel_size"):
        trace(np.zeros((4, 4)), op="max")
    with pytest.raises(ValueError, match="op must be one of"):
        trace(np.zeros((4, 4)), V, op="sum")
    with pytest.raises(IndexError, match=r"output has shape \(1, 3, 3\); got index \(0, 3, 0\)"):
        trace(SEED002_INPUT, V).step(0, 3, 0)
    with pytest.raises(ValueError, match=r"bias of shape \(1,\)"):
        trace(SEED002_INPUT, V, bias=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"weight of shape \(O, 2, \*k\) \(C/groups = 4/2\) for an input of shape "
                                         r"\(4, 5, 5\), got \(2, 4, 3, 3\)"):
        trace(np.zeros((4, 5, 5)), np.zeros((2, 4, 3, 3)), groups=2)
    with pytest.raises(ValueError,
                       match=r"input's 3 channels \(input shape \(3, 5, 5\)\) are not divisible by groups=2"):
        trace(np.zeros((3, 5, 5)), np.zeros((2, 1, 3, 3)), groups=2)
    with pytest.raises(ValueError,
                       match=r"weight's 3 filters \(weight shape \(3, 2, 3, 3\)\) are not divisible by groups=2"):
        trace(np.zeros((4, 5, 5)), np.zeros((3, 2, 3, 3)), groups=2)
    with pytest.raises(ValueError, match="groups must be a positive int, got 0"):
        trace(np.zeros((4, 5, 5)), np.zeros((3, 4, 3, 3)), groups=0)
    with pytest.raises(ValueError, match="groups is an option of a convolution"):
        trace(np.zeros((4, 4)), op="max", kernel_size=2, groups=2)
