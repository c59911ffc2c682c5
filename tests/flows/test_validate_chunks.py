"""Validation a chunk of reports at a time gives exactly the checks of one pass over all."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from flows.settings import load_settings
from flows.steps.validating import validation_chunks
from flows.steps.validation import validate_batch
from testkit.synth import make_report
from warehouse.db import connect, init_schema
from warehouse.load import Document, load_documents

CITY = "丙市人民政府"
CHILDREN = [f"丙市{n}局" for n in ("教育", "财政", "公安", "民政")]
OTHERS = [f"丁县{n}局" for n in ("教育", "财政", "公安", "民政", "交通", "水利", "林业")]


def _doc(agency: str, year: int, seed: int, parent: str | None) -> Document:
    report = make_report(seed, agency=agency, year=year)
    if seed % 5 == 0:  # some reports that break a rule, so that there are failures to compare
        report["applications"]["rows"]["new_received"]["natural_person"] += 1
    body = json.dumps(report, sort_keys=True, ensure_ascii=False).encode()
    return Document(agency=agency, year=year, source_url=f"http://127.0.0.1/{seed}.html",
                    content_sha256=hashlib.sha256(body).hexdigest(), fetched_at=datetime(2025, 3, 1, tzinfo=UTC),
                    province="某省", city="丙市", level="部门" if parent else "市", parent=parent, report=report,
                    parser_version="test")


@pytest.fixture
def warehouse(tmp_path):
    con = connect(tmp_path / "warehouse.duckdb")
    init_schema(con)
    docs = []
    for i, agency in enumerate([*OTHERS[:3], CITY, *CHILDREN, *OTHERS[3:]]):
        for year in (2023, 2024):
            docs.append(_doc(agency, year, 100 * i + year, CITY if agency in CHILDREN else None))
    load_documents(con, docs)
    yield con, docs
    con.close()


def _sorted(checks):
    cols = ["report_id", "check_id", "scope", "status", "expected", "actual"]
    return checks[cols].astype({c: str for c in cols}).sort_values(cols).reset_index(drop=True)


def test_chunked_validation_equals_one_pass(warehouse, tmp_path, monkeypatch):
    con, docs = warehouse
    ids = [d.report_id for d in docs if d.year == 2024]
    settings = load_settings(env={}, home=tmp_path, max_fail_share=1.0)
    whole, decision, reports = validate_batch(con, ids, settings, 2024)
    checked = {*whole.rows["check_id"], *whole.passed}
    assert {"X1", "H1", "XH"} <= checked and any(c.startswith("S") for c in checked)
    assert (whole.rows["status"] == "fail").any() and "pass" not in set(whole.rows["status"])
    stored = con.execute("SELECT count(*) FROM fact_check WHERE status = 'pass'").fetchall()[0][0]
    assert sum(whole.passed.values()) == stored > 0 and whole.reports == len(ids)  # passes counted, stored

    chunks = validation_chunks(con, ids, size=3)
    assert len(chunks) >= 3 and sorted(sum(chunks, [])) == sorted(ids)
    family = {d.report_id for d in docs if d.year == 2024 and d.agency in [CITY, *CHILDREN]}
    assert any(family <= set(c) for c in chunks), "the city was validated apart from its departments"

    monkeypatch.setattr("flows.steps.validating.VALIDATE_CHUNK", 3)
    parts, decision_parts, reports_parts = validate_batch(con, ids, settings, 2024)
    assert _sorted(parts.rows).equals(_sorted(whole.rows))
    assert parts.passed == whole.passed and parts.reports == whole.reports
    assert decision_parts == decision
    assert sorted(reports_parts["report_id"]) == sorted(reports["report_id"])


def _gx_preloaded() -> bool:
    from flows import validator

    return validator.GX_PRELOADED


def test_validators_started_together_are_copies_of_one_gx_start_up(warehouse):
    """Two workers started at once are forked from the validators' fork server, which imported GX and built
    its context once (flows/validator_preload.py); their check rows are this process's."""
    import os

    from expectations.validate import validate
    from flows.steps.validating import check_part
    from flows.validator import _SERVER, ValidatorPool
    from warehouse.load import staging_tables

    con, docs = warehouse
    frames = staging_tables(con, report_ids=[d.report_id for d in docs if d.year == 2024])
    pool = ValidatorPool(2)
    try:
        parts = [pool.submit(frames), pool.submit(frames)]  # one each: a worker with nothing pending first
        parts = [p.result(timeout=600) for p in parts]
        parents = [ex.submit(os.getppid).result(timeout=60) for ex, _ in pool._workers]
        preloaded = [ex.submit(_gx_preloaded).result(timeout=60) for ex, _ in pool._workers]
        processes = [p for ex, _ in pool._workers for p in ex._processes.values()]
    finally:
        pool.close()
    assert parents == [_SERVER._forkserver_pid] * 2 and os.getpid() not in parents
    assert preloaded == [True, True]  # GX started in the server, before it forked them
    assert all(p.exitcode == 0 for p in processes)
    mine = check_part(validate(frames))
    for part in parts:
        assert part.passed == mine.passed and part.reports == mine.reports
        assert part.rows.reset_index(drop=True).equals(mine.rows.reset_index(drop=True))
        assert part.table.equals(mine.table)


def test_a_second_validator_only_for_several_full_chunks_and_gx_starts_with_the_load_then():
    """A second validator (a fork server and two copies of GX's start-up) only for a run of two full chunks
    per validator; GX's start-up begins with the fetch only for a run of one validator."""
    from flows import validator
    from flows.steps.validating import VALIDATE_CHUNK, starts_validation_early, validator_count

    assert validator_count(1) == validator_count(2 * VALIDATE_CHUNK - 1) == 1
    assert starts_validation_early(1) and starts_validation_early(2 * VALIDATE_CHUNK - 1)
    assert validator_count(4 * VALIDATE_CHUNK) == min(2, validator.default_workers())
    assert starts_validation_early(4 * VALIDATE_CHUNK) == (validator.default_workers() == 1)


def test_the_load_order_halves_its_last_chunk_for_two_validators_and_never_splits_a_family(monkeypatch):
    """The last chunk is what a run waits for after its load: with two validators it is halved (the first half
    goes while the load ends); every family stays in one chunk, every row in exactly one."""
    from flows.steps.validating import load_order_chunks

    monkeypatch.setattr("flows.steps.validating.VALIDATE_CHUNK", 4)
    monkeypatch.setattr("flows.steps.validating.VALIDATE_MIN_CHUNK", 1)
    rows = [(0, CITY, None)] + [(1 + k, child, CITY) for k, child in enumerate(CHILDREN[:2])]
    rows += [(i, f"乙县{i}局", None) for i in range(3, 15)]
    one = load_order_chunks(rows, 1)
    assert one == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14]]
    assert load_order_chunks(rows, 2) == [*one[:-1], [12, 13], [14]]
    family_last = rows[3:] + rows[:3]  # the city and its two bodies last: a family is not halved
    assert load_order_chunks(family_last, 2)[-1] == [0, 1, 2]
    assert load_order_chunks(rows[:3], 2) == [[0, 1, 2]]  # one chunk: nothing to halve


def test_chunks_handed_over_during_the_load_give_the_checks_of_the_validate_step(warehouse, tmp_path, monkeypatch):
    """A long run's load hands each chunk to a validator once its last report is loaded
    (flows/steps/validation.py EarlyValidation); the validate step collects them and validates the rest:
    the same checks, gate and labels as the validate step alone, a family never split."""
    from types import SimpleNamespace

    from flows.outcomes import ReportOutcome
    from flows.steps.validation import start_early_validation

    con, docs = warehouse
    ids = [d.report_id for d in docs if d.year == 2024]
    settings = load_settings(env={}, home=tmp_path, max_fail_share=1.0)
    whole, decision, reports = validate_batch(con, ids, settings, 2024)

    monkeypatch.setattr("flows.steps.validating.VALIDATE_CHUNK", 3)
    monkeypatch.setattr("flows.steps.validating.VALIDATE_MIN_CHUNK", 1)
    outcomes = [ReportOutcome(agency=d.agency, year=d.year, url=d.source_url, content_sha256=d.content_sha256,
                              source=SimpleNamespace(parent=d.parent)) for d in docs if d.year == 2024]
    outcomes.append(ReportOutcome(agency="戊县", year=2024, url="http://127.0.0.1/gone.html"))  # fetch failed
    early = start_early_validation(outcomes, 2024)
    assert early is not None and len(early.groups) >= 3
    assert early.order[-1].agency == "戊县" and sorted(map(id, early.order)) == sorted(map(id, outcomes))
    family = {CITY, *CHILDREN}
    assert any({outcomes[i].agency for i in g} >= family for g in early.groups), "a family split across chunks"

    by_key = {d.content_sha256: d.report_id for d in docs}
    for n, o in enumerate(early.order, 1):  # as load_batch does: report ids set, two outcomes a transaction
        o.report_id = by_key.get(o.content_sha256)
        if n % 2 == 0 or n == len(early.order):
            early.loaded(con, n)
    handed_over = set(early.validation.submitted)
    assert handed_over and handed_over < set(ids)  # some chunks before the validate step, not all (one validator)

    got, got_decision, got_reports = validate_batch(con, ids, settings, 2024, early=early)
    assert _sorted(got.rows).equals(_sorted(whole.rows))
    assert got.passed == whole.passed and got.reports == whole.reports == len(ids)
    assert got_decision == decision
    assert sorted(got_reports["report_id"]) == sorted(reports["report_id"])
    stored = con.execute("SELECT count(*) FROM fact_check WHERE status = 'pass'").fetchall()[0][0]
    assert stored == sum(whole.passed.values())
