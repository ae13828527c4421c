"""Figures: written as valid, non-blank PNGs, drawing what they claim to draw."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from glassnet.explain import apply_kernels, kernel_bank, trace
from glassnet.explain.examples import SEED000_POOL_X, SEED002_CHANNEL_KERNELS, SEED002_CHANNELS, SEED002_INPUT, square
from glassnet.viz import grid, plot_edges, plot_feature_maps, plot_filters, plot_trace, save_map_png

from .pngs import assert_valid_png


def test_trace_figure_outlines_the_window(tmp_path):
    t = trace(SEED002_INPUT, kernel_bank("vertical")[0, 0], padding=1, order="F")
    fig = plot_trace(t, (0, 1, 2), tmp_path / "trace.png")
    assert_valid_png(tmp_path / "trace.png")
    padded_ax, kernel_ax, out_ax = fig.axes[:3]
    outlined = [p for p in padded_ax.patches if not p.get_fill()]
    assert len(outlined) == 9  # the 3x3 window
    corners = sorted((p.get_x() + 0.5, p.get_y() + 0.5) for p in outlined)
    assert corners[0] == (2, 1) and corners[-1] == (4, 3)  # columns 2..4, rows 1..3 of the padded input
    hatched = [p for p in padded_ax.patches if p.get_fill()]
    assert len(hatched) == 7 * 7 - 5 * 5  # the padding ring
    assert "7 - 11 = -4" in fig._suptitle.get_text()
    assert len([p for p in out_ax.patches if not p.get_fill()]) == 1


def test_trace_figures_for_channels_pooling_and_1d(tmp_path):
    fig = plot_trace(trace(SEED002_CHANNELS, SEED002_CHANNEL_KERNELS, order="F"), None, tmp_path / "c.png")
    assert_valid_png(tmp_path / "c.png")
    assert "= -1 + 8 + 36 = 43" in fig._suptitle.get_text()
    fig = plot_trace(trace(SEED000_POOL_X, op="max", kernel_size=3), (0, 1), tmp_path / "p.png")
    assert_valid_png(tmp_path / "p.png")
    assert "max(-2, 5, 1) = 5" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="1-D and 2-D traces, this one has 3"):
        plot_trace(trace(np.zeros((4, 4, 4)), np.ones((1, 1, 2, 2, 2))[0, 0]))


def test_grouped_trace_figure_draws_the_groups_channels(tmp_path):
    x = np.arange(4 * 4 * 4, dtype=np.float64).reshape(4, 4, 4)
    w = np.stack([np.full((2, 2, 2), o + 1.0) for o in range(2)])  # (2, 2, 2, 2): filter o is all o + 1
    fig = plot_trace(trace(x, w, groups=2), (1, 0, 0), tmp_path / "g.png")
    assert_valid_png(tmp_path / "g.png")
    # filter 1 belongs to group 1: two rows (input channels 2 and 3), each with its kernel
    titles = [ax.get_title() for ax in fig.axes]
    assert "input (channel 2)" in titles and "input (channel 3)" in titles and "input (channel 0)" not in titles
    assert titles.count("kernel (channel 2)") == 1
    assert f"= {int(2 * (x[2:, :2, :2].sum()))}" in fig._suptitle.get_text()


def test_filters_grid(tmp_path):
    assert_valid_png(plot_filters(kernel_bank(), tmp_path / "f.png") and tmp_path / "f.png")
    rgb = np.random.default_rng(0).standard_normal((4, 3, 5, 5))
    fig = plot_filters(rgb, tmp_path / "rgb.png")
    assert_valid_png(tmp_path / "rgb.png")
    assert len([ax for ax in fig.axes if ax.images]) == 4
    with pytest.raises(ValueError, match=r"\(O, C, \*kernel_size\), got \(3, 3\)"):
        plot_filters(np.zeros((3, 3)))


def test_filters_of_a_model(tmp_path):
    nn = pytest.importorskip("glassnet.nn")
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU())
    fig = plot_filters(model, tmp_path / "m.png")
    assert_valid_png(tmp_path / "m.png")
    assert len([ax for ax in fig.axes if ax.images]) == 6


def test_feature_map_grid(tmp_path):
    layers = [("input", square()[None]), ("conv", np.stack(list(apply_kernels(square(), padding=1).values()))),
              ("flat", np.arange(10.0))]
    fig = plot_feature_maps(layers, tmp_path / "fm.png", max_maps=4)
    assert_valid_png(tmp_path / "fm.png")
    assert len([ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]) == 1 + 4
    bars = [ax for ax in fig.axes if len(ax.patches) == 10]  # the flat output: one bar per value
    assert len(bars) == 1 and [p.get_height() for p in bars[0].patches] == list(range(10))


def test_edges_and_single_maps(tmp_path):
    maps = apply_kernels(square(), ["vertical", "horizontal"])
    plot_edges(square(), maps, tmp_path / "e.png", pooled={k: v[::3, ::3] for k, v in maps.items()})
    assert_valid_png(tmp_path / "e.png")
    pixels = assert_valid_png(save_map_png(maps["vertical"], tmp_path / "sub" / "v.png"))
    f = pixels.shape[0] // maps["vertical"].shape[0]  # enlarged by whole pixels to a readable size
    assert min(pixels.shape[:2]) >= 280 and pixels.shape[:2] == tuple(f * n for n in maps["vertical"].shape)
    np.testing.assert_array_equal(pixels[::f, ::f], pixels[f - 1::f, f - 1::f])  # blocks of f x f equal pixels


def test_grid_building_block():
    fig = grid([np.eye(3), -np.eye(3)], ["a", "b"], values=True)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [t.get_text() for t in fig.axes[0].texts][:2] == ["1", "0"]
    with pytest.raises(ValueError, match="at least one map"):
        grid([])


def test_curves_of_one_epoch_are_readable(tmp_path):
    from glassnet.viz.training import curves_figure, plot_curves
    history = [{"epoch": 1, "train_loss": 1.54, "train_accuracy": 0.30, "val_loss": 1.14, "val_accuracy": 0.51}]
    fig = curves_figure(history, title="lenet5 on shapes, test accuracy 0.506")
    loss_ax, acc_ax = fig.axes[:2]
    assert acc_ax.get_ylim() == (0, 1.02)  # accuracy on its whole range, not a magnified 0.945..1.05
    assert loss_ax.get_ylim()[0] == 0 and loss_ax.get_ylim()[1] > 1.54
    assert list(acc_ax.get_xticks()) == [1]  # whole epochs only
    assert {t.get_text() for t in acc_ax.texts} == {"0.300", "0.510"}  # the values, written out
    assert fig._suptitle.get_text() == "lenet5 on shapes, test accuracy 0.506"
    assert_valid_png(plot_curves(history, tmp_path / "c.png", title="t"))
