"""glassnet.data.images: images and .npy arrays from outside, sizes checked before decoding."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from glassnet.data.images import MAX_PIXELS, load_npy, open_image
from glassnet.untrusted import InvalidFileError


def png_of_zeros(width, height):
    """A valid 1-bit grey PNG of `width` x `height` black pixels, compressed row by row: a
    20000 x 20000 one is 50 MB of pixel data in about 50 kB."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = bytes(1 + (width + 7) // 8)  # filter type 0, then the packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def photo(fmt="PNG", size=(48, 64)):
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(buffer, fmt)
    return buffer.getvalue()


def test_a_small_png_of_zeros_is_what_it_claims():
    image = Image.open(io.BytesIO(png_of_zeros(20, 3)))
    assert image.size == (20, 3) and np.asarray(image).max() == 0


@pytest.mark.parametrize("width, height", [(20000, 20000),   # past PIL's own limit: PIL raises its error
                                           (10000, 10000),   # past PIL's warning only
                                           (6000, 4200)])    # just past ours
def test_image_bombs_are_refused_from_the_header(tmp_path, monkeypatch, width, height):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_of_zeros(width, height))
    assert path.stat().st_size < 200_000

    def no_decoding(self):
        raise AssertionError("the image was decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(InvalidFileError, match=rf"bomb.png is not a valid image: the image has ({width} x {height} = )?"
                                               rf"{width * height:,} pixels, more than the {MAX_PIXELS:,} glassnet reads"):
        open_image(path)


def test_an_image_under_the_limit_is_decoded(tmp_path):
    (tmp_path / "ok.png").write_bytes(photo("PNG"))
    (tmp_path / "ok.jpg").write_bytes(photo("JPEG"))
    image = open_image(tmp_path / "ok.png")
    assert image.size == (64, 48) and image.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(image), np.asarray(Image.open(tmp_path / "ok.png")))
    assert open_image(tmp_path / "ok.jpg").size == (64, 48)
    assert open_image(tmp_path / "ok.png", max_pixels=64 * 48).size == (64, 48)
    with pytest.raises(InvalidFileError, match="has 64 x 48 = 3,072 pixels, more than the 3,071"):
        open_image(tmp_path / "ok.png", max_pixels=64 * 48 - 1)


def _damage(data, how):
    data = bytearray(data)
    if how == "truncated":
        return bytes(data[: len(data) // 2])
    if how == "header cut":
        return bytes(data[:20])
    if how == "garbage in the data":
        data[len(data) // 2: len(data) // 2 + 40] = b"\xff" * 40
        return bytes(data)
    return b"this is not an image at all"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("how", ["truncated", "header cut", "garbage in the data", "text"])
def test_corrupt_images_are_clean_errors_naming_the_file(tmp_path, fmt, how):
    path = tmp_path / f"broken.{fmt.lower()}"
    path.write_bytes(_damage(photo(fmt), how))
    with pytest.raises(InvalidFileError, match=rf"broken.{fmt.lower()} is not a valid image: "
                                               r"(not a PNG, JPEG, BMP, GIF, WEBP image|the (header|\w+ data) is truncated or corrupt)"):
        open_image(path)


def test_formats_other_than_the_common_ones_are_refused(tmp_path):
    buffer = io.BytesIO()
    Image.new("L", (4, 4)).save(buffer, "PPM")
    (tmp_path / "x.ppm").write_bytes(buffer.getvalue())
    with pytest.raises(InvalidFileError, match="x.ppm is not a valid image: not a PNG, JPEG, BMP, GIF, WEBP image"):
        open_image(tmp_path / "x.ppm")


# ---- .npy ------------------------------------------------------------------------------------

@pytest.mark.parametrize("array", [np.arange(12, dtype=np.float32).reshape(3, 4),
                                   np.asfortranarray(np.arange(12.0).reshape(3, 4)),
                                   np.arange(6, dtype=">i4"), np.array([True, False]), np.zeros((0, 3), np.uint8)])
def test_npy_reads_what_numpy_wrote(tmp_path, array):
    np.save(tmp_path / "a.npy", array)
    back = load_npy(tmp_path / "a.npy")
    np.testing.assert_array_equal(back, array)
    assert back.shape == array.shape and back.dtype == array.dtype.newbyteorder("=")


def _npy_with_header(shape, dtype="<f4", data=b""):
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


@pytest.mark.parametrize("content, message", [
    (lambda: _npy_with_header((100_000, 100_000), data=bytes(16)),
     r"the array has shape \(100000, 100000\), 10,000,000,000 values, more than the 16,777,216 expected"),
    (lambda: _npy_with_header((2**62, 2**62)), r"the array has shape .* more than the"),
    (lambda: _npy_with_header((4,), data=bytes(15)), r"shape \(4,\) of float32 needs 16 bytes of data, the file holds 15"),
    (lambda: _npy_with_header((4,), "<c8", bytes(32)), r"expected an array of numbers, found dtype complex64"),
    (lambda: b"not an npy file", r"the magic string is not correct"),
    (lambda: _npy_with_header((2,), data=np.array([1, np.nan], np.float32).tobytes()), "the array holds NaN or infinite values"),
])
def test_hostile_npy_files_are_clean_errors(tmp_path, content, message):
    (tmp_path / "x.npy").write_bytes(content())
    with pytest.raises(InvalidFileError, match=r"x.npy is not a valid NumPy .npy file: " + message):
        load_npy(tmp_path / "x.npy")


def test_npy_of_objects_is_refused_not_unpickled(tmp_path):
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    np.save(tmp_path / "evil.npy", np.array([Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidFileError, match=r"evil.npy is not a valid NumPy .npy file: expected an array of numbers, found dtype object"):
        load_npy(tmp_path / "evil.npy")
    assert not marker.exists()
