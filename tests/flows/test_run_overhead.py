"""What a flow run skips or does ahead must leave its answers as they were: the flow result's per-report rows,
the run's fingerprint, the parameters the API gets."""

from __future__ import annotations

import pickle
import threading

from flows import runrecord
from flows.outcomes import ReportOutcome, ReportRows, RunSummary
from sources.registry import Source


def _outcomes() -> list[ReportOutcome]:
    rows = [Source("六盘水市", 2024, "http://127.0.0.1:1/a.html", "贵州省", "六盘水市", None, "市", None),
            Source('机关 "乙"\u2028', 2024, "http://127.0.0.1:1/b.html?x=1", None, None, None, None, None),
            Source("丙", 2024, "http://127.0.0.1:1/c.pdf")]
    out = [ReportOutcome(agency=s.agency, year=s.year, url=s.url, fetch="not_modified", source=s) for s in rows]
    out[0].content_sha256, out[0].outcome, out[0].reasons = "ab" * 32, "published", []
    out[1].content_sha256, out[1].outcome, out[1].reasons = "cd" * 32, "quarantined", ["H1: 总数 ≠ 各项之和"]
    out[2].fetch, out[2].outcome, out[2].reasons = "failed", "fetch_failed", ['fetch: http_404 (a "b" \\ 中)']
    return out


def test_report_rows_of_outcomes_are_the_rows_of_to_dict():
    summary = RunSummary(year=2024, reports=_outcomes())
    rows = summary.to_dict(rows=False)["reports"]
    assert isinstance(rows, ReportRows) and len(rows) == 3
    assert rows == summary.to_dict()["reports"] == [o.row() for o in summary.reports]
    assert rows[1]["reasons"] == "H1: 总数 ≠ 各项之和"
    again = pickle.loads(pickle.dumps(rows))
    assert again == rows and list(again) == list(rows)


def test_fingerprint_is_the_same_with_the_rows_encoded_ahead():
    outcomes = _outcomes()
    before = runrecord.fingerprint(2024, outcomes, "v1", 0.05)
    worker = threading.Thread(target=runrecord.prepare_fingerprint, args=([o.source for o in outcomes],))
    worker.start()
    worker.join()
    assert runrecord.fingerprint(2024, outcomes, "v1", 0.05) == before
    outcomes[1].url = "http://127.0.0.1:1/moved.html"  # no longer the row encoded ahead: encoded anew
    outcomes[0].source = None
    moved = runrecord.fingerprint(2024, outcomes, "v1", 0.05)
    runrecord.prepare_fingerprint([])
    assert runrecord.fingerprint(2024, outcomes, "v1", 0.05) == moved != before
    assert runrecord.fingerprint(2024, [], "v1", 0.05) != before


def test_plain_parameters_go_to_the_api_as_fastapi_encodes_them():
    from fastapi.encoders import jsonable_encoder

    from flows.etl import backfill, etl_year

    plain = {"year": 2024, "sources": "/tmp/中.csv", "home": None, "config": None, "full_run": True,
             "samples_base": "http://127.0.0.1:1"}
    assert etl_year.serialize_parameters(plain) == {k: jsonable_encoder(v) for k, v in plain.items()}
    listed = {"years": [2023, 2024], "start": None, "end": None}
    assert backfill.serialize_parameters(listed) == {k: jsonable_encoder(v) for k, v in listed.items()}


def test_the_raw_store_opened_ahead_is_the_one_the_run_reads(tmp_path, monkeypatch):
    """open_ahead's thread and the fetch step ask for the store at once: one manifest read, one store, with
    every row of the manifest."""
    from flows.settings import load_settings
    from flows.steps import fetching
    from sources.rawstore import RawStore

    settings = load_settings(home=str(tmp_path / "home"))
    store = RawStore(settings.raw_dir)
    sha, _ = store.put(b"<html>report</html>")
    store.record({"url": "http://127.0.0.1:1/a.html", "status": "fetched", "sha256": sha, "etag": '"e1"'})
    opened = []
    inside, slow_open = threading.Event(), threading.Event()

    def raw_store(s):
        opened.append(threading.current_thread().name)
        inside.set()
        slow_open.wait(5)  # the thread is still reading the manifest when the step asks
        return RawStore(s.raw_dir)

    monkeypatch.setattr(fetching, "_BODY_STORES", {})
    monkeypatch.setattr(fetching, "raw_store", raw_store)
    ahead = fetching.open_ahead(settings)
    assert inside.wait(10)
    got = []
    step = threading.Thread(target=lambda: got.append(fetching.body_store(settings)))
    step.start()
    slow_open.set()
    ahead.join(10)
    step.join(10)
    assert opened == ["xxgk-open-ahead"]
    assert got[0] is fetching.body_store(settings)
    assert got[0].latest("http://127.0.0.1:1/a.html")["etag"] == '"e1"'


def test_whether_the_registry_names_the_samples_is_read_once_per_version_of_the_file(tmp_path, monkeypatch):
    import os
    from pathlib import Path

    from flows.settings import load_settings
    from flows.steps.fetching import needs_sample_server

    registry = tmp_path / "registry.csv"
    registry.write_text("agency,year,url\n甲,2024,{samples}/a.html\n", encoding="utf-8")
    settings = load_settings(env={}, home=tmp_path / "home", sources=str(registry))
    reads = []
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (reads.append(self), real_read(self))[1])
    assert needs_sample_server(settings) and needs_sample_server(settings) and len(reads) == 1
    registry.write_text("agency,year,url\n甲,2024,http://127.0.0.1:1/a.html\n", encoding="utf-8")
    os.utime(registry, ns=(1, 1))  # another version of the file, whatever the clock's grain
    assert not needs_sample_server(settings) and len(reads) == 2
    registry.unlink()
    assert not needs_sample_server(settings)  # unreadable: the registry's own check reports it
