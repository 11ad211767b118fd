"""The built book as a reader's browser shows it (issue 19): every page of ``_build/html``
opened from the disk in Chromium with the network cut off, as ``make book`` users read it.

:func:`problems` lists what a reader would meet on a page: an element of the main column wider
than the column (a table or a code line behind a horizontal scroll), an image that did not load,
Markdown table syntax printed raw, a Python traceback in an output, or maths left as LaTeX
source (MathJax did not load). The pipeline test runs it on the ``ci`` book;
``scripts/book_screenshots.py`` uses the same browser set-up for its pictures.

Driven by Playwright on Debian's Chromium, as the annotation tool's browser tests are; no
browser is downloaded.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

# Chromium's flags in containers and CI boxes: the annotation tool's
from .annotation_tool import BROWSER_FLAGS as FLAGS

#: The reader's window: a laptop screen (issue 19 checks the book at 1280 px).
VIEWPORT = {"width": 1280, "height": 900}

# Runs in the page: what a reader would see wrong in the main column.
_CHECK = r"""
() => {
  const out = [];
  const main = document.querySelector("article.bd-article") || document.querySelector("main");
  if (!main) return ["no main column (article.bd-article) on the page"];
  const right = main.getBoundingClientRect().right;
  const describe = (el) => {
    const text = (el.innerText || el.getAttribute("src") || "").trim().replace(/\s+/g, " ");
    return `<${el.tagName.toLowerCase()}${el.className ? " class=" + JSON.stringify(String(el.className)) : ""}> "${text.slice(0, 60)}"`;
  };
  for (const el of main.querySelectorAll("table, pre, img, .cell_output, .output, div.math, div.highlight, figure")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    if (el.scrollWidth > el.clientWidth + 2 && getComputedStyle(el).overflowX !== "visible")
      out.push(`wider than its box (scrolls sideways, ${el.scrollWidth} > ${el.clientWidth} px): ${describe(el)}`);
    else if (r.right > right + 2 && !el.closest("[style*=overflow], .table-wrapper, .cell_output, pre, div.highlight"))
      out.push(`sticks out of the main column (${Math.round(r.right)} > ${Math.round(right)} px): ${describe(el)}`);
  }
  for (const wrap of main.querySelectorAll(".table-wrapper, .cell_output, .output, div.highlight")) {
    if (wrap.scrollWidth > wrap.clientWidth + 2)
      out.push(`wider than the column (scrolls sideways, ${wrap.scrollWidth} > ${wrap.clientWidth} px): ${describe(wrap)}`);
  }
  for (const img of main.querySelectorAll("img"))
    if (!img.complete || img.naturalWidth === 0) out.push(`image did not load: ${img.getAttribute("src")}`);
  const prose = Array.from(main.querySelectorAll("p, li, td, .output pre, .cell_output pre"))
    .map((el) => el.innerText).join("\n");
  const raw = prose.split("\n").find((line) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$/.test(line));
  if (raw !== undefined) out.push(`Markdown table printed raw: "${raw.trim().slice(0, 60)}"`);
  const text = main.innerText;
  if (text.includes("Traceback (most recent call last)")) out.push("a Python traceback in an output");
  for (const m of main.querySelectorAll(".math"))
    if (!m.querySelector("mjx-container") && !m.closest("mjx-container")) {
      out.push(`maths not rendered (MathJax did not run): "${m.innerText.trim().slice(0, 60)}"`);
      break;
    }
  return out;
}
"""


def chromium() -> str | None:
    """Debian's Chromium (or ``AFFWILD_CHROMIUM``), if installed."""
    return os.environ.get("AFFWILD_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def offline_page(browser):
    """A page at :data:`VIEWPORT` that may load files from the disk only: every http(s)
    request is refused, as on a reader's machine without a network."""
    context = browser.new_context(viewport=VIEWPORT)
    context.route("**/*", lambda route: route.abort() if route.request.url.startswith(("http:", "https:"))
                  else route.continue_())
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def pages(html_dir: Path) -> list[Path]:
    """The book's pages: every HTML file but Sphinx's own search and index pages."""
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    return sorted(p for p in Path(html_dir).rglob("*.html")
                  if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts
                  and 'http-equiv="refresh"' not in p.read_text(encoding="utf-8", errors="replace")[:2000].lower())


def open_page(page, path: Path) -> None:
    """Load ``path`` and wait for MathJax to typeset, where the page has maths."""
    page.goto(Path(path).resolve().as_uri(), wait_until="load")
    page.evaluate("""async () => {
        if (document.querySelector('.math') && window.MathJax && MathJax.startup)
            await MathJax.startup.promise;
    }""")


def problems(page, path: Path) -> list[str]:
    """What a reader would meet wrong on the page at ``path`` (see the module's docstring)."""
    open_page(page, path)
    return list(page.evaluate(_CHECK))


__all__ = ["FLAGS", "VIEWPORT", "chromium", "offline_page", "open_page", "pages", "problems"]
