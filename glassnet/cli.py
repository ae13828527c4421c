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
    """A run directory or a model.safetensors file -> (weights file, its metadata, checked)."""
    from .serialization import InvalidFileError, check_model_metadata, load_metadata
    p = Path(path)
    weights = p / "model.safetensors" if p.is_dir() else p
    if not weights.is_file():
        raise CLIError(f"no trained model at {path} (expected a run directory with model.safetensors, "
                       "or a .safetensors file written by `glassnet train`)")
    try:
        meta = load_metadata(weights)
        check_model_metadata(meta, weights)  # so the json.loads of its fields below are safe
    except InvalidFileError as error:
        raise CLIError(f"{weights} is not a valid glassnet weights file: {error.reason}") from None
    return weights, meta


def _load_trained(path: str):
    from .serialization import InvalidFileError, check_weights, load
    weights, meta = _run_files(path)
    classes = json.loads(meta["classes"])
    model = _build_model(meta["model"], len(classes))
    try:
        state = check_weights(load(weights), weights)
    except InvalidFileError as error:  # broken, as opposed to made for another model (below)
        raise CLIError(f"{weights} is not a valid glassnet weights file: {error.reason}") from None
    try:
        model.load_state_dict(state)
    except (ValueError, KeyError, RuntimeError) as error:
        raise CLIError(f"{weights} does not fit model {meta['model']!r}: {error}") from None
    model.eval()
    return model, meta, classes


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

def cmd_train(args) -> int:
    from . import manual_seed
    from .data import DataLoader, transforms
    from .data.registry import DATASETS, load_dataset, resolve_name
    from .optim import lr_scheduler
    from .serialization import save
    from .train import evaluate, fit
    from .viz.training import plot_confusion, plot_curves

    name = resolve_name(args.dataset)
    info = DATASETS[name]
    if args.dataset == "auto":
        print(f"dataset: {name}" + ("" if name == "fashion-mnist" else
                                    " (Fashion-MNIST files not found; using the built-in shapes data)"))
    try:
        options = {"download": False} if args.no_download and name in ("fashion-mnist", "mnist") else {}
        train_set = load_dataset(name, train=True, root=args.data, **options)
        test_set = load_dataset(name, train=False, root=args.data, **options)
    except (FileNotFoundError, OSError, ValueError) as error:
        raise CLIError(f"cannot load data set {name!r}: {error}") from None
    if args.augment and len(info.input_shape) == 3:
        train_set.transform = transforms.RandomCrop(info.input_shape[-1], padding=2)
    if args.limit:
        from .data import Subset
        train_set = Subset(train_set, range(min(args.limit, len(train_set))))
    classes = list(getattr(train_set, "classes", None) or getattr(getattr(train_set, "dataset", None), "classes"))
    model_name = args.model or info.default_model
    manual_seed(args.seed)  # initial weights and dropout
    model = _build_model(model_name, len(classes))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test_loader = DataLoader(test_set, batch_size=512, seed=0)  # unshuffled; a seed keeps it off the global generator
    optimizer = _optimizer(args.optimizer, model.parameters(), args.lr, args.momentum, args.weight_decay)
    scheduler = None
    if args.scheduler == "cosine":
        scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    elif args.scheduler == "step":
        scheduler = lr_scheduler.StepLR(optimizer, step_size=max(args.epochs // 3, 1), gamma=0.1)
    config = {"model": model_name, "dataset": name, "seed": args.seed, "epochs": args.epochs,
              "batch_size": args.batch_size, "lr": args.lr, "optimizer": args.optimizer}
    print(f"model {model_name}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_set):,} training and {len(test_set):,} test samples")

    started = time.perf_counter()
    history = fit(model, optimizer, train_loader, epochs=args.epochs, val_loader=test_loader,
                  scheduler=scheduler, out_dir=out, resume=args.resume,
                  checkpoint_every=args.checkpoint_every, grad_clip=args.grad_clip,
                  patience=args.patience, config=config, progress=not args.no_progress)
    final = evaluate(model, test_loader, num_classes=len(classes))
    metadata = {"model": model_name, "dataset": name, "classes": json.dumps(classes),
                "input_shape": json.dumps(list(info.input_shape))}
    save(model.state_dict(), out / "model.safetensors", metadata=metadata)
    metrics = {"config": config, "epochs": history, "test_accuracy": final["accuracy"],
               "test_loss": final["loss"], "wall_seconds": time.perf_counter() - started,
               "confusion_matrix": final["confusion"].tolist(), "classes": classes}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    plot_curves(history, out / "curves.png")
    plot_confusion(final["confusion"], classes, out / "confusion.png")
    print(f"test accuracy: {final['accuracy']:.4f}  ({out / 'model.safetensors'}, metrics.json, "
          f"curves.png, confusion.png)")
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
        print(_json({"accuracy": result["accuracy"], "loss": result["loss"], "dataset": name,
                     "classes": classes, "per_class_accuracy": per_class_accuracy(confusion).tolist(),
                     "confusion_matrix": confusion.tolist()}))
        return 0
    print(f"{meta['model']} on {name} (test, {confusion.sum():,} samples): accuracy {result['accuracy']:.4f}")
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
    from .data.images import load_npy, open_image
    from .untrusted import InvalidFileError
    if p.suffix == ".npy":
        try:
            x = load_npy(p)
        except InvalidFileError as error:
            raise CLIError(str(error)) from None
    else:
        from PIL import Image
        try:
            image = open_image(p).convert("L")
        except InvalidFileError as error:
            raise CLIError(str(error)) from None
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
        print(_json({"class": best, "label": classes[best],
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


def cmd_export(args) -> int:
    """A trained run as an ONNX file, traced on a zero batch of the run's input shape."""
    from .onnx import export
    model, meta, _ = _load_trained(args.run)
    shape = json.loads(meta.get("input_shape", "[1, 28, 28]"))
    export(model, np.zeros([1] + list(shape), np.float32), args.out, opset_version=args.opset)
    print(f"wrote {args.out} ({meta['model']}, input (N, {', '.join(map(str, shape))}), opset {args.opset})")
    return 0


def cmd_explain(args, rest: list[str]) -> int:
    from .explain.cli import main as explain_main
    return explain_main(rest, prog="glassnet explain")


# ---- argument parsing ----------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glassnet", description="A see-through CNN framework.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and write a run directory")
    t.add_argument("--model", help="model name (default: the data set's usual model)")
    t.add_argument("--dataset", default="auto",
                   help="fashion-mnist, mnist, mnist1d, shapes, clips, or auto (Fashion-MNIST if found, else shapes)")
    t.add_argument("--data", help="directory holding data set files (also $GLASSNET_DATA)")
    t.add_argument("--no-download", action="store_true", help="never download a missing data set")
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    t.add_argument("--momentum", type=float, default=0.9)
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--scheduler", default="cosine", choices=["none", "cosine", "step"])
    t.add_argument("--augment", action="store_true", help="random crops with 2 pixels of padding")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default="runs/latest", help="run directory")
    t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    t.add_argument("--checkpoint-every", type=int, default=None, help="also checkpoint every N steps")
    t.add_argument("--grad-clip", type=float, default=None)
    t.add_argument("--patience", type=int, default=None, help="early stopping patience in epochs")
    t.add_argument("--limit", type=int, default=None, help="use only the first N training samples")
    t.add_argument("--no-progress", action="store_true")
    t.add_argument("--reference", action="store_true",
                   help="run every operation on the readable reference kernels (glassnet/reference; about 10x slower)")

    e = sub.add_parser("eval", help="test accuracy and confusion matrix of a trained model")
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

    from .onnx.export import DEFAULT_OPSET  # a constant: the onnx package itself is imported only to export
    x = sub.add_parser("export", help="write a trained model as an ONNX file (needs glassnet[onnx])")
    x.add_argument("run", help="run directory or model.safetensors")
    x.add_argument("out", help="the .onnx file to write")
    x.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset version (default {DEFAULT_OPSET})")

    sub.add_parser("explain", help="the lecture tools (glassnet explain --help)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    # `explain` takes its own arguments, parsed by glassnet.explain.cli
    if "explain" in argv and all(a.startswith("-") for a in argv[:argv.index("explain")]):
        i = argv.index("explain")
        args, rest = parser.parse_args(argv[:i + 1]), argv[i + 1:]
    else:
        args, rest = parser.parse_args(argv), []
    commands = {"train": cmd_train, "eval": cmd_eval, "predict": cmd_predict, "summary": cmd_summary,
                "export": cmd_export}
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
        print(f"glassnet: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
