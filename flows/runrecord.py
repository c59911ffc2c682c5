"""The record of a year's last complete run: what lets a re-run with nothing new be nearly free.

After a run of year Y has loaded, validated, published and written its Data Docs, it
writes ``$XXGK_HOME/runs/<Y>.json``: a fingerprint of everything its outcome depended on,
the per-report outcomes, and a token of the warehouse rows of Y and Y-1 as the run left
them (warehouse/sql/staging/year_state.sql). The next run of Y fetches as always
(conditional requests: the sites say whether anything changed), then compares. When

* the fingerprint is the same: the registry rows of Y (agency, URL, region), what each
  fetch gave (content hash, or the failure's code), the parser version, the code of the
  pipeline (transforms, warehouse SQL, expectations, flows) and the gate's setting;
* the warehouse rows of Y and of Y-1 are as the recorded run left them (a run of Y-1 that
  loaded something may change the cross-year checks of Y; runs of other years may not, so
  a backfill re-run of several unchanged years skips every one of them); a warehouse file
  untouched since the record (same inode, size, times, no write-ahead log) needs no query;
* the marts and Data Docs the record names still exist (every publish rebuilds the marts
  from the whole warehouse, so a later publish still holds Y as recorded);
* the attachments the recorded run followed are unchanged (conditional requests again);
* the documents that failed to parse still fail (they are retried: the failure may have
  been a time or memory limit),

then parsing, loading, validation, publishing and the Data Docs would all reproduce what
is already there: the run takes its outcomes from the record and stops. Anything else,
or ``full_run`` (``XXGK_FULL_RUN=1``, ``xxgk run --full``), runs every step.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from sources.files import atomic_write
from sources.rawstore import redact_url
from warehouse.layout import Layout

RECORD_VERSION = 2
_CODE_PACKAGES = ("transforms", "warehouse", "expectations", "flows")
_code_hash: str | None = None
_code_lock = threading.Lock()  # computed once, also when a thread (read_ahead) is at it already


def code_fingerprint() -> str:
    """Hash of the pipeline's own Python and SQL files: another version of xxgk is another run."""
    global _code_hash
    with _code_lock:
        if _code_hash is not None:
            return _code_hash
        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256()
        for pkg in _CODE_PACKAGES:
            for p in sorted((root / pkg).rglob("*")):
                if p.suffix in (".py", ".sql") and p.is_file():
                    h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
        _code_hash = h.hexdigest()
    return _code_hash


def _source_fields(o: Any) -> list:
    s = o.source
    if s is None:
        return [o.agency, o.url, None, None, None, None, None]
    return [o.agency, o.url, s.province, s.city, s.county, s.level, s.parent]


_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode  # json.dumps's, made once, not per row
_row_heads: dict[int, tuple[Any, str]] = {}  # id(registry row) -> (the row, its fields' JSON without the "]")
_row_heads_of: list[Any] = [None]  # the list of rows they were made of
_row_heads_lock = threading.Lock()
_prepare_lock = threading.Lock()


def prepare_fingerprint(sources: list) -> None:
    """The registry rows' part of ``fingerprint``, encoded ahead (a run calls it in a thread while its
    conditional requests are out): the run's own thread then adds only what each fetch gave. Once per list:
    a second caller waits for the first's."""
    with _prepare_lock:
        if _row_heads_of[0] is sources and len(_row_heads) == len(sources):
            return
        heads = {}
        for s in sources:
            text = _ENCODE([s.agency, s.url, s.province, s.city, s.county, s.level, s.parent])
            heads[id(s)] = (s, text[:-1])
        with _row_heads_lock:
            _row_heads.clear()
            _row_heads.update(heads)
            _row_heads_of[0] = sources


def _row_line(o: Any, fetched: str | None, failure: str | None) -> str:
    """``[*_source_fields(o), fetched, failure]`` as JSON, from the row's part encoded ahead when there is one."""
    s = o.source
    ahead = _row_heads.get(id(s)) if s is not None else None
    if ahead is not None and ahead[0] is s and s.agency == o.agency and s.url == o.url:
        # a content hash (hex digits) is its own JSON between quotes
        sha = f'"{fetched}"' if fetched and fetched.isascii() and fetched.isalnum() else _ENCODE(fetched)
        return f"{ahead[1]}, {sha}, {'null' if failure is None else _ENCODE(failure)}]"
    return _ENCODE([*_source_fields(o), fetched, failure])


def fingerprint(year: int, outcomes: list, parser_version: str, max_fail_share: float) -> str:
    """Everything the outcome of a year's run depends on, known right after the fetch."""
    h = hashlib.sha256()
    head = [RECORD_VERSION, int(year), parser_version, code_fingerprint(), float(max_fail_share)]
    h.update(json.dumps(head).encode())
    lines = []
    with _row_heads_lock:
        for o in outcomes:
            fetched = o.content_sha256 if o.fetch != "failed" and o.content_sha256 else None
            failure = None if fetched else (o.reasons[0].split(" (")[0] if o.reasons else "failed")
            lines.append(_row_line(o, fetched, failure))
    if lines:  # hashed at once: the same digest as line by line
        h.update(("\n" + "\n".join(lines)).encode())
    return h.hexdigest()


def warehouse_state(warehouse: Path, year: int) -> list | None:
    """The year_state token, read through a read-only connection; None when the warehouse is
    missing or another process is writing it (then every step runs, after that writer)."""
    import duckdb

    from warehouse.db import year_state

    if not Path(warehouse).is_file():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        return year_state(con, year)
    except RuntimeError:
        return None  # a warehouse of an older schema: run every step
    finally:
        con.close()


def warehouse_file(warehouse: Path) -> list | None:
    """The warehouse file as it lies on disk (inode, size, modification and change times), or None
    when it is missing or a write-ahead log beside it holds changes not in the file yet. A re-run
    that finds it as its record says needs no DuckDB (importing it alone was a tenth of a re-run)."""
    try:
        st = os.stat(warehouse)
    except OSError:
        return None
    if os.path.exists(f"{warehouse}.wal"):
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def record_path(home: Path, year: int) -> Path:
    return Layout(Path(home)).run_record(year)


def forget(home: Path, year: int) -> None:
    """Drop the record before a run writes anything: a run that stops half-way leaves none."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(record_path(home, year))


def write(home: Path, year: int, fp: str, summary: Any, attachments: list[dict], warehouse: Path) -> Path:
    """The record of a complete run (called after its last write, warehouse closed)."""
    on_disk = warehouse_file(warehouse)
    state = warehouse_state(warehouse, year)
    rec = {
        "record_version": RECORD_VERSION,
        "year": int(year),
        "fingerprint": fp,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "warehouse_state": state,
        "warehouse_file": on_disk if on_disk == warehouse_file(warehouse) else None,  # nothing wrote in between
        "published": summary.published,
        "gate_reason": summary.gate_reason,
        "marts_path": summary.marts_path,
        "data_docs_path": summary.data_docs_path,
        "attachments": attachments,
        "reports": [
            {"parse": o.parse, "report_id": o.report_id, "outcome": o.outcome, "reasons": o.reasons,
             "sha256": o.content_sha256, "content_type": o.content_type,
             "agency": o.agency, "url": redact_url(o.url)}  # for `xxgk failures`
            for o in summary.reports
        ],
    }
    path = record_path(home, year)
    atomic_write(path, json.dumps(rec, ensure_ascii=False), fsync=False)
    return path


_read_ahead: dict[Path, tuple[bytes, Any]] = {}  # record path -> (its bytes, parsed), read by read_ahead
_read_ahead_lock = threading.Lock()


def read_ahead(home: Path, year: int) -> None:
    """Parse the year's record now (a run calls it in a thread while its conditional requests are out);
    ``read_matching`` takes the parsed form only if the file still holds the same bytes."""
    path = record_path(home, year)
    with _read_ahead_lock:
        try:
            data = path.read_bytes()
            held = _read_ahead.get(path)
            if held is None or held[0] != data:  # not parsed twice (a flow run's start may have read it)
                _read_ahead[path] = (data, json.loads(data))
        except (OSError, ValueError):
            _read_ahead.pop(path, None)


def _read_record(path: Path) -> Any:
    data = path.read_bytes()
    with _read_ahead_lock:
        ahead = _read_ahead.pop(path, None)
    if ahead is not None and ahead[0] == data:
        return ahead[1]
    return json.loads(data)


def read_matching(home: Path, year: int, fp: str, n_reports: int, warehouse: Path) -> dict | None:
    """The record of the last complete run when it still describes this run, else None."""
    try:
        rec = _read_record(record_path(home, year))
    except (OSError, ValueError):
        return None  # no record, or a damaged one: run every step
    if not isinstance(rec, dict) or rec.get("record_version") != RECORD_VERSION or rec.get("fingerprint") != fp:
        return None
    if len(rec.get("reports") or ()) != n_reports or rec.get("warehouse_state") is None:
        return None
    for key in ("marts_path", "data_docs_path"):
        if rec.get(key) and "://" not in rec[key] and not Path(rec[key]).exists():
            return None
    on_disk = rec.get("warehouse_file")
    if (on_disk is None or warehouse_file(warehouse) != on_disk) and \
            warehouse_state(warehouse, year) != rec["warehouse_state"]:
        return None  # the file changed since (another year's run, a rebuild) and so did the rows of Y or Y-1
    return rec
