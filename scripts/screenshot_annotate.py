"""Screenshots of ``affwild annotate`` for chapter 02: the tool during a keyboard session and the
validation page, on the tiny synthetic release (data/synth/affwild), in Debian's Chromium.

    .venv/bin/python scripts/screenshot_annotate.py [--data data/synth/affwild] [--out book/images]

The session's trace goes to a temporary folder, not to data/annotations. Needs /usr/bin/chromium
(apt-get install chromium); run it again after changing the tool's pages.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from affwild_lib.annotation_tool import BROWSER_FLAGS
from affwild_lib.annotation_tool.server import create_app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data/synth/affwild", help="an Aff-Wild-layout release")
    parser.add_argument("--video", default="101", help="the video to annotate and validate")
    parser.add_argument("--out", default="book/images", help="folder for the two PNG files")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if not chromium:
        print("screenshot_annotate: chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as traces:
        app = create_app(args.data, traces)
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_port}/"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=list(BROWSER_FLAGS))
                page = browser.new_page(viewport={"width": 1000, "height": 860})
                page.goto(url)
                page.fill("#annotator", "student-1")
                page.click("#start")
                page.click(f"#todo li[data-id='{args.video}']")
                page.wait_for_function("document.getElementById('video').readyState >= 2")
                page.evaluate("document.getElementById('video').playbackRate = 2")
                page.keyboard.press("Space")
                for key in (["ArrowUp"] * 8 + ["ArrowDown"] * 14 + ["ArrowUp"] * 10):
                    page.keyboard.press(key)
                    page.wait_for_timeout(120)
                page.wait_for_function("document.getElementById('video').currentTime > 5")
                page.keyboard.press("Space")
                page.wait_for_timeout(300)
                page.screenshot(path=str(out / "annotate-tool.png"), full_page=True)

                page.keyboard.press("Space")  # finish, so the trace joins the others
                page.wait_for_selector("#save:not([disabled])", timeout=60_000)
                page.click("#save")
                page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved')")

                page.goto(url + "validate")
                page.select_option("#video-id", args.video)
                page.wait_for_selector("#legend input[value='student-1']")
                page.evaluate("const v = document.getElementById('video'); v.currentTime = 6;")
                page.wait_for_timeout(500)
                page.screenshot(path=str(out / "annotate-validate.png"), full_page=True)
                browser.close()
        finally:
            httpd.shutdown()
    print(f"screenshot_annotate: wrote {out / 'annotate-tool.png'} and {out / 'annotate-validate.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
