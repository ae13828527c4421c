"""Channels-last copies and channel sums (kernels/fast/layout.py)."""

import numpy as np
import pytest

from glassnet.kernels.fast import layout


def _channels_last_memory(a):
    """The same values in channels-last memory, as an NCHW view."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)


# channel by channel up to FEW_CHANNELS, from NCHW memory a pixel at a time for PIXEL_CHANNELS, else in CHANNEL_BLOCKs
@pytest.mark.parametrize("channels", [1, 3, 7, 8, 9, 17, 32, 33, 40])
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [((0, 0), (0, 0)), ((1, 2), (2, 0))])
@pytest.mark.parametrize("memory", ["nchw", "channels_last", "strided"])
def test_to_channels_last_is_a_padded_transposition(channels, padding_mode, pads, memory):
    x = np.random.default_rng(8).standard_normal((3, channels, 5, 4)).astype(np.float32)
    if memory == "channels_last":
        x = _channels_last_memory(x)  # same values
    elif memory == "strided":  # neither layout: every other column of a wider array
        wide = np.random.default_rng(9).standard_normal((3, channels, 5, 8)).astype(np.float32)
        x = wide[..., ::2]
    numpy_mode = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
    expected = np.pad(np.moveaxis(x, 1, -1), ((0, 0),) + pads + ((0, 0),), mode=numpy_mode[padding_mode])
    got = layout.to_channels_last(x, pads, padding_mode)
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("channels, memory, expected", [(8, "nchw", True), (32, "nchw", True), (7, "nchw", False),
                                                     (33, "nchw", False), (16, "channels_last", False)])
def test_nchw_memory_with_8_to_32_channels_goes_a_pixel_at_a_time(monkeypatch, channels, memory, expected):
    calls = []
    original = layout._fill_pixels
    monkeypatch.setattr(layout, "_fill_pixels", lambda *a: calls.append(1) or original(*a))
    x = np.random.default_rng(8).standard_normal((2, channels, 5, 4)).astype(np.float32)
    if memory == "channels_last":
        x = _channels_last_memory(x)
    got = layout.to_channels_last(x, ((1, 1), (1, 1)))
    assert bool(calls) is expected
    np.testing.assert_array_equal(got, np.pad(np.moveaxis(x, 1, -1), ((0, 0), (1, 1), (1, 1), (0, 0))))


def test_to_channels_last_of_channels_last_memory_is_a_view():
    x = _channels_last_memory(np.ones((2, 3, 4, 5), np.float32))
    assert np.shares_memory(layout.to_channels_last(x), x)
    assert not np.shares_memory(layout.to_channels_last(x, ((1, 1), (0, 0))), x)  # padding: a copy


@pytest.mark.parametrize("memory", ["nchw", "channels_last"])
def test_channel_sums_and_column_sums(memory):
    dy = np.random.default_rng(9).standard_normal((6, 5, 7, 3)).astype(np.float32)
    want = dy.astype(np.float64).sum(axis=(0, 2, 3))
    given = _channels_last_memory(dy) if memory == "channels_last" else dy
    np.testing.assert_allclose(layout.channel_sums(given), want, rtol=1e-5, atol=1e-5)
    rows = np.ascontiguousarray(np.moveaxis(dy, 1, -1))  # (N, H, W, C)
    size = 20  # rows per block: 126 rows in 7 blocks, the last one short
    parts = np.empty((7, 5), np.float32)
    layout.column_sums(rows, size, 0, 7, parts)
    flat = rows.reshape(-1, 5).astype(np.float64)
    for i in range(7):
        np.testing.assert_allclose(parts[i], flat[i * size:(i + 1) * size].sum(axis=0), rtol=1e-5, atol=1e-5)
