"""verify_bodies (flows/steps/parsing.py): the stored bodies kept from before are checked before they are parsed;
a body this run downloaded is not read again (it was hashed as it was stored, and the parse checks it as it
reads it)."""

from __future__ import annotations

from flows.outcomes import FETCH_FAILED, ReportOutcome
from flows.settings import load_settings
from flows.steps import fetching
from flows.steps.parsing import verify_bodies
from sources.rawstore import RawStore


def _damaged_body(settings) -> str:
    store = RawStore(settings.raw_dir)
    sha, _ = store.put(b"<html>" + b"report " * 200 + b"</html>")
    path = store.path_of(sha)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    return sha


def _outcome(sha: str, fetch: str) -> ReportOutcome:
    return ReportOutcome(agency="某局", year=2024, url="http://127.0.0.1:9/r.html", fetch=fetch, content_sha256=sha,
                         content_type="text/html")


def test_a_body_kept_from_before_is_checked_and_one_downloaded_now_is_not(tmp_path, monkeypatch):
    settings = load_settings(env={}, home=tmp_path / "home", retries=0, timeout=1.0)
    monkeypatch.setattr(fetching, "_BODY_STORES", {})
    sha = _damaged_body(settings)
    assert verify_bodies([_outcome(sha, "fetched")], settings) == []
    assert RawStore(settings.raw_dir).path_of(sha).exists()  # not read, not set aside

    kept = _outcome(sha, "not_modified")
    notes = verify_bodies([kept], settings)  # read, found damaged, fetched again: nothing answers there
    assert len(notes) == 1 and "damaged body" in notes[0] and sha[:12] in notes[0]
    assert kept.outcome == FETCH_FAILED and kept.fetch == "failed"
    assert not RawStore(settings.raw_dir).path_of(sha).exists()  # set aside
