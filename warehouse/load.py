"""Bulk, idempotent, versioned loading of parsed reports into staging.

A report is identified by ``report_id`` = the first 16 hex digits of the SHA-256 of
(agency, year, content_sha256). Loading works on whole batches: the documents are turned
into Arrow tables, registered with DuckDB, and the SQL of ``sql/staging/load_*.sql`` moves
them with ``INSERT ... SELECT`` inside one transaction (all or nothing).

* a known report_id with the same parser version and registry metadata: unchanged;
* a known report_id re-parsed (other parser version) or re-labelled by the registry: its
  staging rows are replaced and its validation results dropped (``updated``);
* a new report_id: inserted. If the agency already has a report for that year, it is a
  revision: the most recently fetched version becomes current, the others stay as history.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from transforms import formatspec as fs
from warehouse import db
from warehouse.rows import SCHEMAS, SMALL_KINDS, Rows, content_rows


@dataclass
class Document:
    agency: str
    year: int
    source_url: str
    content_sha256: str
    fetched_at: datetime
    province: str | None = None
    city: str | None = None
    county: str | None = None
    level: str | None = None
    parent: str | None = None
    report: dict = field(default_factory=dict)  # the contract object (CONTRACT.md §1); with rows, its head suffices
    parser_version: str = ""
    narrative: dict[str, int] = field(default_factory=dict)
    # the report's staging rows when the parse built them (warehouse/rows.py); None: built by the load
    rows: Rows | None = None

    @property
    def report_id(self) -> str:
        return report_id(self.agency, self.year, self.content_sha256)

    @property
    def agency_id(self) -> str:
        return agency_id(self.agency)


@dataclass(frozen=True)
class LoadSummary:
    inserted: int = 0  # new reports (first version for their agency and year)
    unchanged: int = 0  # already loaded as they are (including repeats within the batch)
    revised: int = 0  # new versions of a report the agency already had for that year
    updated: int = 0  # known documents re-parsed or re-labelled: staging rows replaced
    report_ids: tuple[str, ...] = ()  # of the documents, in their order (each hashed once)

    @property
    def total(self) -> int:
        return self.inserted + self.unchanged + self.revised + self.updated


@dataclass
class Frames:
    reports: pd.DataFrame
    cells: pd.DataFrame
    findings: pd.DataFrame
    narrative: pd.DataFrame


def _hash16(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def report_id(agency: str, year: int, content_sha256: str) -> str:
    return _hash16(agency, int(year), content_sha256)


@functools.lru_cache(maxsize=4096)  # a run's parents are few, asked for once per report
def agency_id(name: str) -> str:
    """Agencies are identified by their registry name (the same name in every year)."""
    return _hash16(name)


def _utc_naive(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    if not isinstance(ts, datetime):
        raise ValueError(f"fetched_at must be a datetime, got {type(ts).__name__}")
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


_DOC_SCHEMA = pa.schema([
    ("batch_pos", pa.int64()), ("report_id", pa.string()), ("agency_id", pa.string()),
    ("agency", pa.string()), ("year", pa.int32()), ("source_url", pa.string()),
    ("content_sha256", pa.string()), ("fetched_at", pa.timestamp("us")),
    ("province", pa.string()), ("city", pa.string()), ("county", pa.string()), ("level", pa.string()),
    ("parent", pa.string()), ("parent_agency_id", pa.string()),
    ("template_active_disclosure", pa.string()), ("template_applications", pa.string()),
    ("template_review_litigation", pa.string()), ("report_agency", pa.string()), ("report_year", pa.int32()),
    ("parser_version", pa.string()),
])
_PAYLOAD_SCHEMA = pa.schema([("batch_pos", pa.int64()), ("report_json", pa.string())])
_KEYS = [("batch_pos", pa.int64()), ("report_id", pa.string())]
_ROW_SCHEMAS = {kind: pa.schema([*_KEYS, *schema]) for kind, schema in SCHEMAS.items()}  # warehouse/rows.py's
# The cells carry their document's batch_pos only: load_3_insert.sql takes the report_id from the
# batch (a string column of ~200 values a report, built here for nothing).
_CELL_SCHEMA = pa.schema([_KEYS[0], *SCHEMAS["cell"]])


def _validate(doc: Document, pos: int) -> None:
    if not isinstance(doc.agency, str) or not doc.agency.strip():
        raise ValueError(f"document {pos}: agency is required (got {doc.agency!r})")
    if not isinstance(doc.year, int) or isinstance(doc.year, bool):
        raise ValueError(f"document {pos} ({doc.agency}): year must be an int, got {doc.year!r}")
    if not doc.content_sha256:
        raise ValueError(f"document {pos} ({doc.agency} {doc.year}): content_sha256 is required")
    if not isinstance(doc.report, dict) or not doc.report:
        raise ValueError(f"document {pos} ({doc.agency} {doc.year}): report must be the parser's contract dict")


def _columns(schema: pa.Schema) -> dict[str, list]:
    return {name: [] for name in schema.names}


def _table(cols: dict[str, list], schema: pa.Schema) -> pa.Table:
    return pa.table({n: pa.array(cols[n], schema.field(n).type) for n in schema.names}, schema=schema)


def _document_table(docs: Sequence[Document], ids: Sequence[str]) -> pa.Table:
    cols = _columns(_DOC_SCHEMA)
    for pos, doc in enumerate(docs):
        _validate(doc, pos)
        rep = doc.report
        tpl = rep.get("templates") or {}
        row = {
            "batch_pos": pos, "report_id": ids[pos], "agency_id": doc.agency_id, "agency": doc.agency,
            "year": doc.year, "source_url": doc.source_url, "content_sha256": doc.content_sha256,
            "fetched_at": _utc_naive(doc.fetched_at), "province": doc.province, "city": doc.city,
            "county": doc.county, "level": doc.level, "parent": doc.parent,
            "parent_agency_id": agency_id(doc.parent) if doc.parent else None,
            "template_active_disclosure": tpl.get(fs.ACTIVE_DISCLOSURE),
            "template_applications": tpl.get(fs.APPLICATIONS),
            "template_review_litigation": tpl.get(fs.REVIEW_LITIGATION),
            "report_agency": rep.get("agency") if isinstance(rep.get("agency"), str) else None,
            "report_year": rep.get("year") if isinstance(rep.get("year"), int) else None,
            "parser_version": doc.parser_version,
        }
        for k, v in row.items():
            cols[k].append(v)
    return _table(cols, _DOC_SCHEMA)


def _content_tables(docs: Sequence[Document], ids: Sequence[str], positions: Iterable[int]) -> dict[str, pa.Table]:
    """Payload, table status, cells, findings and narrative of the documents that need storing."""
    pay = _columns(_PAYLOAD_SCHEMA)
    small = {kind: _columns(_ROW_SCHEMAS[kind]) for kind in SMALL_KINDS}
    cells: list[pa.Table] = []
    cell_pos: list[int] = []
    for pos in positions:
        doc = docs[pos]
        rid = ids[pos]
        rows = doc.rows if doc.rows is not None else \
            content_rows(doc.report, doc.narrative, f"{doc.agency} {doc.year} ({rid})")
        pay["batch_pos"].append(pos)
        pay["report_json"].append(rows.payload)
        for kind in SMALL_KINDS:
            cols, got = small[kind], rows.small[kind]
            n = len(next(iter(got.values())))
            cols["batch_pos"].extend([pos] * n)
            cols["report_id"].extend([rid] * n)
            for c, values in got.items():
                cols[c].extend(values)
        cells.append(rows.cells)
        cell_pos.append(pos)
    return {
        "in_payload": _table(pay, _PAYLOAD_SCHEMA),
        **{f"in_{kind}": _table(small[kind], _ROW_SCHEMAS[kind]) for kind in SMALL_KINDS},
        "in_cell": _cell_table(cells, cell_pos),
    }


def _cell_table(cells: list[pa.Table], positions: list[int]) -> pa.Table:
    """The documents' cell tables as one, each row with its document's batch_pos."""
    if not cells:
        return _table(_columns(_CELL_SCHEMA), _CELL_SCHEMA)
    counts = [t.num_rows for t in cells]
    body = pa.concat_tables(cells)
    columns = {"batch_pos": pa.array(np.repeat(np.array(positions, np.int64), counts)),
               **{n: body.column(n) for n in body.column_names}}
    return pa.table({n: columns[n] for n in _CELL_SCHEMA.names}, schema=_CELL_SCHEMA)


_REPLACE = "load_2_replace.sql"
_LOAD_STEPS = ("load_1_classify.sql", _REPLACE, "load_3_insert.sql", "load_4_current.sql")


def load_documents(con: duckdb.DuckDBPyConnection, docs: Iterable[Document]) -> LoadSummary:
    """Load a batch of parsed documents in one transaction (see the module docstring)."""
    docs = list(docs)
    if not docs:
        return LoadSummary()
    ids = [d.report_id for d in docs]  # hashed once a document
    documents = _document_table(docs, ids)
    with db.session(con) as cur, db.transaction(cur):
        cur.register("in_document", documents)
        db.run_sql(cur, "staging", _LOAD_STEPS[0])
        counts = db.query(cur, "staging", "load_counts.sql")[0]
        updated = int(counts[3])
        # Only documents that are new or changed are flattened (a reload costs little).
        todo = [r[0] for r in db.query(cur, "staging", "load_todo.sql")]
        for name, table in _content_tables(docs, ids, todo).items():
            cur.register(name, table)
        for step in _LOAD_STEPS[1:]:
            if step == _REPLACE and not updated:
                continue  # its deletes would scan the staging tables for nothing
            db.run_sql(cur, "staging", step)
        cur.execute("DROP TABLE IF EXISTS load_batch")
        cur.execute("DROP TABLE IF EXISTS load_current")
    inserted, unchanged, revised, _updated = (int(x) for x in counts)
    repeats = len(docs) - (inserted + unchanged + revised + updated)  # same document twice in the batch
    return LoadSummary(inserted=inserted, unchanged=unchanged + repeats, revised=revised, updated=_updated,
                       report_ids=tuple(ids))


def staging_frames(con: duckdb.DuckDBPyConnection, report_ids: Iterable[str] | None = None) -> Frames:
    """Staging rows as pandas frames for validation: current reports, or exactly ``report_ids``."""
    return _staging(con, report_ids, _frame)


def staging_tables(con: duckdb.DuckDBPyConnection, report_ids: Iterable[str] | None = None) -> Frames:
    """``staging_frames`` as Arrow tables (the same rows and, through ``to_pandas``, the same frames): half
    DuckDB's work of making pandas columns, and a buffer copy to pickle for a validator process."""
    return _staging(con, report_ids, _arrow)


def _staging(con: duckdb.DuckDBPyConnection, report_ids: Iterable[str] | None, fetch) -> Frames:
    ids = sorted(set(report_ids or ()))
    params = {"current": report_ids is None}
    with db.session(con) as cur:
        cur.register("arg_ids", pa.table({"report_id": pa.array(ids, pa.string())}))
        return Frames(
            reports=fetch(cur, "frame_reports.sql", params),
            cells=fetch(cur, "frame_cells.sql", params),
            findings=fetch(cur, "frame_findings.sql", params),
            narrative=fetch(cur, "frame_narrative.sql", params),
        )


def _frame(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> pd.DataFrame:
    try:
        return con.execute(db.sql_text("staging", name), params).df()
    except duckdb.Error as exc:
        raise RuntimeError(f"warehouse SQL staging/{name} failed: {exc}") from exc


def _arrow(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> pa.Table:
    try:
        return con.sql(db.sql_text("staging", name), params=params).to_arrow_table()
    except duckdb.Error as exc:
        raise RuntimeError(f"warehouse SQL staging/{name} failed: {exc}") from exc


def report_dict(con: duckdb.DuckDBPyConnection, report_id: str) -> dict | None:
    """The contract object of a stored report as it was loaded (None when unknown)."""
    with db.session(con) as cur:
        rows = db.query(cur, "staging", "report_json.sql", {"report_id": report_id})
    return json.loads(rows[0][0]) if rows and rows[0][0] else None
