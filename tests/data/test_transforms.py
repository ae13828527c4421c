import numpy as np
import pytest

from glassnet.data import transforms as T


def batch(n=6, c=2, h=7, w=9, dtype=np.float32):
    return np.random.default_rng(1).standard_normal((n, c, h, w)).astype(dtype)


def reference_crop(x, size, pads, offsets, fill=0.0):
    """Per-sample loop: pad one sample, slice at its offsets."""
    out = []
    for i, sample in enumerate(x):
        p = np.pad(sample, [(0, 0)] + list(pads), constant_values=fill)
        sl = tuple(slice(o[i], o[i] + k) for o, k in zip(offsets, size))
        out.append(p[(slice(None),) + sl])
    return np.stack(out)


@pytest.mark.parametrize("size,padding", [(5, None), ((7, 9), 2), ((4, 6), ((1, 0), (3, 2))), (7, 1)])
def test_random_crop_matches_per_sample_reference(size, padding):
    x = batch()
    crop = T.RandomCrop(size, padding=padding)
    out = crop(x, generator=np.random.default_rng(4))
    # the same draws, in the transform's documented order (one offset array per dimension)
    rng = np.random.default_rng(4)
    pads = crop.pads
    offsets = [rng.integers(0, n + lo + hi - k + 1, size=len(x)) for n, (lo, hi), k in zip(x.shape[2:], pads, crop.size)]
    np.testing.assert_array_equal(out, reference_crop(x, crop.size, pads, offsets))
    assert out.shape == (6, 2) + crop.size and out.dtype == np.float32


def test_random_crop_covers_all_offsets_and_is_seeded():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4).repeat(400, axis=0)
    crop = T.RandomCrop(2)
    out = crop(x, generator=np.random.default_rng(0))
    corners = set(out[:, 0, 0, 0].tolist())
    assert corners == {0, 1, 2, 4, 5, 6, 8, 9, 10}  # all 3 x 3 positions of a 2x2 window in 4x4
    np.testing.assert_array_equal(out, crop(x, generator=np.random.default_rng(0)))
    assert not np.array_equal(out, crop(x, generator=np.random.default_rng(1)))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
def test_random_crop_padding_modes_keep_shape(mode):
    x = batch()
    out = T.RandomCrop((7, 9), padding=2, padding_mode=mode, fill=5.0)(x, generator=np.random.default_rng(0))
    assert out.shape == x.shape


@pytest.mark.parametrize("shape,size", [((3, 1, 40), (40,)), ((2, 1, 8, 16, 16), (8, 16, 16))])
def test_random_crop_1d_and_3d(shape, size):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = T.RandomCrop(size, padding=2)(x, generator=np.random.default_rng(0))
    assert out.shape == shape


def test_random_crop_errors_and_pad_if_needed():
    x = batch(h=4, w=4)
    with pytest.raises(ValueError, match=r"size \(5, 5\) does not fit input of shape \(6, 2, 4, 4\)"):
        T.RandomCrop(5)(x)
    assert T.RandomCrop(5, pad_if_needed=True)(x).shape == (6, 2, 5, 5)
    with pytest.raises(ValueError, match=r"with 2 spatial dimension\(s\), got shape \(4, 4\)"):
        T.RandomCrop(2)(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        T.RandomCrop(2, padding_mode="mirror")


def test_horizontal_and_vertical_flip():
    x = batch()
    for cls, axis in ((T.RandomHorizontalFlip, -1), (T.RandomVerticalFlip, -2)):
        out = cls(p=0.5)(x, generator=np.random.default_rng(3))
        flipped = np.random.default_rng(3).random(len(x)) < 0.5
        assert 0 < flipped.sum() < len(x)  # this seed exercises both branches
        for i in range(len(x)):
            np.testing.assert_array_equal(out[i], np.flip(x[i], axis) if flipped[i] else x[i])
        np.testing.assert_array_equal(cls(p=0.0)(x), x)
        np.testing.assert_array_equal(cls(p=1.0)(x), np.flip(x, axis))
        assert out.dtype == np.float32


def test_random_translation_matches_shifted_reference():
    x = batch(n=20)
    tr = T.RandomTranslation((0.3, 0.2), fill=-1.0)
    out = tr(x, generator=np.random.default_rng(5))
    rng = np.random.default_rng(5)
    dx = np.rint(rng.uniform(-0.3 * 9, 0.3 * 9, size=20)).astype(int)
    dy = np.rint(rng.uniform(-0.2 * 7, 0.2 * 7, size=20)).astype(int)
    assert len(set(dx.tolist())) > 2 and len(set(dy.tolist())) > 1
    for i in range(20):
        expected = np.full_like(x[i], -1.0)
        h, w = x.shape[-2:]
        src = x[i][:, max(0, -dy[i]):h - max(0, dy[i]), max(0, -dx[i]):w - max(0, dx[i])]
        expected[:, max(0, dy[i]):max(0, dy[i]) + src.shape[1], max(0, dx[i]):max(0, dx[i]) + src.shape[2]] = src
        np.testing.assert_array_equal(out[i], expected)
    assert out.shape == x.shape
    with pytest.raises(ValueError, match=r"fractions must lie in \[0, 1\]"):
        T.RandomTranslation((1.5, 0))


def test_normalize_and_to_tensor():
    x = batch(c=3)
    out = T.Normalize([0.1, 0.2, 0.3], [1.0, 2.0, 4.0])(x)
    expected = (x - np.array([0.1, 0.2, 0.3], np.float32)[:, None, None]) / np.array([1, 2, 4], np.float32)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32
    assert T.Normalize(0.5, 0.25)(x.astype(np.float64)).dtype == np.float64  # never changes the dtype
    with pytest.raises(ValueError, match=r"2 mean values but the input has 3 channels \(shape \(6, 3, 7, 9\)\)"):
        T.Normalize([0, 0], [1, 1])(x)
    with pytest.raises(TypeError, match="use ToTensor first"):
        T.Normalize(0, 1)(np.zeros((2, 1, 3, 3), np.uint8))
    imgs = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # (1, 2, 2)
    t = T.ToTensor()(imgs)
    assert t.shape == (1, 1, 2, 2) and t.dtype == np.float32
    np.testing.assert_allclose(t[0, 0], [[0, 1], [0.2, 0.4]], rtol=1e-6)


def test_compose_is_deterministic_for_a_generator():
    x = batch()
    pipe = T.Compose([T.RandomCrop((7, 9), padding=2), T.RandomHorizontalFlip(), T.RandomTranslation(0.2),
                      T.Normalize(0.0, 2.0)])
    a = pipe(x, generator=np.random.default_rng(9))
    np.testing.assert_array_equal(a, pipe(x, generator=np.random.default_rng(9)))
    assert a.shape == x.shape and a.dtype == np.float32
    assert "RandomCrop" in repr(pipe)
