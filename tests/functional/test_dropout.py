"""glassnet.functional.dropout through the Tensor API."""

import numpy as np
import pytest

import glassnet
import glassnet.functional as F


def test_seeded_runs_repeat_and_unseeded_calls_differ():
    x = glassnet.ones(30, 40)
    glassnet.manual_seed(123)
    a, b = F.dropout(x, 0.5).numpy(), F.dropout(x, 0.5).numpy()
    glassnet.manual_seed(123)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert (a != b).any()  # the generator advanced between the two calls


@pytest.mark.parametrize("p", [0.25, 0.5])
def test_gradient_is_mask_times_scale(p):
    glassnet.manual_seed(0)
    x = glassnet.tensor(np.random.default_rng(0).uniform(1, 2, (20, 30)), requires_grad=True)
    y = F.dropout(x, p)
    y.backward(np.full(y.shape, 3.0, np.float32))
    keep = y.data != 0  # x > 0 everywhere, so a zero output means dropped
    np.testing.assert_allclose(x.grad, 3.0 * keep / (1 - p), rtol=1e-6)
    np.testing.assert_allclose(y.data[keep], x.data[keep] / (1 - p), rtol=1e-6)
    assert 0.3 < keep.mean() < 0.9


def test_evaluation_returns_the_input_itself():
    x = glassnet.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x


def test_inplace_flag_leaves_the_input_untouched():
    x = glassnet.ones(100)
    y = F.dropout(x, 0.5, inplace=True)
    np.testing.assert_array_equal(x.numpy(), 1)
    assert (y.numpy() == 0).any()


def test_float64_is_kept():
    x = glassnet.tensor(np.ones(10), dtype=np.float64)
    assert F.dropout(x, 0.3).dtype == np.float64


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None])
def test_bad_probability(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
        F.dropout(glassnet.ones(3), p)


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match=r"dropout expected a floating-point input .* got dtype int64 of shape \(3,\)"):
        F.dropout(glassnet.tensor([1, 2, 3]), 0.5)


@pytest.mark.parametrize("fn,shape,maps", [
    (F.dropout1d, (8, 16, 5), (8, 16)), (F.dropout1d, (16, 5), (16,)),
    (F.dropout2d, (8, 16, 3, 4), (8, 16)), (F.dropout2d, (8, 16, 12), (8, 16)),
    (F.dropout3d, (4, 16, 2, 3, 2), (4, 16)), (F.dropout3d, (16, 2, 3, 2), (16,)),
], ids=["1d", "1d-unbatched", "2d", "2d-3-D-as-torch", "3d", "3d-unbatched"])
@pytest.mark.filterwarnings("ignore:dropout2d. Received a 3D input")  # PyTorch's own warning, repeated
def test_channel_dropout_zeroes_whole_maps(fn, shape, maps):
    glassnet.manual_seed(3)
    x = glassnet.tensor(np.random.default_rng(0).uniform(1, 2, shape), requires_grad=True)
    y = fn(x, 0.5)
    y.backward(np.ones(shape, np.float32))
    zero = (y.data == 0).reshape(maps + (-1,))
    assert (zero.all(axis=-1) | ~zero.any(axis=-1)).all()
    assert 0 < zero.all(axis=-1).mean() < 1
    keep = ~(y.data == 0)
    np.testing.assert_allclose(x.grad, keep * 2.0, rtol=1e-6)  # mask * 1 / (1 - 0.5)
    np.testing.assert_allclose(y.data[keep], 2 * x.data[keep], rtol=1e-6)
    assert fn(x, 0.5, training=False) is x


@pytest.mark.parametrize("fn,shape,message", [
    (F.dropout1d, (2, 3, 4, 5), r"dropout1d expected input of shape \(N, C, L\) or \(C, L\), got \(2, 3, 4, 5\)"),
    (F.dropout2d, (2, 3), r"dropout2d expected input of shape \(N, C, H, W\), got \(2, 3\)"),
    (F.dropout3d, (2, 3, 4), r"dropout3d expected input of shape \(N, C, D, H, W\) or \(C, D, H, W\), got \(2, 3, 4\)"),
])
def test_channel_dropout_wrong_rank(fn, shape, message):
    with pytest.raises(ValueError, match=message):
        fn(glassnet.ones(*shape), 0.5)


def test_dropout2d_of_a_3d_input_warns_as_torch():
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        F.dropout2d(glassnet.ones(2, 3, 4), 0.5)


def test_channel_dropout_bad_probability():
    with pytest.raises(ValueError, match="dropout2d probability has to be between 0 and 1, but got 2"):
        F.dropout2d(glassnet.ones(1, 2, 3, 3), 2)
