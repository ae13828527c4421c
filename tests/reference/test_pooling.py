"""The reference pooling (glassnet/reference/pooling.py) as the oracle: against PyTorch, against
finite differences, and the fast kernels (glassnet/kernels/pooling.py) against it."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from glassnet.kernels import pooling as fast
from glassnet.kernels.sizes import pool_geometry
from glassnet.reference import pooling as ref
from glassnet.testing import check_gradients


@st.composite
def pool_cases(draw):
    nd = draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    size = tuple(draw(st.integers(2, 7 if nd < 3 else 5)) for _ in range(nd))
    ceil_mode = draw(st.booleans())
    try:
        pool_geometry(size, k, s, p, d, ceil_mode)
    except ValueError:
        assume(False)
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size, k=k, s=s, p=p, d=d,
                ceil_mode=ceil_mode, count_include_pad=draw(st.booleans()))


TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


@settings(max_examples=60, deadline=None)
@given(case=pool_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_max_pool_matches_the_reference(case, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case["shape"]).astype(dtype)
    opts = (case["k"], case["s"], case["p"], case["d"], case["ceil_mode"])
    y, idx = fast.max_pool_forward(x, *opts)
    y_ref, idx_ref = ref.max_pool_forward(x, *opts)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    dy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(fast.max_pool_backward(dy, idx, x.shape), ref.max_pool_backward(dy, idx_ref, x.shape),
                               **TOL[dtype])


@settings(max_examples=60, deadline=None)
@given(case=pool_cases(), dtype=st.sampled_from([np.float32, np.float64]), override=st.sampled_from([None, 3]))
def test_fast_avg_pool_matches_the_reference(case, dtype, override):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case["shape"]).astype(dtype)
    opts = (case["k"], case["s"], case["p"], case["ceil_mode"], case["count_include_pad"], override)
    y = fast.avg_pool_forward(x, *opts)
    np.testing.assert_allclose(y, ref.avg_pool_forward(x, *opts), **TOL[dtype])
    dy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(fast.avg_pool_backward(dy, x.shape, *opts), ref.avg_pool_backward(dy, x.shape, *opts),
                               **TOL[dtype])


@settings(max_examples=40, deadline=None)
@given(size=st.lists(st.integers(1, 9), min_size=1, max_size=3), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_adaptive_pools_match_the_reference(size, data, dtype):
    out = tuple(data.draw(st.integers(1, n + 2)) for n in size)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2) + tuple(size)).astype(dtype)
    y = fast.adaptive_avg_pool_forward(x, out)
    np.testing.assert_allclose(y, ref.adaptive_avg_pool_forward(x, out), **TOL[dtype])
    dy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(fast.adaptive_avg_pool_backward(dy, x.shape),
                               ref.adaptive_avg_pool_backward(dy, x.shape), **TOL[dtype])
    (y, idx), (y_ref, idx_ref) = fast.adaptive_max_pool_forward(x, out), ref.adaptive_max_pool_forward(x, out)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_reference_pools_match_pytorch(nd, ceil_mode):
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((2, 3) + (9, 8, 7)[:nd])
    k, s, p, d = (3, 2, 3)[:nd], (2, 2, 3)[:nd], (1, 1, 0)[:nd], (1, 2, 1)[:nd]
    tx = torch.tensor(x, requires_grad=True)
    ty, tidx = getattr(F, f"max_pool{nd}d")(tx, k, s, p, d, ceil_mode, return_indices=True)
    y, idx = ref.max_pool_forward(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(idx, tidx.numpy())
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_array_equal(ref.max_pool_backward(dy, idx, x.shape), tx.grad.numpy())
    for include_pad in (True, False):
        tx = torch.tensor(x, requires_grad=True)
        ty = getattr(F, f"avg_pool{nd}d")(tx, k, s, p, ceil_mode, include_pad)
        y = ref.avg_pool_forward(x, k, s, p, ceil_mode, include_pad)
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-13)
        dy = rng.standard_normal(y.shape)
        ty.backward(torch.tensor(dy))
        np.testing.assert_allclose(ref.avg_pool_backward(dy, x.shape, k, s, p, ceil_mode, include_pad),
                                   tx.grad.numpy(), rtol=1e-10, atol=1e-13)
    out = (4, 3, 5)[:nd]
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(F, f"adaptive_avg_pool{nd}d")(tx, out)
    np.testing.assert_allclose(ref.adaptive_avg_pool_forward(x, out), ty.detach().numpy(), rtol=1e-10, atol=1e-13)
    dy = rng.standard_normal(ty.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(ref.adaptive_avg_pool_backward(dy, x.shape), tx.grad.numpy(), rtol=1e-10, atol=1e-13)
    ty, tidx = getattr(F, f"adaptive_max_pool{nd}d")(torch.tensor(x), out, return_indices=True)
    y, idx = ref.adaptive_max_pool_forward(x, out)
    np.testing.assert_array_equal(y, ty.numpy())
    np.testing.assert_array_equal(idx, tidx.numpy())


def test_reference_pool_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 2, 6, 7))
    opts = ((3, 2), (2, 2), (1, 1), True, False, None)
    check_gradients(lambda x: ref.avg_pool_forward(x, *opts),
                    lambda dy, x: (ref.avg_pool_backward(dy, x.shape, *opts),), [x])
    check_gradients(lambda x: ref.max_pool_forward(x, (3, 2), (2, 1), (1, 0), (1, 2), True)[0],
                    lambda dy, x: (ref.max_pool_backward(dy, ref.max_pool_forward(x, (3, 2), (2, 1), (1, 0), (1, 2), True)[1], x.shape),),
                    [x])
    check_gradients(lambda x: ref.adaptive_avg_pool_forward(x, (4, 3)),
                    lambda dy, x: (ref.adaptive_avg_pool_backward(dy, x.shape),), [x])
