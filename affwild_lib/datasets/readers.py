"""One entry point for every release: ``read(format, root)``."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import afew, afew_va, affwild, affwild2, recola
from .errors import DatasetError
from .record import VideoRecord

READERS: dict[str, Callable[[Path], list[VideoRecord]]] = {
    "affwild": affwild.read,
    "affwild2": affwild2.read,
    "recola": recola.read,
    "afew-va": afew_va.read,
    "afew": afew.read,
}
FORMATS = tuple(READERS)


def read(fmt: str, root: str | Path) -> list[VideoRecord]:
    """Every video (or clip) of the release of format ``fmt`` stored at ``root``.

    Raises :class:`DatasetError` on a missing ``root`` and on the first file that does not
    match its layout (the book page *Data formats*, ``book/data_formats.md``), and
    ``ValueError`` on an unknown format.
    """
    if fmt not in READERS:
        raise ValueError(f"unknown dataset format {fmt!r}; expected one of {', '.join(FORMATS)}")
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, None, "no such directory")
    return READERS[fmt](root)
