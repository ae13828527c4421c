"""The two oracles of an op test in one place: PyTorch (values and every gradient, float32 and
float64) and float64 finite differences through glassnet.testing.gradcheck."""

import numpy as np
import torch

import glassnet
from glassnet.testing import gradcheck

TOLERANCES = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def assert_matches_torch(ours, theirs, arrays, dtype=np.float32, seed=0, rtol=None, atol=None):
    """ours(*glassnet tensors) and theirs(*torch tensors) on the same data: same output and the
    same gradient for every input, under the same random upstream gradient."""
    tol = dict(TOLERANCES[dtype])
    tol.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
    arrays = [np.asarray(a, dtype) for a in arrays]
    g_in = [glassnet.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    g_out, t_out = ours(*g_in), theirs(*t_in)
    assert g_out.dtype == dtype, f"output dtype {g_out.dtype}, expected {np.dtype(dtype)}"
    np.testing.assert_allclose(g_out.data, t_out.detach().numpy(), **tol, err_msg="forward values")
    dy = np.random.default_rng(seed).standard_normal(g_out.shape).astype(dtype)
    g_out.backward(dy)
    t_out.backward(torch.tensor(dy))
    for i, (g, t) in enumerate(zip(g_in, t_in)):
        expected = np.zeros(g.shape, dtype) if t.grad is None else t.grad.numpy()
        got = np.zeros(g.shape, dtype) if g.grad is None else g.grad
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, **tol, err_msg=f"gradient of input {i}")


def assert_finite_differences(ours, arrays, **tol):
    """glassnet's backward of ours against central differences, in float64."""
    tensors = [glassnet.tensor(np.asarray(a, np.float64), dtype=np.float64, requires_grad=True) for a in arrays]
    assert gradcheck(ours, tensors, **tol)
