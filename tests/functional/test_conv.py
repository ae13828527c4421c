"""glassnet.functional conv*/conv_transpose*: values and gradients through the Tensor API against
PyTorch, every padding form, bad input (clear errors), dtype policy."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

TOL = dict(rtol=1e-4, atol=1e-4)


def _tensors(*arrays):
    return [glassnet.tensor(a, requires_grad=True) for a in arrays], [torch.tensor(a, requires_grad=True) for a in arrays]


def _check(ours, theirs, g_inputs, t_inputs, seed=1):
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **TOL)
    dy = np.random.default_rng(seed).standard_normal(ours.shape).astype(np.float32)
    ours.backward(dy)
    theirs.backward(torch.tensor(dy))
    for g, t in zip(g_inputs, t_inputs):
        assert g.grad.shape == g.shape and g.grad.dtype == np.float32
        np.testing.assert_allclose(g.grad, t.grad.numpy(), **TOL)


@pytest.mark.parametrize("nd, fn, tfn", [(1, F.conv1d, TF.conv1d), (2, F.conv2d, TF.conv2d), (3, F.conv3d, TF.conv3d)])
@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 0, 1, 1), (2, 1, 1, 2), (1, "same", 2, 1), (1, "valid", 1, 2), (2, 2, 2, 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_convnd_matches_torch(nd, fn, tfn, stride, padding, dilation, groups, bias):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4) + (9, 8, 7)[:nd]).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups) + (3, 2, 3)[:nd]).astype(np.float32)
    arrays = [x, w] + ([rng.standard_normal(6).astype(np.float32)] if bias else [])
    g, t = _tensors(*arrays)
    ours = fn(g[0], g[1], g[2] if bias else None, stride, padding, dilation, groups)
    theirs = tfn(t[0], t[1], t[2] if bias else None, stride, padding, dilation, groups)
    _check(ours, theirs, g, t)


def test_general_conv_any_rank_and_options():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 7, 6)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    g, t = _tensors(x, w)
    ours = F.conv(g[0], g[1], None, 2, ((1, 0), (2, 1)), 1, 1, "reflect", flip=True)
    xp = TF.pad(t[0], [2, 1, 1, 0], mode="reflect")
    theirs = TF.conv2d(xp, torch.flip(t[1], (2, 3)), stride=2)
    _check(ours, theirs, g, t)
    # rank 4 (no PyTorch counterpart): a 1-wide fourth axis must reduce to conv3d
    x4 = rng.standard_normal((1, 2, 4, 5, 3, 1)).astype(np.float32)
    w4 = rng.standard_normal((2, 2, 2, 2, 2, 1)).astype(np.float32)
    np.testing.assert_allclose(F.conv(glassnet.tensor(x4), glassnet.tensor(w4), padding=1).data[..., 1],
                               TF.conv3d(torch.tensor(x4[..., 0]), torch.tensor(w4[..., 0]), padding=1).numpy(), **TOL)


def test_padding_mode_and_flip_keywords():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 10)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3)).astype(np.float32)
    g, t = _tensors(x, w)
    ours = F.conv1d(g[0], g[1], padding=2, padding_mode="circular", flip=True)
    theirs = TF.conv1d(TF.pad(t[0], [2, 2], mode="circular"), torch.flip(t[1], (2,)))
    _check(ours, theirs, g, t)


def test_same_padding_with_stride_where_torch_refuses():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, 9, 10)).astype(np.float32)
    w = rng.standard_normal((2, 1, 4, 3)).astype(np.float32)
    g, t = _tensors(x, w)
    ours = F.conv2d(g[0], g[1], stride=2, padding="same")
    # ceil(9/2)=5: total pad (5-1)*2+4-9 = 3 -> (1, 2); ceil(10/2)=5: (5-1)*2+3-10 = 1 -> (0, 1)
    theirs = TF.conv2d(TF.pad(t[0], [0, 1, 1, 2]), t[1], stride=2)
    _check(ours, theirs, g, t)


def test_unbatched_input():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    g, t = _tensors(x, w)
    _check(F.conv2d(g[0], g[1], padding=1), TF.conv2d(t[0], t[1], padding=1), g, t)


@pytest.mark.parametrize("nd, fn, tfn", [(1, F.conv_transpose1d, TF.conv_transpose1d),
                                         (2, F.conv_transpose2d, TF.conv_transpose2d),
                                         (3, F.conv_transpose3d, TF.conv_transpose3d)])
@pytest.mark.parametrize("stride, padding, output_padding, groups, dilation", [
    (1, 0, 0, 1, 1), (2, 1, 1, 2, 1), (3, 1, 2, 1, 2), (2, 0, 1, 2, 2)])
def test_conv_transpose_matches_torch(nd, fn, tfn, stride, padding, output_padding, groups, dilation):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4) + (5, 4, 3)[:nd]).astype(np.float32)
    w = rng.standard_normal((4, 3) + (3, 2, 2)[:nd]).astype(np.float32)
    b = rng.standard_normal(3 * groups).astype(np.float32)
    g, t = _tensors(x, w, b)
    _check(fn(g[0], g[1], g[2], stride, padding, output_padding, groups, dilation),
           tfn(t[0], t[1], t[2], stride, padding, output_padding, groups, dilation), g, t)


def test_conv_in_a_graph_with_branches():
    """conv output used twice, and only the weight requiring a gradient."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    gw, tw = glassnet.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = F.conv2d(glassnet.tensor(x), gw, padding=1)
    (y * y + y).sum().backward()
    ty = TF.conv2d(torch.tensor(x), tw, padding=1)
    (ty * ty + ty).sum().backward()
    np.testing.assert_allclose(gw.grad, tw.grad.numpy(), rtol=1e-4, atol=1e-3)


# ---- bad input --------------------------------------------------------------------------------

def _t(shape, dtype=np.float32):
    return glassnet.tensor(np.zeros(shape, dtype=dtype), dtype=dtype)


def test_wrong_channel_count_message():
    with pytest.raises(ValueError) as err:
        F.conv2d(_t((8, 1, 28, 28)), _t((16, 3, 5, 5)))
    assert str(err.value) == ("conv2d expected input with 3 channels (N, 3, H, W) for weight (16, 3, 5, 5), "
                              "got (8, 1, 28, 28)")
    with pytest.raises(ValueError, match=r"conv_transpose2d expected input with 4 channels .*got \(1, 3, 5, 5\)"):
        F.conv_transpose2d(_t((1, 3, 5, 5)), _t((4, 2, 3, 3)))


@pytest.mark.parametrize("fn, x_shape, w_shape, pattern", [
    (F.conv2d, (8, 28), (16, 3, 5, 5), r"4-D input \(N, C, H, W\).*got a 2-D input of shape \(8, 28\)"),
    (F.conv2d, (8, 3, 28), (16, 3, 5, 5), r"3 channels \(N, 3, H, W\), or unbatched \(3, H, W\) .*got \(8, 3, 28\)"),
    (F.conv2d, (8, 3, 28, 28), (16, 3, 5), r"conv2d expected a 4-D weight .*got shape \(16, 3, 5\)"),
    (F.conv1d, (2, 3, 4, 5, 6), (4, 3, 3), r"3-D input \(N, C, L\).*got a 5-D input"),
    (F.conv3d, (2, 3, 4, 4, 4), (4, 3, 3, 3), r"conv3d expected a 5-D weight"),
])
def test_wrong_rank(fn, x_shape, w_shape, pattern):
    with pytest.raises(ValueError, match=pattern):
        fn(_t(x_shape), _t(w_shape))


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel of size \(5, 5\).*larger than the padded input of spatial size \(4, 6\)"):
        F.conv2d(_t((1, 1, 2, 4)), _t((1, 1, 5, 5)), padding=1)
    with pytest.raises(ValueError, match=r"dilation \(3,\)"):
        F.conv1d(_t((1, 1, 6)), _t((1, 1, 3)), dilation=3)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(stride=0), r"stride must be >= 1 in every dimension, got 0"),
    (dict(stride=(1, -1)), r"stride must be >= 1"),
    (dict(dilation=0), r"dilation must be >= 1"),
    (dict(groups=0), r"groups to be a positive int, got 0"),
    (dict(groups=2), r"expected input with 4 channels \(N, 4, H, W\) for weight \(6, 2, 3, 3\) and groups=2, got"),
    (dict(groups=4), r"groups=4 must divide the output channels"),
    (dict(padding=-1), r"padding must be >= 0"),
    (dict(padding="half"), r"padding must be an int, a tuple, \(low, high\) pairs or one of"),
])
def test_bad_options(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        F.conv2d(_t((1, 6, 8, 8)), _t((6, 2, 3, 3)), **{"groups": 3, **kwargs})
    F.conv2d(_t((1, 6, 8, 8)), _t((6, 2, 3, 3)), groups=3)  # the base call itself is valid


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match=r"groups=4 must divide the output channels of weight \(6, 2, 3, 3\)"):
        F.conv2d(_t((1, 8, 8, 8)), _t((6, 2, 3, 3)), groups=4)
    with pytest.raises(ValueError, match=r"groups=2 must divide the input channels of weight \(3, 2, 3\)"):
        F.conv_transpose1d(_t((1, 3, 8)), _t((3, 2, 3)), groups=2)


def test_bad_padding_mode_and_output_padding():
    with pytest.raises(ValueError, match=r"conv2d: padding_mode must be one of .*got 'mirror'"):
        F.conv2d(_t((1, 2, 8, 8)), _t((2, 2, 3, 3)), padding_mode="mirror")
    with pytest.raises(ValueError, match=r"'reflect' padding needs each padding amount less than the size of its dimension \(<= 2\)"):
        F.conv1d(_t((1, 2, 3)), _t((2, 2, 3)), padding=3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"output_padding must be >= 0 and smaller than stride or dilation"):
        F.conv_transpose2d(_t((1, 2, 4, 4)), _t((2, 2, 3, 3)), stride=2, output_padding=2)


def test_dtype_policy():
    w = _t((2, 3, 3, 3))
    with pytest.raises(TypeError, match=r"conv2d expected a floating-point input, got dtype int64"):
        F.conv2d(glassnet.tensor(np.zeros((1, 3, 5, 5), dtype=np.int64)), w)
    with pytest.raises(TypeError, match=r"input of dtype float64 and weight of dtype float32"):
        F.conv2d(_t((1, 3, 5, 5), np.float64), w)
    with pytest.raises(TypeError, match=r"bias of dtype float64 for weight of dtype float32"):
        F.conv2d(_t((1, 3, 5, 5)), w, _t((2,), np.float64))
    with pytest.raises(ValueError, match=r"expected bias of shape \(2,\) for weight \(2, 3, 3, 3\), got \(3,\)"):
        F.conv2d(_t((1, 3, 5, 5)), w, _t((3,)))
    # float64 throughout is allowed and stays float64
    x64 = glassnet.tensor(np.ones((1, 3, 5, 5)), dtype=np.float64, requires_grad=True)
    y = F.conv2d(x64, glassnet.tensor(np.ones((2, 3, 3, 3)), dtype=np.float64))
    y.sum().backward()
    assert y.dtype == np.float64 and x64.grad.dtype == np.float64
