"""P4LiftConv2d, P4Conv2d, P4Pool: a p4 network is exactly rotation-equivariant (and invariant
after global pooling), gradients match finite differences, parameters and errors."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.functional.p4 import p4_conv2d, p4_lift_conv2d, p4_pool
from glassnet.kernels.p4 import rotate, rotate_p4
from glassnet.nn.p4 import P4Conv2d, P4LiftConv2d, P4Pool
from glassnet.testing import gradcheck


def net(x, lift, conv, pool):
    return pool(conv(lift(x).relu()))


@pytest.mark.parametrize("r", [1, 2, 3])
def test_p4_network_is_rotation_equivariant(r):
    gn.manual_seed(r)
    lift, conv, pool = P4LiftConv2d(3, 4, 3, padding=1), P4Conv2d(4, 5, 3, padding=1), P4Pool()
    for m in (lift, conv):
        m.double()
        m.weight.data[...] = np.round(m.weight.data * 8)  # small integers: every sum is exact
        m.bias.data[...] = np.round(m.bias.data * 8)
    x = np.random.default_rng(r).integers(-3, 4, (2, 3, 11, 11)).astype(np.float64)
    y = net(gn.tensor(x, dtype=np.float64), lift, conv, pool).data
    yr = net(gn.tensor(np.ascontiguousarray(rotate(x, r)), dtype=np.float64), lift, conv, pool).data
    np.testing.assert_array_equal(yr, rotate(y, r))
    z = lift(gn.tensor(x, dtype=np.float64)).data
    zr = lift(gn.tensor(np.ascontiguousarray(rotate(x, r)), dtype=np.float64)).data
    np.testing.assert_array_equal(zr, rotate_p4(z, r))


@pytest.mark.parametrize("layer", ["lift", "group", "pool"])
def test_gradcheck(layer):
    rng = np.random.default_rng(0)

    def t(shape):
        return gn.tensor(rng.standard_normal(shape), dtype=np.float64, requires_grad=True)

    if layer == "lift":
        gradcheck(lambda x, w, b: p4_lift_conv2d(x, w, b, 1, 1), [t((2, 2, 5, 5)), t((3, 2, 3, 3)), t(3)])
    elif layer == "group":
        gradcheck(lambda x, w, b: p4_conv2d(x, w, b, 2, 1), [t((1, 2, 4, 5, 5)), t((2, 2, 4, 3, 3)), t(2)])
    else:
        gradcheck(lambda x: p4_pool(x, "max") + p4_pool(x, "avg"), [t((2, 3, 4, 3, 3))])


def test_parameters_shapes_and_errors():
    lift, conv = P4LiftConv2d(1, 8, 5), P4Conv2d(8, 16, 3, bias=False)
    assert lift.weight.shape == (8, 1, 5, 5) and conv.weight.shape == (16, 8, 4, 3, 3) and conv.bias is None
    assert np.abs(conv.weight.data).max() <= 1 / np.sqrt(8 * 4 * 9)
    y = conv(lift(gn.tensor(np.zeros((2, 1, 12, 12), np.float32))))
    assert y.shape == (2, 16, 4, 6, 6) and P4Pool("avg")(y).shape == (2, 16, 6, 6)
    with pytest.raises(ValueError, match=r"P4Conv2d\(8 -> 16\) expected input of shape "
                                     r"\(N, 8, 4, H, W\), got \(2, 8, 6, 6\)"):
        conv(gn.tensor(np.zeros((2, 8, 6, 6), np.float32)))
    with pytest.raises(ValueError, match=r"P4LiftConv2d\(1 -> 8\) expected input of shape "
                                     r"\(N, 1, H, W\), got \(2, 3, 6, 6\)"):
        lift(gn.tensor(np.zeros((2, 3, 6, 6), np.float32)))
    with pytest.raises(ValueError, match="square kernels"):
        P4LiftConv2d(1, 2, (3, 5))
    with pytest.raises(ValueError, match="mode must be 'max' or 'avg'"):
        P4Pool("sum")


def test_p4_cnn_with_spatial_pooling_and_batchnorm_is_rotation_invariant():
    """The recipe of the docstring: MaxPool3d((1, 2, 2)) and BatchNorm3d keep equivariance, and
    pooling over rotations then over space makes the logits invariant to 90-degree rotations."""
    gn.manual_seed(5)
    model = nn.Sequential(
        P4LiftConv2d(1, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ReLU(), nn.MaxPool3d((1, 2, 2)),
        P4Conv2d(4, 4, 3, padding=1), nn.ReLU(), P4Pool(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(4, 3)).double()
    x = np.random.default_rng(5).standard_normal((4, 1, 12, 12))
    logits = [model(gn.tensor(np.ascontiguousarray(rotate(x, r)), dtype=np.float64)).data for r in range(4)]
    for r in (1, 2, 3):
        np.testing.assert_allclose(logits[r], logits[0], rtol=1e-10, atol=1e-12)
