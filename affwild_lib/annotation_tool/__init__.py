"""``affwild annotate``: the annotation tool of Sect. 3.1 and the experts' validation of Sect. 3.4.

- :mod:`.traces`: what the tool writes on disk (finished traces, drafts, expert choices) and the
  checks before it does; the layout, and the re-fusion of a video's labels that ``prepare`` does
  when any exist, are :mod:`affwild_lib.annotation`'s;
- :mod:`.server`: the local web server (Flask) and its two pages in ``static/``.

Importing this package imports neither Flask nor the pages.
"""

#: Chromium's flags for driving the pages headless on a locked-down machine (no sandbox, GPU,
#: QUIC or background traffic), plus autoplay, so that a video plays without a click. The
#: browser tests and ``scripts/screenshot_annotate.py`` launch Debian's Chromium with them.
BROWSER_FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required")
