"""Classic kernels (seed 001, 002, 003) and seed 003's square and diamond, filtered and max pooled."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from glassnet.explain import apply_kernels, kernel_bank, kernels, to_gray
from glassnet.explain.classic import fixed_conv2d
from glassnet.explain.examples import diamond, square

FOUR = ["horizontal", "vertical", "slash", "backslash"]


def test_kernels_are_the_lectures():
    np.testing.assert_array_equal(kernels["vertical"], [[1, 0, -1]] * 3)
    np.testing.assert_array_equal(kernels["horizontal"], [[1, 1, 1], [0, 0, 0], [-1, -1, -1]])
    np.testing.assert_array_equal(kernels["sobel_x"], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(kernels["sobel_y"], [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    np.testing.assert_array_equal(kernels["scharr_x"], [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])
    np.testing.assert_array_equal(kernels["scharr_y"], [[-3, -10, -3], [0, 0, 0], [3, 10, 3]])
    np.testing.assert_array_equal(kernels["slash"], [[1, 1, 0], [1, 0, -1], [0, -1, -1]])
    assert kernels["gaussian"].sum() == pytest.approx(1) and kernels["box"].sum() == pytest.approx(1)
    assert kernels["laplacian"].sum() == 0
    for name, k in kernels.items():
        assert k.shape == (3, 3) and k.dtype == np.float32, name
        if name not in ("gaussian", "box"):
            assert k.sum() == 0, f"{name}: an edge or second-difference kernel ignores flat regions"


def test_diagonal_kernels_are_rotations():
    # turning the image a quarter clockwise turns vertical edges into horizontal ones and '/'
    # edges into '\' ones; the kernels follow
    np.testing.assert_array_equal(kernels["horizontal"], np.rot90(kernels["vertical"], -1))
    np.testing.assert_array_equal(kernels["backslash"], np.rot90(kernels["slash"], -1))
    # seed 001 prints Sobel with the opposite sign convention (bright on the right is positive)
    np.testing.assert_array_equal(kernels["sobel_x"], np.rot90(kernels["sobel_y"], 1))


def test_kernels_cannot_be_changed():
    with pytest.raises(ValueError):
        kernels["vertical"][0, 0] = 5
    with pytest.raises(TypeError):
        kernels["mine"] = np.zeros((3, 3))


def test_kernel_bank_and_unknown_names():
    assert kernel_bank(FOUR).shape == (4, 1, 3, 3)
    assert kernel_bank("sobel_x").shape == (1, 1, 3, 3)
    with pytest.raises(KeyError, match="unknown kernel.*'sobel'.*known kernels: vertical"):
        kernel_bank(["sobel"])


@pytest.mark.parametrize("padding, stride", [(0, 1), (1, 1), (1, 2)])
def test_apply_kernels_matches_torch(padding, stride):
    img = np.random.default_rng(0).random((9, 11)).astype(np.float32)
    maps = apply_kernels(img, padding=padding, stride=stride)
    ref = TF.conv2d(torch.tensor(img)[None, None], torch.tensor(kernel_bank()), padding=padding, stride=stride)[0]
    for (name, m), r in zip(maps.items(), ref):
        np.testing.assert_allclose(m, r.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("shape, answer_kernels", [("square", ("horizontal", "vertical")),
                                                   ("diamond", ("slash", "backslash"))])
def test_seed003_square_and_diamond_filtered_and_max_pooled(shape, answer_kernels):
    img = square() if shape == "square" else diamond()
    maps = apply_kernels(img, FOUR)
    xt = torch.tensor(img)[None, None]
    for name, m in maps.items():
        filtered = TF.conv2d(xt, torch.tensor(kernels[name])[None, None])[0, 0]
        np.testing.assert_allclose(m, filtered.numpy(), atol=1e-6)
        # 3x3 max pooling (seed 003) of the edge strength |response|
        from glassnet.kernels.pooling import max_pool_forward
        pooled = max_pool_forward(np.abs(m)[None, None], (3, 3))[0][0, 0]
        np.testing.assert_allclose(pooled, TF.max_pool2d(filtered.abs()[None, None], 3)[0, 0].numpy())
        assert pooled.shape == (3, 3)
    # a kernel finds the edges it is made for: full-strength responses (|r| = 3) along whole
    # edges for the matching orientation, only at a couple of corners for the others
    full = {name: int((np.abs(m) == 3).sum()) for name, m in maps.items()}
    others = [n for n in FOUR if n not in answer_kernels]
    assert min(full[n] for n in answer_kernels) >= 4 * max(full[n] for n in others), full


def test_square_horizontal_edges_survive_pooling_only_top_and_bottom():
    from glassnet.kernels.pooling import max_pool_forward
    m = apply_kernels(square(), "horizontal")["horizontal"]
    pooled = max_pool_forward(np.abs(m)[None, None], (3, 3))[0][0, 0]
    assert np.all(pooled[1] == 0) and np.all(pooled[[0, 2]].max(axis=1) == 3)
    # the sign tells which side is bright: top edge dark above (negative), bottom edge positive
    assert m.min() == -3 and m.max() == 3
    assert np.argmin(m.min(axis=1)) < np.argmax(m.max(axis=1))


def test_to_gray():
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[0, 0] = [255, 255, 255]
    rgb[1, 1] = [255, 0, 0]
    g = to_gray(rgb)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [[1, 0], [0, 0.299]], atol=1e-6)
    assert to_gray(np.ones((2, 2, 4))).shape == (2, 2)  # alpha ignored
    with pytest.raises(ValueError, match=r"got shape \(2, 2, 2\)"):
        to_gray(np.zeros((2, 2, 2)))


def test_fixed_conv_layer_is_frozen_and_filters_like_apply_kernels():
    pytest.importorskip("glassnet.nn")
    import glassnet
    layer = fixed_conv2d(FOUR, in_channels=3, padding=1)
    assert not layer.weight.requires_grad and layer.bias is None
    img = np.random.default_rng(1).random((3, 6, 7)).astype(np.float32)
    y = layer(glassnet.tensor(img[None])).data[0]
    maps = apply_kernels(img.mean(axis=0), FOUR, padding=1)
    np.testing.assert_allclose(y, np.stack(list(maps.values())), rtol=1e-5, atol=1e-5)
