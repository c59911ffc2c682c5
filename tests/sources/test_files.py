"""sources/files.atomic_write: whole or nothing, its folder made when missing, no temporary left."""

from __future__ import annotations

import os

import pytest

from sources import files
from sources.files import atomic_write


def test_writes_into_a_missing_folder_and_replaces_whole(tmp_path):
    target = tmp_path / "a" / "b" / "x.json"
    atomic_write(target, "政府信息公开", fsync=False)
    assert target.read_text(encoding="utf-8") == "政府信息公开"
    atomic_write(target, b"\x00\x01" * 40_000)
    assert target.read_bytes() == b"\x00\x01" * 40_000
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.json"]  # no temporary left


def test_a_temporary_left_by_a_killed_process_is_stepped_over(tmp_path, monkeypatch):
    import itertools

    monkeypatch.setattr(files, "_TEMP_NAMES", itertools.count(7))
    stale = tmp_path / f".x.json.{os.getpid()}-7.tmp"
    stale.write_bytes(b"half")
    atomic_write(tmp_path / "x.json", b"whole")
    assert (tmp_path / "x.json").read_bytes() == b"whole" and stale.read_bytes() == b"half"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "inner").write_bytes(b"")
    with pytest.raises(OSError):
        atomic_write(tmp_path / "d", b"new")  # a folder cannot be replaced by a file
    with pytest.raises(UnicodeEncodeError):
        atomic_write(tmp_path / "y.txt", "\ud800")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["inner"]


def test_a_folder_that_cannot_be_made_is_an_error(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OSError):
        atomic_write(tmp_path / "file" / "x.json", b"x")


def test_write_new_creates_its_folder_and_replaces_an_existing_file_whole(tmp_path):
    from sources.files import write_new

    target = tmp_path / "a" / "b" / "x.json"
    write_new(target, b"whole")
    assert target.read_bytes() == b"whole"
    write_new(target, b"again, longer")  # there already (a damaged file): replaced through a temporary
    assert target.read_bytes() == b"again, longer"
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.json"]


def test_write_new_removes_the_part_of_a_failed_write(tmp_path, monkeypatch):
    from sources.files import write_new

    def no_space(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "write", no_space)
    with pytest.raises(OSError):
        write_new(tmp_path / "x.json", b"x" * 100)
    assert list(tmp_path.iterdir()) == []
