"""Line-numbered parsing of the plain-text label files (Aff-Wild, Aff-Wild2, RECOLA, traces).

Labels come one frame per line, tens of thousands per video, so lines are converted in one
vectorised pass; only on failure do we look for the first bad line, to name it in the error.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DatasetError


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file, LF or CRLF ends, without trailing blank lines."""
    if path.is_dir():
        raise DatasetError(path, None, "a folder, not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(path, None, "missing file") from None
    except UnicodeDecodeError as error:
        raise DatasetError(path, None, f"not UTF-8 text ({error.reason})") from None
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def split_columns(path: Path, rows: Sequence[str], line_numbers: np.ndarray, n: int) -> list[np.ndarray]:
    """Split comma-separated ``rows`` into ``n`` stripped string columns.

    A row with another number of fields raises, naming its line (``line_numbers[i]``).
    """
    if not rows:
        return [np.empty(0, dtype=object) for _ in range(n)]
    series = pd.Series(list(rows), dtype=object)
    counts = series.str.count(",").to_numpy() + 1
    bad = np.flatnonzero(counts != n)
    if bad.size:
        i = bad[0]
        raise DatasetError(path, line_numbers[i],
                           f"expected {n} comma-separated fields, got {counts[i]}: {rows[i]!r}")
    parts = series.str.split(",", expand=True)
    return [parts[j].str.strip().to_numpy(dtype=object) for j in range(n)]


def to_floats(path: Path, fields: Sequence[str], line_numbers: np.ndarray) -> np.ndarray:
    """Parse ``fields`` as finite floats; the first that is not one raises, naming its line."""
    values = pd.to_numeric(pd.Series(list(fields), dtype=object), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = bad[0]
        raise DatasetError(path, line_numbers[i], f"not a number: {fields[i]!r}")
    return values


def check_range(path: Path, values: np.ndarray, line_numbers: np.ndarray,
                low: float, high: float, markers: Sequence[float] = ()) -> None:
    """Raise on the first value outside [low, high] that is not one of the ``markers``."""
    bad = np.flatnonzero(((values < low) | (values > high)) & ~np.isin(values, markers))
    if bad.size:
        i = bad[0]
        raise DatasetError(path, line_numbers[i], f"value {values[i]:g} outside [{low:g}, {high:g}]")
