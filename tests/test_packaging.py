"""The package builds and installs cleanly: `pip install .` and its wheel without deprecation
warnings, the license declared as PEP 639 asks, the command line among the entry points."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built from a copy of the checkout (the build writes build/ and *.egg-info beside
    the sources), with the setuptools already installed: no network needed."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "glassnet", src / "glassnet", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                           "-w", str(out), "-v"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return next(out.glob("glassnet-*.whl")), proc.stdout + proc.stderr


def test_wheel_builds_without_deprecation_warnings(wheel):
    _, log = wheel
    noisy = [line for line in log.splitlines() if "deprecat" in line.lower()]
    assert not noisy, "\n".join(noisy)


def test_wheel_metadata_and_contents(wheel):
    path, _ = wheel
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "License-Expression: MIT" in metadata
    assert "glassnet = glassnet.cli:main" in entry_points
    assert "glassnet/data/preprocess.py" in names and "glassnet/kernels/conv.py" in names
    assert not any(n.startswith("tests/") for n in names)
