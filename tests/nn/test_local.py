"""LocallyConnected1d/2d/3d and TiledConv1d/2d/3d: autograd wiring against finite differences,
reductions to Conv (locally connected with equal kernels, tiles=1) and to each other (tiles =
output size), PyTorch parity of the module gradients, shapes, errors, state_dict."""

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.functional.local import locally_connected, tiled_conv
from glassnet.nn.conv import Conv1d, Conv2d, Conv3d
from glassnet.nn.local import LocallyConnected1d, LocallyConnected2d, LocallyConnected3d
from glassnet.nn.tiled import TiledConv1d, TiledConv2d, TiledConv3d
from glassnet.testing import gradcheck

LOCAL = {1: LocallyConnected1d, 2: LocallyConnected2d, 3: LocallyConnected3d}
TILED = {1: TiledConv1d, 2: TiledConv2d, 3: TiledConv3d}
CONV = {1: Conv1d, 2: Conv2d, 3: Conv3d}
SIZES = {1: (9,), 2: (7, 6), 3: (5, 4, 5)}
SMALL = {1: (5,), 2: (4, 3), 3: (3, 3, 2)}  # finite differences cost two forwards per element


def t64(rng, shape, grad=True):
    return gn.tensor(rng.standard_normal(shape), dtype=np.float64, requires_grad=grad)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("bias_mode", ["position", "channel"])
def test_locally_connected_gradcheck(nd, bias_mode):
    rng = np.random.default_rng(0)
    m = LOCAL[nd](2, 3, 2, stride=1, padding=1 if nd < 3 else 0, input_size=SMALL[nd], bias_mode=bias_mode).double()
    x = t64(rng, (2, 2) + m.input_size)
    gradcheck(lambda x, w, b: locally_connected(x, w, b, m.stride, m.padding),
              [x, t64(rng, m.weight.shape), t64(rng, m.bias.shape)])


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("bias_mode", ["channel", "tile"])
def test_tiled_gradcheck(nd, bias_mode):
    rng = np.random.default_rng(1)
    m = TILED[nd](2, 2, 2, stride=2 if nd == 1 else 1, tiles=2, bias_mode=bias_mode).double()
    x = t64(rng, (2, 2) + SMALL[nd])
    gradcheck(lambda x, w, b: tiled_conv(x, w, b, m.stride), [x, t64(rng, m.weight.shape), t64(rng, m.bias.shape)])


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, "same")])
def test_reductions_to_convolution(nd, stride, padding):
    gn.manual_seed(2)
    rng = np.random.default_rng(2)
    conv = CONV[nd](3, 4, 3, stride, padding)
    x = gn.tensor(rng.standard_normal((2, 3) + SIZES[nd]))
    expected = conv(x).data
    local = LOCAL[nd](3, 4, 3, stride, padding, input_size=SIZES[nd], bias_mode="channel")
    local.weight.data[...] = conv.weight.data  # broadcast: the same kernel at every position
    local.bias.data[...] = conv.bias.data
    np.testing.assert_allclose(local(x).data, expected, rtol=1e-5, atol=1e-5)
    tiled = TILED[nd](3, 4, 3, stride, padding, tiles=1)
    tiled.weight.data[...] = conv.weight.data
    tiled.bias.data[...] = conv.bias.data
    np.testing.assert_allclose(tiled(x).data, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_tiles_equal_to_output_size_is_locally_connected(nd):
    rng = np.random.default_rng(3)
    local = LOCAL[nd](2, 3, 2, 1, 1, input_size=SIZES[nd])
    tiled = TILED[nd](2, 3, 2, 1, 1, tiles=local.output_size, bias_mode="tile")
    tiled.load_state_dict(local.state_dict())  # the same keys and shapes
    x = gn.tensor(rng.standard_normal((2, 2) + SIZES[nd]), requires_grad=True)
    np.testing.assert_array_equal(tiled(x).data, local(x).data)


@pytest.mark.parametrize("layer", ["local", "tiled"])
def test_module_gradients_match_torch_unfold_einsum(layer):
    gn.manual_seed(4)
    rng = np.random.default_rng(4)
    if layer == "local":
        m = LocallyConnected2d(4, 6, 3, stride=2, padding=1, groups=2, input_size=(9, 8))
    else:
        m = TiledConv2d(4, 6, 3, stride=2, padding=1, groups=2, tiles=(2, 3), bias_mode="tile")
    x = gn.tensor(rng.standard_normal((3, 4, 9, 8)), requires_grad=True)
    y = m(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(dy)

    xt = torch.tensor(x.data, requires_grad=True)
    wt = torch.tensor(m.weight.data, requires_grad=True)
    bt = torch.tensor(m.bias.data, requires_grad=True)
    out = y.shape[2:]
    w_full, b_full = wt, bt
    if layer == "tiled":  # position p uses tile p mod t
        rows, cols = np.arange(out[0]) % 2, np.arange(out[1]) % 3
        w_full, b_full = wt[rows][:, cols], bt[rows][:, cols]
    win = torch.nn.functional.unfold(xt, 3, padding=1, stride=2)  # (N, C*9, P)
    win = win.reshape(3, 2, 2 * 9, -1)  # (N, G, C/G*9, P)
    wg = w_full.reshape(-1, 2, 3, 2 * 9)  # (P, G, O/G, C/G*9)
    yt = torch.einsum("ngkp,pgok->ngop", win, wg).reshape(3, 6, *out) + b_full.permute(2, 0, 1)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(m.weight.grad, wt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(m.bias.grad, bt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_shapes_state_dict_and_unbatched_input():
    m = LocallyConnected2d(3, 8, (3, 2), stride=(2, 1), padding="same", input_size=(10, 7))
    assert m.output_size == (5, 7)
    assert [(k, v.shape) for k, v in m.state_dict().items()] == [("weight", (5, 7, 8, 3, 3, 2)), ("bias", (5, 7, 8))]
    assert m.weight.dtype == np.float32 and np.abs(m.weight.data).max() <= 1 / np.sqrt(3 * 6)
    y = m(gn.tensor(np.ones((3, 10, 7), np.float32)))
    assert y.shape == (8, 5, 7)
    t = TiledConv3d(2, 4, 3, tiles=(1, 2, 3), bias=False)
    assert t.weight.shape == (1, 2, 3, 4, 2, 3, 3, 3) and t.bias is None
    assert t(gn.tensor(np.ones((1, 2, 6, 6, 6), np.float32))).shape == (1, 4, 4, 4, 4)
    assert "tiles=(1, 2, 3)" in repr(t) and "input_size=(10, 7)" in repr(m)


def test_errors_name_expected_and_received():
    m = LocallyConnected2d(3, 4, 3, input_size=(8, 8))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, 8, 8\).*got \(2, 3, 9, 9\)"):
        m(gn.tensor(np.zeros((2, 3, 9, 9), np.float32)))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, H, W\), got \(2, 1, 8, 8\)"):
        m(gn.tensor(np.zeros((2, 1, 8, 8), np.float32)))
    with pytest.raises(TypeError, match="float32 weights but got an input of dtype float64"):
        m(gn.tensor(np.zeros((2, 3, 8, 8)), dtype=np.float64))
    with pytest.raises(ValueError, match="bias_mode must be one of"):
        TiledConv2d(3, 4, 3, tiles=2, bias_mode="position")
    with pytest.raises(ValueError, match="larger than the padded input"):
        LocallyConnected2d(3, 4, 5, input_size=(3, 3))
    with pytest.raises(ValueError, match=r"TiledConv2d\(3 -> 4\): kernel of size \(5, 5\)"):
        TiledConv2d(3, 4, 5, tiles=2)(gn.tensor(np.zeros((1, 3, 4, 4), np.float32)))
