"""glassnet.functional pooling through the Tensor API, against torch.nn.functional."""

import inspect
import math

import numpy as np
import pytest

import glassnet
import glassnet.functional as GF

torch = pytest.importorskip("torch")
F = torch.nn.functional


def distinct(shape, seed=0, dtype=np.float32):
    """Random values at least 0.01 apart (no ties)."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(math.prod(shape)).reshape(shape) * 0.01 - 1.0).astype(dtype)


def both(name, x, *args, **kwargs):
    """Run glassnet's and torch's `name` on x with a gradient; return (outputs, input grads)."""
    xg = glassnet.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    outg = getattr(GF, name)(xg, *args, **kwargs)
    outt = getattr(F, name)(xt, *args, **kwargs)
    yg, yt = (outg[0], outt[0]) if isinstance(outg, tuple) else (outg, outt)
    dy = np.random.default_rng(1).standard_normal(yg.shape).astype(x.dtype)
    yg.backward(dy)
    yt.backward(torch.tensor(dy))
    return outg, outt, xg.grad, xt.grad.numpy()


def assert_same(outg, outt, dxg, dxt):
    outg = outg if isinstance(outg, tuple) else (outg,)
    outt = outt if isinstance(outt, tuple) else (outt,)
    assert len(outg) == len(outt)
    for a, b in zip(outg, outt):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dxg, dxt, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name, shape, args, kwargs", [
    ("max_pool1d", (2, 3, 11), (3,), dict(stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("max_pool1d", (3, 10), (2,), {}),  # unbatched (C, L)
    ("max_pool2d", (2, 3, 8, 7), (2,), {}),
    ("max_pool2d", (1, 2, 9, 8), ((3, 2),), dict(stride=(2, 1), padding=(1, 1), dilation=(1, 2), ceil_mode=True)),
    ("max_pool2d", (3, 8, 7), (3, 2, 1), {}),  # unbatched (C, H, W)
    ("max_pool3d", (2, 2, 5, 6, 7), (2,), dict(stride=(1, 2, 2), padding=1)),
    ("max_pool3d", (2, 6, 5, 7), ((3, 2, 3),), dict(stride=2, padding=(1, 1, 0), ceil_mode=True)),
])
@pytest.mark.parametrize("return_indices", [False, True])
def test_max_pool_matches_torch(name, shape, args, kwargs, return_indices):
    x = distinct(shape)
    outg, outt, dxg, dxt = both(name, x, *args, return_indices=return_indices, **kwargs)
    assert_same(outg, outt, dxg, dxt)
    if return_indices:
        indices = outg[1]
        assert indices.dtype == np.int64 and not indices.requires_grad
        np.testing.assert_array_equal(indices.numpy(), outt[1].numpy())


@pytest.mark.parametrize("name, shape, args, kwargs", [
    ("avg_pool1d", (2, 3, 11), (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("avg_pool1d", (3, 10), (4,), dict(padding=2, count_include_pad=False)),
    ("avg_pool2d", (2, 3, 8, 7), (2,), {}),
    ("avg_pool2d", (1, 2, 9, 8), ((3, 2),), dict(stride=(2, 1), padding=(1, 1), ceil_mode=True,
                                                  count_include_pad=False)),
    ("avg_pool2d", (3, 8, 7), (3,), dict(stride=2, padding=1, divisor_override=4)),
    ("avg_pool3d", (2, 2, 5, 6, 7), (2,), dict(stride=(1, 2, 2), padding=1, count_include_pad=False)),
    ("avg_pool3d", (2, 6, 5, 7), ((3, 2, 3),), dict(stride=2, padding=(1, 1, 0), ceil_mode=True,
                                                     divisor_override=7)),
])
def test_avg_pool_matches_torch(name, shape, args, kwargs):
    assert_same(*both(name, distinct(shape), *args, **kwargs))


@pytest.mark.parametrize("nd, shape, output_size", [
    (1, (2, 3, 10), 3), (1, (3, 7), 9),
    (2, (2, 3, 9, 7), (4, 3)), (2, (2, 3, 9, 7), (None, 5)), (2, (3, 6, 10), 4),
    (3, (1, 2, 5, 7, 6), (2, 3, 4)), (3, (2, 5, 7, 6), (3, None, 1)),
])
def test_adaptive_pooling_matches_torch(nd, shape, output_size):
    x = distinct(shape)
    assert_same(*both(f"adaptive_avg_pool{nd}d", x, output_size))
    outg, outt, dxg, dxt = both(f"adaptive_max_pool{nd}d", x, output_size, return_indices=True)
    assert_same(outg, outt, dxg, dxt)
    np.testing.assert_array_equal(outg[1].numpy(), outt[1].numpy())


def test_global_avg_pool_is_the_mean_over_all_spatial_dims():
    x = distinct((2, 3, 4, 5, 6))
    xg, xt = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = GF.global_avg_pool(xg)
    assert y.shape == (2, 3)
    yt = xt.mean(dim=(2, 3, 4))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    dy = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    y.backward(dy)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(xg.grad, xt.grad.numpy(), rtol=1e-6)


def test_general_pooling_infers_the_rank_and_matches_the_fixed_rank_functions():
    x = glassnet.tensor(distinct((2, 3, 8, 7)))
    np.testing.assert_array_equal(GF.max_pool(x, 2).numpy(), GF.max_pool2d(x, 2).numpy())
    x1 = x.reshape(2, 24, 7)
    np.testing.assert_array_equal(GF.max_pool(x1, (3,), 2).numpy(), GF.max_pool1d(x1, 3, 2).numpy())
    np.testing.assert_allclose(GF.avg_pool(x, 3, 2, 1).numpy(), GF.avg_pool2d(x, 3, 2, 1).numpy())
    x4 = glassnet.tensor(distinct((1, 2, 4, 5, 4, 6)))  # four spatial dims: no PyTorch counterpart
    assert GF.max_pool(x4, 2).shape == (1, 2, 2, 2, 2, 3)
    assert GF.avg_pool(x4, (2, 3, 2, 2), padding=((1, 0), (1, 1), (0, 0), (0, 1))).shape == (1, 2, 2, 2, 2, 3)


def test_asymmetric_padding_is_max_pooling_of_the_explicitly_padded_input():
    x = distinct((2, 2, 7, 6))
    xg = glassnet.tensor(x, requires_grad=True)
    y = GF.max_pool2d(xg, 3, 2, padding=((1, 0), (0, 1)))
    xt = torch.tensor(x, requires_grad=True)
    yt = F.max_pool2d(F.pad(xt, (0, 1, 1, 0), value=-math.inf), 3, 2)  # F.pad: (w_lo, w_hi, h_lo, h_hi)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    y.backward(dy)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(xg.grad, xt.grad.numpy(), rtol=1e-6)


def test_gradients_flow_through_a_chain_and_indices_stay_out_of_the_graph():
    x = glassnet.tensor(distinct((2, 3, 8, 8)), requires_grad=True)
    y, indices = GF.max_pool2d(x * 2.0, 2, return_indices=True)
    assert y.requires_grad and not indices.requires_grad and indices.grad_fn is None
    (GF.avg_pool2d(y, 2) * 4.0).sum().backward()
    # every window's maximum gets 2 (from x * 2) * 4 / 4 (the average of 2 x 2); the rest gets 0
    assert np.count_nonzero(x.grad) == 2 * 3 * 4 * 4
    np.testing.assert_array_equal(np.unique(x.grad), [0.0, 2.0])
    with glassnet.no_grad():
        assert not GF.max_pool2d(x, 2).requires_grad


def test_float64_input_keeps_float64_and_matches_finite_differences():
    from glassnet.testing import numerical_gradient

    x = distinct((1, 2, 5, 6), dtype=np.float64)
    xg = glassnet.tensor(x, dtype=np.float64, requires_grad=True)
    y = GF.max_pool2d(xg, 3, 2, 1, ceil_mode=True) + GF.avg_pool2d(xg, 3, 2, 1, ceil_mode=True, count_include_pad=False)
    assert y.dtype == np.float64
    dy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(dy)
    assert xg.grad.dtype == np.float64

    def f(a):
        t = glassnet.tensor(a, dtype=np.float64)
        y = GF.max_pool2d(t, 3, 2, 1, ceil_mode=True) + GF.avg_pool2d(t, 3, 2, 1, ceil_mode=True,
                                                                      count_include_pad=False)
        return y.numpy()

    np.testing.assert_allclose(xg.grad, numerical_gradient(f, [x], dy, 0), rtol=1e-6, atol=1e-8)


def test_avg_pool1d_has_torchs_signature_without_divisor_override():
    assert list(inspect.signature(GF.avg_pool1d).parameters) == [
        "input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]
    assert list(inspect.signature(GF.max_pool2d).parameters) == [
        "input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
    assert list(inspect.signature(GF.avg_pool2d).parameters) == [
        "input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"]


@pytest.mark.parametrize("call, error, message", [
    (lambda x: GF.max_pool2d(x.reshape(2, 3, 6, 5, 1), 2), ValueError,
     r"max_pool2d expected input of shape \(N, C, H, W\) or \(C, H, W\), got \(2, 3, 6, 5, 1\)"),
    (lambda x: GF.avg_pool1d(x, 2), ValueError, r"avg_pool1d expected input of shape \(N, C, L\) or \(C, L\), got"),
    (lambda x: GF.adaptive_max_pool3d(x[0, 0], 2), ValueError, r"\(N, C, D, H, W\) or \(C, D, H, W\), got \(6, 5\)"),
    (lambda x: GF.max_pool(x, (2, 2, 2, 2)), ValueError,
     r"max_pool expected input of shape \(N, C, d1, d2, d3, d4\), got \(2, 3, 6, 5\)"),
    (lambda x: GF.max_pool2d(x.long(), 2), TypeError, "expected a float32 or float64 input, got dtype int64"),
    (lambda x: GF.avg_pool2d(glassnet.tensor(x.numpy(), dtype=np.float16), 2), TypeError,
     "avg_pool2d expected a float32 or float64 input, got dtype float16"),
    (lambda x: GF.max_pool2d(x.numpy(), 2), TypeError, "max_pool2d expected a Tensor, got ndarray"),
    (lambda x: GF.avg_pool(x.numpy(), 2), TypeError, "avg_pool expected a Tensor, got ndarray"),
    (lambda x: GF.max_pool(x[0, 0], 2), ValueError,
     r"max_pool expected input of shape \(N, C, \*spatial\), got \(6, 5\)"),
    (lambda x: GF.max_pool2d(x, 3, padding=2), ValueError, "at most half the kernel size"),
    (lambda x: GF.max_pool2d(x, 7), ValueError, r"larger than the padded input of spatial size \(6, 5\)"),
    (lambda x: GF.avg_pool2d(x, 2, stride=0), ValueError, "stride must be >= 1"),
    (lambda x: GF.max_pool2d(x, 2, dilation=0), ValueError, "dilation must be >= 1"),
    (lambda x: GF.max_pool2d(x, (2, 2, 2)), ValueError, "kernel_size must be an int or a tuple of 2 ints"),
    (lambda x: GF.avg_pool2d(x, 2, divisor_override=0), ValueError, "divisor_override must be a nonzero"),
    (lambda x: GF.adaptive_avg_pool2d(x, (2, 3, 4)), ValueError, "output_size must be an int or a tuple of 2"),
    (lambda x: GF.adaptive_avg_pool2d(x, 0), ValueError, "output_size must be >= 1"),
    (lambda x: GF.global_avg_pool(x[0, 0]), ValueError,
     r"global_avg_pool expected input of shape \(N, C, \*spatial\), got \(6, 5\)"),
])
def test_bad_input_raises_clear_errors(call, error, message):
    x = glassnet.tensor(distinct((2, 3, 6, 5)))
    with pytest.raises(error, match=message):
        call(x)
