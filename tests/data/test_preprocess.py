"""Photos prepared like the training data: grey, light object on black, centred, scaled."""

import numpy as np
import pytest

from glassnet.data.preprocess import FRAME_FILL, prepare_image, resize_area, to_gray, to_unit_range


def _photo(height=300, width=240, background=230, ink=40):
    """A dark T-shirt-like shape, off centre, on a light, slightly noisy RGB background (uint8)."""
    rng = np.random.default_rng(0)
    image = np.full((height, width, 3), background, dtype=np.float64)
    image[40:200, 30:110] = ink            # body, in the upper left
    image[40:80, 10:130] = ink             # sleeves
    image += rng.normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_a_dark_object_on_white_becomes_a_light_centred_object_on_black():
    x, notes = prepare_image(_photo(), (28, 28), "fashion-mnist")
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    img = x[0]
    assert np.abs(img[:, :1]).max() < 0.05 and np.abs(img[:, -1:]).max() < 0.05  # black background
    rows, cols = np.nonzero(img > 0.5)
    assert img[rows, cols].mean() > 0.8  # a light object
    # centred: the bounding box of the object sits in the middle, filling the frame (Fashion-MNIST)
    assert abs((rows.min() + rows.max()) / 2 - 13.5) <= 1 and abs((cols.min() + cols.max()) / 2 - 13.5) <= 1
    assert rows.max() - rows.min() >= 25
    assert any("inverted" in n for n in notes) and any("divided by 255" in n for n in notes)


def test_mnist_digits_fill_a_20x20_box():
    x, _ = prepare_image(_photo(), (28, 28), "mnist")
    rows, cols = np.nonzero(x[0] > 0.05)
    box = round(FRAME_FILL["mnist"] * 28)
    assert box == 20 and rows.max() - rows.min() + 1 <= box and cols.max() - cols.min() + 1 <= box
    assert rows.min() >= 4 and cols.min() >= 4


def test_a_light_object_on_black_is_not_inverted():
    photo = 255 - _photo()  # light shirt on a dark background
    x, notes = prepare_image(photo, (28, 28), "fashion-mnist")
    assert not any("inverted" in n for n in notes)
    assert x[0, 14, 14] > 0.8 and x[0, 0, 0] < 0.05


def test_raw_only_greys_scales_and_resizes():
    photo = _photo()
    x, notes = prepare_image(photo, (28, 28), "fashion-mnist", raw=True)
    assert x.shape == (1, 28, 28) and any("--raw" in n for n in notes)
    expected = resize_area(to_gray(photo), (28, 28))  # no inversion: the background stays light
    np.testing.assert_allclose(x[0], expected, rtol=0, atol=1e-6)
    assert x[0, -1, -1] > 0.8


def test_every_format_is_scaled_alike():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (28, 28)).astype(np.uint8)
    as_uint8, note = to_unit_range(pixels)
    assert "255" in note
    np.testing.assert_array_equal(as_uint8, pixels.astype(np.float32) / np.float32(255))
    # integers typed by hand (int64) are 8-bit values too; floats are taken as already scaled
    np.testing.assert_array_equal(to_unit_range(pixels.astype(np.int64))[0], as_uint8)
    np.testing.assert_array_equal(to_unit_range(as_uint8)[0], as_uint8)
    np.testing.assert_array_equal(to_unit_range(pixels.astype(np.uint16) * 257)[0], as_uint8)
    with pytest.raises(ValueError, match=r"0\.\.255 \(8-bit\), got -1\.\.300"):
        to_unit_range(np.array([[-1, 300]]))


def test_a_blank_image_is_resized_whole():
    x, notes = prepare_image(np.zeros((50, 50), np.uint8), (28, 28))
    assert x.shape == (1, 28, 28) and not x.any() and any("no object" in n for n in notes)


def test_grey_in_every_channel():
    x, _ = prepare_image(_photo(), (16, 16), channels=3)
    assert x.shape == (3, 16, 16) and np.array_equal(x[0], x[2])
