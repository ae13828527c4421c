"""The reference convolution (glassnet/reference/conv.py) as the oracle.

Three checks: the reference against float64 finite differences and against PyTorch, and the fast
kernels (glassnet/kernels/conv.py) against the reference over hypothesis-drawn shapes and
options, including those PyTorch lacks ('full' and asymmetric padding, 'same' with stride, flip).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from glassnet.kernels import conv as fast
from glassnet.kernels.sizes import resolve_padding
from glassnet.reference import conv as ref
from glassnet.testing import check_gradients

TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


@st.composite
def conv_cases(draw, transposed=False):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    size = tuple(draw(st.integers(3, 7 if nd < 3 else 5)) for _ in range(nd))
    if transposed:
        padding = tuple(draw(st.integers(0, 1)) for _ in range(nd))
        op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
        return dict(nd=nd, groups=groups, c_in=c_in, c_out=c_out, k=k, s=s, d=d, size=size,
                    padding=padding, output_padding=op, n=draw(st.integers(1, 3)))
    padding = draw(st.one_of(st.sampled_from(["valid", "same", "full"]), st.integers(0, 2),
                             st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2)) for _ in range(nd)])))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    flip = draw(st.booleans())
    pads = resolve_padding(padding, k, s, d, size)
    assume(all(n + lo + hi >= di * (ki - 1) + 1 for n, (lo, hi), ki, di in zip(size, pads, k, d)))
    assume(mode != "reflect" or all(max(lo, hi) < n for n, (lo, hi) in zip(size, pads)))
    return dict(nd=nd, groups=groups, c_in=c_in, c_out=c_out, k=k, s=s, d=d, size=size, padding=padding,
                mode=mode, flip=flip, n=draw(st.integers(1, 3)))


def arrays(case, dtype, transposed=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((case["n"], case["c_in"]) + case["size"]).astype(dtype)
    w_shape = ((case["c_in"], case["c_out"] // case["groups"]) if transposed
               else (case["c_out"], case["c_in"] // case["groups"])) + case["k"]
    return x, rng.standard_normal(w_shape).astype(dtype), rng.standard_normal(case["c_out"]).astype(dtype)


TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


@settings(max_examples=60, deadline=None)
@given(case=conv_cases(), dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_conv_matches_the_reference(case, dtype):
    x, w, b = arrays(case, dtype)
    opts = (case["s"], case["padding"], case["d"], case["groups"], case["mode"], case["flip"])
    y = fast.conv_forward(x, w, b, *opts)
    np.testing.assert_allclose(y, ref.conv_forward(x, w, b, *opts), **TOL[dtype])
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    for got, want, name in zip(fast.conv_backward(dy, x, w, *opts), ref.conv_backward(dy, x, w, *opts),
                               ("dA", "dW", "db")):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **TOL[dtype], err_msg=name)


@settings(max_examples=40, deadline=None)
@given(case=conv_cases(transposed=True), dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_conv_transpose_matches_the_reference(case, dtype):
    x, w, b = arrays(case, dtype, transposed=True)
    opts = (case["s"], case["padding"], case["output_padding"], case["groups"], case["d"])
    full = [(n - 1) * s + d * (k - 1) + 1 + op - 2 * p for n, s, d, k, op, p in
            zip(case["size"], case["s"], case["d"], case["k"], case["output_padding"], case["padding"])]
    assume(min(full) >= 1)
    y = fast.conv_transpose_forward(x, w, b, *opts)
    np.testing.assert_allclose(y, ref.conv_transpose_forward(x, w, b, *opts), **TOL[dtype])
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    for got, want, name in zip(fast.conv_transpose_backward(dy, x, w, *opts),
                               ref.conv_transpose_backward(dy, x, w, *opts), ("dA", "dW", "db")):
        np.testing.assert_allclose(got, want, **TOL[dtype], err_msg=name)


@pytest.mark.parametrize("padding, mode, flip, groups, stride, dilation", [
    (1, "zeros", False, 1, 1, 1), ("full", "zeros", True, 2, 1, 1), (((0, 2), (1, 0)), "reflect", False, 1, 2, 1),
    ("same", "circular", False, 2, 2, 1), (2, "replicate", True, 1, 1, 2)])
def test_reference_conv_gradients_match_finite_differences(padding, mode, flip, groups, stride, dilation):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((4, 2 // groups, 3, 2)), rng.standard_normal(4)
    opts = (stride, padding, dilation, groups, mode, flip)
    check_gradients(lambda x, w, b: ref.conv_forward(x, w, b, *opts),
                    lambda dy, x, w, b: ref.conv_backward(dy, x, w, *opts), [x, w, b])


def test_reference_conv_transpose_gradients_match_finite_differences():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 4, 3, 4)), rng.standard_normal((4, 1, 3, 2)), rng.standard_normal(2)
    opts = ((2, 1), 1, (1, 0), 2, (1, 2))
    check_gradients(lambda x, w, b: ref.conv_transpose_forward(x, w, b, *opts),
                    lambda dy, x, w, b: ref.conv_transpose_backward(dy, x, w, *opts), [x, w, b])


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_reference_conv_matches_pytorch(nd, mode):
    rng = np.random.default_rng(nd)
    size, k = (7, 6, 5)[:nd], (3, 2, 3)[:nd]
    x, w, b = rng.standard_normal((2, 4) + size), rng.standard_normal((6, 2) + k), rng.standard_normal(6)
    s, p, d = (2, 1, 1)[:nd], (1, 2, 1)[:nd], (1, 2, 1)[:nd]
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    padded = F.pad(tx, [v for pi in reversed(p) for v in (pi, pi)], mode=TORCH_MODE[mode])
    ty = getattr(F, f"conv{nd}d")(padded, tw, tb, s, 0, d, 2)
    y = ref.conv_forward(x, w, b, s, p, d, 2, mode)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    for got, t in zip(ref.conv_backward(dy, x, w, s, p, d, 2, mode), (tx, tw, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_reference_conv_transpose_matches_pytorch(nd):
    rng = np.random.default_rng(10 + nd)
    x, w, b = rng.standard_normal((2, 4) + (4, 3, 3)[:nd]), rng.standard_normal((4, 3) + (3, 2, 2)[:nd]), rng.standard_normal(6)
    s, p, op, d = (2, 1, 2)[:nd], (1, 0, 1)[:nd], (1, 0, 0)[:nd], (1, 2, 1)[:nd]
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = getattr(F, f"conv_transpose{nd}d")(tx, tw, tb, s, p, op, 2, d)
    y = ref.conv_transpose_forward(x, w, b, s, p, op, 2, d)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    for got, t in zip(ref.conv_transpose_backward(dy, x, w, s, p, op, 2, d), (tx, tw, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_the_input_gradient_is_the_full_correlation_with_rot180():
    """Seed 003's matrix form in 2-D, one map: dA = rot180(W) * dZ with 'full' padding, by hand."""
    rng = np.random.default_rng(5)
    A, W = rng.standard_normal((1, 1, 5, 5)), rng.standard_normal((1, 1, 3, 3))
    dZ = rng.standard_normal((1, 1, 3, 3))
    dA, _, _ = ref.conv_backward(dZ, A, W)
    padded = np.pad(dZ[0, 0], 2)  # 'full': k - 1 zeros on every side
    rot = W[0, 0, ::-1, ::-1]
    by_hand = np.array([[np.sum(padded[i:i + 3, j:j + 3] * rot) for j in range(5)] for i in range(5)])
    np.testing.assert_allclose(dA[0, 0], by_hand, rtol=1e-12)
