"""MNIST and Fashion-MNIST from their IDX files: found locally, or downloaded and verified.

Where the files are looked for, in order (each file as `<name>.gz` or uncompressed `<name>`):

1. `root` and `root/<folder>` when a root is given;
2. `$GLASSNET_DATA/<folder>` and `$GLASSNET_DATA`;
3. the user cache, `$XDG_CACHE_HOME/glassnet/<folder>` (default `~/.cache/glassnet/<folder>`);
4. system directories: `/usr/share/datasets/fashion-mnist` for Fashion-MNIST, where Debian's
   package `dataset-fashion-mnist` installs the original files.

Otherwise (with download=True) the files are downloaded from the dataset's official location
into `root/<folder>` or the user cache, checked against the published size and SHA-256 of the
compressed file as it arrives. Every file that is read is checked against the SHA-256 of its
*uncompressed* content, computed as it is decompressed (and it is never decompressed past the
size its header declares): Debian recompresses the archives (its .gz differ from the originals
in the gzip header only), so the uncompressed sum is the one that identifies the data wherever
it came from.

Samples: x float32 (1, 28, 28) in [0, 1], y int64 class index. `.data` holds the uint8 images
(N, 28, 28) and `.targets` the labels (N,), as in torchvision.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .dataset import ArrayDataset
from .download import DownloadError, download_url
from .idx import read_idx


class FileInfo(NamedTuple):
    """The published size and checksums of one IDX file; the classes' `files` tables hold them
    and their `mirrors` the URLs the .gz files are downloaded from.

    Examples:
        >>> from glassnet.data import FashionMNIST
        >>> sorted(FashionMNIST.files)
        ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte',
         'train-labels-idx1-ubyte']
        >>> FashionMNIST.files["t10k-labels-idx1-ubyte"].gz_size      # bytes of t10k-labels-idx1-ubyte.gz
        5148
        >>> FashionMNIST.mirrors[-1]
        'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/'
    """
    gz_sha256: str  # of the official .gz, checked on download
    sha256: str     # of the uncompressed IDX content, checked on every read
    gz_size: int    # bytes of the official .gz: a download stops past it


_FASHION_FILES = {
    "train-images-idx3-ubyte": FileInfo("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                                        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 26421880),
    "train-labels-idx1-ubyte": FileInfo("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                                        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 29515),
    "t10k-images-idx3-ubyte": FileInfo("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                                       "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 4422102),
    "t10k-labels-idx1-ubyte": FileInfo("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                                       "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 5148),
}
_MNIST_FILES = {
    "train-images-idx3-ubyte": FileInfo("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                                        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 9912422),
    "train-labels-idx1-ubyte": FileInfo("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                                        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 28881),
    "t10k-images-idx3-ubyte": FileInfo("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                                       "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 1648877),
    "t10k-labels-idx1-ubyte": FileInfo("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                                       "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 4542),
}


def user_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/glassnet`, by default `~/.cache/glassnet`.

    MNIST and Fashion-MNIST are downloaded into its `mnist` and `fashion-mnist` folders when no
    root is given.

    Examples:
        >>> from glassnet.data.mnist import user_cache_dir
        >>> user_cache_dir().name
        'glassnet'
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "glassnet"


def _uint8_to_float(x: np.ndarray) -> np.ndarray:
    return (x.astype(np.float32) / np.float32(255))[:, None]  # (B, 28, 28) -> (B, 1, 28, 28)


class _IDXImages(ArrayDataset):
    """Shared loader of the MNIST family; subclasses set the class attributes."""

    title: str = ""
    folder: str = ""
    files: dict = {}
    mirrors: list[str] = []
    system_dirs: list[str] = []
    classes: list[str] = []
    how_to_get: str = ""
    sizes = {"train": 60000, "t10k": 10000}  # samples per split, checked against the headers
    retries, backoff = 3, 1.0  # per mirror, see download_url

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = True, verify: bool = True):
        self.root, self.train = (Path(root) if root is not None else None), train
        prefix = "train" if train else "t10k"
        n = self.sizes[prefix]
        images = self._load(f"{prefix}-images-idx3-ubyte", (n, 28, 28), download, verify)
        labels = self._load(f"{prefix}-labels-idx1-ubyte", (n,), download, verify)
        if labels.max() >= len(self.classes):
            raise ValueError(f"{self.title} labels must lie in [0, {len(self.classes)}), found {labels.max()}")
        super().__init__(images, labels.astype(np.int64), transform=transform,
                         target_transform=target_transform, input_fn=_uint8_to_float)

    @classmethod
    def search_dirs(cls, root=None) -> list[Path]:
        dirs = []
        if root is not None:
            dirs += [Path(root), Path(root) / cls.folder]
        env = os.environ.get("GLASSNET_DATA")
        if env:
            dirs += [Path(env) / cls.folder, Path(env)]
        dirs.append(user_cache_dir() / cls.folder)
        dirs += [Path(d) for d in cls.system_dirs]
        return dirs

    def _candidates(self, name: str) -> list[Path]:
        found = []
        for d in self.search_dirs(self.root):
            found += [p for p in (d / f"{name}.gz", d / name) if p.is_file() and p not in found]
        return found

    def _read_verified(self, path: Path, name: str, shape, verify: bool) -> tuple[np.ndarray | None, str]:
        """(the array, "") when `path` holds the expected data, else (None, why not). The file is
        hashed as it is decompressed, and decompressed no further than `shape` needs."""
        hasher = hashlib.sha256() if verify else None
        try:
            array = read_idx(path, expected_shape=shape, hasher=hasher)
        except ValueError as error:  # names the file and what is wrong with it
            return None, str(error)
        if hasher is None or hasher.hexdigest() == self.files[name].sha256:
            return array, ""
        return None, (f"{path}: the uncompressed content has SHA-256 {hasher.hexdigest()}, expected "
                      f"{self.files[name].sha256} (the original {self.title} {name}): the file is "
                      f"damaged or belongs to another data set; delete it and get it again")

    def _load(self, name: str, shape, download: bool, verify: bool) -> np.ndarray:
        # The MNIST family shares file names, so a directory may hold another member's files:
        # the first candidate whose content checks out is used.
        rejected = []
        for path in self._candidates(name):
            array, why = self._read_verified(path, name, shape, verify)
            if array is not None:
                return array
            rejected.append(why)
        failure = "download=False"
        if download:
            target = self.root / self.folder if self.root is not None else user_cache_dir() / self.folder
            try:
                path = download_url([m + f"{name}.gz" for m in self.mirrors], target / f"{name}.gz",
                                    self.files[name].gz_sha256, size=self.files[name].gz_size,
                                    retries=self.retries, backoff=self.backoff, progress=True)
                array, why = self._read_verified(path, name, shape, verify)
                if array is not None:
                    return array
                rejected.append(why)
            except DownloadError as err:
                failure = str(err)
        if rejected:
            raise ValueError("\n".join(rejected))
        searched = "\n  ".join(str(d) for d in self.search_dirs(self.root))
        raise FileNotFoundError(
            f"{self.title} file {name}.gz was not found; looked in:\n  {searched}\n"
            f"and could not download it ({failure}).\n{self.how_to_get}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(train={self.train}, samples={len(self)})"


class FashionMNIST(_IDXImages):
    """Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 28x28 grey images of 10 kinds of clothing,
    60,000 for training and 10,000 for testing: torchvision's FashionMNIST, plus `verify`.
    Files are looked for before anything is downloaded; a missing or damaged file gives an
    error that says where it looked and how to get the files.

    Args:
        root: a directory to look in first (and to download into); None looks in
            $GLASSNET_DATA, ~/.cache/glassnet and the system directories.
        train: the 60,000 training images, or the 10,000 test images when False.
        transform: a batched transform of the float32 images (see glassnet.data.transforms).
        target_transform: a batched transform of the labels.
        download: fetch missing files from the mirrors (checked against known SHA-256 sums).
        verify: check the uncompressed files' SHA-256 sums too.

    Shape:
        images are stored as uint8 (N, 28, 28) and fetched as float32 in [0, 1] with a channel
        dimension: dataset[i] -> ((1, 28, 28), label), labels int64 in [0, 10). `classes` names
        the labels.

    Examples:
        >>> from glassnet.data import FashionMNIST
        >>> FashionMNIST.classes[:3]
        ['T-shirt/top', 'Trouser', 'Pullover']
        >>> train = FashionMNIST()                      # doctest: +SKIP
        >>> len(train), train[0][0].shape, train[0][0].dtype   # doctest: +SKIP
        (60000, (1, 28, 28), dtype('float32'))
    """

    title = "Fashion-MNIST"
    folder = "fashion-mnist"
    files = _FASHION_FILES
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"]
    system_dirs = ["/usr/share/datasets/fashion-mnist"]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]
    how_to_get = ("Get the four files in any one of these ways:\n"
                  "  - Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist  "
                  "(installs them in /usr/share/datasets/fashion-mnist)\n"
                  "  - download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                  "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from\n"
                  "    http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ into a directory "
                  "and set GLASSNET_DATA to that directory\n"
                  "  - or run once with network access: glassnet downloads them into ~/.cache/glassnet")


class MNIST(_IDXImages):
    """MNIST handwritten digits (LeCun, Cortes and Burges): 28x28 grey images of the digits 0-9,
    60,000 for training and 10,000 for testing: torchvision's MNIST, plus `verify`. Files are
    looked for before anything is downloaded; a missing or damaged file gives an error that says
    where it looked and how to get the files.

    Args:
        root: a directory to look in first (and to download into); None looks in
            $GLASSNET_DATA, ~/.cache/glassnet and the system directories.
        train: the 60,000 training images, or the 10,000 test images when False.
        transform: a batched transform of the float32 images (see glassnet.data.transforms).
        target_transform: a batched transform of the labels.
        download: fetch missing files from the mirrors (checked against known SHA-256 sums).
        verify: check the uncompressed files' SHA-256 sums too.

    Shape:
        images are stored as uint8 (N, 28, 28) and fetched as float32 in [0, 1] with a channel
        dimension: dataset[i] -> ((1, 28, 28), label), labels int64 in [0, 10). `classes` names
        the labels.

    Examples:
        >>> from glassnet.data import MNIST
        >>> len(MNIST.classes), MNIST.classes[7]
        (10, '7')
        >>> train = MNIST()                      # doctest: +SKIP
        >>> len(train), train[0][0].shape, train[0][0].dtype   # doctest: +SKIP
        (60000, (1, 28, 28), dtype('float32'))
    """

    title = "MNIST"
    folder = "mnist"
    files = _MNIST_FILES
    mirrors = ["https://yann.lecun.com/exdb/mnist/",
               "https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/"]
    classes = [str(d) for d in range(10)]
    how_to_get = ("Get the four files in either of these ways:\n"
                  "  - download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                  "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from\n"
                  "    https://yann.lecun.com/exdb/mnist/ into a directory and set GLASSNET_DATA "
                  "to that directory\n"
                  "  - or run once with network access: glassnet downloads them into ~/.cache/glassnet")
