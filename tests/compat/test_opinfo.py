"""PyTorch's OpInfo database against glassnet: every sample input (float32 and float64) of every
operator glassnet implements gives PyTorch's values, dtypes, shapes and gradients, and every
error input PyTorch refuses is refused by glassnet too. The machinery and the list of deliberate
differences (each with its reason) are in tests/compat/opinfo.py.

Runs in about two to three minutes on one core.
"""

import numpy as np
import pytest
import torch
from torch.testing._internal.common_methods_invocations import op_db

import glassnet
from glassnet.autograd import Function

from . import opinfo

OPINFOS = [op for op in op_db if op.name in opinfo.OPS]
CASES = [(op, dtype) for op in OPINFOS for dtype in (torch.float32, torch.float64)
         if dtype in op.supported_dtypes("cpu")]


def _id(op, dtype=None):
    variant = f"[{op.variant_test_name}]" if op.variant_test_name else ""
    return f"{op.name}{variant}" + (f"-{str(dtype).split('.')[-1]}" if dtype else "")


def test_every_mapped_name_is_an_opinfo():
    # a misspelt name would silently drop an operator from the comparison
    assert sorted(set(opinfo.OPS) - {op.name for op in op_db}) == []
    assert len(CASES) > 150


@pytest.mark.parametrize("op, dtype", CASES, ids=[_id(op, dt) for op, dt in CASES])
def test_sample_inputs_match_pytorch(op, dtype):
    count, problems = opinfo.compare_op(op, opinfo.OPS[op.name], dtype)
    assert count > 0
    assert problems == []


@pytest.mark.parametrize("op", OPINFOS, ids=[_id(op) for op in OPINFOS])
def test_error_inputs_are_refused_as_pytorch(op):
    _, problems = opinfo.compare_errors(op, opinfo.OPS[op.name])
    assert problems == []


def _opinfo(name, variant=""):
    return next(op for op in op_db if op.name == name and op.variant_test_name == variant)


class SigmoidWrongGradient(Function):
    """sigmoid with a backward that is off by 1 % (a plausible bug)."""

    @staticmethod
    def forward(ctx, x):
        y = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved
        return dy * y * (1 - y) * np.asarray(1.01, dy.dtype)


@pytest.mark.parametrize("name, wrapper, expected", [
    ("nn.functional.relu", lambda x, *a, **k: glassnet.functional.relu(x) * 1.001, "output 0 differs"),
    ("sigmoid", lambda x: SigmoidWrongGradient.apply(x), "gradient of input 0 differs"),
    ("sum", lambda x, *a, **k: x.sum(*a, **k).double() if x.dtype == np.float32 else x.sum(*a, **k).float(),
     "dtype"),
    ("nn.functional.relu", lambda x, *a, **k: x.relu().unsqueeze(0), "shape"),
    ("exp", lambda x: (_ for _ in ()).throw(NotImplementedError("not built")), "raised NotImplementedError"),
    ("nn.functional.batch_norm",  # accepts the 1-D input glassnet refuses on purpose
     lambda x, *a, **k: x * 1 if x.ndim == 1 else glassnet.functional.batch_norm(x, *a, **k), "should refuse"),
])
def test_the_comparison_flags_a_wrong_wrapper(name, wrapper, expected):
    _, problems = opinfo.compare_op(_opinfo(name), wrapper, torch.float32)
    assert problems, f"a deliberately wrong {name} was not flagged"
    assert any(expected in p for p in problems), problems[:3]


def test_the_error_check_flags_a_wrapper_that_accepts_everything():
    lenient = lambda *args, **kwargs: glassnet.zeros(1)  # noqa: E731
    _, problems = opinfo.compare_errors(_opinfo("nn.functional.conv2d"), lenient)
    assert problems
