"""Training checkpoints that resume exactly: safetensors for the arrays, a JSON sidecar for the rest.

A checkpoint is a pair of files in `<out_dir>/checkpoints/`:

    step-00001200.safetensors   model parameters and buffers ("model.<key>") and optimiser state
                                arrays ("optimizer.<param index>.<name>"); in its header the step
                                and the SHA-256 of the sidecar's content
    step-00001200.json          everything else: epoch and step, the data loader's position, the
                                optimiser's options and scalar state, the scheduler, the random
                                generator's state, the metrics so far, the run's configuration,
                                and the SHA-256 of the .safetensors file

Each names the other by hash, so arrays and sidecar of different steps are never mixed. Each file
is written atomically (temp file, fsync, rename), the .safetensors first. The JSON is the commit
mark: a checkpoint counts only when its JSON exists and both hashes match, so a kill at any moment
leaves the previous checkpoint as the newest usable one. An arrays file without its JSON (a kill
between the two writes, or during pruning, which removes the JSON first) and temporary files are
removed at the next start (`clean_leftovers`).

A run directory is read as untrusted: only regular files directly inside it (no symlinks, no
FIFOs, which would block a read), sizes capped before reading, JSON nested at most a few levels,
every field checked by type and range with a message naming the file, the field, what was
expected and what was found. Nothing is ever unpickled, and a damaged checkpoint is never
deleted: it is reported, and kept for the user to inspect.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import random as grandom
from ..serialization import atomic_write_bytes, load, load_metadata, save
from ..untrusted import loads_json

FORMAT = "glassnet-checkpoint-2"
KEEP = 2                      # checkpoints kept on disk; older ones are removed after a newer one is complete
MAX_SIDECAR_BYTES = 64 << 20  # a sidecar is a few KB plus ~200 bytes per epoch of history
MAX_EPOCHS = 1_000_000
MAX_STEPS = 10 ** 12
_SIDECAR = re.compile(r"step-(\d{8,})\.json")
_ARRAYS = re.compile(r"step-(\d{8,})\.safetensors")
_TEMPORARY = re.compile(r"\.step-\d{8,}\.(json|safetensors)\..+\.tmp")  # atomic_write_bytes' temp names
_FIELDS = ("format", "step", "arrays", "sha256", "state", "optimizer", "scheduler", "loader", "rng", "config")
_EPOCH_RUN = ("loss_sum", "correct", "seen", "seconds")  # TrainState.extra in the middle of an epoch


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and why."""


@dataclass
class TrainState:
    """Where a run is: counters and the metrics recorded so far (JSON-able)."""
    epoch: int = 0           # epochs completed
    step: int = 0            # optimiser steps taken
    history: list = field(default_factory=list)   # one dict of metrics per completed epoch
    best_metric: float | None = None              # best validation accuracy so far ...
    best_epoch: int | None = None                 # ... reached after this epoch
    epochs_without_improvement: int = 0
    extra: dict = field(default_factory=dict)     # the running metrics of the epoch in progress


def _stem(step: int) -> str:
    return f"step-{step:08d}"


# ---- reading files of a run directory -------------------------------------------------------

def _open_regular(path: Path) -> int:
    """A read-only descriptor of `path`, which must be a regular file, not a symlink.

    O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; opened
    non-blocking it is then refused by the fstat check like any other special file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        if Path(path).is_symlink():
            raise CheckpointError(f"{path}: is a symbolic link; only regular files inside the run "
                                  "directory are read") from None
        raise CheckpointError(f"{path}: cannot be opened ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CheckpointError(f"{path}: is not a regular file (a FIFO, device or directory)")
    return fd


def _read_small(path: Path, limit: int) -> bytes:
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise CheckpointError(f"{path}: is {size:,} bytes, more than the {limit:,} a checkpoint sidecar may have")
        return f.read(limit)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with os.fdopen(_open_regular(path), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _canonical(body: dict, allow_nan: bool = False) -> bytes:
    """The sidecar's content as hashed into the arrays file: the same bytes after a JSON round trip.
    glassnet never writes NaN (not JSON); a read one is hashed as Python writes it, and refused by
    the check of its field."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=allow_nan,
                      default=_json_default).encode()


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint's JSON")


# ---- the sidecar's fields, checked ----------------------------------------------------------

def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Fields:
    """Checks of one sidecar's fields; a failed check raises a CheckpointError naming the file."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, name: str, expected: str, found) -> None:
        raise CheckpointError(f"{self.path}: not a valid glassnet checkpoint: field {name!r}: "
                              f"expected {expected}, found {_show(found)}")

    def integer(self, name: str, value, low: int, high: int) -> int:
        if not _is_int(value) or not low <= value <= high:
            self.fail(name, f"an int in [{low}, {high}]", value)
        return value

    def keys(self, name: str, value, required, optional=()) -> dict:
        if not isinstance(value, dict):
            self.fail(name, "an object", value)
        missing = [k for k in required if k not in value]
        unknown = [k for k in value if k not in required and k not in optional]
        if missing or unknown:
            found = " and ".join(f"{what} {keys}" for what, keys in (("missing", missing), ("unknown", unknown)) if keys)
            raise CheckpointError(f"{self.path}: not a valid glassnet checkpoint: field {name!r}: expected "
                                  f"the fields {sorted(required)}, found {found[:200]}")
        return value


def _check_sidecar(path: Path, sidecar) -> dict:
    """Every field's type and range; the optimiser's, scheduler's and loader's inner fields are
    checked by their own load_state_dict, against the objects they restore."""
    f = _Fields(path)
    f.keys("(top level)", sidecar, _FIELDS)
    if sidecar["format"] != FORMAT:
        f.fail("format", f"{FORMAT!r} (a checkpoint of this glassnet version)", sidecar["format"])
    step = f.integer("step", sidecar["step"], 0, MAX_STEPS)
    if path.name != _stem(step) + ".json":
        f.fail("step", f"the step in the file's name {path.name!r}", step)
    if sidecar["arrays"] != _stem(step) + ".safetensors":
        f.fail("arrays", repr(_stem(step) + ".safetensors"), sidecar["arrays"])
    if not (isinstance(sidecar["sha256"], str) and re.fullmatch(r"[0-9a-f]{64}", sidecar["sha256"])):
        f.fail("sha256", "64 hex digits", sidecar["sha256"])

    config = sidecar["config"]
    if not isinstance(config, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, (str, bool)) or _is_number(v)) for k, v in config.items()):
        f.fail("config", "an object of names to numbers, strings, true/false or null", config)
    state = f.keys("state", sidecar["state"], [k for k in TrainState.__dataclass_fields__])
    epochs = config.get("epochs") if _is_int(config.get("epochs")) else MAX_EPOCHS
    epoch = f.integer("state.epoch", state["epoch"], 0, min(epochs, MAX_EPOCHS))
    if state["step"] != step:
        f.fail("state.step", f"the checkpoint's step {step}", state["step"])
    history = state["history"]
    if not isinstance(history, list) or len(history) != epoch:
        f.fail("state.history", f"a list of {epoch} per-epoch records", history)
    for i, record in enumerate(history):
        if (not isinstance(record, dict) or record.get("epoch") != i + 1
                or not all(isinstance(k, str) and _is_number(v) for k, v in record.items())):
            f.fail(f"state.history[{i}]", f"an object of finite numbers with epoch {i + 1}", record)
    if state["best_metric"] is None:
        if state["best_epoch"] is not None:
            f.fail("state.best_epoch", "null (no best metric recorded)", state["best_epoch"])
    else:
        if not _is_number(state["best_metric"]) or not 0 <= state["best_metric"] <= 1:
            f.fail("state.best_metric", "null or an accuracy in [0, 1]", state["best_metric"])
        f.integer("state.best_epoch", state["best_epoch"], 1, max(epoch, 1))
    f.integer("state.epochs_without_improvement", state["epochs_without_improvement"], 0, epoch)
    extra = state["extra"]
    if extra != {}:
        f.keys("state.extra", extra, _EPOCH_RUN)
        f.integer("state.extra.seen", extra["seen"], 0, MAX_STEPS * 1_000_000)
        f.integer("state.extra.correct", extra["correct"], 0, extra["seen"])
        for name in ("loss_sum", "seconds"):
            if not _is_number(extra[name]) or extra[name] < 0:
                f.fail(f"state.extra.{name}", "a finite number >= 0", extra[name])

    optimizer = f.keys("optimizer", sidecar["optimizer"], ("param_groups", "scalars", "arrays"))
    if not isinstance(optimizer["param_groups"], list):
        f.fail("optimizer.param_groups", "a list", optimizer["param_groups"])
    scalars = optimizer["scalars"]
    if not isinstance(scalars, dict) or not all(
            k.isdigit() and isinstance(v, dict) and all(_is_number(x) for x in v.values()) for k, v in scalars.items()):
        f.fail("optimizer.scalars", "an object of per-parameter numbers", scalars)
    arrays = optimizer["arrays"]
    if not isinstance(arrays, list) or not all(
            isinstance(k, str) and re.fullmatch(r"optimizer\.\d+\.\w+", k) for k in arrays):
        f.fail("optimizer.arrays", "a list of names 'optimizer.<index>.<name>'", arrays)
    for name in ("scheduler", "loader"):
        if sidecar[name] is not None and not isinstance(sidecar[name], dict):
            f.fail(name, "null or an object", sidecar[name])

    rng = f.keys("rng", sidecar["rng"], ("bit_generator", "state", "has_uint32", "uinteger"))
    if rng["bit_generator"] != "PCG64":
        f.fail("rng.bit_generator", "'PCG64'", rng["bit_generator"])
    inner = f.keys("rng.state", rng["state"], ("state", "inc"))
    for name in ("state", "inc"):
        f.integer(f"rng.state.{name}", inner[name], 0, 2 ** 128 - 1)
    f.integer("rng.has_uint32", rng["has_uint32"], 0, 1)
    f.integer("rng.uinteger", rng["uinteger"], 0, 2 ** 32 - 1)
    return sidecar


def read_sidecar(path) -> dict:
    """The checked sidecar of a checkpoint (its arrays file not yet looked at)."""
    path = Path(path)
    sidecar = loads_json(_read_small(path, MAX_SIDECAR_BYTES), path, "glassnet checkpoint sidecar")
    return _check_sidecar(path, sidecar)


def verify_checkpoint(path) -> dict:
    """The sidecar of a complete, consistent checkpoint: fields valid, arrays file present with the
    recorded hash, and naming this sidecar's step and content. CheckpointError says what is wrong."""
    path = Path(path)
    sidecar = read_sidecar(path)
    arrays = path.with_name(sidecar["arrays"])
    digest = _sha256(arrays)
    if digest != sidecar["sha256"]:
        raise CheckpointError(f"{arrays}: does not match the hash recorded in {path.name} (a damaged "
                              "file, or arrays of another checkpoint)")
    try:
        meta = load_metadata(arrays)
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    body = {k: v for k, v in sidecar.items() if k != "sha256"}
    if (meta.get("glassnet.step") != str(sidecar["step"])
            or meta.get("glassnet.sidecar_sha256") != hashlib.sha256(_canonical(body, allow_nan=True)).hexdigest()):
        raise CheckpointError(f"{path}: its arrays file {arrays.name} was written for another sidecar "
                              f"(step {meta.get('glassnet.step')!r} in its header): the two files do not "
                              "belong to the same checkpoint")
    return sidecar


# ---- finding, cleaning, pruning -------------------------------------------------------------

def _steps(directory: Path, pattern: re.Pattern) -> list[tuple[int, Path]]:
    return sorted((int(m.group(1)), directory / name) for name in os.listdir(directory)
                  if (m := pattern.fullmatch(name)))


def _checked_dir(directory) -> Path | None:
    directory = Path(directory)
    if directory.is_symlink():
        raise CheckpointError(f"{directory}: is a symbolic link; checkpoints are read only from a "
                              "real directory inside the run directory")
    return directory if directory.is_dir() else None


def find_checkpoint(directory) -> tuple[Path | None, list[tuple[Path, str]]]:
    """(the newest usable checkpoint's JSON path or None, [(file, why rejected)] for the newer
    ones that are not usable). Rejected files are left as they are."""
    directory = _checked_dir(directory)
    rejected = []
    if directory is None:
        return None, rejected
    for _, path in reversed(_steps(directory, _SIDECAR)):
        try:
            verify_checkpoint(path)
            return path, rejected
        except (ValueError, OSError) as error:
            rejected.append((path, str(error)))
    return None, rejected


def resume_point(directory, resume=True, log=print) -> Path | None:
    """The checkpoint to resume from: the newest usable one, each newer rejected one logged.
    Without one, resume="auto" returns None (start from scratch); resume=True raises a
    CheckpointError that names every rejected file and why, or says there is none at all."""
    found, rejected = find_checkpoint(directory)
    for path, why in rejected:
        log(f"skipped {path.name}: {why}")
    if found is not None or resume == "auto":
        if found is None:
            log(f"no usable checkpoint in {directory}; starting from scratch")
        return found
    if rejected:
        raise CheckpointError(f"no usable checkpoint in {directory}; every one was rejected (and kept):\n"
                              + "\n".join(f"  {p.name}: {why}" for p, why in rejected))
    raise CheckpointError(f"nothing to resume: {directory} holds no checkpoint")


def latest_checkpoint(directory) -> Path | None:
    """The newest usable checkpoint in `directory` (JSON path), skipping damaged ones."""
    return find_checkpoint(directory)[0]


def has_checkpoint_files(directory) -> bool:
    directory = Path(directory)
    return directory.is_dir() and any(_SIDECAR.fullmatch(n) or _ARRAYS.fullmatch(n) for n in os.listdir(directory))


def clean_leftovers(directory) -> list[str]:
    """Remove what an interrupted write or prune left: temporary files, and arrays files whose
    sidecar was never written or already removed (never usable without it). Returns their names."""
    directory = _checked_dir(directory)
    if directory is None:
        return []
    sidecars = {step for step, _ in _steps(directory, _SIDECAR)}
    removed = []
    for name in sorted(os.listdir(directory)):
        m = _ARRAYS.fullmatch(name)
        if _TEMPORARY.fullmatch(name) or (m and int(m.group(1)) not in sidecars):
            path = directory / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                path.unlink()
                removed.append(name)
    return removed


def _usable(path: Path) -> bool:
    try:
        verify_checkpoint(path)
        return True
    except (ValueError, OSError):
        return False


def prune(directory, keep: int = KEEP) -> None:
    """Keep the newest `keep` usable checkpoints and remove older usable ones. A damaged one is
    never removed (it is kept for the user to look at) and does not count as kept."""
    kept = 0
    for _, path in reversed(_steps(Path(directory), _SIDECAR)):
        if not _usable(path):
            continue
        kept += 1
        if kept > keep:
            path.unlink()  # the sidecar first: without it the arrays file is a leftover, cleaned at the next start
            path.with_suffix(".safetensors").unlink(missing_ok=True)


def _set_aside(path: Path) -> None:
    """Rename a damaged file out of the way of a new checkpoint of the same step, keeping it."""
    for n in range(1000):
        target = path.with_name(f"{path.name}.rejected{n or ''}")
        if not target.exists():
            path.rename(target)
            return
    raise CheckpointError(f"{path}: cannot be set aside (too many .rejected copies)")


# ---- saving and loading ---------------------------------------------------------------------

def _split_optimizer_state(state_dict: dict) -> tuple[dict, dict]:
    """Optimizer.state_dict() -> (arrays for safetensors, JSON-able rest)."""
    arrays, scalars = {}, {}
    for index, values in state_dict["state"].items():
        for name, value in values.items():
            if isinstance(value, np.ndarray) and value.ndim > 0:
                arrays[f"optimizer.{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = np.asarray(value).item()
    return arrays, {"param_groups": state_dict["param_groups"], "scalars": scalars, "arrays": sorted(arrays)}


def _join_optimizer_state(arrays: dict, meta: dict) -> dict:
    state: dict = {}
    for key, value in arrays.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    for index, values in meta["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(directory, *, model, optimizer, state: TrainState, scheduler=None, loader=None,
                    config: dict | None = None, keep: int = KEEP) -> Path:
    """Write the checkpoint of `state.step` into `directory`; return the JSON path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    sidecar_path, arrays_path = directory / (_stem(state.step) + ".json"), directory / (_stem(state.step) + ".safetensors")
    arrays = {f"model.{k}": v for k, v in model.state_dict().items()}
    optimizer_arrays, optimizer_meta = _split_optimizer_state(optimizer.state_dict())
    arrays.update(optimizer_arrays)
    body = {
        "format": FORMAT,
        "step": state.step,
        "arrays": arrays_path.name,
        "state": asdict(state),
        "optimizer": optimizer_meta,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "loader": loader.state_dict() if loader is not None else None,
        "rng": grandom.get_rng_state(),
        "config": dict(config or {}),
    }
    body = json.loads(_canonical(body))  # what a reader will see (tuples as lists, numpy scalars as numbers)
    # files of the same step: our own checkpoint (an epoch's end after a Ctrl-C checkpoint at its
    # last batch) is uncommitted before its arrays are replaced, so that a kill in between leaves no
    # mismatched pair; a damaged one (a run started over with --resume=auto) is set aside, kept
    if os.path.lexists(sidecar_path):
        if _usable(sidecar_path):
            sidecar_path.unlink()
        else:
            _set_aside(sidecar_path)
            if os.path.lexists(arrays_path):
                _set_aside(arrays_path)
    save(arrays, arrays_path, metadata={"glassnet.checkpoint": FORMAT, "glassnet.step": str(state.step),
                                        "glassnet.sidecar_sha256": hashlib.sha256(_canonical(body)).hexdigest()})
    sidecar = {**body, "sha256": _sha256(arrays_path)}
    atomic_write_bytes(sidecar_path, json.dumps(sidecar, indent=1).encode())  # last: it commits the checkpoint
    prune(directory, keep)
    return sidecar_path


def _restore(path: Path, what: str, load_state_dict, state) -> None:
    try:
        load_state_dict(state)
    except (ValueError, TypeError, KeyError) as error:
        raise CheckpointError(f"{path}: not a valid glassnet checkpoint: field {what!r}: {error}") from None


def load_checkpoint(path, *, model, optimizer=None, scheduler=None, loader=None,
                    restore_rng: bool = True) -> tuple[TrainState, dict]:
    """Restore everything save_checkpoint wrote; return the TrainState and the run's config.
    Raises CheckpointError, naming the file and field, for anything missing, damaged or not
    fitting the objects given."""
    path = Path(path)
    sidecar = verify_checkpoint(path)
    arrays_path = path.with_name(sidecar["arrays"])
    try:
        arrays = load(arrays_path)
    except ValueError as error:
        raise CheckpointError(str(error)) from None
    model_keys = {f"model.{k}" for k in model.state_dict()}
    expected = model_keys | set(sidecar["optimizer"]["arrays"])
    if set(arrays) != expected:
        raise CheckpointError(f"{arrays_path}: does not fit this model and optimiser: missing "
                              f"{sorted(expected - set(arrays))[:5]}, unexpected {sorted(set(arrays) - expected)[:5]}")
    _restore(path, "model", model.load_state_dict,
             {k[len("model."):]: v for k, v in arrays.items() if k in model_keys})
    if optimizer is not None:
        _restore(path, "optimizer", optimizer.load_state_dict, _join_optimizer_state(
            {k: v for k, v in arrays.items() if k.startswith("optimizer.")}, sidecar["optimizer"]))
    for name, target in (("scheduler", scheduler), ("loader", loader)):
        if target is None:
            continue
        if sidecar[name] is None:
            raise CheckpointError(f"{path}: holds no {name} state, but this run has a {name}")
        _restore(path, name, target.load_state_dict, sidecar[name])
    if restore_rng:
        _restore(path, "rng", grandom.set_rng_state, sidecar["rng"])
    return TrainState(**sidecar["state"]), sidecar["config"]
