"""Shared by the ONNX tests: run a glassnet model, and an exported file in ONNX Runtime."""

import numpy as np

import glassnet as gn


def randn(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def run_glassnet(model, x: np.ndarray) -> np.ndarray:
    model.eval()
    with gn.no_grad():
        return model(gn.tensor(x)).data


def run_onnxruntime(path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def randomise_batch_norm(model, seed=0):
    """Running statistics and affine parameters away from their initial 0/1, so that a wrong
    formula in eval-mode batch norm shows."""
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if hasattr(m, "running_var") and m.running_var is not None:
            m.running_mean.data[...] = rng.standard_normal(m.running_mean.shape)
            m.running_var.data[...] = rng.uniform(0.5, 2, m.running_var.shape)
            if m.weight is not None:
                m.weight.data[...] = rng.uniform(0.5, 1.5, m.weight.shape)
            if m.bias is not None:
                m.bias.data[...] = rng.standard_normal(m.bias.shape)
    return model
