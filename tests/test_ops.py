"""Every operation of glassnet/ops.py against PyTorch (forward and gradient, float32) and against
float64 finite differences (glassnet.testing.gradcheck)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import glassnet as gn
from glassnet.ops import unbroadcast
from glassnet.testing import gradcheck

RTOL, ATOL = 1e-4, 1e-5


def sample(shape, domain="real", seed=0):
    """Random float64 data; 'pos' keeps log/sqrt/pow defined, 'away' keeps divisors off zero."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if domain == "pos":
        return np.abs(x) + 0.5
    if domain == "away":
        return np.sign(x + 1e-12) * (np.abs(x) + 0.5)
    return x


def against_torch(fn, arrays, torch_fn=None, seed=1):
    """Run fn on glassnet and torch float32 leaves; compare the output and every input gradient."""
    torch_fn = torch_fn or fn
    gx = [gn.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    tx = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    gy, ty = fn(*gx), torch_fn(*tx)
    assert gy.dtype == np.float32
    assert gy.shape == tuple(ty.shape)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=RTOL, atol=ATOL)
    dy = np.random.default_rng(seed).standard_normal(gy.shape).astype(np.float32)
    gy.backward(dy)
    ty.backward(torch.from_numpy(dy))
    for i, (g, t) in enumerate(zip(gx, tx)):
        expected = np.zeros(g.shape, np.float32) if t.grad is None else t.grad.numpy()
        actual = np.zeros(g.shape, np.float32) if g.grad is None else g.grad
        assert actual.dtype == np.float32, f"gradient of input {i} has dtype {actual.dtype}"
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"gradient of input {i}")


def against_fd(fn, arrays):
    """float64 finite differences of the same function."""
    inputs = [gn.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    assert gradcheck(fn, inputs)


def both(fn, arrays, torch_fn=None):
    against_torch(fn, arrays, torch_fn)
    against_fd(fn, arrays)


# ---- elementwise arithmetic with broadcasting -----------------------------------------------

BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1)),
                    ((), (3, 4)), ((5,), ()), ((2, 3, 1, 5), (4, 1)), ((1,), (2, 3))]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("op", list(BINARY))
def test_binary_broadcasting(op, shapes):
    a = sample(shapes[0], seed=2)
    b = sample(shapes[1], "away" if op == "div" else "real", seed=3)
    both(BINARY[op], [a, b])


SCALAR_FORMS = {
    "tensor+2": lambda a: a + 2.0,
    "2+tensor": lambda a: 2.0 + a,
    "2-tensor": lambda a: 2.0 - a,
    "tensor-2": lambda a: a - 2,
    "3*tensor": lambda a: 3 * a,
    "2/tensor": lambda a: 2.0 / a,
    "tensor/4": lambda a: a / 4,
    "neg": lambda a: -a,
    "pos": lambda a: +a,
    "pow3": lambda a: a ** 3,
    "pow2.5": lambda a: a ** 2.5,
    "pow-1.5": lambda a: a ** -1.5,
    "pow0": lambda a: a ** 0,
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "sqrt": lambda a: a.sqrt(),
    "abs": lambda a: a.abs(),
    "clamp": lambda a: a.clamp(-0.4, 0.6),
    "clamp_min": lambda a: a.clamp(min=0.5),
    "clamp_max": lambda a: a.clamp(max=0.7),
}


@pytest.mark.parametrize("op", list(SCALAR_FORMS))
def test_unary_and_scalar_operands(op):
    a = sample((3, 5), "pos" if op in ("log", "sqrt") or op.startswith("pow") else "away", seed=4)
    both(SCALAR_FORMS[op], [a])


def test_clamp_gradient_at_the_bounds_matches_torch():
    # PyTorch passes the gradient where min <= x <= max, boundaries included
    a = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    against_torch(lambda t: t.clamp(-0.5, 0.5), [a])


def test_abs_gradient_at_zero_is_zero_as_torch():
    against_torch(lambda t: t.abs(), [np.array([-1.0, 0.0, 2.0])])


def test_ndarray_operand_on_the_left():
    c = sample((3, 4), seed=5).astype(np.float32)
    against_torch(lambda a: c * a - c, [sample((3, 4))],
                  lambda a: torch.from_numpy(c) * a - torch.from_numpy(c))


# ---- casts ----------------------------------------------------------------------------------

def test_cast_round_trip_gradient():
    against_torch(lambda a: (a.double() * 3).float(), [sample((4,))],
                  lambda a: (a.double() * 3).float())


def test_cast_gradient_has_the_input_dtype():
    a = gn.tensor([1.0, 2.0], requires_grad=True)
    b = a.double()
    assert b.dtype == np.float64 and b.requires_grad
    (b * b).sum().backward()
    assert a.grad.dtype == np.float32
    np.testing.assert_allclose(a.grad, [2.0, 4.0])


def test_cast_to_integer_is_not_differentiable():
    a = gn.tensor([1.5, 2.5], requires_grad=True)
    assert not a.to(gn.int64).requires_grad
    assert not a.long().requires_grad
    assert a.long().tolist() == [1, 2]


# ---- matmul ---------------------------------------------------------------------------------

MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)),
                 ((1, 2, 3), (6, 3, 1))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    both(lambda a, b: a @ b, [sample(shapes[0], seed=6), sample(shapes[1], seed=7)])


def test_matmul_with_ndarray_operands():
    w = sample((3, 2), seed=8).astype(np.float32)
    against_torch(lambda a: a @ w, [sample((4, 3))], lambda a: a @ torch.from_numpy(w))
    against_torch(lambda a: w.T @ a, [sample((3, 4))], lambda a: torch.from_numpy(w.T.copy()) @ a)


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 4\)"):
        gn.zeros(3, 4) @ gn.zeros(3, 4)


# ---- reductions -----------------------------------------------------------------------------

DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2), ()]  # () reduces everything, as in torch


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean(op, dim, keepdim):
    if dim is None and keepdim:
        # torch's sum()/mean() take keepdim only together with dim
        fn = lambda a: getattr(a, op)(dim=None, keepdim=True)  # noqa: E731
        tfn = lambda a: getattr(a, op)(dim=(0, 1, 2), keepdim=True)  # noqa: E731
    else:
        fn = tfn = lambda a: getattr(a, op)(dim=dim, keepdim=keepdim)  # noqa: E731
    against_torch(fn, [sample((2, 3, 4), seed=9)], tfn)
    against_fd(fn, [sample((2, 3, 4), seed=9)])


@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 1, -1, (0, 2), ()], ids=str)
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std(op, dim, keepdim, correction):
    fn = lambda a: getattr(a, op)(dim=dim, keepdim=keepdim, correction=correction)  # noqa: E731
    # torch's var backward with dim=() disagrees with its own forward (it scales the gradient by
    # the element count), so the reference for () is the explicit all-dims reduction
    tdim = (0, 1, 2) if dim is None or dim == () else dim
    tfn = lambda a: getattr(a, op)(dim=tdim, keepdim=keepdim, correction=correction)  # noqa: E731
    against_torch(fn, [sample((3, 4, 5), seed=10)], tfn)
    against_fd(fn, [sample((3, 4, 5), seed=10)])


@pytest.mark.parametrize("args, kwargs", [
    ((1, True), {}), ((1, False, True), {}), ((True,), {}), ((False,), {}), ((0,), {"unbiased": False}),
    ((), {"dim": 1, "correction": 0, "keepdim": True}), ((), {"correction": 2}),
])
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_positional_arguments_follow_torch_order(op, args, kwargs):
    # torch's var(dim, unbiased, keepdim) and var(unbiased): a positional bool is `unbiased`
    x = sample((3, 4))
    np.testing.assert_allclose(getattr(gn.tensor(x), op)(*args, **kwargs).numpy(),
                               getattr(torch.tensor(x, dtype=torch.float32), op)(*args, **kwargs).numpy(),
                               rtol=RTOL)


def test_reduction_over_a_repeated_dim_is_refused():
    with pytest.raises(ValueError):
        gn.zeros(3, 4).sum((1, 1))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim(op, dim, keepdim):
    x = sample((3, 4, 5), seed=11)
    g = getattr(gn.tensor(x), op)(dim, keepdim)
    t = getattr(torch.tensor(x, dtype=torch.float32), op)(dim, keepdim)
    np.testing.assert_array_equal(g.indices.numpy(), t.indices.numpy())
    assert g.indices.dtype == np.int64 and not g.indices.requires_grad
    values, indices = g  # unpacks as torch's (values, indices)
    assert values is g.values and indices is g.indices
    fn = lambda a: getattr(a, op)(dim, keepdim).values  # noqa: E731
    both(fn, [x])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_all(op):
    both(lambda a: getattr(a, op)(), [sample((3, 4), seed=12)])


@pytest.mark.parametrize("dim", [0, 1, 2])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim_ties_pick_torchs_index_and_gradient(op, dim):
    # small integers give many ties; torch's max(dim) returns the first extreme index and sends
    # the whole gradient there
    x = np.random.default_rng(13).integers(0, 3, size=(4, 6, 5)).astype(np.float64)
    t = getattr(torch.tensor(x, dtype=torch.float32), op)(dim)
    g = getattr(gn.tensor(x), op)(dim)
    np.testing.assert_array_equal(g.indices.numpy(), t.indices.numpy())
    np.testing.assert_array_equal(g.indices.numpy(), getattr(np, "arg" + op)(x, axis=dim))
    against_torch(lambda a: getattr(a, op)(dim).values, [x])


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_all_ties_share_the_gradient_evenly_as_torch(op):
    x = np.array([[1.0, 3.0, 3.0], [0.0, 3.0, 0.0]])
    against_torch(lambda a: getattr(a, op)(), [x])
    a = gn.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    a.max().backward()
    np.testing.assert_allclose(a.grad, [0.0, 0.5, 0.5, 0.0])


def test_max_with_nan_propagates_like_torch():
    x = np.array([1.0, np.nan, 3.0, np.nan])
    a, t = gn.tensor(x, requires_grad=True), torch.tensor(x, dtype=torch.float32, requires_grad=True)
    a.max().backward()
    t.max().backward()
    assert np.isnan(a.max().item())
    np.testing.assert_allclose(a.grad, t.grad.numpy())


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin(op, dim, keepdim):
    x = np.random.default_rng(14).integers(0, 3, size=(4, 6)).astype(np.float32)
    g = getattr(gn.tensor(x), op)(dim=dim, keepdim=keepdim)
    t = getattr(torch.tensor(x), op)(dim=dim, keepdim=keepdim)
    assert g.dtype == np.int64
    np.testing.assert_array_equal(g.numpy(), t.numpy())


# ---- shape changes --------------------------------------------------------------------------

SHAPE_OPS = {
    "reshape": (lambda a: a.reshape(4, -1), None),
    "reshape_tuple": (lambda a: a.reshape((2, 12)), None),
    "view": (lambda a: a.view(-1), None),
    "flatten": (lambda a: a.flatten(), None),
    "flatten1": (lambda a: a.flatten(1), None),
    "flatten0_1": (lambda a: a.flatten(0, 1), None),
    "permute": (lambda a: a.permute(2, 0, 1), None),
    "permute_tuple": (lambda a: a.permute((1, 2, 0)), None),
    "permute_neg": (lambda a: a.permute(-1, 0, 1), None),
    "transpose": (lambda a: a.transpose(0, 2), None),
    "transpose_neg": (lambda a: a.transpose(-1, -2), None),
    "unsqueeze": (lambda a: a.unsqueeze(1), None),
    "unsqueeze_neg": (lambda a: a.unsqueeze(-1), None),
    "expand": (lambda a: a[:, :1].expand(2, 5, 4), None),
    "expand_minus1": (lambda a: a[:, :1].expand(-1, 3, -1), None),
    "expand_new_dims": (lambda a: a[:, :1].expand(3, 2, 2, 4), None),
    "squeeze": (lambda a: a[:, :1].squeeze(), None),
    "squeeze_dim": (lambda a: a[:, :1].squeeze(1), None),
    "squeeze_non_one": (lambda a: a.squeeze(0), None),
}


@pytest.mark.parametrize("op", list(SHAPE_OPS))
def test_shape_ops(op):
    fn, tfn = SHAPE_OPS[op]
    both(fn, [sample((2, 3, 4), seed=15)], tfn)


def test_matrix_transpose_T():
    both(lambda a: a.T * 2, [sample((3, 5))])


# ---- indexing -------------------------------------------------------------------------------

INDICES = {
    "int": 1,
    "negative": -1,
    "slice": slice(1, 3),
    "step": (slice(None), slice(None, None, 2)),
    "negative_step": (slice(None, None, -1),),
    "ellipsis": (Ellipsis, 1),
    "none": (None, 0, slice(1, None)),
    "tuple_ints": (1, 2, 3),
    "list_dup": [0, 0, 2, 0],
    "int_array_2d": np.array([[0, 2], [2, 2]]),
    "pair_arrays_dup": (np.array([0, 0, 1]), np.array([1, 1, 3])),
    "slice_and_list_dup": (slice(None), [1, 1, 0]),
    "bool_mask": "mask",
    "bool_row_mask": np.array([True, False, True]),
}


def _torch_index(index):
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index)
    if isinstance(index, list):
        return torch.tensor(index)
    return index


@pytest.mark.parametrize("name", list(INDICES))
def test_getitem(name):
    x = sample((3, 4, 5), seed=16)
    index = x > 0.3 if name == "bool_mask" else INDICES[name]
    # torch has no negative slice steps: its reference for x[::-1] is flip
    tfn = (lambda a: a.flip(0)) if name == "negative_step" else (lambda a: a[_torch_index(index)])
    both(lambda a: a[index], [x], tfn)


def test_getitem_with_tensor_indices():
    x = sample((4, 3), seed=17)
    rows = gn.tensor([3, 0, 3])
    mask = gn.tensor(x) > 0
    against_torch(lambda a: a[rows], [x], lambda a: a[torch.tensor([3, 0, 3])])
    against_torch(lambda a: a[mask], [x], lambda a: a[torch.tensor(x > 0)])
    against_torch(lambda a: a[rows, 1], [x], lambda a: a[torch.tensor([3, 0, 3]), 1])


def test_getitem_out_of_range_raises():
    with pytest.raises(IndexError):
        gn.zeros(3)[3]


# ---- cat, stack, where ----------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_cat(dim):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for s, n in zip(shapes, (1, 2, 3)):
        s[dim] = n  # differing sizes along the concatenated dim only
    arrays = [sample(s, seed=20 + i) for i, s in enumerate(shapes)]
    both(lambda *t: gn.cat(t, dim), arrays, lambda *t: torch.cat(t, dim))


def test_cat_with_a_constant_piece():
    c = np.ones((1, 3), np.float32)
    against_torch(lambda a: gn.cat([a, gn.tensor(c), a], 0), [sample((2, 3))],
                  lambda a: torch.cat([a, torch.from_numpy(c), a], 0))


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    arrays = [sample((2, 3), seed=30 + i) for i in range(3)]
    both(lambda *t: gn.stack(t, dim), arrays, lambda *t: torch.stack(t, dim))


WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((3, 1), (1, 4), ()), ((4,), (3, 4), (4,))]


@pytest.mark.parametrize("shapes", WHERE_SHAPES, ids=str)
def test_where(shapes):
    sc, sa, sb = shapes
    cond = np.random.default_rng(40).random(sc) > 0.5
    both(lambda a, b: gn.where(gn.tensor(cond), a, b), [sample(sa, seed=41), sample(sb, seed=42)],
         lambda a, b: torch.where(torch.from_numpy(cond), a, b))


def test_where_with_a_number_keeps_float32():
    cond = np.array([True, False, True])
    against_torch(lambda a: gn.where(cond, a, 0.0), [sample((3,))],
                  lambda a: torch.where(torch.from_numpy(cond), a, 0.0))
    y = gn.where(cond, gn.zeros(3), np.ones(3))  # a float64 array takes the tensor's dtype
    assert y.dtype == np.float32


@pytest.mark.parametrize("fn", [lambda a, b: gn.cat([a, b]), lambda a, b: gn.stack([a, b]),
                                lambda a, b: gn.where(np.array([True]), a, b)], ids=["cat", "stack", "where"])
def test_joining_float32_with_float64_names_both(fn):
    with pytest.raises(TypeError, match="float32 and float64"):
        fn(gn.zeros(1), gn.zeros(1, dtype=gn.float64))


@pytest.mark.parametrize("bad", [[], (), gn.zeros(3)])
def test_cat_stack_need_a_non_empty_sequence(bad):
    with pytest.raises(TypeError, match="non-empty list or tuple"):
        gn.cat(bad)
    with pytest.raises(TypeError, match="non-empty list or tuple"):
        gn.stack(bad)


def test_cat_shape_mismatch_raises():
    with pytest.raises(ValueError):
        gn.cat([gn.zeros(2, 3), gn.zeros(2, 4)], 0)


# ---- unbroadcast ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (1,), (4,), (3, 1), (1, 4), (3, 4), (2, 1, 1)])
def test_unbroadcast_is_the_adjoint_of_broadcasting(shape):
    # <broadcast(x), g> == <x, unbroadcast(g)> for every x and g: that is what makes it the gradient
    full = np.broadcast_shapes(shape, (2, 3, 4))
    rng = np.random.default_rng(50)
    x, g = rng.standard_normal(shape), rng.standard_normal(full)
    np.testing.assert_allclose(np.vdot(np.broadcast_to(x, full), g), np.vdot(x, unbroadcast(g, shape)))
    assert unbroadcast(g, shape).shape == shape


# ---- operations added for PyTorch users -----------------------------------------------------

@pytest.mark.parametrize("name, fn, tfn", [
    ("rpow", lambda a: 2.0 ** a, None),
    ("rpow_fraction", lambda a: 0.5 ** (a * 3), None),
    ("abs_builtin", lambda a: abs(a), None),
    ("clone", lambda a: a.clone() * a, None),
    ("contiguous", lambda a: a.T.contiguous() * 2, None),
    ("t", lambda a: a.t() @ a, None),
    ("method_forms", lambda a: a.add(1).sub(0.5).mul(a).div(2.0).pow(2).matmul(a.t()), None),
])
def test_method_and_reflected_forms(name, fn, tfn):
    both(fn, [sample((3, 3), seed=60)], tfn)


def test_pow_zero_has_zero_gradient_at_zero():
    against_torch(lambda a: a ** 0, [np.array([0.0, 1.0, -2.0])])


def test_rpow_needs_a_positive_base():
    with pytest.raises(TypeError, match="positive number"):
        (-2.0) ** gn.tensor([1.0])


def test_clone_copies_data():
    a = gn.tensor([1.0, 2.0])
    c = a.clone()
    c.data[0] = 9
    assert a.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("call", [
    lambda x: x.sum(2), lambda x: x.sum((0, -3)), lambda x: x.mean(5), lambda x: x.var(-3), lambda x: x.max(2),
    lambda x: x.min(-3), lambda x: x.unsqueeze(3), lambda x: x.squeeze(2), lambda x: x.flatten(0, 2),
    lambda x: x.transpose(0, 2), lambda x: gn.cat([x, x], 2), lambda x: gn.stack([x, x], 3),
    lambda x: x.permute(0, 2),
], ids=["sum", "sum_tuple", "mean", "var", "max", "min", "unsqueeze", "squeeze", "flatten", "transpose",
        "cat", "stack", "permute"])
def test_out_of_range_dims_are_refused_as_torch(call):
    # a wrapped dim (5 % 2 == 1) would silently reduce the wrong axis
    x = gn.zeros(2, 3)
    with pytest.raises(IndexError, match=r"dimension out of range \(expected to be in range of \[-\d, \d\], but got"):
        call(x)


def test_permute_with_the_wrong_number_of_dims():
    with pytest.raises(ValueError, match=r"permute needs 2 dims for a tensor of shape \(2, 3\), got \(0,\)"):
        gn.zeros(2, 3).permute(0)


def test_zero_dim_tensors_take_dim_0_and_minus_1_as_torch():
    x, t = gn.tensor(3.0), torch.tensor(3.0)
    assert x.sum(0).item() == t.sum(0).item() and x.max(-1).values.item() == t.max(-1).values.item()
    assert x.max(0).indices.item() == t.max(0).indices.item() == 0
    assert x.squeeze(0).shape == () and x.unsqueeze(0).shape == (1,) and x.flatten().shape == (1,)


# ---- random broadcasting shapes -------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       op=st.sampled_from(list(BINARY)))
def test_binary_broadcasting_on_random_shapes(shapes, op):
    a = sample(shapes.input_shapes[0], seed=70)
    b = sample(shapes.input_shapes[1], "away" if op == "div" else "real", seed=71)
    against_torch(BINARY[op], [a, b])


# ---- Tensor methods that call glassnet.functional -------------------------------------------

@pytest.mark.parametrize("name, fn", [
    ("relu", lambda a: a.relu()), ("sigmoid", lambda a: a.sigmoid()), ("tanh", lambda a: a.tanh()),
    ("softmax", lambda a: a.softmax(1)), ("softmax_last", lambda a: a.softmax(-1)),
    ("log_softmax", lambda a: a.log_softmax(0)),
])
def test_activation_methods(name, fn):
    both(fn, [sample((3, 4), "away", seed=80)])
