"""LeNet-5 on Fashion-MNIST, glassnet and PyTorch side by side: wall time per epoch.

Both train the same architecture from the same initial weights with the same optimiser
(SGD, momentum 0.9, lr 0.05) on the same batches (glassnet's seeded loader feeds both), epochs
interleaved (glassnet, torch, glassnet, torch, ...), both at the same number of threads.

    python benchmarks/bench_training.py --epochs 3
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import glassnet  # noqa: E402
from glassnet import functional as F  # noqa: E402
from glassnet import optim  # noqa: E402
from glassnet.data import DataLoader, FashionMNIST  # noqa: E402
from glassnet.models import lenet5  # noqa: E402


def torch_lenet5() -> torch.nn.Sequential:
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def accuracy_glassnet(model, loader) -> float:
    model.eval()
    correct = total = 0
    with glassnet.no_grad():
        for x, y in loader:
            correct += int((model(x).data.argmax(1) == y.data).sum())
            total += len(y)
    model.train()
    return correct / total


def accuracy_torch(model, loader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += int((model(torch.from_numpy(x.data)).argmax(1).numpy() == y.data).sum())
            total += len(y)
    model.train()
    return correct / total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, choices=(1, 2))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    glassnet.set_num_threads(args.threads)

    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    glassnet.manual_seed(0)
    g_model = lenet5()
    t_model = torch_lenet5()
    t_model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in g_model.state_dict().items()})
    g_opt = optim.SGD(g_model.parameters(), lr=0.05, momentum=0.9)
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.05, momentum=0.9)
    g_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, seed=0)
    t_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, seed=0)
    test_loader = DataLoader(test, batch_size=1000, seed=0)

    rows = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        for x, y in g_loader:
            loss = F.cross_entropy(g_model(x), y)
            g_opt.zero_grad()
            loss.backward()
            g_opt.step()
        g_time = time.perf_counter() - start
        time.sleep(0.5)  # let BLAS worker threads settle before the other side runs

        start = time.perf_counter()
        for x, y in t_loader:
            xt, yt = torch.from_numpy(x.data), torch.from_numpy(y.data)
            loss = torch.nn.functional.cross_entropy(t_model(xt), yt)
            t_opt.zero_grad()
            loss.backward()
            t_opt.step()
        t_time = time.perf_counter() - start
        time.sleep(0.5)
        g_acc, t_acc = accuracy_glassnet(g_model, test_loader), accuracy_torch(t_model, test_loader)
        rows.append((epoch + 1, g_time, t_time, g_acc, t_acc))
        print(f"epoch {epoch + 1}: glassnet {g_time:6.1f} s (test acc {g_acc:.4f})   "
              f"torch {t_time:6.1f} s (test acc {t_acc:.4f})   ratio {g_time / t_time:.2f}", flush=True)

    g_med, t_med = np.median([r[1] for r in rows]), np.median([r[2] for r in rows])
    print(f"\nmedian seconds per epoch: glassnet {g_med:.1f}, torch {t_med:.1f}, ratio {g_med / t_med:.2f}")
    print(f"{platform.processor() or platform.machine()}, numpy {np.__version__}, torch {torch.__version__}, "
          f"{args.threads} threads")


if __name__ == "__main__":
    main()
