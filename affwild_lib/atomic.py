"""Putting a finished folder in place of an earlier one, so that a reader never sees half of one.

The folder is written elsewhere (a sibling temporary folder) and renamed in; an earlier folder
is first renamed aside, then deleted. Callers decide whether the earlier folder may be replaced.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


def replace_folder(tmp: Path, out: Path) -> None:
    """Rename the finished folder ``tmp`` to ``out``, replacing an earlier ``out``."""
    tmp, out = Path(tmp), Path(out)
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        out.rename(old / out.name)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
