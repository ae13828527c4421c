"""The package's layers import one way only (see the layering in the style guide): kernels ->
autograd -> tensor -> functional -> nn -> the rest. Read from the source with ast, so an import
hidden inside a function body counts as much as one at the top of a module."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "glassnet"

# what each layer must not import: every layer above it
ABOVE_TENSOR = ("glassnet.functional", "glassnet.nn", "glassnet.tensor_functions", "glassnet.random",
                "glassnet.optim", "glassnet.data", "glassnet.train", "glassnet.models", "glassnet.explain",
                "glassnet.viz", "glassnet.interop", "glassnet.onnx", "glassnet.utils", "glassnet.vision",
                "glassnet.cli")
ABOVE_AUTOGRAD = ("glassnet.tensor", "glassnet.ops", "glassnet.activations") + ABOVE_TENSOR


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every glassnet module that `path` imports, at any depth of its code, as an absolute name
    (`from . import ops` in glassnet/tensor.py gives glassnet.ops)."""
    name = _module_name(path)
    return _imports(path.read_text(), name if path.name == "__init__.py" else name.rpartition(".")[0])


def _imports(source: str, package: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from . import ops`
    return {m for m in found if m == "glassnet" or m.startswith("glassnet.")}


def _offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imported_modules(path) if any(m == f or m.startswith(f + ".") for f in forbidden))


KERNEL_FILES = sorted((PACKAGE / "kernels").rglob("*.py"))


@pytest.mark.parametrize("path", KERNEL_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_kernels_import_only_kernels(path):
    outside = sorted(m for m in imported_modules(path)
                     if not (m.startswith("glassnet.kernels.") or m == "glassnet.kernels"))
    assert outside == [], f"{path.relative_to(PACKAGE)} imports {outside}: kernels are plain NumPy"


def test_autograd_imports_no_tensor_functional_or_nn():
    assert _offending(PACKAGE / "autograd.py", ABOVE_AUTOGRAD) == []


@pytest.mark.parametrize("module", ["tensor.py", "ops.py", "activations.py", "dtypes.py", "devices.py",
                                    "tensordata.py", "generator.py"])
def test_tensor_layer_imports_no_functional_or_nn(module):
    assert _offending(PACKAGE / module, ABOVE_TENSOR) == []


def test_modules_below_tensor_do_not_import_it():
    for module in ("ops.py", "activations.py", "dtypes.py", "devices.py", "tensordata.py", "generator.py",
                   "dispatch.py"):
        assert _offending(PACKAGE / module, ("glassnet.tensor",)) == [], module


def test_the_check_sees_imports_inside_functions():
    """The checker itself: imports inside a function body are found, relative ones resolved."""
    source = ("import numpy\n"
              "def f():\n    from ..functional import relu\n    from . import sizes\n    import glassnet.nn\n")
    assert _imports(source, "glassnet.kernels") == {"glassnet.functional", "glassnet.functional.relu",
                                                    "glassnet.kernels", "glassnet.kernels.sizes", "glassnet.nn"}
