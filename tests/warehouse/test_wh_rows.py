"""A report's staging rows built where it is parsed (warehouse/rows.py): the load stores the same rows."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from test_wh_load import STAGING_TABLES, snapshot
from wh_helpers import corpus

from warehouse import db, load
from warehouse.rows import content_rows, read_rows, rows_bytes


def through_file(doc: load.Document, tmp_path) -> load.Document:
    """The document with the rows a parse worker writes of it, read back as the load reads them."""
    entry = json.loads(json.dumps({"report": doc.report, "narrative": doc.narrative}))
    rows = read_rows(rows_bytes(content_rows(entry["report"], entry["narrative"])))
    assert rows is not None and rows.cells.num_rows > 0
    return dataclasses.replace(doc, rows=rows, report=rows.head)  # the load reads no more of the report


def test_rows_from_the_parse_load_as_the_loader_builds_them(tmp_path):
    docs = list(corpus().values())
    docs[0] = dataclasses.replace(docs[0], narrative={"received": 10, "granted": 4})
    out = {}
    for name, batch in (("plain", docs), ("rows", [through_file(d, tmp_path) for d in docs])):
        con = db.connect(tmp_path / f"{name}.duckdb")
        db.init_schema(con)
        load.load_documents(con, batch[:1])
        load.load_documents(con, batch)  # the first one again (unchanged) and the others
        out[name] = snapshot(con)
        con.close()
    for t in STAGING_TABLES:
        a = out["plain"][t].drop(columns=["loaded_at"], errors="ignore")
        b = out["rows"][t].drop(columns=["loaded_at"], errors="ignore")
        assert a.equals(b), t
    assert len(out["rows"]["stg_cell"]) > 100 and len(out["rows"]["stg_narrative"]) == 2


def test_damaged_or_foreign_rows_are_not_taken():
    doc = next(iter(corpus().values()))
    data = rows_bytes(content_rows(doc.report, doc.narrative))
    assert read_rows(data) is not None and read_rows(memoryview(data)) is not None
    for bad in (data[:100], data[:-1], b"", b"xxgk-rows/1\n" + data[12:], data[:20] + b"\0" * (len(data) - 20)):
        assert read_rows(bad) is None  # the loader builds the rows itself


def test_a_cell_that_is_no_number_stops_the_load_with_its_reason(con):
    doc = next(iter(corpus().values()))
    report = json.loads(json.dumps(doc.report))
    table = next(t for t in ("applications", "active_disclosure") if isinstance(report.get(t), dict))
    item = next(iter(report[table]))
    measure = next(iter(report[table][item]))
    report[table][item][measure] = "12"
    with pytest.raises(ValueError, match=f"{table}.{item}.{measure}: cell value must be a number"):
        content_rows(report, {})
    with pytest.raises(ValueError, match=f"{doc.agency} .*{table}.{item}.{measure}"):
        load.load_documents(con, [dataclasses.replace(doc, report=report)])


def test_a_cell_is_stored_once_through_reloads_updates_and_revisions(con, tmp_path):
    """stg_cell has no key (its index cost 40 % of a load): the loader alone keeps a cell once."""
    docs = list(corpus().values())
    load.load_documents(con, docs)
    load.load_documents(con, [through_file(d, tmp_path) for d in docs])  # unchanged
    load.load_documents(con, [dataclasses.replace(d, parser_version="test-2") for d in docs])  # updated
    first = docs[0]
    revised = dict(first.report, findings=[{"code": "x", "severity": "info", "message": "m", "where": "document"}])
    load.load_documents(con, [dataclasses.replace(first, report=revised, content_sha256="f" * 64), first, first])
    twice = con.execute("SELECT count(*) FROM (SELECT report_id, table_name, item, measure FROM stg_cell "
                        "GROUP BY ALL HAVING count(*) > 1)").fetchone()[0]
    per_report = con.execute("SELECT count(DISTINCT n) FROM (SELECT report_id, count(*) AS n FROM stg_cell "
                             "GROUP BY 1)").fetchone()[0]
    assert twice == 0 and per_report >= 1
    assert con.execute("SELECT count(DISTINCT report_id) FROM stg_cell").fetchone()[0] == len(docs) + 1


def _one_cell(doc, value):
    report = json.loads(json.dumps(doc.report))
    table = next(t for t in ("applications", "active_disclosure") if isinstance(report.get(t), dict))
    item = next(iter(report[table]))
    measure = next(iter(report[table][item]))
    report[table][item][measure] = value
    return report, f"{table}.{item}.{measure}"


@pytest.mark.parametrize("value", [0, 7, 2.5, None, 2**53, 2**53 + 1, 10**30, Decimal("1.25"), -0.0])
def test_the_value_column_is_each_cells_number(value):
    """Arrow converts a plain report's values at once; what it would not convert as float() does
    (an int beyond 2**53) takes the cell-by-cell way: the column is float(value) either way."""
    from transforms.records import iter_cells

    report, _where = _one_cell(next(iter(corpus().values())), value)
    want = [None if c.value is None else float(c.value) for c in iter_cells(report)]
    got = content_rows(report, {}).cells.column("value").to_pylist()
    assert got == want and [str(v) for v in got] == [str(v) for v in want]  # -0.0 stays -0.0


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), "12", [1]])
def test_a_value_that_is_no_finite_number_is_refused_with_its_cell(value):
    report, where = _one_cell(next(iter(corpus().values())), value)
    with pytest.raises(ValueError, match=f"{where}: cell value"):
        content_rows(report, {})


def test_cells_as_tuples_are_the_cell_records():
    """cell_tuples (the rows' way) and iter_cells give the same cells, markers and provenance."""
    from transforms.records import cell_tuples, iter_cells

    report, where = _one_cell(next(iter(corpus().values())), 5)
    plain = json.loads(json.dumps(report))
    marked = {**plain, "findings": [*plain.get("findings", []), {"code": "cell_derived", "where": where},
                                    {"code": "cell_blank", "where": "review_litigation.x.y"}]}
    ocr = {**marked, "findings": [*marked["findings"], {"code": "table_from_image", "where": where.split(".")[0]}]}
    for r in (plain, marked, ocr):
        assert [tuple(dataclasses.astuple(c)) for c in iter_cells(r)] == cell_tuples(r)
    provenance = {c.path: c.provenance for c in iter_cells(marked)}
    assert provenance[where] == "derived" and set(provenance.values()) == {"derived", "text"}
    assert {c.provenance for c in iter_cells(ocr) if c.table == where.split(".")[0]} == {"ocr"}


def test_the_cells_of_a_common_report_built_by_shape_are_those_of_its_tuples_to_the_byte():
    """The common report's cells (no marker, no OCR, plain numbers) are built from its shape's columns,
    which a run builds once a shape: the same table and the same stored bytes as from its cell tuples."""
    from transforms.records import cell_tuples
    from warehouse import rows

    doc = next(iter(corpus().values()))
    plain, where = _one_cell(doc, 5)
    with_blank, _ = _one_cell(doc, None)
    lacking = {**plain, "review_litigation": None}
    marked = {**plain, "findings": [*plain.get("findings", []), {"code": "cell_derived", "where": where}]}
    ocr = {**plain, "findings": [*plain.get("findings", []), {"code": "table_from_image", "where": where.split(".")[0]}]}
    for report, by_shape in ((plain, True), (with_blank, True), (lacking, True), (plain, True), (marked, False),
                             (ocr, False)):
        assert (rows._cells_by_shape(report) is not None) is by_shape
        got = content_rows(report, {"received": 3}, stored="{}")
        want = dataclasses.replace(got, cells=rows._cells_at_once(cell_tuples(report)))
        assert got.cells.equals(want.cells) and got.cells.schema == want.cells.schema
        assert rows_bytes(got) == rows_bytes(want) and rows_bytes(got, (1, 3)) == rows_bytes(want, (1, 3))
    assert len(rows._SHAPES) >= 2  # the full tables and those lacking one
