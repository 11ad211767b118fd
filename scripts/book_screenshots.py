"""Screenshots of the built book as a reader sees it: the first screen of chapters 01, 04 and 05
and of the reproduction page at 1280 px, opened from the disk with the network cut off, in
Debian's Chromium; and the problems a reader would meet on each page (wide tables, raw Markdown,
maths not rendered; ``affwild_lib.book_browser``).

    .venv/bin/python scripts/book_screenshots.py [--html _build/html] [--out _build/screenshots] [--full]

Run it after ``make book``. ``--full`` takes whole pages rather than the first screen.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from affwild_lib import book_browser

PAGES = ["01_aff_wild_database", "04_cnn_ablations", "05_affwildnet", "90_reproduction"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", default="_build/html", type=Path, help="the built book")
    parser.add_argument("--out", default="_build/screenshots", type=Path, help="folder for the PNG files")
    parser.add_argument("--full", action="store_true", help="whole pages, not the first screen")
    parser.add_argument("pages", nargs="*", default=PAGES, help=f"page stems (default: {' '.join(PAGES)})")
    args = parser.parse_args()
    chromium = book_browser.chromium()
    if not chromium:
        print("book_screenshots: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    missing = [s for s in args.pages if not (args.html / "book" / "executed" / f"{s}.html").is_file()]
    if missing:
        print(f"book_screenshots: {args.html}: no page {', '.join(missing)}; run make book first", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    found = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=list(book_browser.FLAGS))
        with book_browser.offline_page(browser) as page:
            for stem in args.pages:
                path = args.html / "book" / "executed" / f"{stem}.html"
                seen = book_browser.problems(page, path)
                shot = args.out / f"{stem}.png"
                page.screenshot(path=str(shot), full_page=args.full)
                print(f"{shot}: {len(seen)} problem(s)" + "".join(f"\n  - {s}" for s in seen))
                found += len(seen)
        browser.close()
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
