"""PyTorch's ModuleInfo database against glassnet: every module input (float32 and float64, in
training and evaluation mode) of every torch.nn module glassnet has, built with the same
constructor arguments and PyTorch's weights, gives PyTorch's outputs, input gradients, parameter
gradients and buffers (BatchNorm's running statistics). The machinery is in
tests/compat/opinfo.py."""

import numpy as np
import pytest
import torch
from torch.testing._internal.common_modules import module_db

import glassnet

from . import opinfo

# Modules left out, with the reason
LEFT_OUT = {"Dropout": "its random mask comes from a different generator on each framework"}

MODULES = [m for m in module_db if hasattr(glassnet.nn, m.module_cls.__name__)
           and m.module_cls.__name__ not in LEFT_OUT]
CASES = [(m, dtype) for m in MODULES for dtype in (torch.float32, torch.float64)]


def test_the_common_layers_are_covered():
    names = {m.module_cls.__name__ for m in MODULES}
    assert {"Conv2d", "ConvTranspose2d", "Linear", "MaxPool2d", "AvgPool2d", "BatchNorm2d",
            "AdaptiveAvgPool2d", "ReLU"} <= names


@pytest.mark.parametrize("module_info, dtype", CASES,
                         ids=[f"{m.module_cls.__name__}-{str(d).split('.')[-1]}" for m, d in CASES])
def test_module_inputs_match_pytorch(module_info, dtype):
    count, problems = opinfo.compare_module(module_info, dtype)
    assert count > 0
    assert problems == []


def test_the_module_comparison_flags_wrong_weights(monkeypatch):
    conv = next(m for m in module_db if m.module_cls is torch.nn.Conv2d)
    original = glassnet.nn.Module.load_state_dict

    def perturbed(self, state_dict, strict=True):  # a wrong weight copy, 1e-3 off
        return original(self, {k: v + np.asarray(1e-3, v.dtype) if k == "weight" else v
                               for k, v in state_dict.items()}, strict)

    monkeypatch.setattr(glassnet.nn.Module, "load_state_dict", perturbed)
    _, problems = opinfo.compare_module(conv, torch.float32)
    assert problems and all("differs" in p for p in problems)
