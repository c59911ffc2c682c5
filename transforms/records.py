"""A parsed report (the contract JSON object) as flat records, for loading (pure).

One record per cell with its marker, so that the warehouse and the expectations can
tell a printed 0 from a blank, a "/" or an unreadable cell (FORMAT.md §9.2-9.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from transforms import formatspec as fs

# finding code -> the marker stored with the cell
MARKER_BY_CODE = {
    "cell_blank": "blank",
    "cell_not_applicable": "na",
    "cell_unreadable": "unreadable",
    "cell_derived": "derived",
    "cell_ambiguous": "ambiguous",
    "row_order_unproved": "ambiguous",
}
TEMPLATE_KEY = {
    fs.ACTIVE_DISCLOSURE: "active_disclosure",
    fs.APPLICATIONS: "applications",
    fs.REVIEW_LITIGATION: "review_litigation",
}


TEXT = "text"  # read from the document's text as printed
DERIVED = "derived"  # split from run-together digits, or a blank total summed (text)
OCR = "ocr"  # read from a picture by OCR and proved by the invariants (transforms.imagetable)
PROVENANCES = (TEXT, DERIVED, OCR)


@dataclass(frozen=True)
class CellRecord:
    table: str
    item: str  # row / item / proceeding
    measure: str  # column / measure / outcome
    value: float | int | None
    marker: str | None  # None (read as printed), blank, na, unreadable, derived, ambiguous
    provenance: str = TEXT  # text | derived | ocr

    @property
    def path(self) -> str:
        return f"{self.table}.{self.item}.{self.measure}"


def cell_markers(report: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in report.get("findings") or ():
        marker = MARKER_BY_CODE.get(f.get("code"))
        where = f.get("where") or ""
        if marker and where.count(".") == 2:
            out.setdefault(where, marker)
    return out


def ocr_tables(report: dict) -> set[str]:
    """The tables read from pictures (the finding ``table_from_image``)."""
    return {f.get("where") for f in report.get("findings") or () if f.get("code") == "table_from_image"}


def iter_cells(report: dict) -> Iterator[CellRecord]:
    for cell in cell_tuples(report):
        yield CellRecord(*cell)


def table_items(report: dict) -> Iterator[tuple[str, str, dict]]:
    """(table, item, its measures) of every item of the tables the report holds, in the format's order:
    what its cells are made of."""
    for table in fs.TABLES:
        body = report.get(table)
        if not isinstance(body, dict):
            continue
        for item, measures in body.items():
            if isinstance(measures, dict):
                yield table, item, measures


def cell_tuples(report: dict) -> list[tuple]:
    """``iter_cells`` as plain tuples (table, item, measure, value, marker, provenance), in its
    order: what the staging rows are built from, ~200 a report, without a record each."""
    markers = cell_markers(report)
    ocr = ocr_tables(report)
    out: list[tuple] = []
    for table, item, measures in table_items(report):
        if table in ocr:
            out += [(table, item, measure, value, markers.get(f"{table}.{item}.{measure}"), OCR)
                    for measure, value in measures.items()]
        elif markers:
            for measure, value in measures.items():
                marker = markers.get(f"{table}.{item}.{measure}")
                out.append((table, item, measure, value, marker, DERIVED if marker == "derived" else TEXT))
        else:
            out += [(table, item, measure, value, None, TEXT) for measure, value in measures.items()]
    return out


def table_status(report: dict) -> dict[str, str]:
    """present | missing, per table."""
    return {t: ("present" if isinstance(report.get(t), dict) else "missing") for t in fs.TABLES}
