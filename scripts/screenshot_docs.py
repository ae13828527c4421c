"""Build the documentation site and photograph two of its pages in headless Chromium.

    python scripts/screenshot_docs.py                 # -> docs/images/site-home.png, site-lecture.png
    python scripts/screenshot_docs.py --out shots/

Needs the docs extra (pip install -e '.[docs]') and Chromium (Debian: apt-get install chromium).
The site is built with `mkdocs build --strict` into a temporary folder and served on a local
port for the time of the screenshots, as `mkdocs serve` would serve it.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"site-home.png": "", "site-lecture.png": "lectures/002-worked-examples/"}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1280,900"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no line per request
        pass


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise SystemExit("no Chromium found (Debian: apt-get install chromium)")


def build(site: Path) -> None:
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(site)],
                   cwd=ROOT, check=True)


def screenshot(browser: str, url: str, target: Path, profile: Path) -> None:
    subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={target}", url],
                   check=True, capture_output=True, timeout=120)
    if not target.is_file() or target.stat().st_size < 10_000:
        raise SystemExit(f"Chromium wrote no usable screenshot of {url} to {target}")


def main(argv=None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    browser = chromium()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        build(site)
        handler = functools.partial(QuietHandler, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        written = []
        try:
            for name, page in PAGES.items():
                url = f"http://127.0.0.1:{server.server_port}/{page}"
                screenshot(browser, url, out / name, Path(tmp) / "profile")
                written.append(out / name)
                print(f"wrote {out / name} ({url})")
        finally:
            server.shutdown()
    return written


if __name__ == "__main__":
    main()
