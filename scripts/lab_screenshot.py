"""A screenshot of a chapter in JupyterLab as `make lab` opens it (issue 24): the project's
settings, jupyterlab-myst rendering the MyST Markdown, no news pop-up; and what a reader would
see wrong there (MyST printed raw, the pop-up; ``affwild_lib.lab``).

    .venv/bin/python scripts/lab_screenshot.py [notebooks/05_affwildnet.ipynb ...] [--out _build/screenshots]

Starts its own Lab on a free loopback port and stops it; Debian's Chromium, no network.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from affwild_lib import book_browser, lab
from affwild_lib.config import repo_root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", default=["notebooks/05_affwildnet.ipynb", lab.START],
                        help="paths relative to the repository (default: chapter 05 and the start page)")
    parser.add_argument("--out", default="_build/screenshots", type=Path, help="folder for the PNG files")
    args = parser.parse_args()
    chromium = book_browser.chromium()
    if not chromium:
        print("lab_screenshot: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    root = repo_root()
    args.out.mkdir(parents=True, exist_ok=True)
    bad = 0
    with lab.running(root) as (url, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=list(book_browser.FLAGS))
        page = browser.new_page(viewport=book_browser.VIEWPORT)
        for path in args.notebooks:
            seen = lab.open_notebook(page, url, token, path)
            shot = args.out / f"lab_{Path(path).stem}.png"
            page.screenshot(path=str(shot))
            print(f"{shot}: {seen['markdown_cells']} Markdown cells, {seen['citations']} citations rendered"
                  + "".join(f"\n  {problem}" for problem in seen["problems"]))
            bad += bool(seen["problems"])
        browser.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
