"""Training checkpoints that resume exactly: safetensors for the arrays, a JSON sidecar for the rest.

A checkpoint is a pair of files in `<out_dir>/checkpoints/`:

    step-00001200.safetensors   model parameters and buffers ("model.<key>") and optimiser state
                                arrays ("optimizer.<param index>.<name>")
    step-00001200.json          everything else: epoch and step, the data loader's position, the
                                optimiser's options and scalar state, the scheduler, the random
                                generator's state, the metrics so far, and the SHA-256 of the
                                .safetensors file

Each file is written atomically (temp file, fsync, rename), the .safetensors first. The JSON is
the commit mark: a checkpoint counts only when its JSON exists and the arrays file matches the
recorded hash, so a crash at any moment leaves the previous checkpoint as the latest valid one.
Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import random as grandom
from ..serialization import atomic_write_bytes, load, save

KEEP = 2  # checkpoints kept on disk; older ones are removed after a newer one is complete


@dataclass
class TrainState:
    """Where a run is: counters and the metrics recorded so far (JSON-able)."""
    epoch: int = 0           # epochs completed
    step: int = 0            # optimiser steps taken
    history: list = field(default_factory=list)   # one dict of metrics per completed epoch
    best_metric: float | None = None
    epochs_without_improvement: int = 0
    extra: dict = field(default_factory=dict)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _split_optimizer_state(state_dict: dict) -> tuple[dict, dict]:
    """Optimizer.state_dict() -> (arrays for safetensors, JSON-able rest)."""
    arrays, scalars = {}, {}
    for index, values in state_dict["state"].items():
        for name, value in values.items():
            if isinstance(value, np.ndarray) and value.ndim > 0:
                arrays[f"optimizer.{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = np.asarray(value).item()
    return arrays, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _join_optimizer_state(arrays: dict, meta: dict) -> dict:
    state: dict = {}
    for key, value in arrays.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    for index, values in meta["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint's JSON")


def save_checkpoint(directory, *, model, optimizer, state: TrainState, scheduler=None, loader=None,
                    config: dict | None = None, keep: int = KEEP) -> Path:
    """Write the checkpoint of `state.step` into `directory`; return the JSON path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"step-{state.step:08d}"
    arrays = {f"model.{k}": v for k, v in model.state_dict().items()}
    optimizer_arrays, optimizer_meta = _split_optimizer_state(optimizer.state_dict())
    arrays.update(optimizer_arrays)
    save(arrays, stem.with_suffix(".safetensors"))
    sidecar = {
        "format": "glassnet-checkpoint-1",
        "arrays": stem.with_suffix(".safetensors").name,
        "sha256": _sha256(stem.with_suffix(".safetensors")),
        "state": state.__dict__,
        "optimizer": optimizer_meta,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "loader": loader.state_dict() if loader is not None else None,
        "rng": grandom.get_rng_state(),
        "config": config or {},
    }
    text = json.dumps(sidecar, indent=1, default=_json_default).encode()
    atomic_write_bytes(stem.with_suffix(".json"), text)  # written last: it marks the checkpoint complete
    for old in sorted(directory.glob("step-*.json"))[:-keep]:
        old.unlink(missing_ok=True)
        old.with_suffix(".safetensors").unlink(missing_ok=True)
    return stem.with_suffix(".json")


def read_sidecar(path) -> dict:
    path = Path(path)
    try:
        sidecar = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a readable checkpoint sidecar: {error}") from None
    if not isinstance(sidecar, dict) or sidecar.get("format") != "glassnet-checkpoint-1":
        raise ValueError(f"{path} is not a glassnet checkpoint (missing format mark)")
    return sidecar


def latest_checkpoint(directory) -> Path | None:
    """The newest complete checkpoint in `directory` (JSON path), skipping damaged ones."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    for path in sorted(directory.glob("step-*.json"), reverse=True):
        try:
            sidecar = read_sidecar(path)
            arrays = path.with_name(sidecar["arrays"])
            if arrays.is_file() and _sha256(arrays) == sidecar["sha256"]:
                return path
        except (ValueError, KeyError, OSError):
            continue
    return None


def load_checkpoint(path, *, model, optimizer=None, scheduler=None, loader=None,
                    restore_rng: bool = True) -> tuple[TrainState, dict]:
    """Restore everything save_checkpoint wrote; return the TrainState and the run's config."""
    path = Path(path)
    sidecar = read_sidecar(path)
    arrays_path = path.with_name(sidecar["arrays"])
    if _sha256(arrays_path) != sidecar["sha256"]:
        raise ValueError(f"{arrays_path} does not match the hash recorded in {path.name} (corrupt checkpoint)")
    arrays = load(arrays_path)
    model.load_state_dict({k[len("model."):]: v for k, v in arrays.items() if k.startswith("model.")})
    if optimizer is not None:
        optimizer.load_state_dict(_join_optimizer_state(
            {k: v for k, v in arrays.items() if k.startswith("optimizer.")}, sidecar["optimizer"]))
    if scheduler is not None and sidecar["scheduler"] is not None:
        scheduler.load_state_dict(sidecar["scheduler"])
    if loader is not None and sidecar["loader"] is not None:
        loader.load_state_dict(sidecar["loader"])
    if restore_rng:
        grandom.set_rng_state(sidecar["rng"])
    return TrainState(**sidecar["state"]), sidecar["config"]
