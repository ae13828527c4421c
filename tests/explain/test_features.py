"""Feature maps of every layer of a glassnet model, recorded with forward hooks."""

import numpy as np
import pytest

nn = pytest.importorskip("glassnet.nn")
import glassnet  # noqa: E402
from glassnet.explain import apply_kernels  # noqa: E402
from glassnet.explain.classic import fixed_conv2d  # noqa: E402
from glassnet.explain.examples import square  # noqa: E402
from glassnet.explain.features import feature_maps  # noqa: E402


def test_every_layer_in_order_with_the_layer_outputs():
    model = nn.Sequential(fixed_conv2d(["vertical", "horizontal"], padding=1), nn.ReLU(), nn.MaxPool2d(2))
    layers = feature_maps(model, square()[None])
    assert [name for name, _ in layers] == ["0: Conv2d", "1: ReLU", "2: MaxPool2d"]
    assert [a.shape for _, a in layers] == [(2, 12, 12), (2, 12, 12), (2, 6, 6)]
    maps = apply_kernels(square(), ["vertical", "horizontal"], padding=1)
    np.testing.assert_allclose(layers[0][1], np.stack(list(maps.values())), atol=1e-6)
    np.testing.assert_array_equal(layers[1][1], np.maximum(layers[0][1], 0))


def test_batch_input_and_nested_models_and_training_mode_restored():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU()), nn.Flatten(), nn.Linear(3 * 6 * 6, 2))
    model.train()
    x = np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32)
    layers = feature_maps(model, x)
    assert [name for name, _ in layers] == ["0.0: Conv2d", "0.1: ReLU", "1: Flatten", "2: Linear"]
    with glassnet.no_grad():
        expected = model(glassnet.tensor(x)).data[0]
    np.testing.assert_allclose(layers[-1][1], expected, rtol=1e-5)
    assert model.training


def test_no_layers():
    with pytest.raises(ValueError, match="found no layers"):
        feature_maps(nn.Sequential(), np.zeros((1, 4, 4)))
