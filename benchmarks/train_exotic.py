"""Training runs for the layers beyond PyTorch: the published LeNet-5 and a p4-CNN on the shapes
data, and a p4-CNN against an ordinary CNN with the same number of parameters on images rotated
by multiples of 90 degrees.

    python3 benchmarks/train_exotic.py lenet1998 [--epochs 10]
    python3 benchmarks/train_exotic.py p4-vs-cnn [--data shapes|fashion-mnist] [--epochs 10]

Both networks of the comparison are trained on upright images only and tested on the upright
test set and on the same test set rotated by 90, 180 and 270 degrees. `consistent` is the share
of test images whose predicted class is the same in all four orientations. The p4-CNN pools over
rotations and then over space, so its prediction is invariant to 90-degree rotations by
construction (consistency 1 up to float rounding); the CNN has to learn what it can.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
import glassnet as gn  # noqa: E402
from glassnet import nn  # noqa: E402
from glassnet.autograd import no_grad  # noqa: E402
from glassnet.data import DataLoader  # noqa: E402
from glassnet.data.dataset import ArrayDataset  # noqa: E402
from glassnet.data.registry import load_dataset  # noqa: E402
from glassnet.models.lenet1998 import lenet5_1998  # noqa: E402
from glassnet.nn.p4 import P4Conv2d, P4LiftConv2d, P4Pool  # noqa: E402
from glassnet.optim import Adam  # noqa: E402
from glassnet.train.loop import fit  # noqa: E402


def p4_cnn(num_classes: int, width: int = 8) -> nn.Sequential:
    """Lift -> two p4 group convs -> pool over rotations -> global average -> linear.
    MaxPool3d with kernel (1, 2, 2) pools each rotation plane spatially, which commutes with the
    90-degree rotations of an even-sized map."""
    return nn.Sequential(
        P4LiftConv2d(1, width, 5, padding=2), nn.ReLU(), nn.MaxPool3d((1, 2, 2)),  # (N, w, 4, 14, 14)
        P4Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool3d((1, 2, 2)),  # (N, 2w, 4, 7, 7)
        P4Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(),
        P4Pool("max"), nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (N, 2w)
        nn.Linear(2 * width, num_classes),
    )


def plain_cnn(num_classes: int, width: int = 16) -> nn.Sequential:
    """The same network with ordinary convolutions; width 16 = 2 x 8 gives the p4-CNN's parameter
    count (a p4 filter has 4 times the weights of a plain one with the same channels)."""
    return nn.Sequential(
        nn.Conv2d(1, width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(2 * width, num_classes),
    )


def arrays(name: str, train: bool, limit: int | None):
    ds = load_dataset(name, train=train)
    x, y = ds.data, ds.targets
    if limit is not None:
        x, y = x[:limit], y[:limit]
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255
    x = x.reshape(len(x), 1, 28, 28).astype(np.float32)
    return x, np.asarray(y, dtype=np.int64), len(ds.classes)


def predict(model, x: np.ndarray, batch: int = 500) -> np.ndarray:
    model.eval()
    with no_grad():
        return np.concatenate([model(gn.tensor(x[i:i + batch])).data.argmax(axis=1) for i in range(0, len(x), batch)])


def rotation_report(model, x, y) -> dict:
    preds = [predict(model, np.ascontiguousarray(np.rot90(x, r, axes=(-2, -1)))) for r in range(4)]
    report = {f"acc_rot{90 * r}": float((p == y).mean()) for r, p in enumerate(preds)}
    report["consistent"] = float((np.stack(preds) == preds[0]).all(axis=0).mean())
    return report


def train(model, x, y, xt, yt, epochs: int, lr: float, seed: int):
    loader = DataLoader(ArrayDataset(x, y), batch_size=64, shuffle=True, seed=seed)
    val = DataLoader(ArrayDataset(xt, yt), batch_size=500)
    start = time.perf_counter()
    history = fit(model, Adam(model.parameters(), lr=lr), loader, epochs=epochs, val_loader=val, progress=False)
    return history, time.perf_counter() - start


def count(model) -> int:
    return sum(p.data.size for p in model.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", choices=["lenet1998", "p4-vs-cnn", "p4"])
    parser.add_argument("--data", default="shapes")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-samples", type=int, default=None)
    parser.add_argument("--test-samples", type=int, default=None)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    x, y, classes = arrays(args.data, True, args.train_samples)
    xt, yt, _ = arrays(args.data, False, args.test_samples)
    print(f"{args.data}: {len(x)} training, {len(xt)} test images, {classes} classes")
    builders = {"lenet1998": [("lenet5_1998", lambda: lenet5_1998(num_classes=classes))],
                "p4": [("p4_cnn", lambda: p4_cnn(classes))],
                "p4-vs-cnn": [("p4_cnn", lambda: p4_cnn(classes)), ("cnn", lambda: plain_cnn(classes))]}[args.run]
    for name, build in builders:
        gn.manual_seed(args.seed)
        model = build()
        history, seconds = train(model, x, y, xt, yt, args.epochs, args.lr, args.seed)
        report = rotation_report(model, xt, yt)
        print(f"RESULT {name}: params={count(model)} epochs={args.epochs} seconds={seconds:.0f} "
              f"train_acc={history[-1]['train_accuracy']:.4f} test_acc={history[-1]['val_accuracy']:.4f} "
              + " ".join(f"{k}={v:.4f}" for k, v in report.items()), flush=True)


if __name__ == "__main__":
    main()
