"""Loss kernels: every option against PyTorch (float32) and every backward against float64
finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from glassnet.kernels import loss as K
from glassnet.testing import check_gradients

REDUCTIONS = ["mean", "sum", "none"]


def _classification_case(shape, probabilities, ignore, weighted, dtype, seed=0):
    """Logits of `shape` (N, C, ...), a target (indices with some ignored, or probabilities) and
    optional class weights."""
    rng = np.random.default_rng(seed)
    n_classes = shape[1]
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    if probabilities:
        t = rng.random(shape)
        t = (t / t.sum(axis=1, keepdims=True)).astype(dtype)
    else:
        t = rng.integers(0, n_classes, (shape[0],) + shape[2:])
        if ignore:
            t.reshape(-1)[::3] = -100  # every third position ignored
    w = rng.uniform(0.2, 2.0, n_classes).astype(dtype) if weighted else None
    return x, t, w


def _torch_grads(fn, *arrays, grad_of=(0,)):
    tensors = [torch.tensor(a, requires_grad=i in grad_of and a.dtype.kind == "f") if a is not None else None
               for i, a in enumerate(arrays)]
    out = fn(*tensors)
    rng = np.random.default_rng(9)
    dy = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(torch.tensor(dy))
    return out.detach().numpy(), [t.grad.numpy() if t is not None and t.grad is not None else None
                                  for t in tensors], dy


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("target_kind", ["indices", "ignored", "probabilities"])
@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 2, 3)], ids=["2d", "4d"])
def test_cross_entropy_matches_torch(shape, target_kind, weighted, label_smoothing, reduction):
    probs = target_kind == "probabilities"
    x, t, w = _classification_case(shape, probs, target_kind == "ignored", weighted, np.float32)
    expected, (tdx, tdt, _), dy = _torch_grads(
        lambda x, t, w: TF.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=label_smoothing),
        x, t, w, grad_of=(0, 1))
    loss, cache = K.cross_entropy_forward(x, t, w, -100, reduction, label_smoothing)
    dx, dt = K.cross_entropy_backward(dy, cache, needs_target_grad=probs)
    assert loss.dtype == dx.dtype == np.float32 and loss.shape == expected.shape
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, tdx, rtol=1e-4, atol=1e-6)
    if probs:
        np.testing.assert_allclose(dt, tdt, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("target_kind", ["ignored", "probabilities"])
def test_cross_entropy_backward_matches_finite_differences(target_kind, label_smoothing, reduction):
    probs = target_kind == "probabilities"
    x, t, w = _classification_case((3, 4, 2), probs, True, True, np.float64)

    def f(x, t):
        return K.cross_entropy_forward(x, t, w, -100, reduction, label_smoothing)[0]

    def b(dy, x, t):
        dx, dt = K.cross_entropy_backward(dy, K.cross_entropy_forward(x, t, w, -100, reduction,
                                                                      label_smoothing)[1], probs)
        return dx, dt

    if probs:
        check_gradients(f, b, [x, t])
    else:  # integer targets have no gradient: differentiate with respect to x only
        check_gradients(lambda x: f(x, t), lambda dy, x: (b(dy, x, t)[0],), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_rows_backward_matches_finite_differences(reduction):
    # logits (N, C) against class indices, no weights or smoothing: kernels/fast/cross_entropy.py
    x, t, _ = _classification_case((5, 4), False, True, False, np.float64)
    assert K.cross_entropy_forward(x, t, None, -100, reduction)[1].get("rows")
    check_gradients(lambda x: K.cross_entropy_forward(x, t, None, -100, reduction)[0],
                    lambda dy, x: (K.cross_entropy_backward(dy, K.cross_entropy_forward(x, t, None, -100,
                                                                                        reduction)[1])[0],), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_rows_agree_with_the_general_numpy_path(dtype, reduction):
    # class weights of 1 take the general path (kernels/loss.py's NumPy) with the same values
    x, t, _ = _classification_case((64, 10), False, True, False, dtype, seed=3)
    dy = np.random.default_rng(4).standard_normal(() if reduction != "none" else (64,)).astype(dtype)
    loss, cache = K.cross_entropy_forward(x, t, None, -100, reduction)
    general, general_cache = K.cross_entropy_forward(x, t, np.ones(10, dtype), -100, reduction)
    assert cache.get("rows") and not general_cache.get("rows")
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(loss, general, **tol)
    np.testing.assert_allclose(K.cross_entropy_backward(dy, cache)[0], K.cross_entropy_backward(dy, general_cache)[0],
                               **tol)
    assert loss.dtype == dtype


def test_cross_entropy_rows_name_a_target_out_of_range():
    with pytest.raises(IndexError, match=r"class indices in \[0, 3\).*got 7 at position 1"):
        K.cross_entropy_forward(np.zeros((2, 3), np.float32), np.array([0, 7]))


def test_cross_entropy_mean_of_all_ignored_is_nan_like_torch():
    x = np.zeros((2, 3), np.float32)
    t = np.array([-100, -100])
    loss, cache = K.cross_entropy_forward(x, t)
    assert np.isnan(loss) and np.isnan(TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item())
    loss, _ = K.cross_entropy_forward(x, t, reduction="sum")
    assert loss == 0


def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1e4, 0.0, -1e4]], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, cache = K.cross_entropy_forward(x, np.array([2]))
        dx, _ = K.cross_entropy_backward(np.float32(1), cache)
    np.testing.assert_allclose(loss, 2e4, rtol=1e-6)
    np.testing.assert_allclose(dx, [[1, 0, -1]], atol=1e-6)


def test_custom_ignore_index():
    x, t, w = _classification_case((8, 5), False, False, True, np.float32)
    t[::2] = 3  # class 3 is "ignore" here: those positions drop out of sum and denominator
    loss, _ = K.cross_entropy_forward(x, t, w, ignore_index=3, label_smoothing=0.1)
    expected = TF.cross_entropy(torch.tensor(x), torch.tensor(t), torch.tensor(w), ignore_index=3,
                                label_smoothing=0.1)
    np.testing.assert_allclose(loss, expected.numpy(), rtol=1e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 2, 3)], ids=["2d", "4d"])
def test_nll_loss_matches_torch(shape, weighted, reduction):
    x, t, w = _classification_case(shape, False, True, weighted, np.float32)
    logp = torch.log_softmax(torch.tensor(x), 1).numpy()
    expected, (tdx, _, _), dy = _torch_grads(lambda x, t, w: TF.nll_loss(x, t, weight=w, reduction=reduction),
                                             logp, t, w)
    loss, cache = K.nll_loss_forward(logp, t, w, -100, reduction)
    dx = K.nll_loss_backward(dy, cache)
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, tdx, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_backward_matches_finite_differences(reduction):
    x, t, w = _classification_case((4, 3, 2), False, True, True, np.float64)
    check_gradients(lambda x: K.nll_loss_forward(x, t, w, -100, reduction)[0],
                    lambda dy, x: (K.nll_loss_backward(dy, K.nll_loss_forward(x, t, w, -100, reduction)[1]),),
                    [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (4, 3, 2)])
def test_mse_loss_matches_torch_and_finite_differences(shape, reduction):
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    expected, (tdx, tdt), dy = _torch_grads(lambda x, t: TF.mse_loss(x, t, reduction=reduction), x, t,
                                            grad_of=(0, 1))
    loss, cache = K.mse_loss_forward(x, t, reduction)
    dx, dt = K.mse_loss_backward(dy, cache)
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, tdx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dt, tdt, rtol=1e-5, atol=1e-6)
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    check_gradients(lambda x, t: K.mse_loss_forward(x, t, reduction)[0],
                    lambda dy, x, t: K.mse_loss_backward(dy, K.mse_loss_forward(x, t, reduction)[1]),
                    [x64, t64])


def _bce_case(shape, weighted, pos_weighted, dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    t = rng.random(shape).astype(dtype)
    w = rng.uniform(0.5, 2, shape[-2:]).astype(dtype) if weighted else None  # broadcasts over N
    pw = rng.uniform(0.5, 3, shape[-1]).astype(dtype) if pos_weighted else None  # per class (last dim)
    return x, t, w, pw


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weighted", [False, True], ids=["", "pos_weight"])
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
def test_bce_with_logits_matches_torch(weighted, pos_weighted, reduction):
    x, t, w, pw = _bce_case((5, 3, 4), weighted, pos_weighted, np.float32)
    expected, (tdx, tdt, _, _), dy = _torch_grads(
        lambda x, t, w, pw: TF.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction,
                                                                pos_weight=pw),
        x, t, w, pw, grad_of=(0, 1))
    loss, cache = K.binary_cross_entropy_with_logits_forward(x, t, w, reduction, pw)
    dx, dt = K.binary_cross_entropy_with_logits_backward(dy, cache, needs_target_grad=True)
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, tdx, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dt, tdt, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weighted", [False, True], ids=["", "pos_weight"])
def test_bce_with_logits_backward_matches_finite_differences(pos_weighted, reduction):
    x, t, w, pw = _bce_case((3, 2, 4), True, pos_weighted, np.float64)

    def f(x, t):
        return K.binary_cross_entropy_with_logits_forward(x, t, w, reduction, pw)[0]

    check_gradients(f, lambda dy, x, t: K.binary_cross_entropy_with_logits_backward(
        dy, K.binary_cross_entropy_with_logits_forward(x, t, w, reduction, pw)[1], True), [x, t])


def test_bce_with_logits_is_stable_for_huge_logits():
    x = np.array([-1e4, -50.0, 50.0, 1e4], np.float32)
    t = np.array([1.0, 0.0, 1.0, 0.0], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, cache = K.binary_cross_entropy_with_logits_forward(x, t, reduction="none")
        dx, _ = K.binary_cross_entropy_with_logits_backward(np.ones(4, np.float32), cache)
    np.testing.assert_allclose(loss, [1e4, 0, 0, 1e4], atol=1e-6)
    np.testing.assert_allclose(dx, [-1, 0, 0, 1], atol=1e-6)
