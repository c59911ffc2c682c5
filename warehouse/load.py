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

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import pandas as pd
import pyarrow as pa

from transforms import formatspec as fs
from transforms.records import iter_cells, table_status
from warehouse import db


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
    report: dict = field(default_factory=dict)  # the contract object (CONTRACT.md §1)
    parser_version: str = ""
    narrative: dict[str, int] = field(default_factory=dict)

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


def agency_id(name: str) -> str:
    """Agencies are identified by their registry name (the same name in every year)."""
    return _hash16(name)


def _utc_naive(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    if not isinstance(ts, datetime):
        raise ValueError(f"fetched_at must be a datetime, got {type(ts).__name__}")
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def _number(value, doc: Document, cell) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        out = float(value)
    else:
        raise ValueError(f"{doc.agency} {doc.year} ({doc.report_id}) {cell.table}.{cell.item}.{cell.measure}:"
                         f" cell value must be a number or null, got {value!r}")
    if math.isnan(out) or math.isinf(out):
        raise ValueError(f"{doc.agency} {doc.year} ({doc.report_id}) {cell.table}.{cell.item}.{cell.measure}:"
                         f" cell value {value!r} is not a finite number")
    return out


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
_TABLE_SCHEMA = pa.schema([("batch_pos", pa.int64()), ("report_id", pa.string()), ("table_name", pa.string()),
                          ("template", pa.string()), ("status", pa.string())])
_CELL_SCHEMA = pa.schema([("batch_pos", pa.int64()), ("report_id", pa.string()), ("table_name", pa.string()),
                         ("item", pa.string()), ("measure", pa.string()), ("value", pa.float64()),
                         ("marker", pa.string()), ("provenance", pa.string())])
_FINDING_SCHEMA = pa.schema([("batch_pos", pa.int64()), ("report_id", pa.string()), ("seq", pa.int32()),
                            ("code", pa.string()), ("severity", pa.string()), ("message", pa.string()),
                            ("where", pa.string())])
_NARRATIVE_SCHEMA = pa.schema([("batch_pos", pa.int64()), ("report_id", pa.string()), ("key", pa.string()),
                              ("value", pa.int64())])


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


def _document_table(docs: Sequence[Document]) -> pa.Table:
    cols = _columns(_DOC_SCHEMA)
    for pos, doc in enumerate(docs):
        _validate(doc, pos)
        rep = doc.report
        tpl = rep.get("templates") or {}
        row = {
            "batch_pos": pos, "report_id": doc.report_id, "agency_id": doc.agency_id, "agency": doc.agency,
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


def _content_tables(docs: Sequence[Document], positions: Iterable[int]) -> dict[str, pa.Table]:
    """Payload, table status, cells, findings and narrative of the documents that need storing."""
    pay, tab, cell, fnd, nar = (_columns(s) for s in (_PAYLOAD_SCHEMA, _TABLE_SCHEMA, _CELL_SCHEMA,
                                                       _FINDING_SCHEMA, _NARRATIVE_SCHEMA))
    for pos in positions:
        doc = docs[pos]
        rid, rep = doc.report_id, doc.report
        tpl = rep.get("templates") or {}
        pay["batch_pos"].append(pos)
        pay["report_json"].append(json.dumps(rep, ensure_ascii=False, sort_keys=True, default=str))
        for table, status in table_status(rep).items():
            for k, v in zip(_TABLE_SCHEMA.names, (pos, rid, table, tpl.get(table), status), strict=True):
                tab[k].append(v)
        cells = list(iter_cells(rep))
        cell["batch_pos"].extend([pos] * len(cells))
        cell["report_id"].extend([rid] * len(cells))
        cell["table_name"].extend(c.table for c in cells)
        cell["item"].extend(c.item for c in cells)
        cell["measure"].extend(c.measure for c in cells)
        cell["value"].extend(_number(c.value, doc, c) for c in cells)
        cell["marker"].extend(c.marker for c in cells)
        cell["provenance"].extend(c.provenance for c in cells)
        for seq, f in enumerate(rep.get("findings") or ()):
            vals = (pos, rid, seq, f.get("code"), f.get("severity"), f.get("message"), f.get("where"))
            for k, v in zip(_FINDING_SCHEMA.names, vals, strict=True):
                fnd[k].append(v)
        for key, value in (doc.narrative or {}).items():
            for k, v in zip(_NARRATIVE_SCHEMA.names, (pos, rid, str(key), None if value is None else int(value)),
                            strict=True):
                nar[k].append(v)
    return {
        "in_payload": _table(pay, _PAYLOAD_SCHEMA),
        "in_table": _table(tab, _TABLE_SCHEMA),
        "in_cell": _table(cell, _CELL_SCHEMA),
        "in_finding": _table(fnd, _FINDING_SCHEMA),
        "in_narrative": _table(nar, _NARRATIVE_SCHEMA),
    }


_LOAD_STEPS = ("load_1_classify.sql", "load_2_replace.sql", "load_3_insert.sql", "load_4_current.sql")


def load_documents(con: duckdb.DuckDBPyConnection, docs: Iterable[Document]) -> LoadSummary:
    """Load a batch of parsed documents in one transaction (see the module docstring)."""
    docs = list(docs)
    if not docs:
        return LoadSummary()
    documents = _document_table(docs)
    with db.session(con) as cur, db.transaction(cur):
        cur.register("in_document", documents)
        db.run_sql(cur, "staging", _LOAD_STEPS[0])
        counts = db.query(cur, "staging", "load_counts.sql")[0]
        # Only documents that are new or changed are flattened (a reload costs little).
        todo = [r[0] for r in db.query(cur, "staging", "load_todo.sql")]
        for name, table in _content_tables(docs, todo).items():
            cur.register(name, table)
        for step in _LOAD_STEPS[1:]:
            db.run_sql(cur, "staging", step)
        cur.execute("DROP TABLE IF EXISTS load_batch")
        cur.execute("DROP TABLE IF EXISTS load_current")
    inserted, unchanged, revised, updated = (int(x) for x in counts)
    repeats = len(docs) - (inserted + unchanged + revised + updated)  # same document twice in the batch
    return LoadSummary(inserted=inserted, unchanged=unchanged + repeats, revised=revised, updated=updated)


def staging_frames(con: duckdb.DuckDBPyConnection, report_ids: Iterable[str] | None = None) -> Frames:
    """Staging rows as pandas frames for validation: current reports, or exactly ``report_ids``."""
    ids = sorted(set(report_ids or ()))
    params = {"current": report_ids is None}
    with db.session(con) as cur:
        cur.register("arg_ids", pa.table({"report_id": pa.array(ids, pa.string())}))
        return Frames(
            reports=_frame(cur, "frame_reports.sql", params),
            cells=_frame(cur, "frame_cells.sql", params),
            findings=_frame(cur, "frame_findings.sql", params),
            narrative=_frame(cur, "frame_narrative.sql", params),
        )


def _frame(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> pd.DataFrame:
    try:
        return con.execute(db.sql_text("staging", name), params).df()
    except duckdb.Error as exc:
        raise RuntimeError(f"warehouse SQL staging/{name} failed: {exc}") from exc


def report_dict(con: duckdb.DuckDBPyConnection, report_id: str) -> dict | None:
    """The contract object of a stored report as it was loaded (None when unknown)."""
    with db.session(con) as cur:
        rows = db.query(cur, "staging", "report_json.sql", {"report_id": report_id})
    return json.loads(rows[0][0]) if rows and rows[0][0] else None
