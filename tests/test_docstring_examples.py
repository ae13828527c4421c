"""The examples in the docstrings of the layers, optimisers and data tools run as written (the
API reference on the documentation site shows them)."""

import doctest
import importlib
import inspect
from pathlib import Path

import pytest

MODULES = ["glassnet.nn.local", "glassnet.nn.tiled", "glassnet.nn.convmap", "glassnet.nn.subsampling",
           "glassnet.nn.container", "glassnet.nn.batchnorm", "glassnet.nn.loss", "glassnet.nn.conv", "glassnet.nn.pooling", "glassnet.nn.linear", "glassnet.nn.activation",
           "glassnet.nn.dropout", "glassnet.nn.fold", "glassnet.nn.padding", "glassnet.nn.upsampling", "glassnet.nn.pixelshuffle", "glassnet.nn.normalization", "glassnet.nn.module", "glassnet.nn.p4", "glassnet.nn.init", "glassnet.nn.utils.clip_grad", "glassnet.optim.sgd",
           "glassnet.optim.adam", "glassnet.optim.optimizer", "glassnet.optim.lr_scheduler",
           "glassnet.optim.adadelta", "glassnet.optim.adagrad", "glassnet.optim.adamax", "glassnet.optim.nadam",
           "glassnet.optim.radam", "glassnet.optim.rmsprop", "glassnet.optim.rprop",
           "glassnet.data.preprocess", "glassnet.data.dataloader", "glassnet.data.dataset", "glassnet.data.sampler", "glassnet.data.mnist",
           "glassnet.data.shapes", "glassnet.data.clips", "glassnet.data.mnist1d", "glassnet.data.collate",
           "glassnet.data.download", "glassnet.data.idx", "glassnet.data._worker", "glassnet.data.transforms", "glassnet.models.trained", "glassnet.explain.vec", "glassnet.explain.equivariance", "glassnet.explain.layers", "glassnet.explain.classic",
           "glassnet.explain.counting", "glassnet.explain.matrix", "glassnet.explain.trace", "glassnet.explain.receptive",
           "glassnet.explain.examples", "glassnet.explain.features", "glassnet.data.registry", "glassnet.functional.conv",
           "glassnet.functional.pooling", "glassnet.functional.p4", "glassnet.functional.binary_cross_entropy", "glassnet.functional.padding", "glassnet.functional.group_norm", "glassnet.functional.normalization", "glassnet.functional.regression_loss", "glassnet.functional.pixelshuffle", "glassnet.functional.fold", "glassnet.functional.upsampling", "glassnet.functional.dropout", "glassnet.functional.activation", "glassnet.functional.linear", "glassnet.functional.loss",
           "glassnet.functional.grid_sample", "glassnet.functional.local_response_norm", "glassnet.functional.local",
           "glassnet.functional.convmap", "glassnet.functional.subsampling"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_documented_classes_have_examples():
    from glassnet import nn, optim
    for cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.MaxPool2d, nn.AvgPool2d, nn.Linear,
                nn.Flatten, nn.ReLU, nn.Dropout, optim.SGD, optim.Adam):
        assert ">>> " in (cls.__doc__ or ""), f"{cls.__name__} has no example"


def _public_names(package):
    """The names a package exports: its `__all__`, or else its public attributes that are classes
    or functions defined inside it. Helpers it imports from elsewhere in glassnet (transforms'
    `pad`, lr_scheduler's `Optimizer`) are left to the package that defines them, which is walked
    (or documented) on its own."""
    names = getattr(package, "__all__", None)
    if names is None:
        inside = (package.__name__, package.__name__ + ".")
        names = [name for name, value in vars(package).items()
                 if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
                 and (value.__module__ or "").startswith(inside)]
    return sorted(names)


# The packages whose every public name is documented with an example. data.transforms is a module
# that glassnet.data exports whole, so it is walked on its own.
PACKAGES = ["glassnet.functional", "glassnet.optim", "glassnet.optim.lr_scheduler", "glassnet.data",
            "glassnet.data.transforms", "glassnet.explain"]

# Names exported but documented elsewhere, each with the reason.
NO_EXAMPLE_NEEDED = {
    # a subpackage, walked by its own parameter below
    ("glassnet.optim", "lr_scheduler"),
    # a read-only mapping of arrays, which cannot carry a docstring: glassnet.explain.classic's
    # module docstring shows it with an example (run through MODULES)
    ("glassnet.explain", "kernels"),
}


@pytest.mark.parametrize("package_name", PACKAGES)
def test_every_public_name_has_an_example(package_name):
    package = importlib.import_module(package_name)
    names = _public_names(package)
    assert names, f"{package_name} exports nothing"
    missing = []
    for name in names:
        if (package_name, name) in NO_EXAMPLE_NEEDED:
            continue
        value = getattr(package, name)
        if inspect.ismodule(value):
            missing.append(f"{name} (a module: add it to NO_EXAMPLE_NEEDED with the reason)")
        # the object's own __doc__: inspect.getdoc would hand a subclass its base class's example
        elif ">>> " not in (value.__doc__ or ""):
            missing.append(name)
    assert not missing, f"{package_name}: no docstring example in {', '.join(missing)}"


def _api_page_entries(module_name):
    """What the API reference page of a module's package lists (`::: glassnet.data.sampler`)."""
    page = Path(__file__).resolve().parents[1] / "docs" / "api" / (module_name.split(".")[1] + ".md")
    return {line.split(":::", 1)[1].strip() for line in page.read_text().splitlines() if line.startswith(":::")}


@pytest.mark.parametrize("package_name", PACKAGES)
def test_every_public_name_is_on_its_api_page(package_name):
    """The API reference lists modules explicitly: each public name's module, or the name itself,
    must be on the page of the package that defines it (explain's to_gray on data's page), or
    the name is not on the site."""
    package = importlib.import_module(package_name)
    missing = []
    for name in _public_names(package):
        if (package_name, name) in NO_EXAMPLE_NEEDED:
            continue  # a subpackage (checked under its own parameter) or a mapping (in its module's docstring)
        module = getattr(package, name).__module__
        if not {module, f"{package_name}.{name}"} & _api_page_entries(module):
            missing.append(f"{name} ({module})")
    assert not missing, f"the API reference lists neither the name nor the module of {', '.join(missing)}"
