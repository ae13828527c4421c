"""The documentation site builds with no warning (`mkdocs build --strict`), holds every page and
the API reference, and (where Chromium is installed) renders in a real browser."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env={"NO_MKDOCS_2_WARNING": "1",
                                                                            **__import__("os").environ})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def test_every_page_is_built(site):
    sources = [p for p in (ROOT / "docs").rglob("*.md")]
    for source in sources:
        relative = source.relative_to(ROOT / "docs").with_suffix("")
        folder = relative.parent if relative.name in ("index", "README") else relative
        assert (site / folder / "index.html").is_file(), f"{source} was not built"


def test_home_page_is_the_readme(site):
    html = (site / "index.html").read_text()
    first_paragraph = (ROOT / "README.md").read_text().split("\n\n")[1].split()[:6]
    assert " ".join(first_paragraph) in " ".join(html.split())


def test_api_reference_is_made_from_the_docstrings(site):
    html = (site / "api" / "nn" / "index.html").read_text()
    from glassnet import nn
    assert 'id="glassnet.nn.conv.Conv2d"' in html
    assert nn.Conv2d.__doc__.split("\n")[0].split()[0] in html
    assert 'id="glassnet.optim.sgd.SGD"' in (site / "api" / "optim" / "index.html").read_text()


def test_notebooks_are_published_beside_the_lectures(site):
    for notebook in (ROOT / "docs" / "notebooks").glob("*.ipynb"):
        assert (site / "notebooks" / notebook.name).is_file()


@pytest.mark.skipif(not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")),
                    reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_screenshots_in_headless_chromium(tmp_path):
    pytest.importorskip("mkdocs")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot_docs.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from matplotlib import image as mpimg
    for name in ("site-home.png", "site-lecture.png"):
        pixels = mpimg.imread(tmp_path / name)
        assert pixels.shape[:2] == (900, 1280)
        assert pixels[..., :3].std() > 0.05  # a rendered page, not a blank one
