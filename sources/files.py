"""Files written whole or not at all."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

_TEMP_NAMES = itertools.count()


def atomic_write(path: str | os.PathLike, data: bytes | str, *, fsync: bool = True) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``: a reader
    (or a run killed half-way) sees the old file or the new one, never a part. ``str`` is written
    as UTF-8 as it is (no newline translation). With ``fsync`` the bytes are on disk before the rename.

    The temporary file is named by process and a counter, created exclusively (``tempfile.mkstemp``'s
    random names and an unconditional ``mkdir`` were a third of a parsed-cache write's CPU); its
    folder is made when missing."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    made = False
    while True:
        tmp = f"{path.parent}/.{path.name}.{os.getpid()}-{next(_TEMP_NAMES)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
            break
        except FileExistsError:  # left by a killed process whose id this one now has
            continue
        except FileNotFoundError:
            if made:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
            made = True
    try:
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
