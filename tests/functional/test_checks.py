"""glassnet/functional/_checks.py: each convolution-family entry refuses a wrong argument itself,
naming the function, what it expected and what came (the kernels below check nothing)."""

import importlib

import numpy as np
import pytest

import glassnet
import glassnet.functional as F
from glassnet.functional._checks import shape_text


def _z(*shape):
    return glassnet.zeros(*shape)


CALLS = {
    "conv2d": lambda mode: F.conv2d(_z(1, 2, 6, 6), _z(3, 2, 3, 3), padding=1, padding_mode=mode),
    "conv": lambda mode: F.conv(_z(1, 2, 6), _z(3, 2, 3), padding=1, padding_mode=mode),
    "conv_map": lambda mode: F.conv_map(_z(1, 2, 6, 6), _z(2, 3, 3), table=np.eye(2, dtype=bool), padding=1,
                                        padding_mode=mode),
    "p4_lift_conv2d": lambda mode: F.p4_lift_conv2d(_z(1, 2, 6, 6), _z(3, 2, 3, 3), padding=1, padding_mode=mode),
    "p4_conv2d": lambda mode: F.p4_conv2d(_z(1, 2, 4, 6, 6), _z(3, 2, 4, 3, 3), padding=1, padding_mode=mode),
    "tiled_conv": lambda mode: F.tiled_conv(_z(1, 2, 6, 6), _z(2, 2, 3, 2, 3, 3), padding=1, padding_mode=mode),
    "locally_connected": lambda mode: F.locally_connected(_z(1, 2, 4, 4), _z(4, 4, 3, 2, 3, 3), padding=1,
                                                          padding_mode=mode),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_unknown_padding_mode_is_refused_by_the_function_called(name):
    assert CALLS[name]("circular").shape[0] == 1  # the call itself is valid with a known mode
    with pytest.raises(ValueError, match=rf"^{name}: padding_mode must be one of \('zeros', 'reflect', "
                                         r"'replicate', 'circular'\), got 'mirror'$"):
        CALLS[name]("mirror")


def test_conv_map_refuses_mismatched_dtypes_before_the_kernels():
    x = glassnet.zeros(1, 2, 6, 6, dtype=np.float64)
    with pytest.raises(TypeError, match=r"conv_map got input of dtype float64 and weight of dtype float32"):
        F.conv_map(x, _z(2, 3, 3), table=np.eye(2, dtype=bool))


@pytest.mark.parametrize("nd, channels, batched, expected", [
    (1, "C", True, "(N, C, L)"), (2, 3, True, "(N, 3, H, W)"), (2, "C", False, "(C, H, W)"),
    (3, 16, False, "(16, D, H, W)"), (4, "C", True, "(N, C, d1, d2, d3, d4)")])
def test_shape_text(nd, channels, batched, expected):
    assert shape_text(nd, channels, batched) == expected


def _counting(monkeypatch, module, name, calls=None):
    """Replace module.name by a wrapper that appends name to `calls` at each call."""
    calls = [] if calls is None else calls
    original = getattr(module, name, None)

    def counted(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, counted, raising=False)  # nn.pooling no longer has check_spatial_input
    return calls


def test_conv_arguments_are_checked_once_per_functional_call_and_not_again_by_a_layer(monkeypatch):
    from glassnet import nn

    # the module (glassnet.functional.conv is the function conv, which the package re-exports)
    calls = _counting(monkeypatch, importlib.import_module("glassnet.functional.conv"), "check_conv_args")
    x, w = _z(1, 2, 6, 6), _z(3, 2, 3, 3)
    F.conv2d(x, w, padding=1)
    assert calls == ["check_conv_args"]  # the functional entry, and nothing below it
    layer = nn.Conv2d(2, 3, 3, padding=1)
    calls.clear()
    assert layer(x).shape == (1, 3, 6, 6)
    assert calls == []  # the layer checked its arguments when built and checks its input itself


def test_a_pooling_layer_checks_its_input_once(monkeypatch):
    from glassnet import nn

    calls = _counting(monkeypatch, importlib.import_module("glassnet.functional.pooling"), "_check_input")
    _counting(monkeypatch, importlib.import_module("glassnet.nn.pooling"), "check_spatial_input", calls)
    assert nn.MaxPool2d(2)(_z(1, 2, 6, 6)).shape == (1, 2, 3, 3)
    assert nn.AvgPool2d(2)(_z(1, 2, 6, 6)).shape == (1, 2, 3, 3)
    assert calls == ["_check_input"] * 2


LAYER_CASES = {  # layer, its input, the functional call with the same arguments, nn's check, functional's module
    "local": (lambda: glassnet.nn.LocallyConnected2d(2, 3, 3, input_size=(5, 5)), (1, 2, 5, 5),
              lambda x: F.locally_connected(x, _z(3, 3, 3, 2, 3, 3)), "glassnet.nn.local", "batch_input",
              "glassnet.functional.local"),
    "tiled": (lambda: glassnet.nn.TiledConv2d(2, 3, 3, tiles=2), (1, 2, 5, 5),
              lambda x: F.tiled_conv(x, _z(2, 2, 3, 2, 3, 3)), "glassnet.nn.local", "batch_input",
              "glassnet.functional.local"),
    "p4": (lambda: glassnet.nn.P4LiftConv2d(2, 3, 3), (1, 2, 5, 5),
           lambda x: F.p4_lift_conv2d(x, _z(3, 2, 3, 3)), "glassnet.nn.p4", "check_dtype", "glassnet.functional.p4"),
    "subsampling": (lambda: glassnet.nn.Subsampling2d(2, 2), (1, 2, 6, 6),
                    lambda x: F.subsampling(x, _z(2), _z(2)), "glassnet.nn.subsampling", "batch_input",
                    "glassnet.functional.subsampling"),
}


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_a_layer_checks_its_input_once_and_the_functional_entry_its_arguments_once(monkeypatch, name):
    make_layer, shape, call, nn_module, nn_check, functional_module = LAYER_CASES[name]
    layer, x = make_layer(), _z(*shape)
    calls = _counting(monkeypatch, importlib.import_module(nn_module), nn_check)
    _counting(monkeypatch, importlib.import_module(functional_module), "_check", calls)
    layer(x)
    assert calls == [nn_check]  # the layer's input check, and not the functional entry's as well
    calls.clear()
    call(x)
    assert calls == ["_check"]


def test_a_padding_name_is_checked_by_one_function_for_layers_and_functional_calls(monkeypatch):
    from glassnet import nn

    calls = _counting(monkeypatch, importlib.import_module("glassnet.kernels.sizes"), "check_padding_string")
    _counting(monkeypatch, importlib.import_module("glassnet.nn.conv"), "check_padding_string", calls)
    with pytest.raises(ValueError) as built:
        nn.Conv2d(2, 3, 3, padding="half")
    assert calls == ["check_padding_string"]  # at construction, once
    calls.clear()
    with pytest.raises(ValueError) as called:
        F.conv2d(_z(1, 2, 6, 6), _z(3, 2, 3, 3), padding="half")
    assert calls == ["check_padding_string"]
    expected = "padding must be an int, a tuple, (low, high) pairs or one of ('valid', 'same', 'full'), got 'half'"
    assert str(built.value) == str(called.value) == expected


@pytest.mark.parametrize("call", [
    lambda: F.pad(_z(1, 1, 3), (3, 0), mode="reflect"),
    lambda: F.conv1d(_z(1, 1, 3), _z(1, 1, 3), padding=3, padding_mode="reflect"),
])
@pytest.mark.parametrize("reference", [False, True])
def test_how_far_reflect_padding_reaches_is_checked_once(monkeypatch, call, reference):
    calls = _counting(monkeypatch, importlib.import_module("glassnet.kernels.windows"), "check_copy_fits")
    _counting(monkeypatch, importlib.import_module("glassnet.reference.padding"), "check_copy_fits", calls)
    with glassnet.reference_mode(reference), pytest.raises(ValueError, match=r"^'reflect' padding needs each padding amount less than the size of "
                                         r"its dimension \(<= 2\); got \(3, \d\) for dimension -1 of size 3"):
        call()
    assert calls == ["check_copy_fits"]
