"""The `glassnet` command line: train, eval, predict, summary, export, explain.

    glassnet train --model lenet5 --dataset fashion-mnist --epochs 5 --out runs/lenet5
    glassnet eval runs/lenet5 --json
    glassnet predict runs/lenet5 image.png
    glassnet summary lenet5
    glassnet export runs/lenet5 lenet5.onnx
    glassnet explain ...            (the lecture tools; `glassnet explain --help`)

A run directory holds model.safetensors (the final weights, with the model's name and the
data set's class names in its header), metrics.json, curves.png, confusion.png and
checkpoints/ (for --resume). Errors print one line and exit with status 1; --debug shows the
traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

EXIT_ERROR = 1


class CLIError(Exception):
    """An error worth one clear line to the user (no traceback)."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that ends every option's line with its default, where it has one worth showing."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or action.default is None or action.default is False or action.default == argparse.SUPPRESS or not action.option_strings:
            return text
        return (text + " " if text else "") + "(default: %(default)s)"


def show_defaults(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give parser and all its subcommands HelpFormatter, and a help line to every option that
    has a default but no help (argparse leaves options without help out of the defaults)."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                show_defaults(child)
        elif action.help is None and action.option_strings and action.default is not None and action.default is not False:
            action.help = "default: %(default)s"
    return parser


def compile_notice() -> None:
    """numba compiles glassnet's kernels for this machine on their first call (seconds) and keeps
    them in a cache; while that cache is empty, say why the first command is slow."""
    import glob
    import os
    # numba keeps each module's cache in the __pycache__ beside it (kernels/fast/__pycache__)
    folder = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(os.path.dirname(__file__), "kernels")
    if not glob.glob(os.path.join(folder, "**", "*.nbi"), recursive=True):
        print("note: compiling glassnet's kernels for this machine (the first run only; a few seconds)",
              file=sys.stderr, flush=True)


# ---- building blocks shared by the subcommands ---------------------------------------------

def _build_model(name: str, num_classes: int):
    from .models import get_model
    try:
        return get_model(name, num_classes=num_classes)
    except ValueError as error:
        raise CLIError(str(error)) from None


def _load_trained(path: str, model: str | None = None):
    """A run directory or weights file -> glassnet.models.trained.Trained (model in eval mode)."""
    from .models.trained import load_trained
    try:
        return load_trained(path, model)
    except ValueError as error:
        raise CLIError(str(error)) from None


def _check_model_fits(model_name: str, dataset: str) -> None:
    """Refuse a model that cannot take the data set's samples, before any data is loaded."""
    from .data.registry import DATASETS
    from .models.trained import input_error
    shape = DATASETS[dataset].input_shape
    reason = input_error(_build_model(model_name, 10), shape)
    if reason:
        fitting = sorted({d for d, info in DATASETS.items() if info.default_model == model_name})
        hint = f" (it is made for {', '.join(fitting)})" if fitting else ""
        raise CLIError(f"model {model_name!r} cannot take {dataset}'s samples of shape {shape}{hint}: {reason}")


def _json(value) -> str:
    """json.dumps with NaN and infinities written as null: Python would write NaN, which is not JSON."""
    def finite(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: finite(x) for k, x in v.items()}
        return [finite(x) for x in v] if isinstance(v, (list, tuple)) else v
    return json.dumps(finite(value), allow_nan=False)


def _optimizer(name: str, params, lr: float, momentum: float, weight_decay: float):
    from . import optim
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise CLIError(f"unknown optimizer {name!r}; choose sgd, adam or adamw")


# ---- subcommands ---------------------------------------------------------------------------

_RUN_FILES = ("model.safetensors", "best.safetensors", "metrics.json", "curves.png", "confusion.png")


def _train_settings(args) -> tuple[dict, object]:
    """(the run's settings, the checkpoint to resume from or "auto" or False); see train/runconfig.py."""
    from .data.registry import resolve_name
    from .train.checkpoint import CheckpointError, read_sidecar, resume_point
    from .train.runconfig import DEFAULTS, merge, parse_val_split

    given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k, None) is not None}

    def new_run():  # the data set first: its defaults fill in what the flags leave out
        return merge({**given, "dataset": resolve_name(given.get("dataset", DEFAULTS["dataset"]))}, None, "")
    try:
        if "val_split" in given:
            given["val_split"] = parse_val_split(given["val_split"])
        if given.get("dataset"):
            given["dataset"] = resolve_name(given["dataset"])  # "auto" -> what it stands for on this machine
        checkpoints = Path(args.out) / "checkpoints"
        if not args.resume:
            _check_new_out(Path(args.out), args.overwrite)
            return new_run(), False
        # with "auto" and nothing usable, fit() looks again and says what it skipped
        found = resume_point(checkpoints, args.resume, log=lambda line: args.resume == "auto" or
                             print(line, file=sys.stderr))
        if found is None:  # --resume=auto, nothing usable
            return new_run(), "auto"
        return merge(given, read_sidecar(found)["config"], str(found)), found
    except CheckpointError as error:
        hint = "\n--resume=auto starts the run over instead" if "every one was rejected" in str(error) else \
            " (run without --resume to start a new run)" if "nothing to resume" in str(error) else ""
        raise CLIError(f"cannot resume: {error}{hint}") from None
    except ValueError as error:
        raise CLIError(str(error)) from None


def _check_new_out(out: Path, overwrite: bool) -> None:
    """A new run needs an empty --out, or --overwrite to remove the run files found there."""
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    if not out.is_dir():
        raise CLIError(f"--out {out} is a file, not a directory")
    if not overwrite:
        names = sorted(p.name for p in out.iterdir())
        raise CLIError(f"--out {out} is not empty (it holds {', '.join(names[:5])}{', ...' if len(names) > 5 else ''}): "
                       "--resume continues the run there, --overwrite replaces it, or choose another --out")
    for name in _RUN_FILES:
        (out / name).unlink(missing_ok=True)
    checkpoints = out / "checkpoints"
    if checkpoints.is_dir() and not checkpoints.is_symlink():
        for path in checkpoints.iterdir():
            if path.name.startswith(("step-", ".step-")) and path.is_file():
                path.unlink()


def _split_train_val(train_set, settings: dict, augment_shape):
    """(training subset, validation subset): the first --limit samples, of which --val-split are
    held out at random with the run's seed (the same split on every resume); random crops, if
    asked for, on the training part only."""
    import copy

    from .data import Subset, random_split, transforms
    from .train.runconfig import val_count

    n = min(settings["limit"] or len(train_set), len(train_set))
    try:
        n_val = val_count(settings["val_split"], n)
    except ValueError as error:
        raise CLIError(str(error)) from None
    # a stream of its own: the loader's streams are [seed, epoch, 0] and [seed, epoch, 1, batch]
    generator = np.random.default_rng([settings["seed"], 0x76616C])
    train_part, val_part = random_split(Subset(train_set, range(n)), [n - n_val, n_val], generator=generator)
    augmented = train_set
    if settings["augment"] and augment_shape is not None:
        augmented = copy.copy(train_set)  # shares the arrays; only the training part is cropped
        augmented.transform = transforms.RandomCrop(augment_shape[-1], padding=2)
    return Subset(augmented, train_part.indices), Subset(train_set, val_part.indices)


def _resume_command(args) -> str:
    import shlex
    data = f" --data {shlex.quote(args.data)}" if args.data else ""
    return f"glassnet train --out {shlex.quote(args.out)} --resume{data}"


def _join_ranks():
    """Under `mpiexec -n N` (N > 1): join the MPI process group and return (rank, N); else None.
    Ranks other than 0 print nothing on stdout (rank 0 reports for all)."""
    from .train.parallel import launched_in_parallel
    if not launched_in_parallel():
        return None
    from . import distributed
    if not distributed.is_initialized():
        distributed.init_process_group("mpi")
    rank, size = distributed.get_rank(), distributed.get_world_size()
    if rank != 0:
        sys.stdout = open(os.devnull, "w")
    return rank, size


def cmd_train(args) -> int:
    out = Path(args.out)
    created = [p for p in (out, *out.parents) if not p.exists()]
    try:
        return _train(args, out, _join_ranks())
    finally:
        for folder in created:  # a run that failed before writing anything leaves no empty folders
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def _train(args, out: Path, ranks=None) -> int:
    """One run of `glassnet train`; ranks = (rank, N) when mpiexec started N processes: each
    trains on its share of every global batch of --batch-size (train/parallel.py)."""
    from . import manual_seed
    from .data import DataLoader
    from .data.registry import DATASETS, load_dataset
    from .optim import lr_scheduler
    from .serialization import save
    from .train import CheckpointError, TrainingInterrupted, evaluate, fit

    main_rank = ranks is None or ranks[0] == 0
    if not main_rank:  # rank 0 checks (and with --overwrite clears) --out before the others look
        _barrier()
    settings, resume = _train_settings(args)
    if ranks is not None and main_rank:
        _barrier()
    name = settings["dataset"]
    info = DATASETS[name]
    _check_model_fits(settings["model"] or info.default_model, name)  # before any data is loaded
    if args.dataset in (None, "auto") and resume is False:
        print(f"dataset: {name}" + ("" if name == "fashion-mnist" else
                                    " (Fashion-MNIST files not found; using the built-in shapes data)"))
    try:
        options = {"download": False} if args.no_download and name in ("fashion-mnist", "mnist") else {}
        train_set = load_dataset(name, train=True, root=args.data, **options)
        test_set = load_dataset(name, train=False, root=args.data, **options)  # read once, at the end
    except (FileNotFoundError, OSError, ValueError) as error:
        raise CLIError(f"cannot load data set {name!r}: {error}") from None
    classes = list(getattr(train_set, "classes", None) or getattr(getattr(train_set, "dataset", None), "classes"))
    train_part, val_part = _split_train_val(train_set, settings,
                                            info.input_shape if len(info.input_shape) == 3 else None)
    model_name = settings["model"] = settings["model"] or info.default_model
    manual_seed(settings["seed"])  # initial weights and dropout
    model = _build_model(model_name, len(classes))

    out.mkdir(parents=True, exist_ok=True)
    for run_file in _RUN_FILES:  # temporary files of a write the last process did not finish
        for leftover in out.glob(f".{run_file}.*.tmp") if main_rank else ():  # rank 0 alone writes
            leftover.unlink()
    seed = settings["seed"]
    train_loader = DataLoader(train_part, batch_size=settings["batch_size"], shuffle=True, seed=seed)
    # unshuffled; a seed keeps them off the global generator
    val_loader = DataLoader(val_part, batch_size=512, seed=0) if len(val_part) else None
    test_loader = DataLoader(test_set, batch_size=512, seed=0)
    optimizer = _optimizer(settings["optimizer"], model.parameters(), settings["lr"], settings["momentum"],
                           settings["weight_decay"])
    scheduler = None
    epochs = settings["epochs"]
    if settings["scheduler"] == "cosine":
        scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    elif settings["scheduler"] == "step":
        scheduler = lr_scheduler.StepLR(optimizer, step_size=max(epochs // 3, 1), gamma=0.1)
    if ranks is not None:
        from .distributed.ddp import DistributedDataParallel
        from .train.parallel import ShardedLoader
        model = DistributedDataParallel(model)  # rank 0's initial weights everywhere; gradients averaged
        train_loader = ShardedLoader(train_loader, *ranks)
        from .distributed.collectives import comm
        pids = comm().allgather(os.getpid())  # so that mpiexec's report of a dead PID names its rank
        print(f"data-parallel on {ranks[1]} MPI ranks (" + ", ".join(f"rank {r}: pid {p}" for r, p in enumerate(pids))
              + f"): each trains on its share of every batch of {settings['batch_size']}")
    print(f"model {model_name}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_part):,} training, {len(val_part):,} validation (held out from the training data) "
          f"and {len(test_set):,} test samples")

    metadata = {"model": model_name, "dataset": name, "classes": json.dumps(classes),
                "input_shape": json.dumps(list(info.input_shape))}

    def save_best(model, record):
        if main_rank:
            save(model.state_dict(), out / "best.safetensors", metadata={**metadata, "epoch": str(record["epoch"])})

    started = time.perf_counter()
    try:
        history = fit(model, optimizer, train_loader, epochs=epochs, val_loader=val_loader,
                      scheduler=scheduler, out_dir=out, resume=resume,
                      checkpoint_every=args.checkpoint_every, grad_clip=settings["grad_clip"],
                      patience=settings["patience"], config=settings, on_improvement=save_best,
                      progress=not args.no_progress)
    except TrainingInterrupted as stop:
        print(f"interrupted in epoch {stop.epoch + 1} after step {stop.step}; checkpoint written: "
              f"{stop.checkpoint}\nresume with:\n  {_resume_command(args)}", file=sys.stderr)
        return 130
    except CheckpointError as error:
        raise CLIError(str(error)) from None
    if not main_rank:
        return 0  # rank 0 evaluates the test split and writes the run's files
    from .train.parallel import unwrap
    model = unwrap(model)  # out of DistributedDataParallel: plain state_dict keys
    try:
        final = evaluate(model, test_loader, num_classes=len(classes))  # the test split's only pass
        save(model.state_dict(), out / "model.safetensors", metadata=metadata)
        best = max(history, key=lambda h: h["val_accuracy"]) if val_loader is not None else None
        metrics = {
            "config": settings,
            "split": {"train": len(train_part), "val": len(val_part), "test": len(test_set),
                      "val_is": "held out from the training data with the run's seed (per-epoch val_*, "
                                "early stopping, best.safetensors)",
                      "test_is": "the data set's test split, evaluated once, after training, on the "
                                 "final weights (model.safetensors)"},
            "epochs": history,
            "best": {"epoch": best["epoch"], "val_accuracy": best["val_accuracy"]} if best else None,
            "test_accuracy": final["accuracy"], "test_loss": final["loss"],
            "wall_seconds": time.perf_counter() - started,
            "confusion_matrix": final["confusion"].tolist(), "classes": classes}
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
        from .viz.training import plot_confusion, plot_curves  # matplotlib: imported only when needed
        plot_curves(history, out / "curves.png",
                    title=f"{model_name} on {name}, test accuracy {final['accuracy']:.3f}")
        plot_confusion(final["confusion"], classes, out / "confusion.png",
                       title=f"{model_name} on {name}: test confusion matrix, accuracy {final['accuracy']:.3f}")
    except KeyboardInterrupt:
        print(f"interrupted after training finished, before the test results and model.safetensors "
              f"were all written; the trained state is in {out / 'checkpoints'}; finish with:\n  "
              f"{_resume_command(args)}", file=sys.stderr)
        return 130
    if best:
        print(f"best validation accuracy: {best['val_accuracy']:.4f} after epoch {best['epoch']} "
              f"({out / 'best.safetensors'})")
    print(f"test accuracy: {final['accuracy']:.4f} (final weights, {len(test_set):,} test samples; "
          f"{out / 'model.safetensors'}, metrics.json, curves.png, confusion.png)")
    return 0


def cmd_eval(args) -> int:
    from .data import DataLoader
    from .data.registry import load_dataset
    from .train import evaluate, per_class_accuracy

    trained = _load_trained(args.run)
    model, classes = trained.model, trained.classes
    name = args.dataset or trained.dataset or "auto"
    _check_input_shape(trained, name)
    try:
        test_set = load_dataset(name, train=False, root=args.data)
    except (FileNotFoundError, OSError, ValueError) as error:
        raise CLIError(f"cannot load data set {name!r}: {error}") from None
    result = evaluate(model, DataLoader(test_set, batch_size=512, seed=0), num_classes=len(classes))
    confusion = result["confusion"]
    if args.json:
        print(_json({"accuracy": result["accuracy"], "loss": result["loss"], "dataset": name, "split": "test",
                     "classes": classes, "per_class_accuracy": per_class_accuracy(confusion).tolist(),
                     "confusion_matrix": confusion.tolist()}))
        return 0
    print(f"{trained.name} on {name}'s test split ({confusion.sum():,} samples, none seen in training or "
          f"validation): accuracy {result['accuracy']:.4f}")
    print(confusion_table(confusion, classes, per_class_accuracy(confusion)))
    return 0


def confusion_table(confusion: np.ndarray, classes: list[str], accuracy: np.ndarray) -> str:
    """The confusion matrix as text: one row per true class with its accuracy, one column per
    predicted class, headed by the class number (the key below names them)."""
    width = max(len(c) for c in classes) + len(str(len(classes))) + 1
    cell = max(5, len(str(int(confusion.max()))) + 1)
    lines = ["true \\ predicted".ljust(width + 2) + "accuracy"
             + "".join(f"{i:>{cell}}" for i in range(len(classes)))]
    for i, (c, acc, row) in enumerate(zip(classes, accuracy, confusion)):
        lines.append(f"{i} {c:<{width - len(str(i)) - 1}}  {acc:8.3f}" + "".join(f"{v:>{cell}d}" for v in row))
    return "\n".join(lines)


def _check_input_shape(trained, dataset: str) -> None:
    """Refuse, before loading anything, a data set whose samples the model was not built for."""
    from .data.registry import DATASETS, resolve_name
    try:
        name = resolve_name(dataset)
    except ValueError as error:
        raise CLIError(str(error)) from None
    shape = DATASETS[name].input_shape
    if trained.input_shape is not None and tuple(trained.input_shape) != tuple(shape):
        raise CLIError(f"{trained.name} was trained on inputs of shape {tuple(trained.input_shape)}; "
                       f"{name} has samples of shape {tuple(shape)}")


def _read_input(path: str, input_shape: tuple[int, ...], dataset: str | None, raw: bool
                ) -> tuple[np.ndarray, list[str]]:
    """An image file (PNG/JPEG) or a .npy array -> (one sample of input_shape (C, *spatial)
    float32, notes on what was done to it).

    For a model of images, a PNG and a .npy array holding the same picture ((H, W), (H, W, 3|4)
    or (1, H, W)) go through the same steps (glassnet.data.preprocess.prepare_image: 8-bit
    values divided by 255, grey, light-on-dark, centred, resized). Other arrays must hold one
    sample of input_shape and are only scaled the same way."""
    from .data.preprocess import prepare_image, to_unit_range
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"no such input file: {path}")
    from .data.images import load_npy, open_image
    from .untrusted import InvalidFileError
    takes_images = len(input_shape) == 3
    if p.suffix == ".npy":
        try:
            x = load_npy(p)  # size and dtype checked from the header first (data/images.py)
        except InvalidFileError as error:
            raise CLIError(str(error)) from None
        if takes_images and x.ndim == 3 and x.shape[0] == 1:
            x = x[0]  # (1, H, W) -> (H, W): a grey picture
        is_image = x.ndim == 2 or (x.ndim == 3 and x.shape[-1] in (3, 4))
        if not (takes_images and is_image):
            if x.size != int(np.prod(input_shape)):
                raise CLIError(f"{path} holds an array of shape {x.shape}; the model expects one sample of "
                               f"shape {tuple(input_shape)}")
            try:
                x, note = to_unit_range(x)
            except ValueError as error:
                raise CLIError(f"{path}: {error}") from None
            return x.reshape(input_shape), [f"array of shape {np.shape(x)}: {note}"]  # (C, *spatial)
    else:
        try:
            image = open_image(p)  # its size checked from the header before decoding (data/images.py)
            x = np.asarray(image.convert("L" if image.mode in ("1", "L", "LA", "I", "I;16") else "RGB"))
        except InvalidFileError as error:
            raise CLIError(str(error)) from None
        if not takes_images:
            raise CLIError(f"this model takes inputs of shape {tuple(input_shape)}, not images: give a .npy file")
    try:
        return prepare_image(x, tuple(input_shape[1:]), dataset, channels=input_shape[0], raw=raw)
    except ValueError as error:
        raise CLIError(f"{path}: {error}") from None


def cmd_predict(args) -> int:
    from . import functional as F
    from . import no_grad, tensor

    trained = _load_trained(args.run)
    classes = trained.classes
    x, notes = _read_input(args.input, trained.input_shape or (1, 28, 28), trained.dataset, args.raw)
    with no_grad():
        probs = F.softmax(trained.model(tensor(x[None])), dim=1).data[0]  # (num_classes,)
    best = int(probs.argmax())
    if args.json:
        print(_json({"class": best, "label": classes[best], "preprocessing": notes,
                     "probabilities": {c: float(p) for c, p in zip(classes, probs)}}))
        return 0
    print(f"input {args.input}: " + "; ".join(notes))
    print(f"{classes[best]} (class {best}, p = {probs[best]:.3f})")
    for i in np.argsort(-probs)[:args.top]:
        print(f"  {classes[i]:<14} {probs[i]:.4f}")
    return 0


def cmd_summary(args) -> int:
    from .data.registry import DATASETS
    from .explain import count
    from .models import MODELS

    if args.model not in MODELS:
        raise CLIError(f"unknown model {args.model!r}; available: {', '.join(sorted(MODELS))}")
    default_shapes = {info.default_model: info.input_shape for info in DATASETS.values()}
    shape = tuple(args.input_shape) if args.input_shape else default_shapes.get(args.model, (1, 28, 28))
    model = _build_model(args.model, args.num_classes)
    print(f"{args.model}, input {shape}:")
    print(count(model, shape))
    return 0


def cmd_export(args) -> int:
    """A trained run as an ONNX file, traced on a zero batch of the run's input shape."""
    from .onnx import export
    trained = _load_trained(args.run)
    shape = trained.input_shape or (1, 28, 28)
    export(trained.model, np.zeros((1,) + tuple(shape), np.float32), args.out, opset_version=args.opset)
    print(f"wrote {args.out} ({trained.name}, input (N, {', '.join(map(str, shape))}), opset {args.opset})")
    return 0


def cmd_models(args) -> int:
    """Every model of the zoo: the sample shapes it takes, parameters, the data sets it is the
    default for, and the first line of its docstring."""
    import inspect

    from .data.registry import DATASETS
    from .models import MODELS
    from .models.trained import input_error
    shapes = sorted({info.input_shape for info in DATASETS.values()}, key=len)
    rows = []
    for name, build in MODELS.items():
        model = build(num_classes=10)
        takes = [s for s in shapes if input_error(model, s) is None]
        default_for = [d for d, info in DATASETS.items() if info.default_model == name]
        doc = _first_sentence(inspect.getmodule(build).__doc__ or "")
        rows.append((name, ", ".join("x".join(map(str, s)) for s in takes) or "-",
                     f"{sum(p.numel() for p in model.parameters()):,}", ", ".join(default_for) or "-", doc))
    _print_table(("model", "takes (C x ...)", "parameters", "default for", "what it is"), rows)
    print("\nParameters counted for 10 classes. `glassnet summary MODEL` shows the layers; "
          "`glassnet train --model MODEL --dataset DATA` trains one.")
    return 0


def cmd_datasets(args) -> int:
    """Every data set by name: one sample's shape, the default model, what it holds, and the
    training settings `glassnet train` uses on it by default."""
    from .data.registry import DATASETS
    from .train.runconfig import defaults_for, flag
    rows = [(name, "x".join(map(str, info.input_shape)), info.default_model, info.description)
            for name, info in DATASETS.items()]
    _print_table(("data set", "sample (C x ...)", "default model", "what it holds"), rows)
    print("\n`glassnet train`'s defaults on each (a flag given on the command line wins; chosen by measurement, "
          "docs/results.md):\n")
    flags = ("optimizer", "lr", "momentum", "weight_decay", "batch_size", "scheduler", "epochs")
    rows = [(name, *(_setting(defaults_for(name), f) for f in flags)) for name in DATASETS]
    _print_table(("data set", *(flag(f) for f in flags)), rows)
    print("\nfashion-mnist and mnist are looked for in $GLASSNET_DATA, ~/.cache/glassnet and "
          "/usr/share/datasets, else downloaded; the others are generated. "
          "--dataset auto: fashion-mnist if found, else shapes.")
    return 0


def _setting(settings: dict, name: str) -> str:
    """One training setting for a table: '-' for a momentum the optimiser does not use."""
    return "-" if name == "momentum" and settings["optimizer"] != "sgd" else str(settings[name])


def _first_sentence(doc: str, limit: int = 70) -> str:
    text = " ".join(doc.split("\n\n")[0].split())
    for end in (": ", ". ", " ("):
        text = text.split(end)[0]
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(f"{str(v):<{w}}" for v, w in zip(row, widths)) + "  " + str(row[-1]))


def cmd_explain(args, rest: list[str]) -> int:
    from .explain.cli import main as explain_main
    return explain_main(rest, prog="glassnet explain")


# ---- argument parsing ----------------------------------------------------------------------

def _resume_mode(value: str) -> str:
    if value != "auto":
        raise argparse.ArgumentTypeError(f"--resume takes no value or 'auto', got {value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glassnet", description="A see-through CNN framework.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and write a run directory")
    from .train.runconfig import DEFAULTS as D
    from .train.runconfig import help_default as d  # the default, or "per data set" where data sets differ
    # settings default to None here so that --resume can tell given flags from the recorded ones
    t.add_argument("--model", help=f"model name ({d('model')})")
    t.add_argument("--dataset", help="fashion-mnist, mnist, mnist1d, shapes, clips, or auto (Fashion-MNIST "
                   "if found, else shapes; default auto)")
    t.add_argument("--data", help="directory holding data set files (also $GLASSNET_DATA)")
    t.add_argument("--no-download", action="store_true", help="never download a missing data set")
    t.add_argument("--epochs", type=int, help=f"passes over the training data ({d('epochs')})")
    t.add_argument("--batch-size", type=int, help=f"the global batch: under `mpiexec -n N` each of the N "
                   f"ranks trains on its share of every batch ({d('batch_size')})")
    t.add_argument("--lr", type=float, help=f"learning rate ({d('lr')})")
    t.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], help=f"sgd uses Nesterov momentum when --momentum > 0 ({d('optimizer')})")
    t.add_argument("--momentum", type=float, help=f"SGD's (Nesterov) momentum ({d('momentum')})")
    t.add_argument("--weight-decay", type=float, help=d('weight_decay'))
    t.add_argument("--scheduler", choices=["none", "cosine", "step"], help=d('scheduler'))
    t.add_argument("--augment", action="store_true", default=None, help="random crops with 2 pixels of padding")
    t.add_argument("--seed", type=int, help=f"initial weights, dropout, batch order and the validation split "
                   f"(default {D['seed']})")
    t.add_argument("--val-split", help="training samples held out for validation (per-epoch metrics, early "
                   f"stopping, best.safetensors): a fraction like 0.1 or a count like 500; 0 for none "
                   f"(default {D['val_split']}). The test split is evaluated once, at the end")
    t.add_argument("--out", default="runs/latest", help="run directory")
    t.add_argument("--resume", nargs="?", const=True, type=_resume_mode, metavar="auto",
                   help="continue the run in --out from its newest checkpoint, with its recorded settings "
                        "(an error if there is none usable); --resume=auto starts over when there is none")
    t.add_argument("--overwrite", action="store_true", help="let a new run replace the run files in a non-empty --out")
    t.add_argument("--checkpoint-every", type=int, default=None, help="also checkpoint every N steps")
    t.add_argument("--grad-clip", type=float, default=None)
    t.add_argument("--patience", type=int, default=None, help="early stopping patience in epochs")
    t.add_argument("--limit", type=int, default=None, help="use only the first N training samples")
    t.add_argument("--no-progress", action="store_true")
    t.add_argument("--reference", action="store_true",
                   help="run every operation on the readable reference kernels (glassnet/reference; about 8x slower)")

    e = sub.add_parser("eval", help="accuracy and confusion matrix of a trained model on the data set's test split")
    e.add_argument("run", help="run directory or model.safetensors")
    e.add_argument("--dataset", help="evaluate on this data set instead of the training one")
    e.add_argument("--data", help="directory holding data set files")
    e.add_argument("--json", action="store_true")

    p = sub.add_parser("predict", help="classify one image or .npy sample")
    p.add_argument("run", help="run directory or model.safetensors")
    p.add_argument("input", help="PNG/JPEG image or .npy array")
    p.add_argument("--top", type=int, default=3, help="how many classes to list")
    p.add_argument("--raw", action="store_true",
                   help="only make the image grey, scale it and resize it to the model's input size "
                        "(no inversion of a light background, no cropping or centring)")
    p.add_argument("--json", action="store_true")

    s = sub.add_parser("summary", help="layers, output shapes, parameters and multiply-adds of a model")
    s.add_argument("model")
    s.add_argument("--input-shape", type=int, nargs="+", help="one sample's shape, e.g. 1 28 28")
    s.add_argument("--num-classes", type=int, default=10)

    from .onnx.export import DEFAULT_OPSET  # a constant: the onnx package itself is imported only to export
    x = sub.add_parser("export", help="write a trained model as an ONNX file (needs glassnet[onnx])")
    x.add_argument("run", help="run directory or model.safetensors")
    x.add_argument("out", help="the .onnx file to write")
    x.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset version (default {DEFAULT_OPSET})")

    sub.add_parser("models", help="list the models, the sample shapes they take and their sizes")
    sub.add_parser("datasets", help="list the data sets, their sample shapes and default models")
    sub.add_parser("explain", help="the lecture tools (glassnet explain --help)", add_help=False)
    return show_defaults(parser)


def _ignore_ctrl_c_while_exiting() -> None:
    """Once the command is done, the interpreter's shutdown still takes a moment (about a second
    after training, in native code where no Python handler runs); a Ctrl-C then killed the
    process with no word (exit status -2) although every file was written. Ignored instead, the
    process ends with the command's own status and last message."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the `glassnet` command itself, not a call from Python
        try:
            return _main(sys.argv[1:])
        finally:
            _ignore_ctrl_c_while_exiting()
    return _main(argv)


def _main(argv: list[str]) -> int:
    argv = list(argv)
    debug = "--debug" in argv
    parser = build_parser()
    # `explain` takes its own arguments, parsed by glassnet.explain.cli
    if "explain" in argv and all(a.startswith("-") for a in argv[:argv.index("explain")]):
        i = argv.index("explain")
        args, rest = parser.parse_args(argv[:i + 1]), argv[i + 1:]
    else:
        args, rest = parser.parse_args(argv), []
    commands = {"train": cmd_train, "eval": cmd_eval, "predict": cmd_predict, "summary": cmd_summary,
                "models": cmd_models, "datasets": cmd_datasets, "export": cmd_export}
    runs_kernels = args.command in ("train", "eval", "predict") or \
        (args.command == "explain" and rest[:1] in (["edges"], ["features"], ["equivariance"]))
    if runs_kernels:
        compile_notice()
    try:
        if args.command == "explain":
            return cmd_explain(args, rest)
        from .dispatch import is_reference_mode, reference_mode
        with reference_mode(getattr(args, "reference", False) or is_reference_mode()):
            return commands[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one clear line unless --debug
        if debug:
            raise
        message = str(error) if isinstance(error, CLIError) else f"{type(error).__name__}: {error}"
        print(f"glassnet: error: {message}{_stop_other_ranks()}", file=sys.stderr, flush=True)
        return EXIT_ERROR


def _barrier() -> None:
    from . import distributed
    distributed.barrier()


def _stop_other_ranks() -> str:
    """On one of several MPI ranks an error ends the whole job, so that no rank is left waiting in
    a collective: returns the words to add to the message, and (registered to run at exit) aborts."""
    from . import distributed
    if not (distributed.is_initialized() and distributed.get_world_size() > 1):
        return ""
    import atexit
    atexit.register(lambda: distributed.collectives.comm().Abort(EXIT_ERROR))  # after the message is out
    return f" (on rank {distributed.get_rank()} of {distributed.get_world_size()}; stopping every rank)"


if __name__ == "__main__":
    sys.exit(main())
