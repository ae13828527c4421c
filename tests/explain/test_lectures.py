"""The lecture walkthroughs in docs/lectures run: every >>> example on every page is executed
and its printed output compared (doctest), in a temporary folder for the figures they write."""

import doctest
from pathlib import Path

import pytest

LECTURES = Path(__file__).resolve().parents[2] / "docs" / "lectures"
PAGES = sorted(LECTURES.glob("[0-9][0-9][0-9]-*.md"))


def test_there_is_a_page_per_seed_deck():
    numbers = {page.name[:3] for page in PAGES}
    assert {"000", "001", "002", "003", "004"} <= numbers


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_lecture_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(page), module_relative=False, report=True,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted >= 10, f"{page.name} has only {result.attempted} runnable examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {page.name} failed (see above)"


MODULES = ["vec", "matrix", "counting", "trace", "classic", "receptive", "equivariance", "layers", "features"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    import importlib
    module = importlib.import_module(f"glassnet.explain.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
