"""The documentation site builds with no warning (`mkdocs build --strict`), holds every page and
the API reference, and (where Chromium is installed) renders in a real browser."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def site(docs_site):
    """The built site (conftest.docs_site: one strict build for the whole run)."""
    return docs_site


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


# Emphasis the API pages mean to show: mkdocstrings marks a parameter without default "*required*",
# and a few docstrings stress a word. Any other <em> or <strong> came from Markdown reading stars
# as emphasis: two stars in one paragraph of a shape ((N, *) ... (*, C), conv*d, C*H*W) or a dunder
# name (__init__ becomes bold "init"). Put such text in backticks.
INTENDED_EMPHASIS = {"required", "map-style", "array-backed", "iterable", "batched", "uncompressed", "invariant",
                     "in place"}

# The elements the pages are made of. Any other tag is a placeholder such as <name> that Markdown
# passed through as HTML, which the browser then hides.
HTML_ELEMENTS = set("""a abbr article aside b blockquote body br button caption code col colgroup dd del
    details dfn div dl dt em figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr i img input ins
    kbd label li main mark nav ol p path pre q s samp section small span strong sub summary sup svg table
    tbody td tfoot th thead tr u ul var wbr""".split())


class _MarkupScan(__import__("html.parser").parser.HTMLParser):
    """The emphasis (with its text) and the unknown tags inside a page's <article>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0        # how deep inside <article>
        self.emphasis = []    # [tag, text] of each <em> or <strong>, text growing while it is open
        self.open = []
        self.unknown = []

    def handle_starttag(self, tag, attrs):
        if tag == "article":
            self.depth += 1
        elif self.depth:
            if tag not in HTML_ELEMENTS:
                self.unknown.append(f"<{tag}>")
            if tag in ("em", "strong"):
                self.emphasis.append([tag, ""])
                self.open.append(self.emphasis[-1])

    def handle_endtag(self, tag):
        if tag == "article":
            self.depth -= 1
        elif self.depth and tag in ("em", "strong") and self.open:
            self.open.pop()

    def handle_data(self, data):
        for item in self.open:
            item[1] += data


def markup_problems(html: str) -> list[str]:
    """Emphasis outside INTENDED_EMPHASIS and tags that are no HTML element, as readable lines."""
    scan = _MarkupScan()
    scan.feed(html)
    problems = [f"<{tag}>{' '.join(text.split())[:80]}</{tag}>" for tag, text in scan.emphasis
                if tag != "em" or " ".join(text.split()) not in INTENDED_EMPHASIS]
    return problems + [f"{tag} (a placeholder read as HTML)" for tag in scan.unknown]


def test_the_markup_scan_finds_stars_read_as_emphasis_and_placeholders_read_as_tags():
    """What the scan below looks for is what Python-Markdown makes of shapes and placeholders."""
    markdown = pytest.importorskip("markdown")
    page = "<article>{}</article>"
    shapes = markdown.markdown("Shape (*) -> (*), C*H*W")
    assert markup_problems(page.format(shapes)) == ["<em>) -> (</em>", "<em>H</em>"]
    assert markup_problems(page.format(markdown.markdown("one __getitem__ per sample"))) == ["<strong>getitem</strong>"]
    assert markup_problems(page.format(markdown.markdown("parameters <name>_g and <name>_v"))) == [
        "<name> (a placeholder read as HTML)"] * 2
    assert markup_problems(page.format(markdown.markdown("`(*) -> (*)`, `<name>_g`, *required*"))) == []


def test_api_pages_show_shapes_and_placeholders_as_written(site):
    """Every API page: no shape star or dunder turned into emphasis, no `<name>` swallowed."""
    problems = {}
    for page in sorted((site / "api").glob("*/index.html")):
        found = markup_problems(page.read_text())
        if found:
            problems[page.parent.name] = found
    assert len(list((site / "api").glob("*/index.html"))) >= 9  # the scan read the API pages
    assert not problems, "\n".join(f"api/{name}: {len(found)}: " + "; ".join(found) for name, found in problems.items())


def test_lecture_pages_point_to_the_code_that_computes_their_formulas():
    """Each lecture page names the reference functions of the formulas it derives and links the
    reading guide; every file and function it names exists."""
    import importlib
    import re
    for page in sorted((ROOT / "docs" / "lectures").glob("0*.md")):
        text = page.read_text()
        notes = [line for line in text.splitlines() if line.startswith("*In the code:*")]
        assert notes and all("](../reading.md)" in line for line in notes), page.name
        for line in notes:
            paths = re.findall(r"`(glassnet/[\w/]+\.py)`", line)
            assert paths, line
            for path in paths:
                assert (ROOT / path).is_file(), f"{page.name} names {path}, which does not exist"
            modules = [importlib.import_module(path[:-3].replace("/", ".")) for path in paths]
            for name in set(re.findall(r"`([a-z_0-9]+)`", line)) - {"flip"}:  # flip: an argument
                assert any(hasattr(m, name) for m in modules), f"{page.name}: {name} is not in {', '.join(paths)}"
