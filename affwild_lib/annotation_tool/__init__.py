"""``affwild annotate``: the annotation tool of Sect. 3.1 and the experts' validation of Sect. 3.4.

- :mod:`.traces`: what is read and written on disk (finished traces, drafts, expert choices) and
  the re-fusion of a video's labels that ``prepare`` does when any of them exist;
- :mod:`.server`: the local web server (Flask) and its two pages in ``static/``.

Importing this package imports neither Flask nor the pages: ``prepare`` needs only :mod:`.traces`.
"""
