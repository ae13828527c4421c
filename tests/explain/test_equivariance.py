"""Equivariance and invariance: convolution is exactly translation-equivariant away from the
borders; pooling is approximately invariant to small shifts (Goodfellow fig. 9.8); neither is
equivariant to rotation or scaling (seed 004)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from glassnet.explain import equivariance, kernels
from glassnet.explain.equivariance import shift


def _conv(w, stride=1, padding=1):
    wt = torch.tensor(np.asarray(w, dtype=np.float64))

    def f(x):
        return TF.conv2d(torch.tensor(x, dtype=torch.float64), wt, stride=stride, padding=padding).numpy()
    return f


def _image(seed=0, n=24):
    x = np.zeros((1, 1, n, n))
    x[0, 0, 6:16, 5:17] = np.random.default_rng(seed).standard_normal((10, 12))
    return x


def test_shift_fills_with_zeros():
    a = np.arange(5.0)
    np.testing.assert_array_equal(shift(a, 2, 0), [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(shift(a, -1, 0), [1, 2, 3, 4, 0])


@pytest.mark.parametrize("axis", [-1, -2])
@pytest.mark.parametrize("shift_by", [1, 3, -2])
def test_convolution_is_translation_equivariant(axis, shift_by):
    w = np.random.default_rng(1).standard_normal((3, 1, 3, 3))
    r = equivariance(_conv(w), _image(), shift_by=shift_by, axis=axis, margin=2 + abs(shift_by))
    assert r.aligned and r.output_shift == shift_by
    assert r.error < 1e-12 and r.equivariant
    # ...but not invariant: the feature map moved
    assert r.invariance_error > 0.1 and r.changed_fraction > 0.1


def test_strided_convolution_follows_shifts_by_its_stride_only():
    w = np.random.default_rng(2).standard_normal((1, 1, 3, 3))
    exact = equivariance(_conv(w, stride=2), _image(), shift_by=2, stride=2, margin=3)
    assert exact.output_shift == 1 and exact.error < 1e-12
    off = equivariance(_conv(w, stride=2), _image(), shift_by=1, stride=2, margin=3)
    assert not off.aligned and not off.equivariant and off.error > 0.1


def test_max_pooling_is_approximately_invariant():
    # fig. 9.8: detector outputs all change under a one-pixel shift, only part of the pooled ones
    x = np.random.default_rng(3).standard_normal((1, 1, 1, 60))

    def detector(a):
        return np.maximum(a, 0)

    def pooled(a):
        return TF.max_pool2d(torch.tensor(np.maximum(a, 0)), (1, 3), stride=1).numpy()
    d = equivariance(detector, x, shift_by=1, margin=2)
    p = equivariance(pooled, x, shift_by=1, margin=2)
    assert d.error == 0 and p.error == 0  # both still equivariant
    assert p.changed_fraction < d.changed_fraction
    assert 0.2 < p.changed_fraction < 0.8
    assert d.input_changed_fraction == 1.0


def test_rotation_and_scaling_break_equivariance():
    x = _image(4)
    vertical = _conv(kernels["vertical"][None, None])
    rot = equivariance(vertical, x, "rotate")
    assert rot.relative_error > 0.5 and not rot.equivariant
    # a kernel with the symmetry of the square is rotation-equivariant
    assert equivariance(_conv(kernels["laplacian"][None, None]), x, "rotate").error < 1e-12
    assert equivariance(vertical, x, "scale").relative_error > 0.3
    # the rotated output is exactly the rotated kernel's response: conv(rot x, k) = rot conv(x, rot^-1 k)
    k_back = np.rot90(kernels["vertical"], -1).copy()
    np.testing.assert_allclose(rot.transformed_output, np.rot90(_conv(k_back[None, None])(x), 1, axes=(-2, -1)),
                               atol=1e-12)


def test_glassnet_modules_and_default_margin():
    nn = pytest.importorskip("glassnet.nn")
    layer = nn.Conv2d(1, 2, 3, padding=1)
    r = equivariance(layer, _image().astype(np.float32), shift_by=2)
    assert r.error < 1e-5 and r.output_shift == 2


def test_equivariance_errors():
    with pytest.raises(ValueError, match=r"batch x of shape \(N, C, \*spatial\), got \(4, 4\)"):
        equivariance(lambda a: a, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="transform must be one of"):
        equivariance(lambda a: a, np.zeros((1, 1, 4, 4)), "shear")
    with pytest.raises(ValueError, match="leaves no output units"):
        equivariance(lambda a: a, np.zeros((1, 1, 4, 4)), margin=2)
    with pytest.raises(TypeError, match="got int"):
        equivariance(3, np.zeros((1, 1, 4, 4)))
