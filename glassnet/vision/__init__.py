"""torchvision's names for what CNN course code takes from it: per-sample image data sets and the
transforms that turn a PIL image into a normalised tensor.

    from glassnet.vision import datasets, transforms      # for: from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST("../data", train=True, download=True, transform=transform)
    loader = glassnet.utils.data.DataLoader(train, batch_size=64, shuffle=True)

The data sets read the same verified files as glassnet.data (which is also where a
batched, array-backed version of each lives, faster for whole-epoch training); these return one
(PIL image, int) sample at a time, as torchvision's do, so a program's transforms run unchanged.
"""

from . import datasets, models, transforms

__all__ = ["datasets", "models", "transforms"]
