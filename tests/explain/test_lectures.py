"""The lecture pages in docs/lectures run: every code block on every page is executed as in an
interactive Python prompt and what it prints compared with the ```text block under it; the notebooks
made from the pages are up to date and run top to bottom."""

import doctest
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("lecture_pages", ROOT / "scripts" / "lecture_pages.py")
lecture_pages = importlib.util.module_from_spec(_spec)
sys.modules["lecture_pages"] = lecture_pages  # dataclasses look their module up there
_spec.loader.exec_module(lecture_pages)
PAGES = lecture_pages.pages()


def test_there_is_a_page_per_seed_deck():
    numbers = {page.name[:3] for page in PAGES}
    assert {"000", "001", "002", "003", "004"} <= numbers


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_lecture_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the figures the pages write
    ran, failures = lecture_pages.check_page(page)
    assert ran >= 10, f"{page.name} has only {ran} code blocks"
    assert not failures, f"{len(failures)} of {ran} code blocks in {page.name} failed:\n\n" + "\n\n".join(failures)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_section_runs_on_its_own(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert lecture_pages.check_sections(page) == []


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_pages_are_pasteable(page):
    """Plain code: no '>>>' prompts to strip before pasting into Python or Jupyter."""
    for chunk in lecture_pages.parse(page.read_text()):
        if chunk.kind == "code":
            assert not chunk.text.lstrip().startswith(">>>"), f"{page.name}:{chunk.line} has prompts"
            compile(chunk.text, f"{page.name}:{chunk.line}", "exec")


def test_the_checker_catches_a_wrong_output(tmp_path):
    page = tmp_path / "999-test.md"
    page.write_text("# t\n\n```python\nx = 2\nx + 2\n```\n\n```text\n5\n```\n\n```python\nprint('a')\n```\n\n"
                    "```text\na\n```\n")
    ran, failures = lecture_pages.check_page(page)
    assert ran == 2 and len(failures) == 1 and "999-test.md:3: printed\n4\n" in failures[0]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_notebooks_are_made_from_the_pages(page):
    target = lecture_pages.notebook_path(page)
    assert target.is_file(), f"no notebook for {page.name}: run python scripts/lecture_pages.py"
    assert target.read_text() == lecture_pages.notebook_text(page), \
        f"{target.name} is out of date with {page.name}: run python scripts/lecture_pages.py"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_notebook_runs_top_to_bottom(page, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout's glassnet
    nb = nbformat.read(lecture_pages.notebook_path(page), as_version=4)
    nbformat.validate(nb)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()  # raises CellExecutionError on the first failing cell
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(c.execution_count for c in code_cells)


MODULES = ["vec", "matrix", "counting", "trace", "classic", "receptive", "equivariance", "layers", "features"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    import importlib
    module = importlib.import_module(f"glassnet.explain.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
