"""Receptive fields: the size/jump/start recurrences against brute force (which inputs a unit
depends on, read off products of the layers' connection patterns) and against torch gradients."""

import numpy as np
import pytest
import torch

from glassnet.explain import conv_matrix, receptive_field
from glassnet.explain.layers import avg_pool, conv, flatten, linear, max_pool, pointwise


def _dependency(layers, n):
    """Boolean (output units x input units) 'depends on' matrix of a 1-channel 1-D stack."""
    dep = np.eye(n, dtype=bool)
    size = n
    for layer in layers:
        if layer.kind == "pointwise":
            continue
        ones = np.ones(layer.kernel_size)
        m = conv_matrix(ones, size, stride=layer.stride, padding=layer.padding, dilation=layer.dilation) != 0
        dep = (m.astype(int) @ dep.astype(int)) > 0
        size = m.shape[0]
    return dep


STACKS = [
    [conv(1, 1, 3, ndim=1), conv(1, 1, 3, ndim=1)],  # seed 004: the next layer sees 5 inputs
    [conv(1, 1, 3, padding=1, ndim=1), max_pool(2, ndim=1), conv(1, 1, 3, padding=1, ndim=1), max_pool(2, ndim=1)],
    [conv(1, 1, 5, stride=2, padding=2, ndim=1), pointwise("relu"), conv(1, 1, 3, dilation=2, ndim=1)],
    [conv(1, 1, 2, stride=3, ndim=1), avg_pool(3, stride=1, padding=1, ndim=1), conv(1, 1, 4, ndim=1)],
]


@pytest.mark.parametrize("stack", STACKS)
def test_regions_match_brute_force(stack):
    n = 40
    rf = receptive_field(stack, (1, n))
    dep = _dependency(stack, n)
    assert dep.shape[0] == rf.rows[-1].output_shape[1]
    exact = 0
    for unit in range(dep.shape[0]):
        seen = np.flatnonzero(dep[unit])
        (lo, hi), = rf.region(unit)
        assert lo <= seen.min() and seen.max() <= hi  # never more than the field
        ulo, uhi = rf.region(unit, clip=False)[0]
        assert uhi - ulo + 1 == rf.size[0] and ulo == rf.start[0] + unit * rf.jump[0]
        if 0 <= ulo and uhi < n - rf.size[0]:
            # away from every layer's padding the field's ends are exactly what the unit sees
            assert (lo, hi) == (seen.min(), seen.max())
            exact += 1
    assert exact >= 2


def test_seed004_next_layer_and_lenet_like_stack():
    rf = receptive_field([conv(1, 4, 3, ndim=1), conv(4, 4, 3, ndim=1)])
    assert (rf.size, rf.jump, rf.start) == ((5,), (1,), (0,))
    rf2 = receptive_field([conv(3, 8, 3, padding=1), max_pool(2), conv(8, 8, 3, padding=1), max_pool(2)], (3, 32, 32))
    assert [r.size for r in rf2.rows] == [(1, 1), (3, 3), (4, 4), (8, 8), (10, 10)]
    assert rf2.jump == (4, 4) and rf2.start == (-3, -3)
    assert rf2.region((0, 0)) == ((0, 6), (0, 6))
    assert rf2.region((3, 3)) == ((9, 18), (9, 18))
    assert "size" in str(rf2).splitlines()[0]


def test_region_against_torch_gradient():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, stride=2, padding=1), torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Conv2d(2, 1, 3, dilation=2))
    layers = [conv(1, 2, 3, stride=2, padding=1), pointwise("relu"), max_pool(2), conv(2, 1, 3, dilation=2)]
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()  # positive weights and inputs: no gradient cancels by accident
    x = torch.rand(1, 1, 40, 40, requires_grad=True) + 0.1
    x.retain_grad()
    y = model(x)
    rf = receptive_field(layers, (1, 40, 40))
    assert rf.rows[-1].output_shape == tuple(y.shape[1:])
    for unit in [(0, 0), (1, 2), (y.shape[2] - 1, y.shape[3] - 1)]:
        x.grad = None
        y[0, 0][unit].backward(retain_graph=True)
        rows, cols = np.nonzero(x.grad[0, 0].numpy())
        (r0, r1), (c0, c1) = rf.region(unit)
        # max pooling routes the gradient to one input per window, so the gradient's support is
        # inside the receptive field (and reaches its corners only sometimes)
        assert r0 <= rows.min() and rows.max() <= r1 and c0 <= cols.min() and cols.max() <= c1


def test_whole_input_after_flatten_and_module_input():
    rf = receptive_field([conv(1, 2, 3), flatten(), linear(18, 4)], (1, 5, 5))
    assert rf.rows[-1].whole_input
    assert rf.region(0) == ((0, 4), (0, 4))
    nn = pytest.importorskip("glassnet.nn")
    model = nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 5))
    rf = receptive_field(model, (1, 28, 28))
    assert rf.size == (14, 14) and rf.jump == (2, 2) and rf.start == (-2, -2)


def test_receptive_field_errors():
    with pytest.raises(ValueError, match="needs input_shape or a layer with a kernel"):
        receptive_field([pointwise("relu")])
    with pytest.raises(ValueError, match="has 1 spatial dimensions, the model's input 2"):
        receptive_field([conv(1, 1, 3, ndim=1)], (1, 8, 8))
    with pytest.raises(IndexError, match="outside the layer's output"):
        receptive_field([conv(1, 1, 3, ndim=1)], (1, 8)).region(6)
