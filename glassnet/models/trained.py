"""Trained models from the files `glassnet train` writes.

A run directory holds model.safetensors, whose header names the model, the data set, its class
names and one sample's input shape, and metrics.json with the test accuracy. Everything that
reads a trained model (`glassnet eval`, `predict`, `explain filters`, `explain features`) finds
it here, so a run directory and its weights file are accepted alike everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from . import get_model


@dataclass
class Trained:
    """A model with its weights loaded, and what its file says about how it was trained."""
    model: object
    name: str
    weights: Path
    metadata: dict = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return json.loads(self.metadata.get("classes", "[]"))

    @property
    def dataset(self) -> str | None:
        return self.metadata.get("dataset")

    @property
    def input_shape(self) -> tuple[int, ...] | None:
        shape = self.metadata.get("input_shape")
        return tuple(json.loads(shape)) if shape else None

    @property
    def test_accuracy(self) -> float | None:
        """From metrics.json next to the weights, when the run wrote one."""
        metrics = self.weights.parent / "metrics.json"
        try:
            return float(json.loads(metrics.read_text())["test_accuracy"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        """'lenet5 trained on fashion-mnist, test accuracy 0.891' (as much as the files tell)."""
        text = self.name + (f" trained on {self.dataset}" if self.dataset else " (trained)")
        accuracy = self.test_accuracy
        return text + (f", test accuracy {accuracy:.3f}" if accuracy is not None else "")


def weights_file(path) -> Path:
    """A run directory or a .safetensors file -> the weights file (which must exist)."""
    p = Path(path)
    weights = p / "model.safetensors" if p.is_dir() else p
    if not weights.is_file():
        raise ValueError(f"no trained model at {path} (expected a run directory with model.safetensors, "
                         "or a .safetensors file written by `glassnet train`)")
    return weights


def load_trained(path, model: str | None = None) -> Trained:
    """Build the model a run directory or weights file was trained as, and load its weights.

    The model's name comes from the file's header; `model` may name it instead (for weights saved
    without a header) but must agree with the header when both exist. The class count comes from
    the header's class names (10 when it has none). Raises ValueError naming the file and the
    mismatch.
    """
    from ..serialization import InvalidFileError, check_model_metadata, check_weights, load, load_metadata
    weights = weights_file(path)
    try:
        metadata = load_metadata(weights)
        if "model" in metadata:  # written by `glassnet train`: every field it writes is checked
            check_model_metadata(metadata, weights)
        state = check_weights(load(weights), weights)  # finite values of a float dtype
    except InvalidFileError as error:  # broken, as opposed to made for another model (below)
        raise ValueError(f"{weights} is not a valid glassnet weights file: {error.reason}") from None
    recorded = metadata.get("model")
    if model and recorded and model != recorded:
        raise ValueError(f"{weights} holds a {recorded!r} model, not {model!r}: leave out the model name "
                         f"or give {recorded!r}")
    name = model or recorded
    if not name:
        raise ValueError(f"{weights} has no model name in its header (it was not written by `glassnet train`): "
                         "name the model too")
    classes = json.loads(metadata.get("classes", "[]"))
    net = get_model(name, **({"num_classes": len(classes)} if classes else {}))
    try:
        net.load_state_dict(state)
    except (ValueError, KeyError, RuntimeError) as error:
        raise ValueError(f"{weights} does not fit model {name!r}: {error}") from None
    net.eval()
    return Trained(net, name, weights, metadata)


def input_error(model, input_shape) -> str | None:
    """None when model runs on one sample of input_shape (C, *spatial), else the reason it does
    not (the first failing layer's error). Runs a zero sample in eval mode, without gradients:
    a cheap check before any data is loaded.

    Examples:
        >>> from glassnet.models import get_model
        >>> input_error(get_model("lenet5"), (1, 28, 28)) is None
        True
        >>> input_error(get_model("lenet5"), (1, 32, 32))
        'Linear(400 -> 120) expected input of shape (*, 400), got (1, 576)'
    """
    import numpy as np

    from .. import no_grad, tensor
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(tensor(np.zeros((1, *input_shape), dtype=np.float32)))
    except (ValueError, TypeError, RuntimeError, IndexError) as error:
        return str(error)
    finally:
        model.train(was_training)
    return None
