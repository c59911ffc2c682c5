"""benchmarks/removal.py: a folder removed during a benchmark is set aside at once and deleted at its end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.removal import ASIDE_PREFIX, deferred_removal  # noqa: E402


def _tree(path: Path, files: int = 3) -> None:
    (path / "sub").mkdir(parents=True)
    for i in range(files):
        (path / "sub" / f"{i}.txt").write_text(str(i))


def test_removed_folder_is_free_at_once_and_deleted_after_the_block(tmp_path):
    home = tmp_path / "e2e" / "pipeline"
    _tree(home)
    with deferred_removal(tmp_path) as remove:
        remove(home)
        assert not home.exists()  # the next run can use the path
        aside = list(tmp_path.glob(f"{ASIDE_PREFIX}*"))
        assert len(aside) == 1 and (aside[0] / "sub" / "2.txt").read_text() == "2"  # nothing deleted yet
        _tree(home)  # the same path again, removed again
        remove(home)
        remove(tmp_path / "never-made")  # nothing there: nothing to do
        assert len(list(tmp_path.glob(f"{ASIDE_PREFIX}*"))) == 2
    assert list(tmp_path.glob(f"{ASIDE_PREFIX}*")) == []
    assert (tmp_path / "e2e").is_dir() and not home.exists()


def test_folders_set_aside_are_deleted_when_the_benchmark_fails(tmp_path):
    _tree(tmp_path / "old")
    _tree(tmp_path / f"{ASIDE_PREFIX}999-0")  # left by a benchmark that was killed
    with pytest.raises(RuntimeError), deferred_removal(tmp_path) as remove:
        remove(tmp_path / "old")
        raise RuntimeError("a run failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
