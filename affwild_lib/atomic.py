"""Writing outputs so that a reader never sees half of one: the project's one place for it.

* :func:`write_file`: a file is written by ``write(tmp)`` to a uniquely named, hidden
  temporary file in the same folder (concurrent writers never share one), flushed to disk and
  renamed over the target.
  A failure leaves the earlier file as it was and no temporary file behind.
* :func:`write_text`, :func:`write_bytes`, :func:`write_json`: the common cases.
* :func:`replace_folder`: a finished folder, written elsewhere (a sibling temporary folder), is
  renamed in; an earlier folder is first renamed aside, then deleted. Callers decide whether the
  earlier folder may be replaced.
* :func:`read_npz`: the arrays of an ``.npz`` we wrote, or one line naming a file that is
  missing, cut short or not an ``.npz`` (issue 20), with what to do about it.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable


def write_file(path: str | Path, write: Callable[[Path], object], keep_suffix: bool = False) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then move it into place.

    The temporary name is hidden and ends in ``.tmp``, so that no reader's glob (``*.csv``)
    takes a half-written file for a finished one; ``keep_suffix`` adds the target's suffix
    after it, for writers that go by it (``np.savez``: ``.npz``; ``model.save``: ``.keras``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a unique name (not mkstemp's, whose file would keep mode 0600), created by ``write``
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp"
                         + (path.suffix if keep_suffix else ""))
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    return write_file(path, lambda p: p.write_text(text, encoding="utf-8", newline="\n"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    return write_file(path, lambda p: p.write_bytes(data))


def write_json(path: str | Path, value, indent: int | None = 1) -> Path:
    return write_text(path, json.dumps(value, indent=indent) + "\n")


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


def read_npz(path: str | Path, remedy: str, keys=None) -> dict:
    """The arrays of the ``.npz`` at ``path`` (only ``keys`` if given), loaded now. A file that
    is missing, truncated or of another kind raises one ``ValueError`` (``FileNotFoundError``)
    naming it, followed by ``remedy`` (what the user can do: "rerun `affwild ...`")."""
    import zipfile

    import numpy as np

    path = Path(path)
    try:
        with np.load(path) as archive:
            return {k: archive[k] for k in (keys or archive.files)}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: missing; {remedy}") from None
    except KeyError as error:
        raise ValueError(f"{path}: no array {error}; {remedy}") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: damaged or truncated ({type(error).__name__}: {error}); {remedy}") from None
