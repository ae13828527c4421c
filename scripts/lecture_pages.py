"""The lecture pages (docs/lectures/NNN-*.md) as runnable code and as Jupyter notebooks.

A page is Markdown whose ```python blocks are plain code (paste them into Python, IPython or
Jupyter) and whose ```text block right after a code block is what that code prints, run as in
the interactive Python prompt: a bare expression shows its repr. The page is the one source:

    python scripts/lecture_pages.py            # write docs/notebooks/NNN-*.ipynb from the pages
    python scripts/lecture_pages.py --check    # exit 1 if a notebook differs from its page

tests/explain/test_lectures.py runs every page and checks each printed output against its
```text block, checks that the committed notebooks are up to date, and executes them.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import doctest
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LECTURES = ROOT / "docs" / "lectures"
NOTEBOOKS = ROOT / "docs" / "notebooks"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*\n", re.S | re.M)
OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS  # "..." in an output matches anything


@dataclass
class Chunk:
    kind: str           # "markdown", "code" or "output"
    text: str
    line: int = 0       # where it starts on the page (1-based), for error messages


def pages() -> list[Path]:
    return sorted(LECTURES.glob("[0-9][0-9][0-9]-*.md"))


def parse(text: str) -> list[Chunk]:
    """Markdown, code (```python) and output (a ```text block that follows a code block) chunks."""
    chunks: list[Chunk] = []
    position = 0
    for match in FENCE.finditer(text):
        prose = text[position:match.start()]
        line = text.count("\n", 0, match.start()) + 1
        language, body = match.group(1), match.group(2)
        follows_code = bool(chunks) and chunks[-1].kind == "code" and not prose.strip()
        if prose.strip():
            chunks.append(Chunk("markdown", prose.strip("\n"), text.count("\n", 0, position) + 1))
        if language == "python":
            chunks.append(Chunk("code", body.rstrip("\n"), line))
        elif language == "text" and follows_code:
            chunks.append(Chunk("output", body, line))
        else:
            chunks.append(Chunk("markdown", match.group(0).rstrip("\n"), line))
        position = match.end()
    if text[position:].strip():
        chunks.append(Chunk("markdown", text[position:].strip("\n"), text.count("\n", 0, position) + 1))
    return chunks


def run_code(code: str, namespace: dict, filename: str) -> str:
    """Run code as the interactive Python prompt would (each top-level statement on its own, a bare
    expression's value shown by sys.displayhook); returns what it printed."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        for statement in ast.parse(code, filename).body:
            exec(compile(ast.Interactive([statement]), filename, "single"), namespace)
    return captured.getvalue()


def check_page(path: Path) -> tuple[int, list[str]]:
    """Run every code chunk of a page in one namespace; (chunks run, failures with their line)."""
    checker = doctest.OutputChecker()
    namespace: dict = {"__name__": "__main__"}
    failures: list[str] = []
    chunks = parse(path.read_text())
    ran = 0
    for i, chunk in enumerate(chunks):
        if chunk.kind != "code":
            continue
        ran += 1
        where = f"{path.name}:{chunk.line}"
        try:
            got = run_code(chunk.text, namespace, where)
        except Exception as error:  # a failing example is reported, not raised: the rest still run
            failures.append(f"{where}: {type(error).__name__}: {error}\n{chunk.text}")
            continue
        want = chunks[i + 1].text if i + 1 < len(chunks) and chunks[i + 1].kind == "output" else ""
        if not checker.check_output(want, got, OPTIONS):
            failures.append(f"{where}: printed\n{got}\nexpected\n{want}\nfor\n{chunk.text}")
    return ran, failures


def check_sections(path: Path) -> list[str]:
    """Run each '## ' section of a page on its own, after only the code before the first section
    (the imports): a reader can start at any section. Returns the sections that fail."""
    chunks = parse(path.read_text())
    opening: list[Chunk] = []
    sections: list[tuple[str, list[Chunk]]] = []
    for chunk in chunks:
        if chunk.kind == "markdown" and chunk.text.lstrip().startswith("## "):
            sections.append((chunk.text.strip().splitlines()[0], []))
        elif chunk.kind == "code":
            (sections[-1][1] if sections else opening).append(chunk)
    failures = []
    for title, code in sections:
        namespace: dict = {"__name__": "__main__"}
        for chunk in opening + code:
            try:
                run_code(chunk.text, namespace, f"{path.name}:{chunk.line}")
            except Exception as error:
                failures.append(f"{path.name} '{title}', line {chunk.line}: {type(error).__name__}: {error}")
                break
    return failures


def notebook(path: Path) -> dict:
    """The page as a Jupyter notebook (nbformat 4): prose as Markdown cells, code as code cells,
    outputs left out (running the notebook makes them)."""
    def source(text: str) -> list[str]:
        return text.splitlines(keepends=True)

    note = (f"*Made from [`docs/lectures/{path.name}`](../lectures/{path.name}) by "
            "`scripts/lecture_pages.py`: edit the page, then run the script.*")
    cells = [{"cell_type": "markdown", "metadata": {}, "source": source(note)}]
    for chunk in parse(path.read_text()):
        if chunk.kind == "markdown":
            cells.append({"cell_type": "markdown", "metadata": {}, "source": source(chunk.text)})
        elif chunk.kind == "code":
            cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                          "source": source(chunk.text)})
    for i, cell in enumerate(cells):
        cell["id"] = f"{path.stem[:3]}-{i:03d}"  # stable ids: a rebuild changes nothing
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def notebook_text(path: Path) -> str:
    return json.dumps(notebook(path), indent=1, ensure_ascii=False) + "\n"


def notebook_path(page: Path) -> Path:
    return NOTEBOOKS / (page.stem + ".ipynb")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) the notebooks made from the lecture pages.")
    parser.add_argument("--check", action="store_true", help="only report notebooks that differ from their page")
    args = parser.parse_args(argv)
    stale = []
    for page in pages():
        target, text = notebook_path(page), notebook_text(page)
        if target.is_file() and target.read_text() == text:
            continue
        stale.append(target)
        if not args.check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            print(f"wrote {target.relative_to(ROOT)}")
    if args.check and stale:
        print("out of date: " + ", ".join(str(p.relative_to(ROOT)) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
