"""What became of each report and of the run: statuses, ReportOutcome, RunSummary and their renderings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sources.rawstore import redact_url
from warehouse.statuses import NOT_CURRENT, PASSED, PENDING, PUBLISHED, QUARANTINED

Progress = Callable[[str], None]


# Per-report outcomes, in the order a report moves through the pipeline: FETCH_FAILED,
# PARSE_FAILED, then the statuses the warehouse also stores (warehouse/statuses.py): QUARANTINED,
# PASSED (passed the gate, but the publish did not happen), PUBLISHED, NOT_CURRENT.
FETCH_FAILED = "fetch_failed"
PARSE_FAILED = "parse_failed"
STATUSES = (FETCH_FAILED, PARSE_FAILED, QUARANTINED, PASSED, PUBLISHED, NOT_CURRENT)


def quiet(_msg: str) -> None:
    pass


@dataclass
class ReportOutcome:
    agency: str
    year: int
    url: str
    fetch: str = PENDING  # fetched | not_modified | failed
    content_sha256: str | None = None
    content_type: str | None = None
    fetched_at: Any = None
    parse: str | None = None  # parsed | cached | failed
    report_id: str | None = None
    outcome: str = PENDING
    reasons: list[str] = field(default_factory=list)
    source: Any = field(default=None, repr=False)  # the registry row (sources.registry.Source)
    chosen_over: list[str] = field(default_factory=list)  # other URLs of the same agency and year, not taken

    def row(self) -> dict[str, Any]:
        """One row of the per-report table artifact."""
        return {
            "agency": self.agency,
            "year": self.year,
            "fetch": self.fetch,
            "parse": self.parse or "",
            "outcome": self.outcome,
            "reasons": "; ".join(self.reasons),
            "report_id": self.report_id or "",
            "sha256": (self.content_sha256 or "")[:12],
            "url": redact_url(self.url),
        }


@dataclass
class RunSummary:
    year: int
    reports: list[ReportOutcome] = field(default_factory=list)
    published: bool = False
    gate_reason: str = ""
    marts_path: str | None = None
    data_docs_path: str | None = None
    seconds: float = 0.0
    unchanged_since: str | None = None  # nothing changed since that run: its outcomes were taken
    fingerprint: str | None = field(default=None, repr=False)  # of the run's inputs (flows/runrecord.py)
    notes: list[str] = field(default_factory=list)  # what the run repaired or decided for the user

    @property
    def not_published(self) -> str | None:
        """Why this run published nothing, or None when it published or nothing changed since
        the year's last complete run (a scheduler's success: `xxgk run` exits 0)."""
        if self.published or self.unchanged_since:
            return None
        c = self.counts
        if not c["sources"]:
            return f"the registry has no report for {self.year}"
        if not c["fetched"] + c["not_modified"]:
            return f"nothing fetched: all {c['sources']} fetch(es) failed"
        if not c["parsed"]:
            return "nothing parsed: no fetched document could be parsed"
        return self.gate_reason or "the publish gate stopped the run"

    @property
    def counts(self) -> dict[str, int]:
        # One pass over the reports (10,000 of them, and the counts are asked for several times a run).
        fetch = Counter(r.fetch for r in self.reports)
        parse = Counter(r.parse for r in self.reports)
        outcome = Counter(r.outcome for r in self.reports)
        return {
            "sources": len(self.reports),
            "fetched": fetch["fetched"], "not_modified": fetch["not_modified"], "failed": fetch["failed"],
            "parsed": parse["parsed"] + parse["cached"],
            "parse_cached": parse["cached"],
            "parse_failed": outcome[PARSE_FAILED],
            "quarantined": outcome[QUARANTINED],
            "passed": outcome[PASSED] + outcome[PUBLISHED],
            "published": outcome[PUBLISHED],
            "not_current": outcome[NOT_CURRENT],
            # Failed this time, but the version published before stays in the marts (published + kept
            # = the year's reports in the marts).
            "kept": sum(r.outcome == FETCH_FAILED and r.report_id is not None for r in self.reports)
            if outcome[FETCH_FAILED] else 0,
        }

    def to_dict(self, rows: bool = True) -> dict[str, Any]:
        """``rows=False``: the per-report rows as a ``ReportRows`` made when first read (a flow run's result,
        which an unchanged re-run's caller may never read: 10,000 rows were ~0.05 CPU-s of it)."""
        return {
            "year": self.year,
            "counts": self.counts,
            "published": self.published,
            "gate_reason": self.gate_reason,
            "marts_path": self.marts_path,
            "data_docs_path": self.data_docs_path,
            "unchanged_since": self.unchanged_since,
            "not_published": self.not_published,
            "notes": list(self.notes),
            "seconds": round(self.seconds, 2),
            "reports": [r.row() for r in self.reports] if rows else ReportRows.of(self.reports),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSummary:
        """The summary a flow run returned (``to_dict``), with its per-report rows (the CLI's --prefect)."""
        s = cls(year=d["year"], published=d["published"], gate_reason=d["gate_reason"], marts_path=d["marts_path"],
                data_docs_path=d["data_docs_path"], unchanged_since=d.get("unchanged_since"),
                notes=list(d.get("notes") or []), seconds=float(d.get("seconds") or 0.0))
        for row in d["reports"]:
            o = ReportOutcome(agency=row["agency"], year=row["year"], url=row["url"], fetch=row["fetch"],
                              parse=row["parse"] or None, outcome=row["outcome"])
            o.reasons = [r for r in row["reasons"].split("; ") if r]
            s.reports.append(o)
        return s

    def markdown(self) -> str:
        c = self.counts
        lines = [
            f"# xxgk {self.year}",
            "",
            "| sources | fetched | not modified | fetch failed | parsed (cached) | parse failed "
            "| quarantined | passed | published |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {c['sources']} | {c['fetched']} | {c['not_modified']} | {c['failed']} "
            f"| {c['parsed']} ({c['parse_cached']}) | {c['parse_failed']} | {c['quarantined']} "
            f"| {c['passed']} | {c['published']} |",
            "",
            f"**Published:** {'yes' if self.published else 'no'}"
            + (f" ({self.gate_reason})" if self.gate_reason else ""),
            *(["", f"**Nothing published:** {self.not_published} (the flow run ends Failed)"]
              if self.not_published else []),
            "",
            f"**Marts:** `{self.marts_path}`" if self.marts_path else "**Marts:** not published",
            "",
            f"**Data Docs:** `{self.data_docs_path}`" if self.data_docs_path else "**Data Docs:** none",
        ]
        if self.unchanged_since:
            lines += ["", f"**Nothing changed** since the run of {self.unchanged_since}: its outcomes stand "
                          "(parse, load, validation and publish were skipped)."]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        problems = [r for r in self.reports if r.reasons and r.outcome != PUBLISHED]
        if problems:
            lines += ["", "## Reports not published", ""]
            lines += [f"- {r.agency} {r.year}: {r.outcome}: {'; '.join(r.reasons)}" for r in problems[:200]]
        return "\n".join(lines)


class ReportRows(Sequence):
    """The per-report rows of a flow run's result (``RunSummary.to_dict()["reports"]``), as a sequence
    that Prefect does not walk: it searches a flow's return value for futures through every list,
    dict and value, ~0.5 CPU-s for 10,000 rows."""

    __slots__ = ("_rows", "_outcomes")

    def __init__(self, rows: Iterable[dict[str, Any]] = ()) -> None:
        self._rows: list[dict[str, Any]] | None = list(rows)
        self._outcomes: list[ReportOutcome] = []

    @classmethod
    def of(cls, outcomes: list[ReportOutcome]) -> ReportRows:
        """The rows of ``outcomes`` (final: the run has ended), each made when the rows are first read."""
        rows = cls()
        rows._rows, rows._outcomes = None, outcomes
        return rows

    @property
    def rows(self) -> list[dict[str, Any]]:
        rows = self._rows
        if rows is None:
            rows = self._rows = [o.row() for o in self._outcomes]
        return rows

    def __getitem__(self, i):
        return self.rows[i]

    def __len__(self) -> int:
        return len(self.rows) if self._rows is not None else len(self._outcomes)

    def __eq__(self, other: object) -> bool:
        return self.rows == list(other) if isinstance(other, (list, tuple, ReportRows)) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like the list it stands for

    def __reduce__(self):
        return ReportRows, (self.rows,)

    def __repr__(self) -> str:
        return f"ReportRows({self.rows!r})"


class NothingPublished(Exception):
    """A run that ended without publishing (nothing fetched, nothing parsed, the gate's breaker):
    the Prefect flow run ends Failed with it, and `xxgk run` exits EXIT_NOT_PUBLISHED."""

    def __init__(self, reason: str, summary: dict[str, Any] | None = None):
        super().__init__(reason, summary)
        self.reason, self.summary = reason, summary or {}

    def __str__(self) -> str:
        return self.reason


