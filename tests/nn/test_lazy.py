"""Lazy layers against torch.nn's: shapes fixed by the first input, the same parameters an
optimiser made before that input was handed, state_dict keys and shapes, loading a checkpoint
into a lazy layer, dtype, and bad input."""

import numpy as np
import pytest
import torch

import glassnet
from glassnet import nn, optim

LAZY = [  # (name, args, kwargs, input shape, the class it becomes)
    ("LazyConv1d", (4, 3), dict(padding=1), (2, 3, 7), "Conv1d"),
    ("LazyConv2d", (6, 3), dict(stride=2, groups=2, bias=False), (2, 4, 7, 7), "Conv2d"),
    ("LazyConv2d", (5, (2, 3)), {}, (3, 6, 5), "Conv2d"),  # unbatched (C, H, W)
    ("LazyConv3d", (2, 2), {}, (1, 3, 3, 4, 4), "Conv3d"),
    ("LazyConvTranspose1d", (3, 3), dict(stride=2), (2, 4, 5), "ConvTranspose1d"),
    ("LazyConvTranspose2d", (4, 2), dict(groups=2), (2, 6, 3, 3), "ConvTranspose2d"),
    ("LazyConvTranspose3d", (2, 2), {}, (1, 3, 2, 2, 2), "ConvTranspose3d"),
    ("LazyLinear", (5,), {}, (4, 7), "Linear"),
    ("LazyLinear", (3,), dict(bias=False), (2, 3, 6), "Linear"),
    ("LazyBatchNorm1d", (), {}, (8, 5), "BatchNorm1d"),
    ("LazyBatchNorm1d", (), dict(affine=False), (4, 3, 6), "BatchNorm1d"),
    ("LazyBatchNorm2d", (), dict(momentum=0.3), (4, 3, 5, 5), "BatchNorm2d"),
    ("LazyBatchNorm3d", (), dict(track_running_stats=False), (2, 2, 3, 3, 3), "BatchNorm3d"),
    ("LazyInstanceNorm1d", (), dict(affine=False), (2, 3, 6), "InstanceNorm1d"),
    ("LazyInstanceNorm2d", (), dict(track_running_stats=True), (2, 3, 4, 4), "InstanceNorm2d"),
    ("LazyInstanceNorm3d", (), {}, (2, 3, 2, 3, 3), "InstanceNorm3d"),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(LAZY)]


@pytest.mark.parametrize("name, args, kwargs, shape, becomes", LAZY, ids=IDS)
def test_first_forward_fixes_shapes_as_torch(name, args, kwargs, shape, becomes):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y, ty = ours(glassnet.tensor(x)), theirs(torch.tensor(x))
    assert type(ours) is getattr(nn, becomes) and type(theirs) is getattr(torch.nn, becomes)
    assert repr(ours) == repr(theirs)
    assert y.shape == tuple(ty.shape)
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape), key
        assert ours.state_dict()[key].dtype == value.numpy().dtype, key
    for p in ours.parameters():
        assert type(p) is nn.Parameter and p.requires_grad


@pytest.mark.parametrize("name, args, kwargs, shape, becomes", LAZY, ids=IDS)
def test_initialisation_is_torch_default(name, args, kwargs, shape, becomes):
    """Ones and zeros where torch puts them; elsewhere torch's uniform bound, with enough spread
    to rule out zeros or a constant."""
    ours = getattr(nn, name)(*args, **kwargs).eval()  # eval: running statistics stay as initialised
    ours(glassnet.randn(*shape))
    reference = getattr(nn, becomes)
    for key, value in ours.state_dict().items():
        if key in ("weight", "bias") and reference in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                                                       nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear):
            w = ours.weight.data
            fan_in = w.shape[1] * int(np.prod(w.shape[2:]))
            assert np.abs(value).max() <= 1 / np.sqrt(fan_in) + 1e-7 and value.std() > 0, key
        elif key in ("weight", "running_var"):
            np.testing.assert_array_equal(value, 1)
        elif key in ("bias", "running_mean"):
            np.testing.assert_array_equal(value, 0)


@pytest.mark.parametrize("make_optimizer", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                            lambda ps: optim.Adam(ps, lr=0.01)], ids=["SGD", "Adam"])
def test_an_optimizer_made_before_the_first_forward_trains_the_materialised_weights(make_optimizer):
    """The same model in torch and glassnet, both optimisers made before any forward; after the
    first forward the weights are copied from torch; every later step must agree."""
    def build(lib):
        # no conv bias before batch norm: its gradient is rounding noise, which Adam would amplify
        return lib.nn.Sequential(lib.nn.LazyConv2d(4, 3, bias=False), lib.nn.LazyBatchNorm2d(), lib.nn.ReLU(),
                                 lib.nn.Flatten(), lib.nn.LazyLinear(3))

    ours, theirs = build(glassnet), build(torch)
    torch_optimizer = {"SGD": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
                       "Adam": lambda ps: torch.optim.Adam(ps, lr=0.01)}
    opt = make_optimizer(list(ours.parameters()))
    topt = torch_optimizer[type(opt).__name__](theirs.parameters())
    params_before = [id(p) for p in ours.parameters()]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 2, 6, 6)).astype(np.float32)
    target = rng.standard_normal((4, 3)).astype(np.float32)
    ours(glassnet.tensor(x)), theirs(torch.tensor(x))  # materialise
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert [id(p) for p in ours.parameters()] == params_before
    for _ in range(3):
        opt.zero_grad(), topt.zero_grad()
        loss = ((ours(glassnet.tensor(x)) - glassnet.tensor(target)) ** 2).mean()
        tloss = ((theirs(torch.tensor(x)) - torch.tensor(target)) ** 2).mean()
        loss.backward(), tloss.backward()
        opt.step(), topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
    for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=key)


def test_load_state_dict_materialises_a_lazy_model():
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(),
                                 torch.nn.Linear(16, 2))
    theirs.eval()
    ours = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.Flatten(), nn.LazyLinear(2)).eval()
    ours.load_state_dict(theirs.state_dict())  # torch tensors, as a torch checkpoint holds them
    assert [type(m) for m in ours] == [nn.Conv2d, nn.BatchNorm2d, nn.Flatten, nn.Linear]
    assert (ours[0].in_channels, ours[1].num_features, ours[3].in_features) == (3, 4, 16)
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(glassnet.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_dtype_keyword_and_double_before_the_first_forward():
    layer = nn.LazyLinear(3, dtype=glassnet.float64)
    assert layer(glassnet.tensor(np.ones((2, 4)), dtype=np.float64)).dtype == np.float64
    conv = nn.LazyConv1d(2, 3).double()
    conv(glassnet.tensor(np.ones((1, 2, 5)), dtype=np.float64))
    assert conv.weight.dtype == np.float64 and conv.weight.shape == (2, 2, 3)


def test_uninitialized_parameter_refuses_its_shape():
    layer = nn.LazyLinear(3)
    assert isinstance(layer.weight, nn.UninitializedParameter) and repr(layer.weight) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="can't access the shape of an UninitializedParameter"):
        layer.weight.shape


@pytest.mark.parametrize("layer, shape, message", [
    (nn.LazyConv2d(4, 3, groups=2), (1, 3, 5, 5), r"LazyConv2d: the input's 3 channels must be divisible by groups \(2\)"),
    (nn.LazyConv2d(4, 3), (1, 1, 3, 5, 5), r"LazyConv2d expected input of 4 dimensions .* got shape \(1, 1, 3, 5, 5\)"),
    (nn.LazyBatchNorm2d(), (2, 3, 4), r"LazyBatchNorm2d expected a 4-D input, got shape \(2, 3, 4\)"),
    (nn.LazyLinear(2), (), r"LazyLinear expected input of shape \(\*, in_features\), got \(\)"),
])
def test_bad_first_input(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(glassnet.zeros(*shape))
    assert layer.has_uninitialized_params()  # a refused input leaves the layer lazy


def test_unbatched_first_input_for_lazy_instance_norm():
    layer = nn.LazyInstanceNorm2d()
    assert layer(glassnet.randn(3, 4, 5)).shape == (3, 4, 5) and layer.num_features == 3


def test_device_other_than_cpu_is_refused():
    with pytest.raises(RuntimeError, match="LazyLinear was asked for device='cuda'"):
        nn.LazyLinear(3, device="cuda")
