"""The examples in the docstrings of the layers, optimisers and data tools run as written (the
API reference on the documentation site shows them)."""

import doctest
import importlib
import inspect
from pathlib import Path

import pytest

MODULES = ["glassnet.autograd", "glassnet.nn.local", "glassnet.nn.tiled", "glassnet.nn.convmap", "glassnet.nn.subsampling",
           "glassnet.nn.sync_batchnorm", "glassnet.nn.parallel", "glassnet.nn.lazy", "glassnet.nn.tables",
           "glassnet.nn.utils.convert_parameters", "glassnet.nn.utils.weight_norm", "glassnet.nn.utils.spectral_norm",
           "glassnet.nn.utils.rnn",
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
           "glassnet.functional.convmap", "glassnet.functional.subsampling",
           "glassnet.activations"]


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


def _documented_objects(site):
    """(page, qualified name, object) for every object with a heading on the built API pages."""
    import re
    found = []
    for page in sorted((site / "api").glob("*/index.html")):
        for name in sorted(set(re.findall(r'<h\d id="(glassnet(?:\.\w+)+)"', page.read_text()))):
            parts = name.split(".")
            for split in range(len(parts), 0, -1):  # the longest importable prefix is the module
                try:
                    obj = importlib.import_module(".".join(parts[:split]))
                except ImportError:
                    continue
                for attribute in parts[split:]:
                    obj = getattr(obj, attribute, None)  # None: an instance attribute, not a class
                found.append((page.parent.name, name, obj))
                break
    return found


def test_every_autograd_function_on_an_api_page_has_an_example(docs_site):
    """An autograd Function on the API reference needs an example. Those that are machinery behind
    a public function (functional's ReLU behind relu, ConvNd behind conv1d/2d/3d, weight_norm's
    WeightNormFunction) are left off the pages instead: docs/api/functional.md lists what each
    module exports (`filters: public`) and docs/api/nn.md filters them by name (with the hooks of
    weight_norm and spectral_norm). The reader meets the public function with its example, and
    glassnet.autograd.Function's example shows how a Function is written."""
    from glassnet.autograd import Function
    objects = _documented_objects(docs_site)
    names = {name for _, name, _ in objects}
    assert {"glassnet.functional.activation.relu", "glassnet.autograd.Function"} <= names  # the walk read the pages
    # the class's own __doc__: a subclass without one would show Function's example otherwise
    missing = [f"{name} (api/{page})" for page, name, obj in objects
               if inspect.isclass(obj) and issubclass(obj, Function) and ">>> " not in (obj.__doc__ or "")]
    assert not missing, f"autograd Functions on the API pages without an example: {', '.join(missing)}"



# Shown on the API pages of the five packages without an example, each with the reason.
SHOWN_WITHOUT_EXAMPLE = {
    # needs several MPI processes, which a doctest cannot start; docs/distributed.md shows its use
    "glassnet.nn.parallel.DistributedDataParallel",
}


def test_every_class_and_function_on_the_api_pages_has_an_example(docs_site):
    """The pages of nn, functional, optim, data and explain show each module's public names, also
    those no namespace exports (a helper such as base_seed): every class and function there has
    an example. A helper meant for glassnet's own use takes a leading underscore instead, which
    keeps it off the pages. Methods are left out: their class's example shows their use."""
    packages = {"nn", "functional", "optim", "data", "explain"}
    shown = [(page, name, obj) for page, name, obj in _documented_objects(docs_site)
             if page in packages and (inspect.isclass(obj) or inspect.isfunction(obj))
             and name.rsplit(".", 1)[1] == obj.__name__     # not a class attribute naming a class
             and "." not in obj.__qualname__]               # not a method or nested class
    assert {page for page, _, _ in shown} == packages  # the walk read every page
    missing = [f"{name} (api/{page})" for page, name, obj in shown
               if name not in SHOWN_WITHOUT_EXAMPLE and ">>> " not in (obj.__doc__ or "")]
    assert not missing, f"classes and functions on the API pages without an example: {', '.join(missing)}"
