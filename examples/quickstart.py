"""Train a small CNN with glassnet and print its test accuracy.

Data: Fashion-MNIST when its gzipped IDX files are present (Debian's dataset-fashion-mnist
package puts them in /usr/share/datasets/fashion-mnist; or pass --data DIR), otherwise a
synthetic shapes set generated here (squares, diamonds, crosses, circles and lines at random
positions and sizes, with noise). The script says which one it uses.

    python examples/quickstart.py                 # about 1-2 minutes on 2 CPU cores
    python examples/quickstart.py --epochs 1 --train-samples 2000   # a quick look

Everything here is the public API: glassnet.nn layers, glassnet.optim, Tensor.backward().
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time

import numpy as np
from tqdm import tqdm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import glassnet as gn  # noqa: E402
from glassnet import nn, optim  # noqa: E402

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot"]
SHAPE_CLASSES = ["square", "diamond", "cross", "circle", "line"]


def read_idx(path: str) -> np.ndarray:
    """An IDX file (the MNIST format): 2 zero bytes, a type code (0x08 = uint8), the number of
    dimensions, one big-endian uint32 per dimension, then the data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not a uint8 IDX file")
    ndim = data[3]
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != np.prod(shape):
        raise ValueError(f"{path}: header says {shape} but the file holds {body.size} values (truncated?)")
    return body.reshape(shape)


def load_fashion_mnist(directory: str):
    def part(name):
        return read_idx(os.path.join(directory, f"{name}-idx3-ubyte.gz" if "images" in name else f"{name}-idx1-ubyte.gz"))

    x_train, y_train = part("train-images"), part("train-labels")
    x_test, y_test = part("t10k-images"), part("t10k-labels")
    # (N, 28, 28) uint8 -> (N, 1, 28, 28) float32 in [0, 1], then standardised with the training statistics
    x_train = x_train[:, None].astype(np.float32) / 255
    x_test = x_test[:, None].astype(np.float32) / 255
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, y_train.astype(np.int64), (x_test - mean) / std, y_test.astype(np.int64)


def make_shapes(n: int, rng: np.random.Generator, size: int = 28):
    """n noisy images (N, 1, size, size) of five shape classes at random centres and scales."""
    labels = rng.integers(0, len(SHAPE_CLASSES), n)
    r = rng.uniform(4, 9, n)[:, None, None]  # (N, 1, 1) half-size
    cy, cx = (rng.uniform(10, size - 10, (2, n))[..., None, None])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)  # (size, size)
    dy, dx = yy[None] - cy, xx[None] - cx  # (N, size, size) offsets from the centre
    thick = 1.5
    masks = np.stack([
        np.maximum(abs(dy), abs(dx)) <= r,                                    # filled square
        abs(dy) + abs(dx) <= r,                                               # filled diamond
        ((abs(dy) <= thick) | (abs(dx) <= thick)) & (np.maximum(abs(dy), abs(dx)) <= r),  # cross
        np.abs(np.hypot(dy, dx) - r) <= thick,                                # circle outline
        (abs(dy - dx) <= thick) & (abs(dx) <= r),                             # diagonal line
    ])  # (5, N, size, size)
    images = masks[labels, np.arange(n)].astype(np.float32)
    images += rng.normal(0, 0.3, images.shape).astype(np.float32)
    return images[:, None], labels.astype(np.int64)


def build_model(classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (N, 16, 14, 14)
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, 32, 7, 7)
        nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, classes))


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    model.eval()
    correct = 0
    with gn.no_grad():
        for i in range(0, len(x), batch):
            correct += int((model(gn.tensor(x[i:i + batch])).argmax(1).numpy() == y[i:i + batch]).sum())
    model.train()
    return correct / len(x)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.environ.get("GLASSNET_DATA", FASHION_DIR),
                        help="directory with Fashion-MNIST's *-ubyte.gz files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-samples", type=int, default=20000,
                        help="training images used per epoch (a fresh random subset each epoch)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    gn.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if os.path.exists(os.path.join(args.data, "train-images-idx3-ubyte.gz")):
        x_train, y_train, x_test, y_test = load_fashion_mnist(args.data)
        classes = FASHION_CLASSES
        print(f"data: Fashion-MNIST from {args.data} ({len(x_train)} training, {len(x_test)} test images)")
    else:
        x_train, y_train = make_shapes(12000, rng)
        x_test, y_test = make_shapes(2000, rng)
        classes = SHAPE_CLASSES
        print(f"data: Fashion-MNIST not found in {args.data}; using generated shapes "
              f"({', '.join(SHAPE_CLASSES)}: {len(x_train)} training, {len(x_test)} test images)")

    model = build_model(len(classes))
    print(model)
    print(f"parameters: {sum(p.numel() for p in model.parameters()):,}")
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        # a fresh random subset each epoch, in shuffled order
        order = rng.permutation(len(x_train))[:args.train_samples]
        steps = len(order) // args.batch_size
        seen = correct = 0
        total_loss = 0.0
        bar = tqdm(range(steps), desc=f"epoch {epoch}/{args.epochs}", unit="batch", leave=False,
                   file=sys.stdout, disable=None)
        t0 = time.perf_counter()
        for step in bar:
            idx = order[step * args.batch_size:(step + 1) * args.batch_size]
            x, y = gn.tensor(x_train[idx]), gn.tensor(y_train[idx])
            logits = model(x)
            loss = loss_fn(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(idx)
            total_loss += loss.item() * len(idx)
            correct += int((logits.argmax(1).numpy() == y_train[idx]).sum())
            if step % 20 == 0:
                bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}")
        sched.step()
        seconds = time.perf_counter() - t0
        # a quick look at held-out data each epoch; the full test set once at the end
        peek = accuracy(model, x_test[:2000], y_test[:2000])
        print(f"epoch {epoch}/{args.epochs}: train loss {total_loss / seen:.4f}, train accuracy "
              f"{correct / seen:.4f}, accuracy on 2000 test images {peek:.4f} ({seconds:.1f} s, "
              f"{seen / seconds:.0f} images/s)", flush=True)

    test_acc = accuracy(model, x_test, y_test)
    print(f"test accuracy: {test_acc:.4f} on {len(x_test)} images "
          f"({time.perf_counter() - start:.0f} s of training and evaluation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
