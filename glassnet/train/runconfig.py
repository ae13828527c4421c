"""The configuration of a `glassnet train` run: its defaults, its checks, and resume's rule.

Each setting comes from the first of: the flag on the command line; on `--resume`, the value the
run recorded; the data set's own default (its model and the training settings that suit it,
data/registry.py); the global DEFAULTS below.

Every setting that changes the trained weights is recorded in each checkpoint. On `--resume`,
a setting not given on the command line comes from the checkpoint, and one given with another
value than the recorded one is an error naming both: a resumed run is the same run, continued.
(`--checkpoint-every`, `--out`, `--data` and `--no-progress` change no weights and are not
recorded.)
"""

from __future__ import annotations

import math

from ..data.registry import DATASETS

# flag name (without "--", "_" for "-") -> default, where the data set sets none
DEFAULTS = {
    "model": None,          # None: the data set's usual model
    "dataset": "auto",
    "epochs": 5,
    "batch_size": 64,
    "lr": 0.05,
    "optimizer": "sgd",
    "momentum": 0.9,
    "weight_decay": 0.0,
    "scheduler": "cosine",
    "augment": False,
    "seed": 0,
    "limit": None,
    "val_split": 0.1,
    "grad_clip": None,
    "patience": None,
}
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("none", "cosine", "step")


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def parse_val_split(text: str) -> float | int:
    """'0.1' -> the fraction 0.1 of the training data; '500' -> 500 samples."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--val-split takes a fraction like 0.1 or a count like 500, got {text!r}") from None


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# setting -> (test, what it must be)
_RULES = {
    "model": (lambda v: v is None or isinstance(v, str), "a model name"),
    "dataset": (lambda v: v == "auto" or v in DATASETS, "one of auto, " + ", ".join(DATASETS)),
    "epochs": (lambda v: _is_int(v) and 1 <= v <= 1_000_000, "a number of epochs from 1 to 1,000,000 "
               "(passes over the training data)"),
    "batch_size": (lambda v: _is_int(v) and v >= 1, "a positive number of samples per step"),
    "lr": (lambda v: _is_number(v) and v > 0, "a learning rate > 0"),
    "optimizer": (lambda v: v in OPTIMIZERS, "one of " + ", ".join(OPTIMIZERS)),
    "momentum": (lambda v: _is_number(v) and 0 <= v < 1, "a momentum in [0, 1)"),
    "weight_decay": (lambda v: _is_number(v) and v >= 0, "a weight decay >= 0"),
    "scheduler": (lambda v: v in SCHEDULERS, "one of " + ", ".join(SCHEDULERS)),
    "augment": (lambda v: isinstance(v, bool), "true or false"),
    "seed": (lambda v: _is_int(v) and 0 <= v < 2 ** 63, "an int seed >= 0"),
    "limit": (lambda v: v is None or (_is_int(v) and v >= 2), "at least 2 training samples"),
    "val_split": (lambda v: (_is_int(v) and v >= 0) or (isinstance(v, float) and 0 <= v < 1),
                  "a fraction in [0, 1) or a count >= 0 of training samples held out for validation"),
    "grad_clip": (lambda v: v is None or (_is_number(v) and v > 0), "a gradient norm > 0"),
    "patience": (lambda v: v is None or (_is_int(v) and v >= 1), "at least 1 epoch"),
}


def check(settings: dict, source: str = "") -> None:
    """ValueError for the first setting out of range; `source` names where the values came from."""
    for name, (ok, expected) in _RULES.items():
        if not ok(settings.get(name)):
            where = f"{source}: field 'config.{name}'" if source else flag(name)
            raise ValueError(f"{where} must be {expected}, got {settings.get(name)!r}")


def defaults_for(dataset: str) -> dict:
    """The defaults of a run on `dataset`: its default model and training settings over the
    global DEFAULTS. 'auto' (a name not yet resolved) has the global ones."""
    info = DATASETS.get(dataset)
    if info is None:
        return {**DEFAULTS, "dataset": dataset}
    return {**DEFAULTS, "model": info.default_model, **info.training, "dataset": dataset}


def per_dataset(name: str) -> bool:
    """Whether the default of setting `name` differs from one data set to another."""
    return len({repr(defaults_for(d)[name]) for d in DATASETS}) > 1


def help_default(name: str) -> str:
    """The default of setting `name` as --help words it."""
    if per_dataset(name):
        return "default: per data set, see `glassnet datasets`"
    return f"default {defaults_for(next(iter(DATASETS)))[name]}"


def merge(given: dict, recorded: dict | None, source: str) -> dict:
    """The run's settings: `given` (flags on the command line) over the data set's defaults for
    a new run; for a resumed run over the `recorded` ones, with any given flag that differs an
    error. (A new run names its data set, resolved from 'auto', in `given`.)"""
    if recorded is None:
        settings = {**defaults_for(given.get("dataset", DEFAULTS["dataset"])), **given}
        check(settings)
        return settings
    recorded = {k: recorded[k] for k in DEFAULTS if k in recorded}
    check({**DEFAULTS, **recorded}, source)
    for name, value in given.items():
        if name in recorded and value != recorded[name]:
            raise ValueError(f"{flag(name)} {value} conflicts with the run's recorded {name.replace('_', ' ')} "
                             f"{recorded[name]} ({source}): leave it out to continue the run as it was, "
                             f"or start a new run with another --out")
    dataset = {**DEFAULTS, **given, **recorded}["dataset"]
    settings = {**defaults_for(dataset), **given, **recorded}
    check(settings)
    return settings


def val_count(val_split: float | int, n: int) -> int:
    """How many of the n training samples the split holds out (at least 1 for a fraction > 0)."""
    count = val_split if isinstance(val_split, int) else max(1, round(val_split * n)) if val_split > 0 else 0
    if count >= n:
        raise ValueError(f"--val-split {val_split} holds out {count} of the {n} training samples, "
                         "leaving none to train on")
    return count
