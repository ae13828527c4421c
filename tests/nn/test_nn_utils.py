"""glassnet.nn.utils against torch.nn.utils: clip_grad_norm_ (every norm type), clip_grad_value_,
get_total_norm, clip_grads_with_norm_, parameters_to_vector / vector_to_parameters and
rnn.pad_sequence (values and gradients)."""

import numpy as np
import pytest
import torch

import glassnet
from glassnet import nn
from glassnet.nn.utils.rnn import pad_sequence
from glassnet.testing import gradcheck

SHAPES = [(3, 4), (5,), (2, 2, 3)]


def _twins(scale=1.0, seed=0, with_grad=(True, True, True)):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape, has in zip(SHAPES, with_grad):
        p, q = nn.Parameter(rng.standard_normal(shape).astype(np.float32)), torch.nn.Parameter(torch.zeros(shape))
        if has:
            g = (rng.standard_normal(shape) * scale).astype(np.float32)
            p.grad, q.grad = g.copy(), torch.tensor(g)
        ours.append(p), theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _twins(with_grad=(True, False, True))
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, glassnet.Tensor) and total.shape == () and total.dtype == np.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_of_one_tensor_and_of_nothing():
    ours, theirs = _twins()
    np.testing.assert_allclose(nn.utils.clip_grad_norm_(ours[0], 0.1).item(),
                               torch.nn.utils.clip_grad_norm_(theirs[0], 0.1).item(), rtol=1e-6)
    np.testing.assert_allclose(ours[0].grad, theirs[0].grad.numpy(), rtol=1e-6)
    assert nn.utils.clip_grad_norm_([nn.Parameter(np.zeros(2, np.float32))], 1.0).item() == 0.0


def test_non_finite_norm():
    ours, _ = _twins()
    ours[0].grad[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert np.isinf(nn.utils.clip_grad_norm_(ours, 1.0).item())


def test_get_total_norm_then_clip_grads_with_norm_like_torch():
    ours, theirs = _twins(scale=3.0, seed=1)
    total = nn.utils.get_total_norm([p.grad for p in ours], 3.0)
    ttotal = torch.nn.utils.get_total_norm([q.grad for q in theirs], 3.0)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    nn.utils.clip_grads_with_norm_(ours, 2.0, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 2.0, ttotal)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-6)


def test_clip_grad_value_like_torch():
    ours, theirs = _twins(scale=2.0, seed=2, with_grad=(True, True, False))
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            np.testing.assert_array_equal(p.grad, q.grad.numpy())


def test_parameters_to_vector_and_back_like_torch():
    ours, theirs = _twins(seed=3)
    for p, q in zip(ours, theirs):
        q.data = torch.tensor(p.data)
    vec, tvec = nn.utils.parameters_to_vector(ours), torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec.detach().numpy(), tvec.detach().numpy())
    dy = np.random.default_rng(4).standard_normal(vec.shape).astype(np.float32)
    vec.backward(dy)
    tvec.backward(torch.tensor(dy))
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, q.grad.numpy())
    new = glassnet.tensor(np.arange(vec.shape[0], dtype=np.float32))
    nn.utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new.numpy()), theirs)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.data, q.detach().numpy())


@pytest.mark.parametrize("vec, error, message", [
    (glassnet.zeros(5), ValueError, r"vec of 5 elements for parameters holding 29"),
    (glassnet.zeros(29, 1), ValueError, r"1-D vec, got shape \(29, 1\)"),
    (np.zeros(29), TypeError, "vec as a Tensor, got ndarray"),
    (glassnet.zeros(29, dtype=np.float64), TypeError, "vec of the parameters' dtype, got float64"),
])
def test_vector_to_parameters_bad_input(vec, error, message):
    with pytest.raises(error, match=message):
        nn.utils.vector_to_parameters(vec, _twins()[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 2)])
def test_pad_sequence_matches_torch(trailing, padding_side, batch_first, dtype):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((n,) + trailing).astype(dtype) for n in (3, 5, 1, 5)]
    ours = [glassnet.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = pad_sequence(ours, batch_first, -1.5, padding_side)
    ty = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, -1.5, padding_side)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    dy = rng.standard_normal(y.shape).astype(dtype)
    y.backward(dy)
    ty.backward(torch.tensor(dy))
    for g, t in zip(ours, theirs):
        np.testing.assert_array_equal(g.grad, t.grad.numpy())


def test_pad_sequence_finite_differences():
    rng = np.random.default_rng(6)
    seqs = [glassnet.tensor(rng.standard_normal((n, 2)), dtype=np.float64, requires_grad=True) for n in (2, 4)]
    assert gradcheck(lambda a, b: pad_sequence([a, b], batch_first=True, padding_side="left"), seqs)


@pytest.mark.parametrize("sequences, kwargs, error, message", [
    ([], {}, ValueError, "non-empty list"),
    ([glassnet.zeros(2, 3), glassnet.zeros(4, 2)], {}, ValueError,
     r"one trailing shape and dtype; position 0 is \(2, 3\) float32, position 1 is \(4, 2\) float32"),
    ([glassnet.zeros(2), np.zeros(3)], {}, TypeError, "expected Tensors, got ndarray at position 1"),
    ([glassnet.zeros(2)], dict(padding_side="middle"), ValueError, "padding_side 'left' or 'right', got 'middle'"),
])
def test_pad_sequence_bad_input(sequences, kwargs, error, message):
    with pytest.raises(error, match=message):
        pad_sequence(sequences, **kwargs)


# ---- weight normalisation ---------------------------------------------------------------------

@pytest.mark.parametrize("make, dim, shape", [
    (lambda lib: lib.nn.Linear(4, 3), 0, (2, 4)), (lambda lib: lib.nn.Conv2d(2, 3, 3), 0, (2, 2, 5, 5)),
    (lambda lib: lib.nn.Conv2d(2, 3, 3), 1, (1, 2, 4, 4)), (lambda lib: lib.nn.Linear(4, 3), None, (2, 4)),
])
def test_weight_norm_matches_torch(make, dim, shape):
    import glassnet.nn  # noqa: F401 -- glassnet.nn as an attribute of glassnet
    theirs = make(torch)
    ours = make(glassnet)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(theirs, dim=dim)
    nn.utils.weight_norm(ours, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape), key
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-6, err_msg=key)
    x = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    y, ty = ours(glassnet.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    dy = np.random.default_rng(8).standard_normal(y.shape).astype(np.float32)
    y.backward(dy)
    ty.backward(torch.tensor(dy))
    for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=key)
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-6)


def test_weight_norm_finite_differences():
    from glassnet.nn.utils.weight_norm import WeightNormFunction
    rng = np.random.default_rng(9)
    v = glassnet.tensor(rng.standard_normal((3, 2, 2)), dtype=np.float64, requires_grad=True)
    for dim, g_shape in ((0, (3, 1, 1)), (2, (1, 1, 2)), (-1, ())):
        g = glassnet.tensor(rng.uniform(0.5, 2, g_shape), dtype=np.float64, requires_grad=True)
        assert gradcheck(lambda v, g: WeightNormFunction.apply(v, g, dim=dim), [v, g])


def test_weight_norm_bad_use():
    layer = nn.utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="two weight_norm hooks on the same parameter 'weight'"):
        nn.utils.weight_norm(layer)
    with pytest.raises(ValueError, match="weight_norm of 'bias' not found in Linear"):
        nn.utils.remove_weight_norm(layer, "bias")
    with pytest.raises(ValueError, match=r"to have a parameter 'kernel', it has \['bias', 'weight_g', 'weight_v'\]"):
        nn.utils.weight_norm(layer, "kernel")
    with pytest.raises(ValueError, match="is not initialised yet"):
        nn.utils.weight_norm(nn.LazyLinear(3))
    with pytest.raises(ValueError, match=r"dim in \[-1, 2\) or None"):
        nn.utils.weight_norm(nn.Linear(2, 2), dim=2)


# ---- spectral normalisation -------------------------------------------------------------------

@pytest.mark.parametrize("make, kwargs, shape", [
    (lambda lib: lib.nn.Linear(5, 3), {}, (2, 5)),
    (lambda lib: lib.nn.Conv2d(2, 4, 3), dict(n_power_iterations=3), (2, 2, 5, 5)),
    (lambda lib: lib.nn.ConvTranspose2d(3, 2, 3), {}, (1, 3, 3, 3)),
])
def test_spectral_norm_matches_torch_in_training_and_evaluation(make, kwargs, shape):
    import glassnet.nn  # noqa: F401 -- glassnet.nn as an attribute of glassnet
    theirs, ours = torch.nn.utils.spectral_norm(make(torch), **kwargs), nn.utils.spectral_norm(make(glassnet), **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})  # the same random u, v
    rng = np.random.default_rng(10)
    for training in (True, True, False):
        ours.train(training), theirs.train(training)
        x = rng.standard_normal(shape).astype(np.float32)
        y, ty = ours(glassnet.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        ours.zero_grad(), theirs.zero_grad()
        y.backward(dy)
        ty.backward(torch.tensor(dy))
        np.testing.assert_allclose(ours.weight_orig.grad, theirs.weight_orig.grad.numpy(), rtol=1e-4, atol=1e-5)
        for key in ("weight_u", "weight_v"):
            np.testing.assert_allclose(ours.state_dict()[key], theirs.state_dict()[key].numpy(), rtol=1e-5, atol=1e-6)
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_spectral_norm_finite_differences_and_unit_norm():
    from glassnet.nn.utils.spectral_norm import SpectralNormFunction
    rng = np.random.default_rng(11)
    w = rng.standard_normal((3, 2, 2))
    u, v = rng.standard_normal(3), rng.standard_normal(4)
    assert gradcheck(lambda t: SpectralNormFunction.apply(t, u, v, dim=0),
                     [glassnet.tensor(w, dtype=np.float64, requires_grad=True)])
    layer = nn.utils.spectral_norm(nn.Linear(6, 4), n_power_iterations=50)
    layer(glassnet.randn(1, 6))
    np.testing.assert_allclose(np.linalg.norm(layer.weight.data, 2), 1, rtol=1e-4)


def test_spectral_norm_bad_use():
    layer = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="two spectral_norm hooks on the same parameter 'weight'"):
        nn.utils.spectral_norm(layer)
    with pytest.raises(ValueError, match="spectral_norm of 'bias' not found in Linear"):
        nn.utils.remove_spectral_norm(layer, "bias")
    with pytest.raises(ValueError, match="n_power_iterations >= 0, got -1"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=-1)
