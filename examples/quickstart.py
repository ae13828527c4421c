"""Train a CNN from Python: the same steps `glassnet train` takes, written out.

    python examples/quickstart.py                       # Fashion-MNIST if installed, else shapes
    python examples/quickstart.py --epochs 1 --limit 2000

Everything here is public API: a data set and a seeded DataLoader, a model from the zoo, an
optimiser, the fit loop (progress bars, validation on data held out from the training set,
checkpoints) and a final evaluation on the test set. The settings are `glassnet train`'s
defaults on the 28x28 image sets (`glassnet datasets` lists them: LeNet-5, SGD with Nesterov
momentum 0.9, lr 0.05, cosine schedule, batch 64; seed 0, 10% held out for validation), so
`glassnet train --dataset shapes --epochs 3` computes the same numbers (tests/test_quickstart.py
checks it).
"""

from __future__ import annotations

import argparse

import numpy as np

import glassnet
from glassnet import optim
from glassnet.data import DataLoader, Subset, random_split
from glassnet.data.registry import DATASETS, load_dataset, resolve_name
from glassnet.models import get_model
from glassnet.train import evaluate, fit, per_class_accuracy

# `glassnet train`'s defaults on these data sets (glassnet/data/registry.py); other data sets
# take other models and settings
DATASETS_HERE = ("auto", "fashion-mnist", "mnist", "shapes")
MODEL, LR, MOMENTUM, BATCH_SIZE = "lenet5", 0.05, 0.9, 64


def main(argv=None) -> dict:
    """Train and evaluate; returns {"accuracy": test accuracy, "history": fit()'s per-epoch log}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="auto", choices=DATASETS_HERE)
    parser.add_argument("--epochs", type=int, default=3, help="as scripts/train.sh (default 3)")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N samples only")
    parser.add_argument("--out", default=None, help="write checkpoints here")
    args = parser.parse_args(argv)

    name = resolve_name(args.dataset)  # 'auto': Fashion-MNIST when its files are here, else shapes
    print(f"data: {DATASETS[name].description}")
    train_set, test_set = load_dataset(name, train=True), load_dataset(name, train=False)
    classes = train_set.classes
    if args.limit:
        train_set = Subset(train_set, range(args.limit))

    glassnet.manual_seed(0)  # the initial weights and dropout draw from this generator
    model = get_model(MODEL, num_classes=len(classes))
    # Nesterov momentum: the gradient is taken a step ahead, where momentum is about to carry the
    # weights (PyTorch's nesterov=True); `glassnet train --optimizer sgd` uses it too
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    # 10% of the training data held out for validation (per-epoch metrics, early stopping); the
    # test set is used once, at the end
    train_part, val_part = random_split(train_set, [0.9, 0.1], generator=np.random.default_rng([0, 0x76616C]))
    train_loader = DataLoader(train_part, batch_size=BATCH_SIZE, shuffle=True, seed=0)
    val_loader = DataLoader(val_part, batch_size=512, seed=0)
    test_loader = DataLoader(test_set, batch_size=512, seed=0)

    history = fit(model, optimizer, train_loader, epochs=args.epochs, val_loader=val_loader,
        scheduler=scheduler, out_dir=args.out)
    result = evaluate(model, test_loader, num_classes=len(classes))
    for label, acc in zip(classes, per_class_accuracy(result["confusion"])):
        print(f"  {label:<12} {acc:.3f}")
    print(f"test accuracy: {result['accuracy']:.4f}")
    return {"accuracy": result["accuracy"], "history": history}


if __name__ == "__main__":
    main()
