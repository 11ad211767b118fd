"""The one exception the dataset readers raise for a bad copy of a release."""
from __future__ import annotations

from os import PathLike


class DatasetError(Exception):
    """A file of a release that does not match its layout.

    The layouts are described on the book page *Data formats* (``book/data_formats.md``).

    ``str(error)`` reads like a compiler message, ``path:line: message`` (``path: message``
    when no single line is to blame), so an editor or a terminal can jump to the spot.
    ``line`` is 1-based, as an editor counts.
    """

    def __init__(self, path: str | PathLike, line: int | None, message: str):
        self.path = str(path)
        self.line = None if line is None else int(line)
        self.message = message
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        super().__init__(f"{where}: {message}")
