"""Folders a benchmark removes, set aside while it measures and deleted once it is done.

On this machine's file system (ext4 without a journal) a new file's inode is not taken from those deleted
in the last minute (``recently_deleted`` in ext4's inode allocator): each file created after a large
deletion first walks past the deleted inodes, which costs kernel time that grows with how many were
deleted. A pipeline run creates ~3 files a report (raw body, parsed-cache entry, report-site page); the
bare loop creates a few. A benchmark that deletes the last run's ~30,000 files just before the next one
(the previous benchmark's output, the round before) so made the pipeline's first run 3-5 s slower and
left the bare loop as it was: the ratio measured the benchmark's own clean-up. A folder is therefore
renamed aside (no inode is freed) and deleted after the measurements (docs/BENCHMARKS.md, round 12).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

ASIDE_PREFIX = ".removed-"


@contextlib.contextmanager
def deferred_removal(root: str | Path) -> Iterator[Callable[[Path], None]]:
    """``remove(path)`` renames ``path`` (a folder on the file system of ``root``) to a hidden folder in
    ``root`` at once, so that ``path`` is free for the next run; every folder set aside, and any left by a
    benchmark that was killed, is deleted when the block ends."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    aside: list[Path] = []

    def remove(path: Path) -> None:
        path = Path(path)
        if not path.exists():
            return
        target = root / f"{ASIDE_PREFIX}{os.getpid()}-{len(aside)}"
        path.rename(target)
        aside.append(target)

    try:
        yield remove
    finally:
        for path in [*aside, *root.glob(f"{ASIDE_PREFIX}*")]:
            shutil.rmtree(path, ignore_errors=True)
