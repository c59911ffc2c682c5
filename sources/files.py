"""Files written whole or not at all."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterable
from pathlib import Path

_TEMP_NAMES = itertools.count()


def atomic_write(path: str | os.PathLike, data: bytes | str, *, fsync: bool = True) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``: a reader
    (or a run killed half-way) sees the old file or the new one, never a part. ``str`` is written
    as UTF-8 as it is (no newline translation). With ``fsync`` the bytes are on disk before the rename.

    The temporary file is named by process and a counter, created exclusively (``tempfile.mkstemp``'s
    random names and an unconditional ``mkdir`` were a third of a parsed-cache write's CPU); its
    folder is made when missing. Names are handled as strings (pathlib cost a parse worker ~20 µs a file)."""
    target = os.fspath(path)
    folder, name = os.path.split(target)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    made = False
    while True:
        tmp = f"{folder or '.'}/.{name}.{os.getpid()}-{next(_TEMP_NAMES)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
            break
        except FileExistsError:  # left by a killed process whose id this one now has
            continue
        except FileNotFoundError:
            if made:
                raise
            os.makedirs(folder or ".", exist_ok=True)
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
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(target)


def write_new(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` in place: the file created exclusively (its folder made when missing)
    and written straight into, without ``atomic_write``'s temporary file and rename (a quarter of the
    CPU: ~16 µs against ~60 for a parsed-cache entry, much more when other processes write to the file
    system too). Only for files whose readers tell a part from the whole: a process killed half-way
    leaves a prefix of ``data`` (empty, perhaps), and such a reader takes any proper prefix for a
    damaged file. Where ``path`` exists already (a damaged file being replaced, or another writer's),
    the new file replaces it whole (``atomic_write``). A failed write removes its part."""
    target = os.fspath(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags, 0o600)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        try:
            fd = os.open(target, flags, 0o600)
        except FileExistsError:
            atomic_write(target, data, fsync=False)
            return
    except FileExistsError:
        atomic_write(target, data, fsync=False)
        return
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        raise


def _libc_syncfs():
    """syncfs(2) from the C library this process runs on (looked up once, when first needed), or None."""
    import ctypes

    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError, TypeError):  # not Linux: no syncfs(2)
        return None
    fn.argtypes = [ctypes.c_int]
    return fn


_SYNCFS: object = ...  # ... until looked up


def make_durable(folder: str | os.PathLike, written: Iterable[str | os.PathLike]) -> None:
    """Put on disk the files ``written`` (atomic_write(..., fsync=False)) under ``folder``, their
    names included: one syncfs(2) of the file system holding ``folder`` (where there is none, or it
    fails, an fsync of each file and of their folders). One flush for a batch of files costs a
    fraction of an fsync each: the raw store's bodies were ~0.5 ms of CPU apiece that way."""
    global _SYNCFS
    written = list(written)
    if not written:
        return
    if _SYNCFS is ...:
        _SYNCFS = _libc_syncfs()
    if _SYNCFS is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in [*written, *{os.path.dirname(p) for p in map(os.fspath, written)}]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
