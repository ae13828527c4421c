"""The `glassnet` command line: train, eval, predict, summary, explain.

    glassnet train --model lenet5 --dataset fashion-mnist --epochs 5 --out runs/lenet5
    glassnet eval runs/lenet5 --json
    glassnet predict runs/lenet5 image.png
    glassnet summary lenet5
    glassnet explain ...            (the lecture tools; `glassnet explain --help`)

A run directory holds model.safetensors (the final weights, with the model's name and the
data set's class names in its header), metrics.json, curves.png, confusion.png and
checkpoints/ (for --resume). Errors print one line and exit with status 1; --debug shows the
traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

EXIT_ERROR = 1


class CLIError(Exception):
    """An error worth one clear line to the user (no traceback)."""


# ---- building blocks shared by the subcommands ---------------------------------------------

def _build_model(name: str, num_classes: int):
    from .models import get_model
    try:
        return get_model(name, num_classes=num_classes)
    except ValueError as error:
        raise CLIError(str(error)) from None


def _run_files(path: str) -> tuple[Path, dict]:
    """A run directory or a model.safetensors file -> (weights file, its metadata)."""
    from .serialization import load_metadata
    p = Path(path)
    weights = p / "model.safetensors" if p.is_dir() else p
    if not weights.is_file():
        raise CLIError(f"no trained model at {path} (expected a run directory with model.safetensors, "
                       "or a .safetensors file written by `glassnet train`)")
    try:
        meta = load_metadata(weights)
    except ValueError as error:
        raise CLIError(str(error)) from None
    if "model" not in meta:
        raise CLIError(f"{weights} has no model name in its header: it was not written by `glassnet train`")
    return weights, meta


def _load_trained(path: str):
    from .serialization import load
    weights, meta = _run_files(path)
    classes = json.loads(meta.get("classes", "[]"))
    model = _build_model(meta["model"], len(classes))
    try:
        state = load(weights)
        model.load_state_dict(state)
    except (ValueError, KeyError, RuntimeError) as error:
        raise CLIError(f"{weights} does not fit model {meta['model']!r}: {error}") from None
    model.eval()
    return model, meta, classes


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
    try:
        if "val_split" in given:
            given["val_split"] = parse_val_split(given["val_split"])
        if given.get("dataset"):
            given["dataset"] = resolve_name(given["dataset"])  # "auto" -> what it stands for on this machine
        checkpoints = Path(args.out) / "checkpoints"
        if not args.resume:
            _check_new_out(Path(args.out), args.overwrite)
            settings = merge(given, None, "")
            return {**settings, "dataset": resolve_name(settings["dataset"])}, False
        # with "auto" and nothing usable, fit() looks again and says what it skipped
        found = resume_point(checkpoints, args.resume, log=lambda line: args.resume == "auto" or
                             print(line, file=sys.stderr))
        if found is None:  # --resume=auto, nothing usable
            settings = merge(given, None, "")
            return {**settings, "dataset": resolve_name(settings["dataset"])}, "auto"
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


def cmd_train(args) -> int:
    out = Path(args.out)
    created = [p for p in (out, *out.parents) if not p.exists()]
    try:
        return _train(args, out)
    finally:
        for folder in created:  # a run that failed before writing anything leaves no empty folders
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def _train(args, out: Path) -> int:
    from . import manual_seed
    from .data import DataLoader
    from .data.registry import DATASETS, load_dataset
    from .optim import lr_scheduler
    from .serialization import save
    from .train import CheckpointError, TrainingInterrupted, evaluate, fit

    settings, resume = _train_settings(args)
    name = settings["dataset"]
    info = DATASETS[name]
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
        for leftover in out.glob(f".{run_file}.*.tmp"):
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
    print(f"model {model_name}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_part):,} training, {len(val_part):,} validation (held out from the training data) "
          f"and {len(test_set):,} test samples")

    metadata = {"model": model_name, "dataset": name, "classes": json.dumps(classes),
                "input_shape": json.dumps(list(info.input_shape))}

    def save_best(model, record):
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
        plot_curves(history, out / "curves.png")
        plot_confusion(final["confusion"], classes, out / "confusion.png")
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

    model, meta, classes = _load_trained(args.run)
    name = args.dataset or meta.get("dataset", "auto")
    try:
        test_set = load_dataset(name, train=False, root=args.data)
    except (FileNotFoundError, OSError, ValueError) as error:
        raise CLIError(f"cannot load data set {name!r}: {error}") from None
    result = evaluate(model, DataLoader(test_set, batch_size=512, seed=0), num_classes=len(classes))
    confusion = result["confusion"]
    if args.json:
        print(json.dumps({"accuracy": result["accuracy"], "loss": result["loss"], "dataset": name, "split": "test",
                          "classes": classes, "per_class_accuracy": per_class_accuracy(confusion).tolist(),
                          "confusion_matrix": confusion.tolist()}))
        return 0
    print(f"{meta['model']} on {name}'s test split ({confusion.sum():,} samples, none seen in training or "
          f"validation): accuracy {result['accuracy']:.4f}")
    width = max(len(c) for c in classes)
    for c, acc, row in zip(classes, per_class_accuracy(confusion), confusion):
        print(f"  {c:<{width}}  {acc:6.3f}  " + " ".join(f"{v:5d}" for v in row))
    return 0


def _read_input(path: str, input_shape: list[int]) -> np.ndarray:
    """An image (PNG/JPEG, turned grey and resized by nearest neighbour) or a .npy array ->
    one sample of input_shape (C, *spatial), float32."""
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"no such input file: {path}")
    if p.suffix == ".npy":
        try:
            x = np.load(p, allow_pickle=False)
        except ValueError as error:
            raise CLIError(f"{path} is not a readable .npy array: {error}") from None
    else:
        from PIL import Image, UnidentifiedImageError
        try:
            image = Image.open(p).convert("L")
        except (UnidentifiedImageError, OSError) as error:
            raise CLIError(f"{path} is not a readable image: {error}") from None
        if len(input_shape) != 3:
            raise CLIError(f"this model takes inputs of shape {tuple(input_shape)}, not images: give a .npy file")
        image = image.resize((input_shape[2], input_shape[1]), Image.Resampling.NEAREST)
        x = np.asarray(image, dtype=np.float32) / 255.0
    x = np.asarray(x, dtype=np.float32)
    if x.size != int(np.prod(input_shape)):
        raise CLIError(f"{path} holds an array of shape {x.shape}; the model expects one sample of "
                       f"shape {tuple(input_shape)}")
    return x.reshape(input_shape)  # (C, *spatial)


def cmd_predict(args) -> int:
    from . import functional as F
    from . import no_grad, tensor

    model, meta, classes = _load_trained(args.run)
    x = _read_input(args.input, json.loads(meta.get("input_shape", "[1, 28, 28]")))
    with no_grad():
        probs = F.softmax(model(tensor(x[None])), dim=1).data[0]  # (num_classes,)
    best = int(probs.argmax())
    if args.json:
        print(json.dumps({"class": best, "label": classes[best],
                          "probabilities": {c: float(p) for c, p in zip(classes, probs)}}))
        return 0
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
    # settings default to None here so that --resume can tell given flags from the recorded ones
    t.add_argument("--model", help="model name (default: the data set's usual model)")
    t.add_argument("--dataset", help="fashion-mnist, mnist, mnist1d, shapes, clips, or auto (Fashion-MNIST "
                   "if found, else shapes; default auto)")
    t.add_argument("--data", help="directory holding data set files (also $GLASSNET_DATA)")
    t.add_argument("--no-download", action="store_true", help="never download a missing data set")
    t.add_argument("--epochs", type=int, help=f"passes over the training data (default {D['epochs']})")
    t.add_argument("--batch-size", type=int, help=f"default {D['batch_size']}")
    t.add_argument("--lr", type=float, help=f"learning rate (default {D['lr']})")
    t.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], help=f"default {D['optimizer']}")
    t.add_argument("--momentum", type=float, help=f"SGD's (Nesterov) momentum (default {D['momentum']})")
    t.add_argument("--weight-decay", type=float, help=f"default {D['weight_decay']}")
    t.add_argument("--scheduler", choices=["none", "cosine", "step"], help=f"default {D['scheduler']}")
    t.add_argument("--augment", action="store_true", default=None, help="random crops with 2 pixels of padding")
    t.add_argument("--seed", type=int, help=f"initial weights, dropout, batch order and the validation split "
                   f"(default {D['seed']})")
    t.add_argument("--val-split", help="training samples held out for validation (per-epoch metrics, early "
                   f"stopping, best.safetensors): a fraction like 0.1 or a count like 500; 0 for none "
                   f"(default {D['val_split']}). The test split is evaluated once, at the end")
    t.add_argument("--out", default="runs/latest", help="run directory (default runs/latest)")
    t.add_argument("--resume", nargs="?", const=True, type=_resume_mode, metavar="auto",
                   help="continue the run in --out from its newest checkpoint, with its recorded settings "
                        "(an error if there is none usable); --resume=auto starts over when there is none")
    t.add_argument("--overwrite", action="store_true", help="let a new run replace the run files in a non-empty --out")
    t.add_argument("--checkpoint-every", type=int, default=None, help="also checkpoint every N steps")
    t.add_argument("--grad-clip", type=float, default=None)
    t.add_argument("--patience", type=int, default=None, help="early stopping patience in epochs")
    t.add_argument("--limit", type=int, default=None, help="use only the first N training samples")
    t.add_argument("--no-progress", action="store_true")

    e = sub.add_parser("eval", help="accuracy and confusion matrix of a trained model on the data set's test split")
    e.add_argument("run", help="run directory or model.safetensors")
    e.add_argument("--dataset", help="evaluate on this data set instead of the training one")
    e.add_argument("--data", help="directory holding data set files")
    e.add_argument("--json", action="store_true")

    p = sub.add_parser("predict", help="classify one image or .npy sample")
    p.add_argument("run", help="run directory or model.safetensors")
    p.add_argument("input", help="PNG/JPEG image or .npy array")
    p.add_argument("--top", type=int, default=3)
    p.add_argument("--json", action="store_true")

    s = sub.add_parser("summary", help="layers, output shapes, parameters and multiply-adds of a model")
    s.add_argument("model")
    s.add_argument("--input-shape", type=int, nargs="+", help="one sample's shape, e.g. 1 28 28")
    s.add_argument("--num-classes", type=int, default=10)

    sub.add_parser("explain", help="the lecture tools (glassnet explain --help)", add_help=False)
    return parser


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
    commands = {"train": cmd_train, "eval": cmd_eval, "predict": cmd_predict, "summary": cmd_summary}
    try:
        if args.command == "explain":
            return cmd_explain(args, rest)
        return commands[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one clear line unless --debug
        if debug:
            raise
        message = str(error) if isinstance(error, CLIError) else f"{type(error).__name__}: {error}"
        print(f"glassnet: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
