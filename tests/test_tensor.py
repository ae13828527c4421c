"""The Tensor itself: creation, the dtype policy, conversions, Python protocols, errors, and
glassnet.random's seeding."""

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.random import default_generator, get_rng_state, set_rng_state

# ---- creation and the dtype policy ----------------------------------------------------------


@pytest.mark.parametrize("data, dtype", [
    ([1.0], np.float32), (1.5, np.float32), (np.array([1.0]), np.float32),
    (np.array([1.0], np.float16), np.float32), ([1, 2], np.int64), (np.array([1], np.int32), np.int64),
    (np.array([1], np.uint8), np.int64), ([True, False], np.bool_), ([[1.0, 2], [3, 4]], np.float32),
])
def test_default_dtypes(data, dtype):
    t = gn.tensor(data)
    assert t.dtype == dtype
    assert isinstance(t.data, np.ndarray)


def test_float64_only_when_asked():
    assert gn.tensor([1.0], dtype=np.float64).dtype == np.float64
    assert gn.tensor([1.0], dtype=gn.float64).double().dtype == np.float64
    assert gn.tensor([1.0]).double().dtype == np.float64
    assert gn.tensor([1.0], dtype=np.float64).float().dtype == np.float32


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = gn.tensor(a)
    a[0] = 99
    assert t.tolist() == [1.0, 2.0]
    u = gn.tensor(t)  # from another tensor: a copy as well
    t.data[1] = -1
    assert u.tolist() == [1.0, 2.0]


def test_unsupported_data_is_refused():
    with pytest.raises(TypeError, match="dtype"):
        gn.tensor(np.array(["a"]))


@pytest.mark.parametrize("data", [[1, 2], [True], np.array([3], np.int32)])
def test_requires_grad_on_integer_tensors_is_refused(data):
    with pytest.raises(TypeError, match="floating-point.*got dtype"):
        gn.tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        gn.tensor(data).requires_grad_()


@pytest.mark.parametrize("left, right", [("float32", "float64"), ("float64", "float32")])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "@"])
def test_mixing_float32_and_float64_names_both(op, left, right):
    a, b = gn.ones(2, dtype=left), gn.ones(2, dtype=right)
    with pytest.raises(TypeError, match=f"{left} and {right}"):
        eval(f"a {op} b")


OPERANDS = {
    "python_float": 2.5, "python_int": 2, "np_float64_scalar": np.float64(2.5),
    "float64_array": np.array([2.5, 0.5]), "int_array": np.array([2, 3]), "list": [2.5, 0.5],
}


@pytest.mark.parametrize("name", list(OPERANDS))
@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_numbers_and_arrays_keep_float32(op, name):
    a, c = gn.tensor([1.0, 2.0]), OPERANDS[name]
    for expr in (f"a {op} c", f"c {op} a"):
        if expr.startswith("c") and name == "list":
            continue  # list + tensor: Python asks the list first
        y = eval(expr)
        assert isinstance(y, gn.Tensor), expr
        assert y.dtype == np.float32, expr
        expected = eval(expr, {"a": np.array([1.0, 2.0]), "c": np.asarray(c)})  # in float64
        np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)


def test_float64_tensor_keeps_float64_with_numbers_and_arrays():
    a = gn.tensor([1.0, 2.0], dtype=gn.float64)
    assert (a * 2.5).dtype == np.float64
    assert (np.ones(2, np.float32) + a).dtype == np.float64


@pytest.mark.parametrize("expr, dtype", [
    ("i + 0.5", torch.float32), ("i * 2", torch.int64), ("i / 2", torch.float32), ("i / i", torch.float32),
    ("i + f", torch.float32), ("f + i", torch.float32), ("i * f", torch.float32), ("i ** 2", torch.int64),
    ("i ** 0.5", torch.float32), ("b + f", torch.float32),
])
def test_integer_tensors_promote_like_torch(expr, dtype):
    gi, gf, gb = gn.tensor([1, 4]), gn.tensor([0.5, 2.0]), gn.tensor([True, False])
    ti, tf, tb = torch.tensor([1, 4]), torch.tensor([0.5, 2.0]), torch.tensor([True, False])
    y = eval(expr, {"np": np, "i": gi, "f": gf, "b": gb})
    t = eval(expr, {"np": np, "i": ti, "f": tf, "b": tb})
    assert t.dtype == dtype
    assert y.dtype == {torch.float32: np.float32, torch.int64: np.int64}[dtype]
    np.testing.assert_allclose(y.numpy(), t.numpy(), rtol=1e-6)


def test_integer_tensor_with_a_float_array_is_float32():
    y = gn.tensor([1, 4]) + np.array([0.5, 0.5])
    assert y.dtype == np.float32 and y.tolist() == [1.5, 4.5]


def test_mean_and_var_of_integers_are_float32():
    assert gn.tensor([1, 2]).mean().dtype == np.float32
    assert (gn.tensor([1.0, 2.0]) > 1.5).mean().item() == 0.5
    assert gn.tensor([1, 2, 4]).var().dtype == np.float32


# ---- properties and conversions -------------------------------------------------------------

def test_shape_properties_match_torch():
    x = np.zeros((2, 3, 4), np.float32)
    g, t = gn.tensor(x), torch.tensor(x)
    assert g.shape == tuple(t.shape) and g.ndim == t.ndim and g.dim() == t.dim()
    assert g.size() == tuple(t.size()) and g.size(1) == t.size(1) and g.size(-1) == t.size(-1)
    assert g.numel() == t.numel() and len(g) == len(t)
    assert isinstance(g.shape, tuple)


def test_item_tolist_float_int_bool():
    assert gn.tensor([[2.5]]).item() == 2.5
    assert gn.tensor([1.0, 2.0]).tolist() == [1.0, 2.0]
    assert float(gn.tensor(2.5)) == 2.5 and int(gn.tensor([3])) == 3
    assert bool(gn.tensor([0.0])) is False and bool(gn.tensor(2.0)) is True
    assert bool(gn.tensor(0.5) < 1)
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        bool(gn.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="2 elements"):
        gn.tensor([1.0, 2.0]).item()


def test_iteration_like_torch():
    x = gn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    (rows[0] * rows[1]).sum().backward()  # rows stay in the graph, as torch's unbind
    np.testing.assert_array_equal(x.grad, [[3.0, 4.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match="0-d"):
        iter(gn.tensor(1.0))


def test_numpy_on_a_tensor_requiring_grad_is_refused():
    x = gn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]
    assert np.asarray(x).tolist() == [1.0]  # NumPy functions still read the data


def test_numpy_shares_memory_as_torch():
    x = gn.tensor([1.0, 2.0])
    x.numpy()[0] = 5
    assert x.tolist() == [5.0, 2.0]


def test_backward_on_non_scalar_without_gradient_names_the_shape():
    x = gn.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar output, got shape \(2, 3\)"):
        (x * 2).backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    x = gn.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\), expected \(2, 3\)"):
        (x * 2).backward(np.ones(3))


def test_backward_without_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gn.tensor([1.0]).sum().backward()


def test_gradient_argument_takes_the_tensor_dtype():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(np.array([1.0, 1.0]))  # float64 upstream gradient
    assert x.grad.dtype == np.float32


def test_comparisons_give_bool_tensors_without_grad():
    x = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for y, expected in ((x > 2, [False, False, True]), (x >= 2, [False, True, True]), (x < 2, [True, False, False]),
                        (x <= 2, [True, True, False]), (x == 2, [False, True, False]), (x != 2, [True, False, True]),
                        (x == gn.tensor([1.0, 0.0, 3.0]), [True, False, True])):
        assert y.dtype == np.bool_ and not y.requires_grad
        assert y.tolist() == expected
    assert hash(x) == hash(x)  # usable as a dict key despite elementwise ==


def test_repr():
    assert repr(gn.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(gn.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(gn.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=int64" in repr(gn.tensor([1]))


def test_to_float_double_long():
    x = gn.tensor([1.7, -2.2])
    assert x.to(np.float32) is x
    assert x.to("float64").dtype == np.float64
    assert x.long().tolist() == torch.tensor([1.7, -2.2]).long().tolist()


def test_zero_():
    x = gn.tensor([1.0, 2.0])
    assert x.zero_() is x and x.tolist() == [0.0, 0.0]


def test_pow_by_a_tensor_matches_torch_with_both_gradients():
    base, exponent = [0.0, 0.5, 2.0, 3.0], [2.0, -1.5, 0.0, 0.5]
    g_a, g_p = gn.tensor(base, requires_grad=True), gn.tensor(exponent, requires_grad=True)
    t_a, t_p = torch.tensor(base, requires_grad=True), torch.tensor(exponent, requires_grad=True)
    (g_a ** g_p).sum().backward()
    (t_a ** t_p).sum().backward()
    np.testing.assert_allclose((g_a ** g_p).detach().numpy(), (t_a ** t_p).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(g_a.grad, t_a.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(g_p.grad, t_p.grad.numpy(), rtol=1e-6)


# ---- factories ------------------------------------------------------------------------------

def test_factories():
    assert gn.zeros(2, 3).shape == (2, 3) and gn.zeros((2, 3)).dtype == np.float32
    assert gn.ones([4]).tolist() == [1.0] * 4
    assert gn.zeros(2, requires_grad=True).requires_grad
    assert gn.ones(2, dtype=gn.float64).dtype == np.float64
    like = gn.zeros_like(gn.ones(2, 2))
    assert like.shape == (2, 2) and like.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert gn.ones_like(gn.zeros(3), requires_grad=True).requires_grad
    assert gn.arange(4).dtype == np.int64 and gn.arange(4).tolist() == [0, 1, 2, 3]
    assert gn.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert gn.is_tensor(gn.zeros(1)) and not gn.is_tensor(np.zeros(1))
    with pytest.raises(TypeError, match="floating-point"):
        gn.zeros(2, dtype=gn.int64, requires_grad=True)


# ---- random ---------------------------------------------------------------------------------

def test_manual_seed_makes_runs_repeatable():
    gn.manual_seed(123)
    a = (gn.randn(3, 4), gn.rand(5), gn.randint(0, 10, (6,)))
    gn.manual_seed(123)
    b = (gn.randn(3, 4), gn.rand(5), gn.randint(0, 10, (6,)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    gn.manual_seed(124)
    assert not np.array_equal(gn.randn(3, 4).numpy(), a[0].numpy())


def test_manual_seed_reseeds_the_generator_others_already_hold():
    held = default_generator()
    gn.manual_seed(7)
    first = held.standard_normal(3)
    gn.manual_seed(7)
    np.testing.assert_array_equal(default_generator().standard_normal(3), first)
    assert default_generator() is held
    np.testing.assert_array_equal(first, np.random.default_rng(7).standard_normal(3))


def test_rng_state_round_trip():
    gn.manual_seed(3)
    state = get_rng_state()
    a = gn.randn(4).numpy().copy()
    set_rng_state(state)
    np.testing.assert_array_equal(gn.randn(4).numpy(), a)


def test_random_factories():
    gn.manual_seed(0)
    x = gn.randn(2, 3)
    assert x.shape == (2, 3) and x.dtype == np.float32 and not x.requires_grad
    assert gn.randn((2, 3), requires_grad=True).requires_grad
    assert gn.randn(2, dtype=gn.float64).dtype == np.float64
    u = gn.rand(1000)
    assert 0 <= u.numpy().min() and u.numpy().max() < 1
    r = gn.randint(10, (1000,))  # torch's randint(high, size)
    assert r.dtype == np.int64 and r.numpy().min() >= 0 and r.numpy().max() <= 9
    r = gn.randint(5, 8, size=(100,))
    assert set(r.tolist()) <= {5, 6, 7}
    assert gn.randint(3, size=(2,)).shape == (2,)
    with pytest.raises(TypeError, match="size"):
        gn.randint(3)


# ---- in-place arithmetic and item assignment ------------------------------------------------

def test_manual_sgd_step_updates_the_parameter_object_as_torch():
    g, t = gn.tensor([1.0, -2.0], requires_grad=True), torch.tensor([1.0, -2.0], requires_grad=True)
    for params, no_grad in (([g], gn.no_grad), ([t], torch.no_grad)):
        (params[0] * params[0]).sum().backward()
        with no_grad():
            for p in params:  # rebinding p would leave the parameter unchanged
                p -= 0.1 * p.grad
                p *= 2
                p += 1
                p /= 4
    assert g.requires_grad and g.is_leaf
    np.testing.assert_allclose(g.data, t.detach().numpy(), rtol=1e-6)


def test_in_place_on_plain_tensors_changes_every_reference():
    a = gn.tensor([1.0, 2.0])
    alias = a
    a += np.array([1.0, 1.0])
    a *= gn.tensor([2.0, 3.0])
    assert alias is a and alias.tolist() == [4.0, 9.0]


def test_in_place_on_a_leaf_requiring_grad_is_refused_as_torch():
    w = gn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad .*no_grad"):
        w += 1
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        tw = torch.tensor([1.0], requires_grad=True)
        tw += 1


def test_in_place_inside_a_recorded_graph_keeps_gradients_right():
    g, t = gn.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    results = []
    for x, zeros in ((g, gn.zeros(2)), (t, torch.zeros(2))):
        h = x * 3
        h *= x  # a non-leaf: recorded
        acc = zeros
        acc += h  # a plain accumulator meeting a tensor that requires grad: recorded too
        acc.sum().backward()
        results.append(acc)
    np.testing.assert_allclose(g.grad, t.grad.numpy())
    np.testing.assert_allclose(results[0].detach().numpy(), results[1].detach().numpy())


def test_in_place_that_would_change_the_dtype_is_refused():
    i = gn.tensor([1, 2])
    with pytest.raises(TypeError, match="int64"):
        i += 0.5
    with pytest.raises(TypeError, match="int64"):
        i /= 2
    i += 1
    assert i.tolist() == [2, 3] and i.dtype == np.int64


def test_setitem_like_torch():
    g, t = gn.zeros(3, 4), torch.zeros(3, 4)
    for x, idx in ((g, gn.tensor([0, 2])), (t, torch.tensor([0, 2]))):
        x[0, 1] = 5.0
        x[x > 1] = 7.0
        x[:, idx] = 1.5
        x[2] = x[0]
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_setitem_is_refused_where_a_gradient_is_recorded():
    with pytest.raises(RuntimeError, match="item assignment is not differentiated"):
        gn.zeros(2, requires_grad=True)[0] = 1.0
    with pytest.raises(RuntimeError, match="no_grad"):
        gn.zeros(2)[0] = gn.tensor(1.0, requires_grad=True)
    w = gn.zeros(2, requires_grad=True)
    with gn.no_grad():
        w[0] = 3.0
    assert w.tolist() == [3.0, 0.0]


def test_np_array_copies_and_asarray_shares():
    t = gn.tensor([1.0, 2.0])
    a = np.array(t)
    a[0] = 5
    assert t.tolist() == [1.0, 2.0]
    assert np.shares_memory(np.asarray(t), t.data)
    assert np.array(t, dtype=np.float64).dtype == np.float64


def test_device_and_method_forms():
    x = gn.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.to("cpu") is x and x.cpu() is x
    assert x.t().tolist() == [[1.0, 3.0], [2.0, 4.0]] and gn.tensor([1.0]).t().shape == (1,)
    with pytest.raises(ValueError, match=r"shape \(1, 1, 1\)"):
        gn.zeros(1, 1, 1).t()
    assert (x > 2).any().item() and not (x > 2).all().item()
    assert (x > 1).all(1).tolist() == [False, True]


def test_len_and_expand_errors():
    with pytest.raises(TypeError, match="0-d tensor"):
        len(gn.tensor(1.0))
    with pytest.raises(ValueError, match=r"expand: a tensor of shape \(3, 2\) .* got target shape \(3, 4\)"):
        gn.zeros(3, 2).expand(3, 4)
