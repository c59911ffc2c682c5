"""The raw store: content-addressed bodies, append-only manifest, versions."""

from __future__ import annotations

import pytest

from sources.rawstore import RawStore, sha256_hex


def test_put_is_idempotent_and_addressed_by_sha256(tmp_path):
    st = RawStore(tmp_path)
    digest, new = st.put(b"report v1")
    assert new and digest == sha256_hex(b"report v1")
    assert st.path_of(digest) == tmp_path / "objects" / digest[:2] / digest
    assert st.put(b"report v1") == (digest, False)
    assert st.get(digest) == b"report v1" and st.object_count() == 1
    with pytest.raises(KeyError, match="no object"):
        st.get("0" * 64)


def test_manifest_survives_reopen_and_skips_torn_line(tmp_path):
    st = RawStore(tmp_path)
    d1, _ = st.put(b"v1")
    st.record(
        {"agency": "甲", "year": 2024, "url": "http://x/a", "status": "fetched", "sha256": d1, "etag": '"1"'}
    )
    st.record({"agency": "甲", "year": 2024, "url": "http://x/a", "status": "failed", "error": "timeout"})
    with open(st.manifest_path, "ab") as f:
        f.write(b'{"agency": "torn')  # a crash in the middle of a write
    again = RawStore(tmp_path)
    rows = list(again.rows())
    assert [r["status"] for r in rows] == ["fetched", "failed"]
    assert rows[0]["agency"] == "甲" and set(rows[0]) >= {
        "content_type",
        "encoding",
        "attempts",
        "fetched_at",
    }
    assert again.latest("http://x/a")["etag"] == '"1"'  # a failure does not replace the validators
    assert again.latest("http://x/b") is None
    with pytest.raises(ValueError, match="unknown manifest field"):
        again.record({"colour": "red"})


def test_versions_keep_old_bodies(tmp_path):
    st = RawStore(tmp_path)
    digests = []
    for body in (b"v1", b"v2", b"v1"):
        d, _ = st.put(body)
        digests.append(d)
        st.record({"url": "http://x/a", "status": "fetched", "sha256": d})
    assert st.versions("http://x/a") == digests[:2]
    assert st.latest("http://x/a")["sha256"] == digests[0]
    assert st.get(digests[1]) == b"v2"
    assert st.known("http://x/a") and not st.known("http://x/b")
    st.record({"url": "http://x/b", "status": "failed"})  # no body: not known
    assert not st.known("http://x/b") and not RawStore(tmp_path).known("http://x/b")
    assert RawStore(tmp_path).known("http://x/a")


def test_credentials_in_urls_are_never_written_to_the_manifest(tmp_path):
    from sources.rawstore import RawStore, redact_url

    assert redact_url("http://u:pw@h.gov.cn/a?token=abc&id=3") == "http://u:***@h.gov.cn/a?token=***&id=3"
    assert redact_url("http://h.gov.cn/a?id=3") == "http://h.gov.cn/a?id=3"
    store = RawStore(tmp_path)
    sha, _ = store.put(b"body")
    store.record({"url": "http://u:pw@h.gov.cn/a?token=abc", "final_url": "http://h.gov.cn/a?sig=zz",
                  "status": "fetched", "sha256": sha})
    text = (tmp_path / "manifest.jsonl").read_text(encoding="utf-8") if (tmp_path / "manifest.jsonl").exists() \
        else "".join(map(str, store.rows()))
    assert "pw" not in text and "abc" not in text and "zz" not in text
    assert store.latest("http://u:pw@h.gov.cn/a?token=abc")["sha256"] == sha  # still found by the real URL


def test_a_batch_puts_its_bodies_on_disk_together_and_only_then_writes_their_rows(tmp_path, monkeypatch):
    """Inside batch() a body is written without its own fsync and its manifest row waits: a flush
    (every FLUSH_S, and the batch's end, also by an exception) puts the bodies on disk at once, then
    writes the rows. Outside a batch each put is on disk as it returns, each row written at once."""
    import os

    from sources import files, rawstore

    events: list = []
    fsyncs: list[int] = []
    store = RawStore(tmp_path / "raw")

    def on_disk_rows():
        return [r["url"] for r in RawStore(tmp_path / "raw").rows()]

    monkeypatch.setattr(rawstore, "make_durable",
                        lambda folder, written: events.append(("flush", sorted(written), on_disk_rows())))
    real_fsync = os.fsync
    monkeypatch.setattr(files.os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    store.FLUSH_S = 3600  # no flush but the batch's own end here
    with store.batch():
        a, _ = store.put(b"body a")
        store.record({"url": "http://x/a", "status": "fetched", "sha256": a})
        with store.batch():  # nested: the outer one flushes
            b, _ = store.put(b"body b")
            store.record({"url": "http://x/b", "status": "fetched", "sha256": b})
        store.put(b"body a")  # already held: nothing written
        store.record({"url": "http://x/c", "status": "failed", "error": "http_404"})
        assert events == [] and fsyncs == [] and on_disk_rows() == []
        assert store.get(a) == b"body a" and store.latest("http://x/b")["sha256"] == b  # seen here at once
    # the bodies flushed while no row of them was on disk; then the rows, in their order
    assert events == [("flush", sorted([store.file_of(a), store.file_of(b)]), [])]
    assert on_disk_rows() == ["http://x/a", "http://x/b", "http://x/c"]
    with pytest.raises(RuntimeError), store.batch():
        c, _ = store.put(b"body c")
        store.record({"url": "http://x/d", "status": "fetched", "sha256": c})
        raise RuntimeError("interrupted")
    assert events[-1] == ("flush", [store.file_of(c)], ["http://x/a", "http://x/b", "http://x/c"])
    assert on_disk_rows()[-1] == "http://x/d"
    store.put(b"body d")
    store.record({"url": "http://x/e", "status": "fetched", "sha256": sha256_hex(b"body d")})
    assert len(fsyncs) == 1 and len(events) == 2 and on_disk_rows()[-1] == "http://x/e"


def test_a_long_batch_flushes_as_it_goes(tmp_path, monkeypatch):
    import time

    from sources import rawstore

    flushed: list[list[str]] = []
    monkeypatch.setattr(rawstore, "make_durable", lambda folder, written: flushed.append(list(written)))
    store = RawStore(tmp_path / "raw")
    store.FLUSH_S = 0.05
    with store.batch():
        a, _ = store.put(b"body a")
        store.record({"url": "http://x/a", "status": "fetched", "sha256": a})
        deadline = time.monotonic() + 10
        while not list(RawStore(tmp_path / "raw").rows()) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [r["url"] for r in RawStore(tmp_path / "raw").rows()] == ["http://x/a"]  # before the batch ends
        assert [store.file_of(a)] in flushed


def test_make_durable_without_syncfs_fsyncs_each_file_and_folder(tmp_path, monkeypatch):
    import os

    from sources import files

    target = tmp_path / "ab" / "abc"
    files.atomic_write(target, b"x", fsync=False)
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(files, "_SYNCFS", None)
    monkeypatch.setattr(files.os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")),
                                                        real_fsync(fd)))
    files.make_durable(tmp_path, [str(target)])
    assert sorted(synced) == sorted([str(target), str(target.parent)])
    files.make_durable(tmp_path, [])  # nothing written: nothing to do
    assert len(synced) == 2
