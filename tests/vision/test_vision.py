"""glassnet.vision: torchvision's per-sample data sets and transforms, against references written
here (NumPy formulas, PIL's own operations) since torchvision itself is not a test dependency."""

import numpy as np
import pytest
from PIL import Image

import glassnet
from glassnet.data import DataLoader
from glassnet.tensor import Tensor
from glassnet.vision import datasets, transforms

from data.test_mnist import tiny_class, tiny_split  # tests/data: the small stand-in IDX files


@pytest.fixture
def tiny_mnist(monkeypatch, tmp_path):
    """datasets.FashionMNIST reading the small stand-in files of the data tests."""
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    raw = tiny_split(0)
    for name, data in raw.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.setattr(datasets.FashionMNIST, "_source", tiny_class(raw))
    return tmp_path


def test_samples_are_pil_images_and_int_targets(tiny_mnist):
    ds = datasets.FashionMNIST(tiny_mnist, train=True)
    image, target = ds[5]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(image), ds.data.data[5])
    assert target == int(ds.targets.data[5]) and isinstance(target, int)
    assert len(ds) == 12 and ds.data.data.dtype == np.uint8 and ds.targets.data.dtype == np.int64
    assert ds.classes[0] == "T-shirt/top"


def test_a_transformed_data_set_batches_through_the_data_loader(tiny_mnist):
    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    ds = datasets.FashionMNIST(tiny_mnist, train=False, transform=t, target_transform=lambda y: y + 100)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    expected = (ds.data.data[:4, None].astype(np.float32) / 255 - 0.5) / 0.25
    np.testing.assert_allclose(x.data, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(y.data, ds.targets.data[:4] + 100)


def test_to_tensor():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    t = transforms.ToTensor()(Image.fromarray(rgb))
    assert isinstance(t, Tensor) and t.shape == (3, 5, 7) and t.dtype == np.float32
    np.testing.assert_allclose(t.data, rgb.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    floats = rng.random((4, 4)).astype(np.float64)
    np.testing.assert_allclose(transforms.ToTensor()(floats).data[0], floats, rtol=1e-6)  # not scaled
    with pytest.raises(TypeError, match="PIL image or an ndarray"):
        transforms.ToTensor()([1, 2])


def test_normalize_and_its_errors():
    x = glassnet.tensor(np.random.default_rng(1).random((3, 4, 4)).astype(np.float32))
    y = transforms.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))(x)
    mean, std = np.array([0.1, 0.2, 0.3])[:, None, None], np.array([0.5, 0.25, 2.0])[:, None, None]
    np.testing.assert_allclose(y.data, (x.data - mean) / std, rtol=1e-6)
    with pytest.raises(ValueError, match="2 means"):
        transforms.Normalize((0.1, 0.2), (1, 1))(x)
    with pytest.raises(ValueError, match="must not contain 0"):
        transforms.Normalize((0.1,), (0,))


def test_random_crop_with_padding_is_a_window_of_the_padded_image_and_seeded():
    rng = np.random.default_rng(2)
    img = Image.fromarray(rng.integers(0, 256, (10, 12), dtype=np.uint8))
    crop = transforms.RandomCrop(10, padding=2)
    padded = np.pad(np.asarray(img), 2)
    glassnet.manual_seed(3)
    first = [np.asarray(crop(img)) for _ in range(5)]
    for out in first:
        assert out.shape == (10, 10)
        assert any(np.array_equal(out, padded[i:i + 10, j:j + 10]) for i in range(5) for j in range(7))
    glassnet.manual_seed(3)
    assert all(np.array_equal(a, np.asarray(crop(img))) for a in first)
    tensor_crop = transforms.RandomCrop((3, 4))(glassnet.tensor(np.arange(60.0).reshape(1, 6, 10)))
    assert tensor_crop.shape == (1, 3, 4)
    with pytest.raises(ValueError, match="RandomCrop of size"):
        transforms.RandomCrop(20)(img)


def test_flips_center_crop_pad_resize_grayscale():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 256, (6, 9, 3), dtype=np.uint8)
    img = Image.fromarray(a)
    np.testing.assert_array_equal(np.asarray(transforms.RandomHorizontalFlip(1.0)(img)), a[:, ::-1])
    np.testing.assert_array_equal(np.asarray(transforms.RandomVerticalFlip(1.0)(img)), a[::-1])
    np.testing.assert_array_equal(np.asarray(transforms.RandomHorizontalFlip(0.0)(img)), a)
    np.testing.assert_array_equal(np.asarray(transforms.CenterCrop((4, 5))(img)), a[1:5, 2:7])
    np.testing.assert_array_equal(np.asarray(transforms.Pad((1, 2), fill=7)(img)),
                                  np.pad(a, ((2, 2), (1, 1), (0, 0)), constant_values=7))
    assert transforms.Resize(12)(img).size == (18, 12)  # the shorter side (h = 6) becomes 12
    assert transforms.Resize((5, 4))(img).size == (4, 5)
    grey = np.asarray(transforms.Grayscale()(img)).astype(float)
    luma = a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114  # ITU-R 601-2
    assert np.abs(grey - luma).max() <= 1
    assert transforms.Grayscale(3)(img).mode == "RGB"
