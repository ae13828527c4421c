"""The generated data sets: MNIST-1D, Shapes, Clips."""

import numpy as np
import pytest

from glassnet.data import MNIST1D, Clips, DataLoader, Shapes
from glassnet.data.clips import make_clips
from glassnet.data.mnist1d import make_mnist1d
from glassnet.data.shapes import SHAPE_CLASSES, make_shapes

# ---------------------------------------------------------------- MNIST-1D


def test_mnist1d_shapes_and_dtypes():
    train, test = MNIST1D(train=True), MNIST1D(train=False)
    assert train.data.shape == (4000, 1, 40) and test.data.shape == (1000, 1, 40)
    assert train.data.dtype == np.float32 and train.targets.dtype == np.int64
    xb, yb = next(iter(DataLoader(train, batch_size=32, shuffle=True, seed=0)))
    assert xb.shape == (32, 1, 40) and yb.shape == (32,)


def test_mnist1d_matches_the_reference_generator():
    # values printed by the reference implementation (mnist1d 0.0.2, make_dataset with its default
    # arguments, seed 42), i.e. the published data set
    x_train, y_train, x_test, y_test = make_mnist1d(42)
    np.testing.assert_allclose(x_train[0, :5], [-0.33200566736939013, -0.4719103656557236, -0.778697076293495,
                                                -1.0097408265367045, -0.8823525654053073], rtol=1e-10)
    np.testing.assert_allclose(x_test[3, :4], [2.2846257357058386, 1.6926426790680622, 0.5868403879451024,
                                               0.005684776312198786], rtol=1e-9)
    assert y_train[:10].tolist() == [2, 6, 4, 5, 6, 6, 6, 0, 3, 1]
    assert y_test[:10].tolist() == [2, 6, 3, 9, 4, 3, 1, 9, 5, 2]
    np.testing.assert_allclose(x_train.sum(), -51.78746787509559, rtol=1e-9)


def test_mnist1d_determinism_balance_and_standardisation():
    fresh = make_mnist1d.__wrapped__(42)  # bypass the cache: really generated twice
    for a, b in zip(fresh, make_mnist1d(42)):
        np.testing.assert_array_equal(a, b)
    x_train, y_train, x_test, y_test = fresh
    assert np.bincount(np.concatenate([y_train, y_test])).tolist() == [500] * 10
    assert 300 < np.bincount(y_train).min() and np.bincount(y_train).max() < 500
    x = np.concatenate([x_train, x_test])
    assert abs(x.mean()) < 1e-9 and abs(x.std() - 1) < 1e-9
    other = make_mnist1d(7)
    assert not np.allclose(other[0], x_train)
    small = make_mnist1d(1, num_samples=100, final_seq_length=20)
    assert small[0].shape == (80, 20) and small[2].shape == (20, 20)


def test_mnist1d_classes_are_the_templates():
    # averaging the noise away, each class correlates best with its own class mean from a
    # disjoint split: the labels belong to the signals
    x_train, y_train, x_test, y_test = make_mnist1d(42)
    means = np.stack([x_train[y_train == k].mean(0) for k in range(10)])  # (10, 40)
    nearest = np.argmin(((x_test[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == y_test).mean() > 0.25  # chance is 0.1; translation makes this a hard task


# ---------------------------------------------------------------- Shapes


def classify_shape(img):
    """An independent, hand-written classifier for noise-free shape images."""
    h, w = img.shape
    yy, xx = np.mgrid[:h, :w].astype(float)
    ink = img / img.sum()
    cy, cx = (ink * yy).sum(), (ink * xx).sum()
    dy, dx = yy - cy, xx - cx
    if img[int(round(cy)), int(round(cx))] > 0.5 * img.max():  # inked centre: open shapes
        cov = np.array([[(ink * dy * dy).sum(), (ink * dy * dx).sum()], [(ink * dy * dx).sum(), (ink * dx * dx).sum()]])
        lo, hi = np.linalg.eigvalsh(cov)
        return "line" if lo / hi < 0.2 else "cross"
    spread = {}
    for name, dist in (("square", np.maximum(abs(dy), abs(dx))), ("diamond", abs(dy) + abs(dx)),
                       ("circle", np.hypot(dy, dx))):
        mean = (ink * dist).sum()
        spread[name] = np.sqrt((ink * (dist - mean) ** 2).sum()) / mean
    return min(spread, key=spread.get)


def test_shape_labels_are_correct():
    x, y = make_shapes(300, noise=0.0, seed=5)
    predicted = [classify_shape(img[0]) for img in x]
    assert [SHAPE_CLASSES[k] for k in y] == predicted


def test_shapes_determinism_balance_and_splits():
    a, b = Shapes(num_samples=200, seed=3), Shapes(num_samples=200, seed=3)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert a.data.shape == (200, 1, 28, 28) and a.data.dtype == np.float32 and a.targets.dtype == np.int64
    assert np.bincount(a.targets).tolist() == [40] * 5
    assert not np.array_equal(a.data, Shapes(num_samples=200, seed=4).data)
    assert not np.array_equal(a.data, Shapes(train=False, num_samples=200, seed=3).data)
    assert len(Shapes()) == 4000 and len(Shapes(train=False)) == 1000
    assert Shapes(num_samples=4, size=32).data.shape == (4, 1, 32, 32)


@pytest.mark.parametrize("size", [8, 12, 16, 20, 24, 25, 28, 40])
def test_shapes_stay_inside_the_image(size):
    """At every size from the smallest allowed (below 25 pixels the largest shapes are shrunk to fit)."""
    x, y = make_shapes(200, size=size, noise=0.0, seed=1)
    border = np.concatenate([x[:, 0, 0, :], x[:, 0, -1, :], x[:, 0, :, 0], x[:, 0, :, -1]], axis=1)
    assert border.max() == 0
    assert x.shape == (200, 1, size, size) and (x.reshape(200, -1).max(axis=1) > 0.25).all()  # every image has ink
    assert Shapes(num_samples=10, size=size).data.shape == (10, 1, size, size)


def test_a_stroke_too_wide_for_the_image_is_refused():
    with pytest.raises(ValueError, match="no room for a shape drawn 3.5 pixels wide: size must exceed 9"):
        make_shapes(4, size=9, width=3.5)


# ---------------------------------------------------------------- Clips


def direction_of_motion(clip, directions):
    """Independent estimate: circular centroid per frame, mean wrapped displacement -> angle."""
    t, h, w = clip.shape
    ink = clip.reshape(t, -1) / clip.reshape(t, -1).sum(1, keepdims=True)
    yy, xx = np.mgrid[:h, :w]
    pos = []
    for coord, n in ((yy.ravel(), h), (xx.ravel(), w)):
        phase = (ink * np.exp(2j * np.pi * coord / n)).sum(1)  # (T,)
        pos.append(np.angle(phase) * n / (2 * np.pi))
    py, px = pos
    step_y = (np.diff(py) + h / 2) % h - h / 2
    step_x = (np.diff(px) + w / 2) % w - w / 2
    angle = np.arctan2(-step_y.mean(), step_x.mean())  # rows grow downwards
    return int(np.round(angle / (2 * np.pi / directions))) % directions


@pytest.mark.parametrize("directions", [4, 8])
def test_clip_labels_are_the_direction_of_motion(directions):
    x, y = make_clips(120, directions=directions, noise=0.0, seed=2)
    assert x.shape == (120, 1, 8, 16, 16)
    assert [direction_of_motion(c[0], directions) for c in x] == y.tolist()


def test_no_single_frame_tells_the_direction():
    # positions are uniform on the torus: the mean first frame is the same for every direction
    x, y = make_clips(4000, noise=0.0, seed=0)
    first = x[:, 0, 0]
    per_direction = np.stack([first[y == k].mean(0) for k in range(8)])  # (8, 16, 16)
    assert np.abs(per_direction - first.mean(0)).max() < 0.15
    moved = np.abs(x[:, 0, 1:] - x[:, 0, :-1]).mean()
    assert moved > 0.05  # and consecutive frames do differ


def test_clips_determinism_and_balance():
    a, b = Clips(num_samples=64, seed=1), Clips(num_samples=64, seed=1)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert np.bincount(a.targets).tolist() == [8] * 8
    assert a.data.dtype == np.float32 and a.targets.dtype == np.int64
    assert not np.array_equal(a.data, Clips(train=False, num_samples=64, seed=1).data)
    assert Clips(num_samples=4, frames=6, size=12).data.shape == (4, 1, 6, 12, 12)
    xb, yb = next(iter(DataLoader(a, batch_size=16, shuffle=True, seed=0)))
    assert xb.shape == (16, 1, 8, 16, 16) and yb.dtype == np.int64


def test_no_pickle_in_the_data_package():
    # the data sets are generated or read from IDX: nothing may unpickle files
    import glassnet.data
    from pathlib import Path
    for path in Path(glassnet.data.__file__).parent.glob("*.py"):
        text = path.read_text()
        if path.name == "_worker.py":
            # the one exception: batches pickled between the loader and its own worker processes,
            # through pipes; that module opens and loads no file
            assert "open(" not in text and "np.load" not in text and "pickle.load(" not in text
            continue
        assert "pickle" not in text and "allow_pickle" not in text, path.name
