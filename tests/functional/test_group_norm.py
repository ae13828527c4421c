"""layer_norm, group_norm and instance_norm against torch.nn.functional and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

from .parity import assert_finite_differences, assert_matches_torch


def _data(shape, channels_shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2 + 0.5
    w, b = rng.uniform(0.5, 1.5, channels_shape), rng.standard_normal(channels_shape)
    return x, w, b


GROUPS = [((4, 6), 3), ((2, 6, 5), 2), ((2, 6, 4, 3), 3), ((2, 4, 2, 3, 2), 4), ((3, 4, 5, 5), 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape, groups", GROUPS, ids=[f"{s}-G{g}" for s, g in GROUPS])
def test_group_norm_matches_torch(shape, groups, affine, dtype):
    x, w, b = _data(shape, shape[1])
    if affine:
        assert_matches_torch(lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-3),
                             lambda x, w, b: TF.group_norm(x, groups, w, b, eps=1e-3), [x, w, b], dtype)
    else:
        assert_matches_torch(lambda x: F.group_norm(x, groups), lambda x: TF.group_norm(x, groups), [x], dtype)


NORMALIZED = [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((2, 3, 2, 3), (3,)), ((3, 2, 2, 2), (2, 2, 2))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("shape, normalized", NORMALIZED, ids=[f"{s}-{n}" for s, n in NORMALIZED])
def test_layer_norm_matches_torch(shape, normalized, affine, dtype):
    x, w, b = _data(shape, normalized, seed=1)
    if affine == "both":
        arrays, ours, theirs = [x, w, b], lambda x, w, b: F.layer_norm(x, normalized, w, b), \
            lambda x, w, b: TF.layer_norm(x, normalized, w, b)
    elif affine == "weight":
        arrays, ours, theirs = [x, w], lambda x, w: F.layer_norm(x, normalized, w), \
            lambda x, w: TF.layer_norm(x, normalized, w)
    else:
        arrays, ours, theirs = [x], lambda x: F.layer_norm(x, normalized), lambda x: TF.layer_norm(x, normalized)
    assert_matches_torch(ours, theirs, arrays, dtype)


def test_layer_norm_accepts_an_int_shape():
    x, _, _ = _data((3, 7), (7,))
    np.testing.assert_allclose(F.layer_norm(glassnet.tensor(x), 7).numpy(),
                               TF.layer_norm(torch.tensor(x, dtype=torch.float32), (7,)).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4), (2, 2, 2, 3, 3)])
def test_instance_norm_matches_torch(shape, dtype):
    x, w, b = _data(shape, shape[1], seed=2)
    assert_matches_torch(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                         lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), [x, w, b], dtype)


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instance_norm_running_statistics_like_torch(use_input_stats):
    x, w, b = _data((3, 4, 5, 6), 4, seed=3)
    rng = np.random.default_rng(4)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    g_rm, g_rv = glassnet.tensor(rm), glassnet.tensor(rv)
    t_rm, t_rv = torch.tensor(rm, dtype=torch.float32), torch.tensor(rv, dtype=torch.float32)
    assert_matches_torch(
        lambda x, w, b: F.instance_norm(x, g_rm, g_rv, w, b, use_input_stats, momentum=0.3),
        lambda x, w, b: TF.instance_norm(x, t_rm, t_rv, w, b, use_input_stats, momentum=0.3), [x, w, b])
    np.testing.assert_allclose(g_rm.numpy(), t_rm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_rv.numpy(), t_rv.numpy(), rtol=1e-5, atol=1e-6)
    assert np.allclose(g_rm.numpy(), rm) != use_input_stats  # updated only when the input's stats are used


@pytest.mark.parametrize("name, make, arrays", [
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), _data((2, 4, 3), 4, seed=5)),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (2, 3), w, b), _data((3, 2, 3), (2, 3), seed=6)),
    ("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b), _data((2, 3, 2, 2), 3, seed=7)),
])
def test_finite_differences(name, make, arrays):
    assert_finite_differences(make, arrays)


def test_float32_stays_float32_and_constant_rows_give_zero():
    x = glassnet.ones(2, 4, 3, requires_grad=True)
    y = F.group_norm(x, 2)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(y.detach().numpy(), 0)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.group_norm(glassnet.zeros(2, 6, 3), 4), ValueError,
     r"divisible by num_groups, got input of shape \(2, 6, 3\) \(6 channels\) and num_groups=4"),
    (lambda: F.group_norm(glassnet.zeros(6), 2), ValueError, r"shape \(N, C, \*\), got \(6,\)"),
    (lambda: F.group_norm(glassnet.zeros(2, 6), 0), ValueError, "num_groups as a positive int, got 0"),
    (lambda: F.group_norm(glassnet.zeros(2, 6), 2, glassnet.ones(4)), ValueError,
     r"weight of shape \(6,\) for input of shape \(2, 6\), got \(4,\)"),
    (lambda: F.group_norm(glassnet.zeros(2, 6), 2, glassnet.ones(6, dtype=np.float64)), TypeError,
     "weight of the input's dtype float32, got float64"),
    (lambda: F.group_norm(glassnet.zeros(2, 6), 2, eps=0.0), ValueError, "eps > 0, got 0.0"),
    (lambda: F.layer_norm(glassnet.zeros(2, 3, 4), (3,)), ValueError,
     r"normalized_shape=\(3,\) expected input of shape \(\*, 3\), got \(2, 3, 4\)"),
    (lambda: F.layer_norm(glassnet.zeros(2, 4), (4,), bias=glassnet.zeros(2)), ValueError,
     r"bias of shape \(4,\) for input of shape \(2, 4\), got \(2,\)"),
    (lambda: F.instance_norm(glassnet.zeros(2, 3)), ValueError, r"at least one spatial dimension, got \(2, 3\)"),
    (lambda: F.instance_norm(glassnet.zeros(2, 3, 1)), ValueError,
     r"more than 1 spatial element .* got input of shape \(2, 3, 1\)"),
    (lambda: F.instance_norm(glassnet.zeros(2, 3, 4), use_input_stats=False), ValueError,
     "use_input_stats=False needs running_mean and running_var"),
    (lambda: F.layer_norm(glassnet.tensor([[1, 2]]), 2), TypeError, "floating-point input"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- local response normalisation ------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size, shape", [(5, (2, 7, 3, 3)), (2, (2, 4, 5)), (4, (1, 6, 2, 2, 3)), (1, (2, 3, 4)),
                                         (9, (2, 3, 4))])
def test_local_response_norm_matches_torch(size, shape, dtype):
    x = np.random.default_rng(8).standard_normal(shape) * 3
    assert_matches_torch(lambda t: F.local_response_norm(t, size, alpha=0.3, beta=0.6, k=2.0),
                         lambda t: TF.local_response_norm(t, size, alpha=0.3, beta=0.6, k=2.0), [x], dtype)


@pytest.mark.parametrize("size", [2, 3])
def test_local_response_norm_finite_differences(size):
    x = np.random.default_rng(9).standard_normal((2, 5, 3))
    assert_finite_differences(lambda t: F.local_response_norm(t, size, alpha=0.5, beta=0.75, k=1.0), [x])


@pytest.mark.parametrize("call, message", [
    (lambda: F.local_response_norm(glassnet.zeros(2, 3), 2), r"at least 3 dimensions, got \(2, 3\)"),
    (lambda: F.local_response_norm(glassnet.zeros(2, 3, 4), 0), "size as a positive int, got 0"),
])
def test_local_response_norm_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---- RMS normalisation ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("shape, normalized", NORMALIZED, ids=[f"{s}-{n}" for s, n in NORMALIZED])
def test_rms_norm_matches_torch(shape, normalized, eps, dtype):
    x, w, _ = _data(shape, normalized, seed=10)
    assert_matches_torch(lambda x, w: F.rms_norm(x, normalized, w, eps), lambda x, w: TF.rms_norm(x, normalized, w, eps),
                         [x, w], dtype)
    assert_matches_torch(lambda x: F.rms_norm(x, normalized, eps=eps), lambda x: TF.rms_norm(x, normalized, eps=eps),
                         [x], dtype)


def test_rms_norm_finite_differences():
    x, w, _ = _data((3, 2, 3), (2, 3), seed=11)
    assert_finite_differences(lambda x, w: F.rms_norm(x, (2, 3), w, 1e-3), [x, w])


@pytest.mark.parametrize("call, message", [
    (lambda: F.rms_norm(glassnet.zeros(2, 3), (2,)), r"normalized_shape=\(2,\) expected input of shape \(\*, 2\), got \(2, 3\)"),
    (lambda: F.rms_norm(glassnet.zeros(2, 3), 3, glassnet.ones(2)), r"weight of shape \(3,\) for input of shape \(2, 3\)"),
    (lambda: F.rms_norm(glassnet.zeros(2, 3), 3, eps=-1.0), "eps > 0, got -1.0"),
])
def test_rms_norm_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
