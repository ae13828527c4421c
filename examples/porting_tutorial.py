"""A PyTorch-style CNN program on glassnet: only the import lines differ from PyTorch.

    python examples/porting_tutorial.py --epochs 1 --limit 6000   # Fashion-MNIST, a short run
    python examples/porting_tutorial.py --data shapes --limit 512 # no download needed

Written in the style of PyTorch's MNIST example (a Net class, train() and test() functions,
argparse flags); with `import torch`, `torch.nn`, `torch.nn.functional`, `torch.optim` and
`torchvision` in place of the glassnet lines below it runs under PyTorch as it is. At the end
it writes the trained model as ONNX (--onnx), so that `glassnet explain` can open it
(docs/porting.md, "Worked example").
"""

from __future__ import annotations

import argparse

import glassnet as torch                                 # import torch
import glassnet.nn as nn                                 # import torch.nn as nn
import glassnet.nn.functional as F                       # import torch.nn.functional as F
import glassnet.optim as optim                           # import torch.optim as optim
from glassnet.optim.lr_scheduler import StepLR           # from torch.optim.lr_scheduler import StepLR
from glassnet.utils.data import DataLoader, Subset       # from torch.utils.data import ...
from glassnet.vision import datasets, transforms         # from torchvision import datasets, transforms


class Net(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1)   # (N, 1, 28, 28) -> (N, 16, 26, 26)
        self.conv2 = nn.Conv2d(16, 32, 3, 1)  # -> (N, 32, 24, 24), pooled to (N, 32, 12, 12)
        self.pool = nn.MaxPool2d(2)  # a module, not F.max_pool2d: glassnet.onnx exports layers
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 12 * 12, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.pool(x)
        x = self.dropout(torch.flatten(x, 1))
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def train(model, device, loader, optimizer, epoch, log_interval):
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_interval == 0:
            print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(loader.dataset)}]\tLoss: {loss.item():.6f}")


def test(model, device, loader):
    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            correct += (output.argmax(dim=1) == target).sum().item()
    n = len(loader.dataset)
    print(f"Test set: Average loss: {test_loss / n:.4f}, Accuracy: {correct}/{n} ({100.0 * correct / n:.0f}%)")
    return correct / n


def load(name, limit):
    """(train, test) data sets: Fashion-MNIST one PIL image at a time through torchvision-style
    transforms, or glassnet's procedural shapes (no files needed; arrays already in [0, 1])."""
    if name == "fashion":
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
        train_set = datasets.FashionMNIST(None, train=True, transform=transform)
        test_set = datasets.FashionMNIST(None, train=False, transform=transform)
        classes = train_set.classes
    else:
        from glassnet.data.registry import load_dataset  # glassnet's own, not a torch name
        train_set, test_set = load_dataset("shapes", train=True), load_dataset("shapes", train=False)
        classes = train_set.classes
    if limit:
        train_set = Subset(train_set, range(min(limit, len(train_set))))
        test_set = Subset(test_set, range(min(limit // 4 or 1, len(test_set))))
    return train_set, test_set, classes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["fashion", "shapes"], default="fashion")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N samples only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=20)
    parser.add_argument("--onnx", default=None, help="write the trained model as this ONNX file")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # the CPU on glassnet
    train_set, test_set, classes = load(args.data, args.limit)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)

    model = Net(num_classes=len(classes)).to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        train(model, device, train_loader, optimizer, epoch, args.log_interval)
        accuracy = test(model, device, test_loader)
        scheduler.step()

    if args.onnx:  # torch.onnx.export(model, example, path) under PyTorch
        import glassnet.onnx
        glassnet.onnx.export(model, torch.zeros(1, 1, 28, 28), args.onnx)
        print(f"wrote {args.onnx}")
    return {"accuracy": accuracy, "model": model}


if __name__ == "__main__":
    main()
