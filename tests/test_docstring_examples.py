"""The examples in the docstrings of the layers, optimisers and data tools run as written (the
API reference on the documentation site shows them)."""

import doctest
import importlib

import pytest

MODULES = ["glassnet.nn.local", "glassnet.nn.tiled", "glassnet.nn.convmap", "glassnet.nn.subsampling",
           "glassnet.nn.sync_batchnorm", "glassnet.nn.parallel", "glassnet.nn.lazy", "glassnet.nn.tables",
           "glassnet.nn.utils.convert_parameters", "glassnet.nn.utils.weight_norm", "glassnet.nn.utils.spectral_norm",
           "glassnet.nn.utils.rnn",
           "glassnet.nn.container", "glassnet.nn.batchnorm", "glassnet.nn.loss", "glassnet.nn.conv", "glassnet.nn.pooling", "glassnet.nn.linear", "glassnet.nn.activation",
           "glassnet.nn.dropout", "glassnet.nn.fold", "glassnet.nn.padding", "glassnet.nn.upsampling", "glassnet.nn.pixelshuffle", "glassnet.nn.normalization", "glassnet.nn.module", "glassnet.nn.p4", "glassnet.nn.init", "glassnet.nn.utils.clip_grad", "glassnet.optim.sgd",
           "glassnet.optim.adam", "glassnet.optim.optimizer", "glassnet.optim.lr_scheduler",
           "glassnet.data.preprocess", "glassnet.data.dataloader", "glassnet.data.dataset", "glassnet.data.sampler", "glassnet.data.mnist", "glassnet.models.trained", "glassnet.explain.vec", "glassnet.explain.equivariance", "glassnet.explain.layers", "glassnet.explain.classic", "glassnet.functional.conv",
           "glassnet.functional.pooling", "glassnet.functional.p4", "glassnet.functional.binary_cross_entropy", "glassnet.functional.padding", "glassnet.functional.group_norm", "glassnet.functional.normalization", "glassnet.functional.regression_loss", "glassnet.functional.pixelshuffle", "glassnet.functional.fold", "glassnet.functional.upsampling", "glassnet.functional.dropout", "glassnet.functional.activation", "glassnet.functional.linear", "glassnet.functional.loss"]


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


def _public_nn_objects():
    """(qualified name, object) for every public class and function of glassnet.nn, nn.init, nn.utils
    and its submodules, nn.parameter, nn.parallel and nn.tables.

    A namespace with __all__ exports exactly those names; one without exports the classes and
    functions it defines itself (glassnet.nn: those defined in its submodules), not what it imports.
    From nn.utils's submodules only the functions: their classes (the WeightNorm and SpectralNorm
    hooks and their autograd Functions) are the machinery behind weight_norm and spectral_norm,
    whose examples show them at work. Methods are left out: a class's example shows its use.
    Left out on purpose:
    - glassnet.nn.functional, an alias of glassnet.functional, whose own docstrings carry the examples;
    - nn.parallel.DistributedDataParallel, defined in glassnet.distributed and documented with its
      usage in docs/distributed.md (it needs several MPI processes, which a doctest cannot start).
    """
    import inspect
    import pkgutil

    from glassnet import nn
    excluded = {"glassnet.nn.parallel.DistributedDataParallel"}
    namespaces = [nn, nn.init, nn.utils, nn.parameter, nn.parallel, nn.tables]
    submodules = [importlib.import_module(f"glassnet.nn.utils.{m.name}") for m in pkgutil.iter_modules(nn.utils.__path__)]
    found = {}
    for namespace in namespaces + submodules:
        exported = getattr(namespace, "__all__", None)
        for name in exported if exported is not None else dir(namespace):
            obj = getattr(namespace, name)
            wanted = inspect.isfunction(obj) or (inspect.isclass(obj) and namespace not in submodules)
            if name.startswith("_") or not wanted:
                continue
            home = obj.__module__
            if exported is None and not (home == namespace.__name__ or home.startswith(namespace.__name__ + ".")):
                continue  # imported for its own use, not exported
            qualified = f"{namespace.__name__}.{name}"
            if qualified not in excluded:
                found.setdefault(f"{home}.{obj.__qualname__}", (qualified, obj))
    return sorted(found.values(), key=lambda item: item[0])


def test_every_public_nn_name_has_an_example():
    objects = _public_nn_objects()
    assert len(objects) > 140  # the walk found the layers, not an empty namespace
    missing = [name for name, obj in objects if ">>> " not in (obj.__doc__ or "")]
    assert not missing, f"{len(missing)} public nn names have no example in their docstring: {', '.join(missing)}"


def test_every_public_nn_module_is_in_the_api_reference():
    """docs/api/nn.md renders module by module (`::: glassnet.nn.conv`); a module left out there
    hides its classes from the documentation site."""
    import re
    from pathlib import Path
    page = (Path(__file__).resolve().parents[1] / "docs" / "api" / "nn.md").read_text()
    rendered = set(re.findall(r"^::: ([\w.]+)$", page, re.M))
    homes = {obj.__module__ for _, obj in _public_nn_objects()}
    assert homes > {"glassnet.nn.conv"}
    missing = sorted(homes - rendered)
    assert not missing, f"modules with public nn names missing from docs/api/nn.md: {', '.join(missing)}"
