"""Convolution as a matrix (seed 000, 001): structure, counts, the reverse search, and the
property vec(conv(x)) == M @ vec(x) against PyTorch and glassnet's own convolution."""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.explain import (conv_matrix, conv_matrix_pattern, count, find_convolution, matrix_counts, unvec,
                              vec)
from glassnet.explain.examples import SEED000_V, SEED000_W, SEED000_X
from glassnet.explain.layers import conv, max_pool

from .helpers import engine_conv, torch_conv


# ---- seed 000: the worked matrices ------------------------------------------------------------

def test_seed000_one_kernel_matrix_is_sparse_and_shared():
    # [h1, h2] = [[v1, v2, 0], [0, v1, v2]] [x1, x2, x3]
    np.testing.assert_array_equal(conv_matrix_pattern((2,), (3,)), [[1, 2, 0], [0, 1, 2]])


def test_seed000_two_kernels_matrix():
    # rows h11, h12, h21, h22: filter after filter
    np.testing.assert_array_equal(conv_matrix_pattern((2, 1, 2), (1, 3)),
                                  [[1, 2, 0], [0, 1, 2], [3, 4, 0], [0, 3, 4]])


@pytest.mark.parametrize("filters, expected_units", [(1, 4), (2, 8)])
def test_seed000_more_complex_example(filters, expected_units):
    # "Number of units: 6, 4 (one filter) / 6, 8 (two filters), kernel size 3"
    c = matrix_counts((filters, 1, 3), (1, 6))
    assert (c.input_units, c.output_units) == (6, expected_units)


def test_seed000_computation_exercise():
    # 1. fully connected with w; 2. 1-d convolution with kernel v
    np.testing.assert_array_equal(SEED000_W @ SEED000_X, [-24, 45])
    m = conv_matrix(SEED000_V, 3)
    np.testing.assert_array_equal(m @ SEED000_X, [3, 4])
    np.testing.assert_allclose(m @ SEED000_X, torch_conv(SEED000_X[None], SEED000_V[None, None])[0])


def test_seed000_architecture_exercise_1d():
    # D = 10 inputs, U = 5 outputs: fully connected has 50 weights; one kernel has P = 6 weights,
    # 30 connections and 20 zeros in the weight matrix.
    c = matrix_counts((6,), (10,))
    assert c.output_units == 5
    assert c.dense_parameters == 50
    assert (c.parameters, c.connections, c.zeros) == (6, 30, 20)
    np.testing.assert_array_equal(c.shares, [5] * 6)


def test_seed000_architecture_exercise_2d():
    # 10x10 image, 5x5 kernel: 25 weights per filter, 500 for 20 filters, 36 outputs per filter,
    # 720 with 20 filters
    assert matrix_counts((5, 5), (10, 10)).parameters == 25
    c = count(conv(1, 20, 5, bias=False), (1, 10, 10))
    assert c.parameters == 500
    assert c.output_shape == (20, 6, 6)
    assert c.output_units == 720
    assert c.output_units // 20 == 36


def test_seed000_strided_exercise():
    # D = 20 inputs, kernel 5, stride 5: 5 parameters, 4 outputs, 20 connections, 60 zeros
    c = matrix_counts((5,), (20,), stride=5)
    assert (c.parameters, c.output_units, c.connections, c.zeros) == (5, 4, 20, 60)


def test_seed000_pooling_exercise():
    # 10x10 image, 5x5 max pooling with stride 5 -> 4 output units
    assert count(max_pool(5, stride=5), (1, 10, 10)).output_units == 4


# ---- vec orders ---------------------------------------------------------------------------------

def test_vec_orders():
    a = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    np.testing.assert_array_equal(vec(a, "C"), a.ravel())
    # seed 003: stack the columns of each feature map, first map first
    np.testing.assert_array_equal(vec(a, "F"), np.concatenate([a[0].ravel("F"), a[1].ravel("F")]))
    for order in "CF":
        np.testing.assert_array_equal(unvec(vec(a, order), a.shape, order), a)


def test_vec_errors():
    with pytest.raises(ValueError, match="order must be 'C'.*got 'K'"):
        vec(np.zeros((1, 2)), "K")
    with pytest.raises(ValueError, match=r"vector of 6 entries for shape \(1, 2, 3\), got shape \(5,\)"):
        unvec(np.zeros(5), (1, 2, 3))


def test_column_order_matrix_acts_on_stacked_columns():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 4, 5)), rng.standard_normal((3, 2, 2, 3))
    m = conv_matrix(w, x.shape, order="F")
    y = torch_conv(x, w)
    np.testing.assert_allclose(m @ vec(x, "F"), vec(y, "F"), atol=1e-12)
    # the two orders are the same linear map up to permutations of rows and columns
    mc = conv_matrix(w, x.shape, order="C")
    perm_in = vec(np.arange(x.size).reshape(x.shape), "F")
    perm_out = vec(np.arange(y.size).reshape(y.shape), "F")
    np.testing.assert_array_equal(mc[np.ix_(perm_out, perm_in)], m)


# ---- the property: M @ vec(x) is the convolution -----------------------------------------------

@st.composite
def conv_cases(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    pad_kind = draw(st.sampled_from(["int", "pairs", "same", "valid"]))
    if pad_kind == "int":
        padding = draw(st.integers(0, 2))
    elif pad_kind == "pairs":
        padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd))
    else:
        padding = pad_kind
    mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    n = tuple(draw(st.integers(d_ * (k_ - 1) + 3, d_ * (k_ - 1) + 3 + (4 if nd < 3 else 2)))
              for k_, d_ in zip(k, d))
    flip = draw(st.booleans())
    order = draw(st.sampled_from("CF"))
    return nd, cin, cout, groups, k, s, d, padding, mode, n, flip, order


@settings(max_examples=60, deadline=None)
@given(conv_cases(), st.integers(0, 2**32 - 1))
def test_matrix_times_vec_is_the_convolution(case, seed):
    nd, cin, cout, groups, k, s, d, padding, mode, n, flip, order = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((cin,) + n)
    w = rng.standard_normal((cout, cin // groups) + k)
    options = dict(stride=s, padding=padding, dilation=d, groups=groups, padding_mode=mode, flip=flip)
    m = conv_matrix(w, x.shape, order=order, **options)
    y = torch_conv(x, w, **options)
    np.testing.assert_allclose(m @ vec(x, order), vec(y, order), rtol=1e-10, atol=1e-10)
    forward = engine_conv()
    if forward is not None:
        y_engine = forward(x[None], w, None, **options)[0]
        np.testing.assert_allclose(m @ vec(x, order), vec(y_engine, order), rtol=1e-10, atol=1e-10)
    if mode == "zeros":
        # every (output unit, tap inside the input) pair is one non-zero entry, none twice
        links = matrix_counts(w.shape, x.shape, **options)
        assert links.connections == int(np.sum(links.shares))


def test_sparse_equals_dense_and_keeps_float32():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    dense = conv_matrix(w, (3, 8, 8), stride=2, padding=1)
    sparse = conv_matrix(w, (3, 8, 8), stride=2, padding=1, sparse=True)
    assert scipy.sparse.issparse(sparse)
    assert dense.dtype == np.float32 and sparse.dtype == np.float32
    np.testing.assert_array_equal(sparse.toarray(), dense)
    assert sparse.nnz == matrix_counts(w.shape, (3, 8, 8), stride=2, padding=1).connections


def test_conv_matrix_of_a_glassnet_layer_uses_its_options():
    nn = pytest.importorskip("glassnet.nn")
    import glassnet
    layer = nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2)
    x = np.random.default_rng(0).standard_normal((2, 7, 7)).astype(np.float32)
    m = conv_matrix(layer, x.shape)
    y = layer(glassnet.tensor(x[None])).data[0]
    bias = np.repeat(layer.bias.data, 16)  # one bias per output unit, output (4, 4, 4)
    np.testing.assert_allclose(m @ x.ravel() + bias, y.ravel(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("padding, stride", [(0, 1), (1, 1), (2, 2), ("same", 1), (((0, 2),), 3)])
def test_shares_and_connections_match_count(padding, stride):
    # two independent counts: distinct entries of M, and count()'s per-dimension tap count
    mc = matrix_counts((3, 2, 3), (2, 9), stride=stride, padding=padding)
    layer_counts = count(conv(2, 3, 3, stride=stride, padding=padding, bias=False, ndim=1), (2, 9))
    assert mc.connections == layer_counts.connections
    assert mc.parameters == layer_counts.parameters
    assert mc.output_units == layer_counts.output_units
    assert mc.connections + mc.zeros == mc.entries


# ---- is this matrix a convolution? ------------------------------------------------------------

@pytest.mark.parametrize("k, s, p, d", [(2, 1, 0, 1), (3, 2, 1, 1), (2, 3, 0, 2), (3, 1, 2, 1)])
def test_find_convolution_recovers_the_kernel(k, s, p, d):
    rng = np.random.default_rng(k + s + p + d)
    w = rng.integers(1, 9, size=(1, 1, k)).astype(float)  # no zero weights: the search is unique
    m = conv_matrix(w, (1, 8), stride=s, padding=p, dilation=d)
    found = find_convolution(m, (1, 8))
    assert found is not None
    np.testing.assert_array_equal(found.matrix((1, 8)), m)
    np.testing.assert_array_equal(found.weight, w)
    for shape in (8, (8,)):  # the shapes find_convolution takes, matrix takes too
        np.testing.assert_array_equal(find_convolution(m, shape).matrix(shape), m)


def test_find_convolution_2d_multichannel():
    rng = np.random.default_rng(5)
    w = rng.integers(1, 5, size=(2, 3, 3, 3)).astype(float)
    m = conv_matrix(w, (3, 5, 5), stride=2, padding=1)
    found = find_convolution(m, (3, 5, 5), out_channels=2)
    assert found.stride == (2, 2) and found.padding == (1, 1)
    np.testing.assert_array_equal(found.weight, w)
    np.testing.assert_array_equal(found.matrix((5, 5)), m)  # the spatial shape alone: the weight's 3 channels


def test_find_convolution_says_no():
    assert find_convolution(SEED000_W, 3) is None  # fully connected: no sharing
    m = conv_matrix([1.0, 2.0], 5)
    m[2, 2] += 0.5  # break the sharing in one entry
    assert find_convolution(m, 5) is None
    with pytest.raises(ValueError, match=r"4 columns.*got shape \(2, 3\)"):
        find_convolution(np.zeros((2, 3)), 4)


# ---- errors -------------------------------------------------------------------------------------

def test_errors_name_what_was_expected():
    with pytest.raises(ValueError, match=r"expects an input of shape \(4, \*spatial\).*got input \(3, 5, 5\)"):
        conv_matrix(np.zeros((2, 2, 3, 3)), (3, 5, 5), groups=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_matrix(np.zeros((3, 3)), (2, 2))
    with pytest.raises(ValueError, match=r"weight \(2, 3\) and input \(4, 5, 6\)"):
        conv_matrix(np.zeros((2, 3)), (4, 5, 6))
    with pytest.raises(ValueError, match="padding_mode"):
        conv_matrix(np.zeros(2), 4, padding=1, padding_mode="mirror")
