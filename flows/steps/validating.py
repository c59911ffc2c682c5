"""GX validation of the loaded reports, in chunks, and the publish gate's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flows.outcomes import FETCH_FAILED, PARSE_FAILED, PASSED, QUARANTINED, ReportOutcome
from warehouse.statuses import PASS

if TYPE_CHECKING:  # not imported at run time: the validator processes import this module (check_part)
    from expectations.gate import GateDecision

VALIDATE_CHUNK = 2500  # reports validated at once: the frames of 10,000 took a gigabyte
VALIDATE_MIN_CHUNK = 1000  # smaller chunks, to keep every validator busy, would cost more than they save
# DuckDB's memory while validating: each chunk's frames read the staging tables, and at 512 MB DuckDB kept
# ~300 MB of their blocks in the flow's process (at 100,000 reports); 128 MB costs ~0.1 CPU-s a chunk.
VALIDATE_DUCKDB_MEMORY = "128MB"


def validation_chunks(con, report_ids: list[str], size: int = VALIDATE_CHUNK) -> list[list[str]]:
    """The run's reports in groups of about ``size``, a parent body always with the bodies
    that name it as their parent (the hierarchy checks add the children up)."""
    import pyarrow as pa

    ids = list(dict.fromkeys(report_ids))
    con.register("arg_chunk_ids", pa.table({"report_id": pa.array(ids, pa.string())}))
    try:
        rows = con.execute("SELECT d.report_id, d.agency, d.parent FROM stg_document d "
                           "JOIN arg_chunk_ids a USING (report_id)").fetchall()
    finally:
        con.unregister("arg_chunk_ids")
    return family_chunks(rows, size)


def family_chunks(rows: list[tuple[Any, str, str | None]], size: int) -> list[list[Any]]:
    """``(key, agency, parent)`` rows in groups of about ``size`` keys, in the rows' order; the rows of an
    agency and of every agency that names it as its parent (of these rows) always in one group."""
    root: dict[str, str] = {}  # union-find over agency names

    def find(a: str) -> str:
        while root.setdefault(a, a) != a:
            root[a] = root[root[a]]
            a = root[a]
        return a

    agencies = {agency for _key, agency, _parent in rows}
    for _key, agency, parent in rows:
        if parent and parent in agencies:
            root[find(agency)] = find(parent)
    groups: dict[str, list[Any]] = {}
    for key, agency, _parent in rows:
        groups.setdefault(find(agency), []).append(key)
    chunks: list[list[Any]] = [[]]
    for members in groups.values():
        if chunks[-1] and len(chunks[-1]) + len(members) > size:
            chunks.append([])
        chunks[-1].extend(members)
    return [c for c in chunks if c]


def load_order_chunks(rows: list[tuple[Any, str, str | None]], workers: int) -> list[list[Any]]:
    """``family_chunks`` of a run whose load hands the chunks to ``workers`` validators as it goes
    (flows/steps/validation.py ``EarlyValidation``), the last one halved: it is all that is left once the load
    ends, and then the first half is validated while the load ends and only the second is waited for (the
    validate step 1.3 → 0.6 s at 10,000 reports, for one chunk's fixed cost, ~0.4 CPU-s)."""
    chunks = family_chunks(rows, chunk_size(len(rows), workers))
    if workers > 1 and len(chunks) > 1:
        last = set(chunks[-1])
        chunks[-1:] = family_chunks([r for r in rows if r[0] in last], -(-len(last) // 2))
    return chunks


def chunk_size(reports: int, workers: int) -> int:
    """Reports a validator takes at once: ``VALIDATE_CHUNK``, fewer when that keeps every worker busy."""
    return min(VALIDATE_CHUNK, max(VALIDATE_MIN_CHUNK, -(-reports // max(1, workers))))


@dataclass
class RunChecks:
    """A run's check results as the flow keeps them for the gate and the Data Docs: every row but
    the passes, which are counted per check (6 KB a report as rows; the warehouse keeps them all)."""

    rows: Any  # pandas frame of expectations.validate.COLUMNS, no rows of passed checks
    passed: dict[str, int] = field(default_factory=dict)
    reports: int = 0

    def add(self, part) -> None:
        self.add_part(check_part(part, table=False))

    def add_part(self, part: CheckPart) -> None:
        import pandas as pd

        for cid, n in part.passed.items():
            self.passed[cid] = self.passed.get(cid, 0) + n
        self.reports += part.reports
        self.rows = part.rows if self.rows is None else pd.concat([self.rows, part.rows], ignore_index=True)

    def __len__(self) -> int:
        return len(self.rows) + sum(self.passed.values())


@dataclass
class CheckPart:
    """A chunk's check rows as a validator hands them back to the flow: every row as the warehouse
    stores it (Arrow: ~60 MB a chunk, half of what the frame and its copy for the warehouse took in
    the flow's process), the rows that are not passes, and the passes counted per check."""

    table: Any  # warehouse.checks.check_table of every row (None when not asked for)
    rows: Any  # pandas frame of the rows whose status is not a pass
    passed: dict[str, int]
    reports: int


def check_part(part, table: bool = True) -> CheckPart:
    """``part``: the check rows of expectations.validate.validate (a frame) or of validate_columns (arrays by
    column, as a validator makes them: taken apart as arrays, converted to Arrow and pandas once)."""
    import numpy as np
    import pandas as pd

    from expectations.validate import COLUMNS, NUMBERS, check_frame
    from warehouse.checks import check_table

    if part is None:  # no report
        part = {c: np.empty(0, dtype=float if c in NUMBERS else object) for c in COLUMNS}
    elif isinstance(part, pd.DataFrame):
        part = {c: part[c].to_numpy(dtype=float if c in NUMBERS else object) for c in COLUMNS}
    is_pass = part["status"] == PASS
    passed = {cid: int(n) for cid, n in pd.Series(part["check_id"][is_pass], dtype="str").value_counts().items()}
    others = np.flatnonzero(~is_pass)
    rows = check_frame({c: v[others] for c, v in part.items()}, index=others)
    return CheckPart(check_table(part) if table else None, rows, passed, len(pd.unique(part["report_id"])))


def release_memory() -> None:
    """Hand the heap's free pages back to the system (glibc keeps what a large step freed, and the
    process's peak is the run's memory figure); nothing where malloc_trim does not exist."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # glibc by name: find_library would start a process
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def prestart_validation(reports: int) -> None:
    """Start the validator processes now (flows/validator.py), so that GX's start-up overlaps the run."""
    from flows import validator

    validator.prestart(validator_count(reports))


def validator_count(reports: int) -> int:
    """One validator; a second (at most one per core) for a run of several full chunks. Two validators are a
    fork server (GX's start-up, ~1.7 CPU-s) and two copies of it, each paying for its own pages and its first
    chunk's memory: ~1.3 CPU-s more than one validator that starts GX itself, for a validate step ~1.5 s
    shorter at 10,000 reports (4 chunks: the flow mostly waits for the validators meanwhile)."""
    from flows import validator

    return max(1, min(validator.default_workers(), reports // (2 * VALIDATE_CHUNK)))


def starts_validation_early(reports: int) -> bool:
    """Whether GX's start-up should begin with the fetch (one validator: a short run, whose load would
    otherwise wait for it) rather than with the load (several: the parse of a long run keeps every core
    busy, while DuckDB's load leaves one mostly free: 10,000 reports ran ~2 s faster so)."""
    return validator_count(reports) == 1


def previous_year_ids(con, report_ids: list[str], year: int) -> list[str]:
    """The current reports of ``year - 1`` by the agencies of ``report_ids``."""
    import pyarrow as pa

    con.register("arg_prev_ids", pa.table({"report_id": pa.array(report_ids, pa.string())}))
    try:
        return [r for (r,) in con.execute(
            "SELECT p.report_id FROM stg_document p WHERE p.is_current AND p.year = $y AND p.agency_id IN "
            "(SELECT d.agency_id FROM stg_document d JOIN arg_prev_ids a USING (report_id))",
            {"y": year - 1}).fetchall()]
    finally:
        con.unregister("arg_prev_ids")


def parse_failures(f) -> dict[str, list[str]]:
    """report_id → the parser's error, for the stubs of documents that could not be parsed (``f``: the
    findings frame of staging_frames)."""
    if f is None or len(f) == 0:
        return {}
    # The parser's own reason when a document could not be read at all (a crash, a zip bomb,
    # an encrypted PDF): more precise than the H7 "table missing" that follows from it.
    failed = f[(f["code"] == "parse_failed") | ((f["where"] == "document") & (f["severity"] == "error"))]
    out: dict[str, list[str]] = {}
    for rid, code, msg in zip(failed["report_id"], failed["code"], failed["message"], strict=True):
        out.setdefault(rid, []).append(f"parse failed: {msg}" if code == "parse_failed" else f"unreadable: {msg}")
    return out


def record_gate(con, report_ids: list[str], decision: GateDecision, extra: dict[str, list[str]] | None = None) -> None:
    """The gate's verdict per report, with reasons, in the warehouse (mart_quality shows it)."""
    from warehouse.checks import set_status

    reasons = quarantine_reasons(decision)
    for rid, why in (extra or {}).items():
        reasons[rid] = why + reasons.get(rid, [])
    statuses = {rid: (QUARANTINED if rid in reasons else PASSED) for rid in report_ids}
    set_status(con, statuses, reasons)


def quarantine_reasons(decision: GateDecision) -> dict[str, list[str]]:
    """report_id → the gate's reasons (a copy: the caller may add to it)."""
    return {rid: list(reasons) or ["quarantined by the gate"] for rid, reasons in decision.quarantined.items()}


def apply_gate(outcomes: list[ReportOutcome], decision: GateDecision) -> dict[str, list[str]]:
    reasons = quarantine_reasons(decision)
    for o in outcomes:
        if o.report_id is None or o.outcome in (FETCH_FAILED, PARSE_FAILED):
            continue
        if o.report_id in reasons:
            o.outcome = QUARANTINED
            o.reasons.extend("gate: " + r for r in reasons[o.report_id])
        else:
            o.outcome = PASSED
    return reasons


def gate_allows_publish(decision: GateDecision) -> tuple[bool, str]:
    return decision.publish, decision.reason


