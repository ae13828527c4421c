"""glassnet.functional losses through the Tensor API, against torch.nn.functional, and their
argument checks."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F


def _both(x):
    """The same float32 data as a glassnet and a torch tensor, both requiring grad."""
    return glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _close(g, t, rtol=1e-4, atol=1e-6):
    np.testing.assert_allclose(g, t.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.2}, {"ignore_index": 1},
                                     {"weight": True, "label_smoothing": 0.1, "ignore_index": 2}],
                         ids=["plain", "smoothing", "ignore", "all"])
@pytest.mark.parametrize("shape", [(8, 5), (2, 5, 3, 4), (5,)], ids=["NC", "NCHW", "unbatched"])
def test_cross_entropy_class_indices(shape, options, reduction):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, 5, shape[:1] + shape[2:] if len(shape) > 1 else ())
    w = rng.uniform(0.5, 2, 5).astype(np.float32)
    kw = dict(options, reduction=reduction)
    if kw.pop("weight", False):
        kw["weight"] = w
    gx, tx = _both(x)
    gl = F.cross_entropy(gx, glassnet.tensor(t), **{k: glassnet.tensor(v) if k == "weight" else v
                                                    for k, v in kw.items()})
    tl = TF.cross_entropy(tx, torch.tensor(t), **{k: torch.tensor(v) if k == "weight" else v
                                                  for k, v in kw.items()})
    assert gl.shape == tuple(tl.shape)
    _close(gl.data, tl)
    dy = rng.standard_normal(gl.shape).astype(np.float32)
    gl.backward(dy)
    tl.backward(torch.tensor(dy))
    _close(gx.grad, tx.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 3), (4,)], ids=["NC", "NCL", "unbatched"])
def test_cross_entropy_probabilities_with_target_gradient(shape, label_smoothing, reduction):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    p = rng.random(shape).astype(np.float32)
    w = rng.uniform(0.5, 2, shape[1] if len(shape) > 1 else shape[0]).astype(np.float32)
    gx, tx = _both(x)
    gp, tp = _both(p)
    gl = F.cross_entropy(gx, gp, weight=glassnet.tensor(w), reduction=reduction, label_smoothing=label_smoothing)
    tl = TF.cross_entropy(tx, tp, weight=torch.tensor(w), reduction=reduction, label_smoothing=label_smoothing)
    _close(gl.data, tl)
    dy = rng.standard_normal(gl.shape).astype(np.float32)
    gl.backward(dy)
    tl.backward(torch.tensor(dy))
    _close(gx.grad, tx.grad)
    _close(gp.grad, tp.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(8, 5), (2, 5, 3), (5,)], ids=["NC", "NCL", "unbatched"])
def test_nll_loss(shape, reduction):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, 5, shape[:1] + shape[2:] if len(shape) > 1 else ())
    w = rng.uniform(0.5, 2, 5).astype(np.float32)
    gx, tx = _both(x)
    gl = F.nll_loss(F.log_softmax(gx, 0 if len(shape) == 1 else 1), glassnet.tensor(t),
                    weight=glassnet.tensor(w), ignore_index=3, reduction=reduction)
    tl = TF.nll_loss(torch.log_softmax(tx, 0 if len(shape) == 1 else 1), torch.tensor(t), weight=torch.tensor(w),
                     ignore_index=3, reduction=reduction)
    _close(gl.data, tl)
    (gl * gl).sum().backward()
    (tl * tl).sum().backward()
    _close(gx.grad, tx.grad)


def test_cross_entropy_equals_nll_of_log_softmax():
    x = glassnet.randn(6, 4, requires_grad=True)
    t = glassnet.tensor([0, 1, 2, 3, 0, 1])
    a = F.cross_entropy(x, t)
    b = F.nll_loss(F.log_softmax(x, 1), t)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction):
    rng = np.random.default_rng(3)
    gx, tx = _both(rng.standard_normal((4, 3)).astype(np.float32))
    gt, tt = _both(rng.standard_normal((4, 3)).astype(np.float32))
    gl, tl = F.mse_loss(gx, gt, reduction=reduction), TF.mse_loss(tx, tt, reduction=reduction)
    _close(gl.data, tl)
    (gl * 3).sum().backward()
    (tl * 3).sum().backward()
    _close(gx.grad, tx.grad)
    _close(gt.grad, tt.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight+pos_weight"])
def test_bce_with_logits(weighted, reduction):
    rng = np.random.default_rng(4)
    gx, tx = _both((rng.standard_normal((6, 3)) * 4).astype(np.float32))
    gt, tt = _both(rng.random((6, 3)).astype(np.float32))
    kw_g, kw_t = {}, {}
    if weighted:
        w, pw = rng.uniform(0.5, 2, (6, 1)).astype(np.float32), rng.uniform(0.5, 3, 3).astype(np.float32)
        kw_g = dict(weight=glassnet.tensor(w), pos_weight=glassnet.tensor(pw))
        kw_t = dict(weight=torch.tensor(w), pos_weight=torch.tensor(pw))
    gl = F.binary_cross_entropy_with_logits(gx, gt, reduction=reduction, **kw_g)
    tl = TF.binary_cross_entropy_with_logits(tx, tt, reduction=reduction, **kw_t)
    _close(gl.data, tl)
    (gl * 2).sum().backward()
    (tl * 2).sum().backward()
    _close(gx.grad, tx.grad)
    _close(gt.grad, tt.grad)


def test_numpy_targets_and_weights_take_the_input_dtype():
    x = glassnet.randn(3, 2, requires_grad=True)
    loss = F.mse_loss(x, np.zeros((3, 2)))  # float64 array: converted, as in Tensor arithmetic
    assert loss.dtype == np.float32
    loss = F.binary_cross_entropy_with_logits(x, [[0, 1], [1, 0], [1, 1]], pos_weight=np.array([2.0, 1.0]))
    assert loss.dtype == np.float32
    loss = F.cross_entropy(x, np.array([0, 1, 1]), weight=np.array([1.0, 3.0]))
    assert loss.dtype == np.float32


def test_float64_end_to_end():
    x = glassnet.tensor(np.random.default_rng(0).standard_normal((4, 3)), dtype=np.float64, requires_grad=True)
    loss = F.cross_entropy(x, glassnet.tensor([0, 1, 2, 1]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float64 and x.grad.dtype == np.float64


# ---- bad input --------------------------------------------------------------------------------

def test_cross_entropy_wrong_target_shape():
    with pytest.raises(ValueError, match=r"expected target of shape \(64,\) \(class indices\) or \(64, 10\) "
                                         r"\(class probabilities\) for input of shape \(64, 10\), got \(32,\)"):
        F.cross_entropy(glassnet.randn(64, 10), glassnet.tensor(np.zeros(32, np.int64)))
    with pytest.raises(ValueError, match=r"expected target of shape \(2, 4, 4\).*got \(2, 4, 3\)"):
        F.cross_entropy(glassnet.randn(2, 3, 4, 4), glassnet.tensor(np.zeros((2, 4, 3), np.int64)))


def test_cross_entropy_class_index_out_of_range():
    with pytest.raises(IndexError, match=r"class indices in \[0, 10\) or ignore_index=-100 in target of shape "
                                         r"\(3,\), got 12"):
        F.cross_entropy(glassnet.randn(3, 10), glassnet.tensor([1, 12, 3]))
    with pytest.raises(IndexError, match="got -1"):
        F.nll_loss(glassnet.randn(3, 10), glassnet.tensor([1, -1, 3]))


def test_cross_entropy_float_target_of_index_shape():
    with pytest.raises(TypeError, match=r"class indices of an integer dtype for target of shape \(3,\), got float32"):
        F.cross_entropy(glassnet.randn(3, 10), glassnet.tensor([1.0, 2.0, 3.0]))


def test_cross_entropy_integer_target_of_input_shape():
    with pytest.raises(TypeError, match=r"floating-point class probabilities .* got dtype int64"):
        F.cross_entropy(glassnet.randn(3, 4), glassnet.tensor(np.zeros((3, 4), np.int64)))


def test_cross_entropy_probabilities_with_ignore_index():
    with pytest.raises(ValueError, match="ignore_index=1 is not supported for class-probability targets"):
        F.cross_entropy(glassnet.randn(3, 4), glassnet.rand(3, 4), ignore_index=1)


@pytest.mark.parametrize("fn, target", [(F.cross_entropy, glassnet.tensor([0, 1, 2])),
                                        (F.cross_entropy, glassnet.rand(3, 4)),  # class probabilities
                                        (F.nll_loss, glassnet.tensor([0, 1, 2]))])
def test_wrong_weight_shape(fn, target):
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) \(one per class\) for input of shape \(3, 4\), got \(3,\)"):
        fn(glassnet.randn(3, 4), target, weight=glassnet.ones(3))


@pytest.mark.parametrize("call", [
    lambda x: F.cross_entropy(x, glassnet.tensor([0, 1])),
    lambda x: F.nll_loss(x, glassnet.tensor([0, 1])),
    lambda x: F.mse_loss(x, glassnet.zeros(2, 3)),
    lambda x: F.binary_cross_entropy_with_logits(x, glassnet.zeros(2, 3)),
], ids=["cross_entropy", "nll_loss", "mse_loss", "bce_with_logits"])
def test_integer_input_is_refused(call):
    with pytest.raises(TypeError, match=r"expected a floating-point input .*got dtype int64 of shape \(2, 3\)"):
        call(glassnet.tensor(np.ones((2, 3), np.int64)))


def test_float64_weight_with_float32_input_is_refused():
    w = glassnet.tensor(np.ones(3), dtype=np.float64)
    with pytest.raises(TypeError, match="weight of the input's dtype float32, got float64"):
        F.cross_entropy(glassnet.randn(2, 3), glassnet.tensor([0, 1]), weight=w)
    with pytest.raises(TypeError, match="target of the input's dtype float32, got float64"):
        F.mse_loss(glassnet.randn(2, 3), glassnet.tensor(np.ones((2, 3)), dtype=np.float64))


def test_bad_reduction_and_smoothing():
    with pytest.raises(ValueError, match=r"reduction in \('none', 'mean', 'sum'\), got 'avg'"):
        F.mse_loss(glassnet.randn(2), glassnet.randn(2), reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing in \[0, 1\], got 1.5"):
        F.cross_entropy(glassnet.randn(2, 3), glassnet.tensor([0, 1]), label_smoothing=1.5)


def test_mse_and_bce_refuse_shape_mismatch():
    with pytest.raises(ValueError, match=r"mse_loss expected target of the input's shape \(4, 1\), got \(4,\)"):
        F.mse_loss(glassnet.randn(4, 1), glassnet.randn(4))
    with pytest.raises(ValueError, match=r"expected target of the input's shape \(4, 3\), got \(4, 2\)"):
        F.binary_cross_entropy_with_logits(glassnet.randn(4, 3), glassnet.rand(4, 2))
    with pytest.raises(ValueError, match=r"pos_weight broadcastable to the input's shape \(4, 3\), got \(4,\)"):
        F.binary_cross_entropy_with_logits(glassnet.randn(4, 3), glassnet.rand(4, 3), pos_weight=glassnet.ones(4))
