"""LayerNorm, RMSNorm, GroupNorm, InstanceNorm*d and LocalResponseNorm against torch.nn's:
parameters, state_dict keys, outputs, every gradient, running statistics in training and
evaluation, and bad arguments."""

import numpy as np
import pytest
import torch

import glassnet
from glassnet import nn
from glassnet.testing import numerical_gradient


def _twins(name, args, kwargs, seed=0):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():  # torch's defaults, before we perturb them
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy(), err_msg=key)
    rng = np.random.default_rng(seed)
    for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        values = rng.uniform(0.5, 1.5, p.shape).astype(np.float32)  # not the trivial ones / zeros
        p.data[...] = values
        q.data[...] = torch.tensor(values)
    return ours, theirs


def _step(ours, theirs, x, rng):
    gx, tx = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy, ty = ours(gx), theirs(tx)
    np.testing.assert_allclose(gy.data, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    dy = rng.standard_normal(gy.shape).astype(np.float32)
    gy.backward(dy)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=key)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)


LAYERS = [  # (name, args, kwargs, input shape)
    ("LayerNorm", (6,), {}, (4, 6)), ("LayerNorm", ((3, 4),), dict(eps=1e-3), (2, 5, 3, 4)),
    ("LayerNorm", (4,), dict(elementwise_affine=False), (2, 3, 4)), ("LayerNorm", (4,), dict(bias=False), (3, 4)),
    ("GroupNorm", (2, 6), {}, (3, 6, 4, 4)), ("GroupNorm", (1, 4), dict(affine=False), (2, 4, 5)),
    ("GroupNorm", (4, 4), dict(eps=1e-2), (2, 4, 2, 2, 3)), ("GroupNorm", (2, 4), dict(bias=False), (3, 4, 2)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 7)), ("InstanceNorm1d", (3,), dict(affine=True), (3, 8)),
    ("InstanceNorm2d", (4,), dict(affine=True, track_running_stats=True, momentum=0.3), (3, 4, 5, 5)),
    ("InstanceNorm2d", (4,), dict(track_running_stats=True, momentum=None), (2, 4, 3, 3)),
    ("InstanceNorm3d", (2,), dict(affine=True), (2, 2, 3, 3, 2)),
    ("InstanceNorm3d", (2,), dict(track_running_stats=True), (2, 3, 3, 3)),
    ("LocalResponseNorm", (3,), dict(alpha=0.1, k=2.0), (2, 6, 4, 4)),
    ("RMSNorm", ((3, 4),), {}, (2, 3, 4)), ("RMSNorm", (5,), dict(eps=1e-3, elementwise_affine=False), (4, 5)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", LAYERS, ids=[f"{l[0]}-{i}" for i, l in enumerate(LAYERS)])
def test_train_then_eval_matches_torch(name, args, kwargs, shape):
    ours, theirs = _twins(name, args, kwargs)
    rng = np.random.default_rng(1)
    for _ in range(2):
        _step(ours, theirs, (rng.standard_normal(shape) * 2 + 1).astype(np.float32), rng)
    ours.eval(), theirs.eval()
    _step(ours, theirs, (rng.standard_normal(shape) * 2 + 1).astype(np.float32), rng)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.LayerNorm((2, 3)), (2, 2, 3)), (lambda: nn.GroupNorm(2, 4), (2, 4, 3)),
    (lambda: nn.RMSNorm(3, eps=1e-3), (2, 2, 3)),
    (lambda: nn.InstanceNorm2d(2, affine=True), (2, 2, 2, 3)),
])
def test_finite_differences_through_the_module(make, shape):
    """The module's own backward for the input and every parameter against central differences,
    perturbing the parameters' arrays in place."""
    module = make().double()
    rng = np.random.default_rng(2)
    for p in module.parameters():
        p.data[...] = rng.uniform(0.5, 1.5, p.shape)
    x = glassnet.tensor(rng.standard_normal(shape), dtype=np.float64, requires_grad=True)
    y = module(x)
    dy = rng.standard_normal(y.shape)
    y.backward(dy)
    arrays = [x.data] + [p.data for p in module.parameters()]
    analytic = [x.grad] + [p.grad for p in module.parameters()]

    def f(*_):
        with glassnet.no_grad():
            return module(glassnet.tensor(x.data, dtype=np.float64)).data

    for i, grad in enumerate(analytic):
        np.testing.assert_allclose(grad, numerical_gradient(f, arrays, dy, i), rtol=1e-5, atol=1e-7)


def test_load_state_dict_from_torch():
    theirs = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    theirs(torch.randn(2, 3, 4, 4))
    ours = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours.running_var.numpy(), theirs.running_var.numpy())


def test_instance_norm_without_affine_warns_on_a_channel_mismatch_as_torch():
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(5)(glassnet.randn(2, 3, 4))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.GroupNorm(4, 6), r"num_channels \(6\) must be divisible by num_groups \(4\)"),
    (lambda: nn.GroupNorm(0, 6), "num_groups must be a positive int, got 0"),
    (lambda: nn.LayerNorm(0), "normalized_shape as a positive int or a tuple of them, got 0"),
    (lambda: nn.LayerNorm(4, eps=-1e-5), "eps > 0, got -1e-05"),
    (lambda: nn.InstanceNorm2d(-1), "num_features must be a positive int, got -1"),
    (lambda: nn.LocalResponseNorm(0), "size must be a positive int, got 0"),
    (lambda: nn.RMSNorm((2, 0)), r"RMSNorm expected normalized_shape as a positive int or a tuple of them, got \(2, 0\)"),
])
def test_bad_constructor_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layer, shape, message", [
    (nn.LayerNorm(4), (4, 3), r"LayerNorm\(\(4,\)\) expected input of shape \(\*, 4\), got \(4, 3\)"),
    (nn.GroupNorm(2, 4), (2, 6, 3), r"GroupNorm\(2, 4\) expected input of shape \(N, 4, \*\), got \(2, 6, 3\)"),
    (nn.RMSNorm(4), (4, 3), r"RMSNorm\(\(4,\)\): rms_norm with normalized_shape=\(4,\) expected input of shape \(\*, 4\)"),
    (nn.InstanceNorm2d(3), (3, 4, 5), None),  # unbatched (C, H, W): fine
    (nn.InstanceNorm2d(3), (3, 4), r"expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(3, 4\)"),
    (nn.InstanceNorm1d(3, affine=True), (2, 4, 5), r"size at dim=1 to match num_features \(3\), got input of shape \(2, 4, 5\)"),
])
def test_input_checks(layer, shape, message):
    if message is None:
        assert layer(glassnet.randn(*shape)).shape == shape
        return
    with pytest.raises(ValueError, match=message):
        layer(glassnet.randn(*shape))


def test_dtype_and_device_keywords():
    layer = nn.GroupNorm(2, 4, dtype=glassnet.float64, device="cpu")
    assert layer.weight.dtype == np.float64
    with pytest.raises(RuntimeError, match="device='cuda'.* CPU only"):
        nn.LayerNorm(3, device="cuda")


def test_float64_input_to_float32_layer_is_refused():
    with pytest.raises(TypeError, match="float32 weights but got an input of dtype float64"):
        nn.GroupNorm(1, 2)(glassnet.tensor(np.zeros((2, 2, 3)), dtype=np.float64))
