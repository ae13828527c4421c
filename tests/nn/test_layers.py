"""Every layer against its torch.nn twin: same weights (copied through the state_dict), same
input -> same output and the same gradients for the input and every parameter (float32,
rtol 1e-4); a float64 finite-difference check through the module for the layers with
parameters; and the input checks that name the module."""

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.testing import numerical_gradient

RTOL, ATOL = 1e-4, 1e-5


def _copy_to_ours(ours, theirs):
    ours.load_state_dict(theirs.state_dict())


def _compare(ours, theirs, x, train=True, target=None):
    """Forward both, backward a random upstream gradient, compare outputs and every gradient."""
    ours.train(train)
    theirs.train(train)
    xt = torch.tensor(x, requires_grad=True)
    xg = gn.tensor(x, requires_grad=True)
    yt = theirs(xt) if target is None else theirs(xt, torch.tensor(target))
    yg = ours(xg) if target is None else ours(xg, gn.tensor(target))
    np.testing.assert_allclose(yg.data, yt.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg="forward")
    dy = np.random.default_rng(1).standard_normal(yt.shape).astype(np.float32)
    yt.backward(torch.tensor(dy))
    yg.backward(dy)
    np.testing.assert_allclose(xg.grad, xt.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg="input gradient")
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"{name} gradient")
    for (name, b), (_, c) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_allclose(b.data, c.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"buffer {name}")


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


CONVS = [  # (class, args, kwargs, input shape)
    ("Conv1d", (2, 4, 3), {}, (2, 2, 9)),
    ("Conv1d", (4, 6, 5), dict(stride=2, padding=2, dilation=2, groups=2, padding_mode="circular"), (1, 4, 17)),
    ("Conv2d", (3, 4, 3), {}, (2, 3, 7, 6)),
    ("Conv2d", (3, 4, (3, 2)), dict(stride=(2, 1), padding=(1, 0), bias=False), (2, 3, 8, 5)),
    ("Conv2d", (2, 4, 3), dict(padding="same", dilation=2, padding_mode="reflect"), (1, 2, 7, 8)),
    ("Conv2d", (4, 4, 3), dict(padding=1, groups=4, padding_mode="replicate"), (2, 4, 5, 5)),
    ("Conv2d", (2, 3, 3), dict(padding="valid"), (2, 2, 6, 6)),
    ("Conv3d", (2, 3, 2), dict(stride=(1, 2, 1), padding=1), (1, 2, 4, 5, 3)),
    ("ConvTranspose1d", (3, 2, 3), dict(stride=2, output_padding=1), (2, 3, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, groups=2, dilation=2), (1, 4, 4, 5)),
    ("ConvTranspose2d", (2, 3, (2, 3)), dict(bias=False), (2, 2, 3, 4)),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", CONVS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONVS)])
def test_conv_layers_match_torch(name, args, kwargs, shape):
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    _copy_to_ours(ours, theirs)
    _compare(ours, theirs, _x(shape))


def test_unbatched_input_like_torch():
    theirs, ours = torch.nn.Conv2d(3, 2, 3), nn.Conv2d(3, 2, 3)
    _copy_to_ours(ours, theirs)
    _compare(ours, theirs, _x((3, 6, 5)))


def test_same_padding_with_stride_gives_ceil_size_and_matches_explicit_padding():
    """PyTorch refuses 'same' with stride > 1; the reference is explicit (low, high) padding:
    n = 9, k = 4, s = 2 -> out 5, total pad (5-1)*2 + 4 - 9 = 3 -> (1, 2), extra on the high side."""
    gn.manual_seed(0)
    same = nn.Conv2d(2, 3, 4, stride=2, padding="same")
    explicit = torch.nn.Conv2d(2, 3, 4, stride=2)
    explicit.load_state_dict({k: torch.tensor(v) for k, v in same.state_dict().items()})
    x = _x((1, 2, 9, 9))
    y = same(gn.tensor(x))
    assert y.shape == (1, 3, 5, 5)
    ref = explicit(torch.nn.functional.pad(torch.tensor(x), (1, 2, 1, 2)))
    np.testing.assert_allclose(y.data, ref.detach().numpy(), rtol=RTOL, atol=ATOL)


def test_per_side_padding_and_flip():
    gn.manual_seed(0)
    layer = nn.Conv2d(1, 2, 3, padding=((0, 2), (1, 0)), flip=True)
    ref = torch.nn.Conv2d(1, 2, 3)
    # true convolution = cross-correlation with the kernel rotated by 180 degrees
    ref.load_state_dict({"weight": torch.tensor(layer.weight.data[:, :, ::-1, ::-1].copy()),
                         "bias": torch.tensor(layer.bias.data)})
    x = _x((2, 1, 6, 5))
    y = layer(gn.tensor(x))
    expected = ref(torch.nn.functional.pad(torch.tensor(x), (1, 0, 0, 2)))
    np.testing.assert_allclose(y.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    assert layer.padding == ((0, 2), (1, 0))


@pytest.mark.parametrize("dilation", [1, 2])
def test_full_padding_is_explicit_padding_of_d_times_k_minus_1(dilation):
    gn.manual_seed(0)
    layer = nn.Conv1d(2, 3, 3, padding="full", dilation=dilation)
    ref = torch.nn.Conv1d(2, 3, 3, padding=dilation * 2, dilation=dilation)
    ref.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict().items()})
    x = _x((2, 2, 7))
    y = layer(gn.tensor(x))
    assert y.shape == (2, 3, 7 + 2 * dilation)
    np.testing.assert_allclose(y.data, ref(torch.tensor(x)).detach().numpy(), rtol=RTOL, atol=ATOL)


def test_conv_nd_general_rank_reduces_to_conv2d():
    gn.manual_seed(0)
    general, fixed = nn.ConvNd(2, 3, 4, 3, padding=1), nn.Conv2d(3, 4, 3, padding=1)
    fixed.load_state_dict(general.state_dict())
    x = gn.tensor(_x((2, 3, 5, 5)))
    np.testing.assert_array_equal(general(x).data, fixed(x).data)
    four = nn.ConvNd(4, 1, 2, 2)
    assert four.weight.shape == (2, 1, 2, 2, 2, 2)
    assert four(gn.tensor(_x((1, 1, 3, 3, 3, 3)))).shape == (1, 2, 2, 2, 2, 2)


def test_conv_transpose_output_size_like_torch():
    theirs, ours = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    _copy_to_ours(ours, theirs)
    x = _x((1, 2, 4, 4))
    yt = theirs(torch.tensor(x), output_size=(8, 8))
    yg = ours(gn.tensor(x), output_size=(1, 3, 8, 8))
    assert yg.shape == (1, 3, 8, 8)
    np.testing.assert_allclose(yg.data, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match=r"dimension 0 must be in \[7, 8\]"):
        ours(gn.tensor(x), output_size=(10, 8))


POOLS = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 10)),
    ("MaxPool2d", (2,), {}, (2, 3, 8, 6)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2)), (1, 2, 7, 7)),
    ("MaxPool3d", (2,), dict(stride=1), (1, 2, 3, 4, 3)),
    ("AvgPool1d", (4,), dict(stride=3, padding=2, count_include_pad=False), (2, 2, 11)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 6)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, divisor_override=5), (1, 2, 8, 7)),
    ("AvgPool2d", (2,), dict(divisor_override=-3), (1, 2, 6, 5)),  # torch refuses only 0
    ("AvgPool3d", (2,), dict(stride=1, divisor_override=1), (1, 1, 3, 4, 3)),
    ("AvgPool3d", (2,), dict(padding=1, count_include_pad=False), (1, 1, 4, 3, 5)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 5, 5)),
    ("AdaptiveAvgPool3d", (2,), {}, (1, 2, 5, 4, 3)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 2, 8)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (1, 3, 5, 7)),
    ("AdaptiveMaxPool3d", (2,), {}, (1, 1, 4, 4, 5)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", POOLS, ids=[f"{p[0]}-{i}" for i, p in enumerate(POOLS)])
def test_pooling_layers_match_torch(name, args, kwargs, shape):
    _compare(getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs), _x(shape))


def test_max_pool_return_indices_like_torch():
    x = _x((1, 2, 6, 6))
    values, indices = nn.MaxPool2d(2, return_indices=True)(gn.tensor(x))
    tv, ti = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(indices.data, ti.numpy())
    np.testing.assert_allclose(values.data, tv.numpy())


SIMPLE = [  # layers whose only state is their options
    ("ReLU", (), (3, 4)), ("LeakyReLU", (0.2,), (3, 4)), ("ELU", (0.7,), (2, 3, 4)), ("Sigmoid", (), (5,)),
    ("Tanh", (), (2, 5)), ("Softmax", (1,), (3, 4)), ("LogSoftmax", (-1,), (2, 3, 4)), ("Softmax", (None,), (3, 4)),
    ("Flatten", (), (2, 3, 4, 5)), ("Flatten", (0, 1), (2, 3, 4)), ("Unflatten", (1, (3, 4)), (2, 12)),
    ("Unflatten", (-1, (2, -1)), (3, 8)), ("Identity", (), (3, 2)),
]


@pytest.mark.parametrize("name, args, shape", SIMPLE, ids=[f"{s[0]}-{i}" for i, s in enumerate(SIMPLE)])
def test_parameter_free_layers_match_torch(name, args, shape):
    _compare(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), _x(shape))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 6)])
def test_linear_matches_torch(shape, bias):
    theirs, ours = torch.nn.Linear(6, 5, bias=bias), nn.Linear(6, 5, bias=bias)
    _copy_to_ours(ours, theirs)
    _compare(ours, theirs, _x(shape))


BATCHNORMS = [
    ("BatchNorm1d", (3,), {}, (5, 3)), ("BatchNorm1d", (3,), dict(momentum=None), (4, 3, 6)),
    ("BatchNorm2d", (4,), {}, (3, 4, 5, 5)), ("BatchNorm2d", (4,), dict(affine=False, eps=1e-3), (2, 4, 3, 3)),
    ("BatchNorm2d", (4,), dict(track_running_stats=False), (2, 4, 3, 3)),
    ("BatchNorm2d", (2,), dict(bias=False, momentum=0.3), (2, 2, 3, 3)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 2, 3)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", BATCHNORMS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BATCHNORMS)])
def test_batchnorm_train_then_eval_matches_torch(name, args, kwargs, shape):
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    with torch.no_grad():  # non-trivial affine parameters
        for p in theirs.parameters():
            p.add_(torch.linspace(-0.5, 0.5, p.numel()))
    ours = getattr(nn, name)(*args, **kwargs)
    _copy_to_ours(ours, theirs)
    for step in range(3):  # running statistics (and the cumulative average) over several batches
        _compare(ours, theirs, _x(shape, seed=step) * (step + 1) + step, train=True)
        ours.zero_grad()
        theirs.zero_grad()
    _compare(ours, theirs, _x(shape, seed=9), train=False)


def test_dropout_train_and_eval():
    gn.manual_seed(0)
    layer = nn.Dropout(0.25)
    x = gn.tensor(np.ones((200, 100), np.float32), requires_grad=True)
    y = layer(x)
    kept = y.data != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    y.backward(np.ones_like(y.data))
    np.testing.assert_allclose(x.grad, kept / 0.75)
    layer.eval()
    assert np.array_equal(layer(x).data, x.data)
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        nn.Dropout(1.5)


def _targets(kind, shape, classes, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "index":
        return rng.integers(0, classes, shape).astype(np.int64)
    p = rng.random((shape[0], classes) + tuple(shape[1:])).astype(np.float32)
    return p / p.sum(axis=1, keepdims=True)


LOSSES = [
    ("CrossEntropyLoss", {}, (6, 4), "index"),
    ("CrossEntropyLoss", dict(weight=[0.2, 1.0, 2.0, 0.5], ignore_index=1, reduction="sum"), (6, 4), "index"),
    ("CrossEntropyLoss", dict(label_smoothing=0.1), (3, 4, 5), "index"),
    ("CrossEntropyLoss", dict(reduction="none"), (5, 4), "prob"),
    ("NLLLoss", {}, (6, 4), "index"),
    ("NLLLoss", dict(weight=[1.0, 2.0, 0.5, 1.0], reduction="mean"), (2, 4, 3), "index"),
]


@pytest.mark.parametrize("name, kwargs, shape, kind", LOSSES, ids=[f"{l[0]}-{i}" for i, l in enumerate(LOSSES)])
def test_classification_losses_match_torch(name, kwargs, shape, kind):
    tk = {k: torch.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**tk)
    target = _targets(kind, (shape[0],) + shape[2:], shape[1])
    _compare(ours, theirs, _x(shape), target=target)
    if "weight" in kwargs:
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(reduction):
    _compare(nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), _x((4, 3)), target=_x((4, 3), 1))
    target = (np.random.default_rng(2).random((4, 3)) > 0.5).astype(np.float32)
    pos = np.array([1.0, 2.0, 0.5], np.float32)
    _compare(nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=pos),
             torch.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=torch.tensor(pos)), _x((4, 3)), target=target)


# ---- float64 finite differences through the modules ---------------------------------------

def _fd_check(module, shape, seed=0):
    """Gradients of <module(x), dy> for x and every parameter against central differences."""
    module.double()
    rng = np.random.default_rng(seed)
    x = gn.tensor(rng.standard_normal(shape), requires_grad=True, dtype=np.float64)
    y = module(x)
    dy = rng.standard_normal(y.shape)
    y.backward(dy)
    targets = [("input", x)] + list(module.named_parameters())

    def f(*_):
        with gn.no_grad():
            return module(x).data

    for name, t in targets:
        expected = numerical_gradient(f, [t.data], dy, 0)
        np.testing.assert_allclose(t.grad, expected, rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Conv2d(2, 3, 3, stride=2, padding="same", padding_mode="reflect"), (1, 2, 5, 4)),
    (lambda: nn.Conv1d(2, 2, 3, padding=((2, 0),), flip=True, groups=2), (2, 2, 5)),
    (lambda: nn.ConvTranspose2d(2, 2, 2, stride=2), (1, 2, 2, 3)),
    (lambda: nn.Linear(4, 3), (2, 4)),
    (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 2)), (2, 1, 6, 6)),
])
def test_finite_differences_through_modules(make, shape):
    gn.manual_seed(0)
    _fd_check(make(), shape)


# ---- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("layer, shape, message", [
    (lambda: nn.Conv2d(3, 16, 3), (8, 1, 28, 28),
     r"Conv2d\(3 -> 16\) expected input of shape \(N, 3, H, W\), got \(8, 1, 28, 28\) \(1 channels instead of 3\)"),
    (lambda: nn.Conv2d(3, 16, 3), (8, 3, 28),
     r"Conv2d\(3 -> 16\) expected input of shape \(N, 3, H, W\) or \(3, H, W\), got \(8, 3, 28\) "
     r"\(8 channels instead of 3, reading it as unbatched\)"),
    (lambda: nn.Conv2d(3, 16, 3), (8, 3, 28, 28, 1), r"Conv2d\(3 -> 16\) expected input of shape \(N, 3, H, W\) "
     r"or \(3, H, W\), got \(8, 3, 28, 28, 1\) \(5 dimensions instead of 4\)"),
    (lambda: nn.Conv1d(2, 4, 3), (2, 2, 3, 3), r"Conv1d\(2 -> 4\) expected input of shape \(N, 2, L\)"),
    (lambda: nn.Conv3d(1, 2, 3), (1, 4, 4), r"Conv3d\(1 -> 2\) expected input of shape \(N, 1, D, H, W\)"),
    (lambda: nn.ConvTranspose2d(4, 2, 3), (1, 2, 5, 5), r"ConvTranspose2d\(4 -> 2\) expected input of shape \(N, 4, H, W\)"),
    (lambda: nn.Conv2d(1, 2, 5), (1, 1, 3, 8), r"Conv2d\(1 -> 2\): .*larger than the padded input"),
    (lambda: nn.Linear(400, 120), (8, 16, 5, 5), r"Linear\(400 -> 120\) expected input of shape \(\*, 400\), got \(8, 16, 5, 5\)"),
    (lambda: nn.BatchNorm2d(16), (8, 8, 4, 4), r"BatchNorm2d\(16\) expected input of shape \(N, 16, H, W\), got \(8, 8, 4, 4\)"),
    (lambda: nn.BatchNorm1d(3), (8, 3, 4, 4), r"BatchNorm1d\(3\) expected input of shape \(N, 3\) or \(N, 3, L\)"),
    (lambda: nn.MaxPool2d(2), (8, 28), r"MaxPool2d expected input of shape \(N, C, H, W\) or \(C, H, W\), got \(8, 28\)"),
    (lambda: nn.AdaptiveAvgPool3d(1), (2, 3, 3), r"AdaptiveAvgPool3d expected input of shape \(N, C, D, H, W\)"),
    (lambda: nn.Unflatten(1, (3, 5)), (2, 12), r"Unflatten\(dim=1, unflattened_size=\(3, 5\)\) cannot split size 12"),
])
def test_wrong_input_shapes_name_the_module(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer()(gn.zeros(shape))


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_wrong_input_dtype_is_refused_naming_both(dtype):
    x = gn.tensor(np.zeros((1, 3, 5, 5), dtype), dtype=dtype)
    with pytest.raises(TypeError, match=rf"Conv2d\(3 -> 4\) has float32 weights but got an input of dtype {np.dtype(dtype)}"):
        nn.Conv2d(3, 4, 3)(x)
    with pytest.raises(TypeError, match=rf"Linear\(5 -> 2\) has float32 weights but got an input of dtype {np.dtype(dtype)}"):
        nn.Linear(5, 2)(gn.tensor(np.zeros((2, 5), dtype), dtype=dtype))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), r"in_channels \(3\) must be divisible by groups \(2\)"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), r"out_channels \(6\) must be divisible by groups \(4\)"),
    (lambda: nn.Conv2d(1, 2, 3, stride=0), r"stride must be >= 1 in every dimension, got 0"),
    (lambda: nn.Conv2d(1, 2, 3, dilation=(1, 0)), r"dilation must be >= 1 in every dimension"),
    (lambda: nn.Conv2d(1, 2, (3, 3, 3)), r"kernel_size must be an int or a tuple of 2 ints"),
    (lambda: nn.Conv2d(1, 2, 3, padding="half"), r"padding must be an int, a tuple, \(low, high\) pairs or one of"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), r"padding must be >= 0"),
    (lambda: nn.Conv2d(1, 2, 3, padding_mode="mirror"), r"padding_mode must be one of"),
    (lambda: nn.Conv2d(0, 2, 3), r"in_channels must be a positive int, got 0"),
    (lambda: nn.ConvTranspose2d(1, 2, 3, stride=2, output_padding=2), r"output_padding must be >= 0 and smaller than stride"),
    (lambda: nn.ConvTranspose2d(1, 2, 3, padding_mode="reflect"), r"only padding_mode='zeros'"),
    (lambda: nn.ConvTransposeNd(4, 1, 2, 3), r"ConvTransposeNd supports 1, 2 or 3 spatial dimensions, got 4"),
    (lambda: nn.MaxPool2d(0), r"kernel_size must be >= 1"),
    (lambda: nn.AvgPool2d(2, stride=(1, 0)), r"stride must be >= 1"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), r"divisor_override must be a nonzero int or None, got 0"),
    (lambda: nn.AvgPool3d(2, divisor_override=2.5), r"divisor_override must be a nonzero int or None, got 2.5"),
    (lambda: nn.AvgPool2d(2, divisor_override=True), r"divisor_override must be a nonzero int or None, got True"),
    (lambda: nn.MaxPool1d(2, padding=-1), r"padding must be >= 0, got -1"),
    (lambda: nn.MaxPool2d(2, dilation=0), r"dilation must be >= 1"),
    (lambda: nn.AdaptiveAvgPool2d((2, 0)), r"output_size must be a positive int or a tuple of 2"),
    (lambda: nn.BatchNorm2d(0), r"num_features must be a positive int, got 0"),
    (lambda: nn.CrossEntropyLoss(reduction="avg"), r"reduction must be one of"),
])
def test_bad_constructor_arguments(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
