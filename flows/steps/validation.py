"""The validators' chunks of one run: read from the warehouse, handed to flows/validator.py, collected.

The validate step hands over the chunks one after the other while the validators work (``validate_batch``).
A long run hands over most of them earlier, during the load (``EarlyValidation``): the load takes the
reports in the order of their chunks, and a chunk goes to a validator as soon as its last report is
loaded, while DuckDB loads the next ones (the load keeps ~1.3 of 2 cores busy, GX the other). Either way a
chunk is what ``family_chunks`` makes of the run's reports: a parent body with the bodies that name it (in the
load's order, ``load_order_chunks``: the last chunk halved).
"""

from __future__ import annotations

import itertools
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from flows.outcomes import NOT_CURRENT, Progress, ReportOutcome, quiet
from flows.steps.validating import (
    VALIDATE_DUCKDB_MEMORY,
    RunChecks,
    chunk_size,
    load_order_chunks,
    parse_failures,
    previous_year_ids,
    record_gate,
    release_memory,
    validation_chunks,
    validator_count,
)


class Validation:
    """The chunks handed to the validators so far, those in flight, and what came back."""

    def __init__(self, pool, year: int | None, total: int) -> None:
        self.pool, self.year, self.total = pool, year, total
        self.checks = RunChecks(None)
        self.report_parts: list = []  # each chunk's (report_id, agency, year): Data Docs' labels
        self.failures: dict[str, list[str]] = {}  # report_id -> the parser's error (parse_failures)
        self.in_flight: list = []  # (future, ids), oldest first
        self.submitted: set[str] = set()
        self.done = 0

    def has_room(self) -> bool:
        return len(self.in_flight) < self.pool.workers

    def submit(self, con, ids: list[str], progress: Progress = quiet) -> None:
        """Read the chunk's staging rows (and its agencies' previous year) and hand them to a validator,
        once one is free (the oldest chunk collected first: the workers validate while this reads)."""
        from warehouse.load import staging_tables

        frames = staging_tables(con, report_ids=ids)  # Arrow: the validator makes the pandas frames
        prev = None
        if self.year is not None:
            prev_ids = previous_year_ids(con, ids, int(self.year))
            if prev_ids:
                prev = staging_tables(con, report_ids=prev_ids)
        while not self.has_room():
            self.collect(con, progress)
        self.in_flight.append((self.pool.submit(frames, prev), ids))
        self.submitted.update(ids)
        self.report_parts.append(frames.reports.select(["report_id", "agency", "year"]).to_pandas())
        self.failures.update(parse_failures(frames.findings.to_pandas()))

    def collect(self, con, progress: Progress = quiet) -> None:
        """The oldest chunk's checks, waited for, stored in the warehouse and kept for the gate."""
        from flows import validator
        from warehouse.checks import store_check_table

        fut, ids = self.in_flight.pop(0)
        try:
            part = fut.result()
        except BrokenProcessPool:
            validator.discard()
            raise
        store_check_table(con, part.table)
        part.table = None
        self.checks.add_part(part)
        del part
        release_memory()
        self.done += len(ids)
        progress(f"validated {self.done}/{self.total}")

    def oldest_finished(self) -> bool:
        """Whether the oldest chunk in flight is back (``collect`` would not wait)."""
        return bool(self.in_flight) and self.in_flight[0][0].done()

    def collect_finished(self, con, progress: Progress = quiet) -> None:
        while self.oldest_finished():
            self.collect(con, progress)

    def abandon(self) -> None:
        """The step stopped: chunks not started are dropped (one under way ends in its worker, unread)."""
        for fut, _ids in self.in_flight:
            fut.cancel()
        self.in_flight = []


class EarlyValidation:
    """The validation of a long run, started by its load: ``order`` is the order to load the outcomes in
    (chunk by chunk; the outcomes that load nothing last) and ``loaded`` is called after each load
    transaction with how many of them are loaded. A chunk is handed over when a validator is free; the
    validate step hands over the rest (``validate_batch(early=...)``)."""

    def __init__(self, outcomes: list[ReportOutcome], year: int | None, memory: str | None = None) -> None:
        from flows import validator

        self._memory = memory  # the load's DuckDB memory limit (settings.warehouse_memory)

        rows = [(i, o.agency, getattr(o.source, "parent", None)) for i, o in enumerate(outcomes)
                if o.content_sha256 and o.outcome != NOT_CURRENT]
        self.pool = validator.prestart(validator_count(len(rows)))
        self.groups = load_order_chunks(rows, self.pool.workers)
        planned = {i for group in self.groups for i in group}
        self.order = [outcomes[i] for group in self.groups for i in group] + \
                     [o for i, o in enumerate(outcomes) if i not in planned]
        self._outcomes = outcomes
        self._ends = list(itertools.accumulate(map(len, self.groups)))  # outcomes loaded when a chunk is whole
        self._next = 0
        self.validation = Validation(self.pool, year, len(rows))

    def abandon(self) -> None:
        self.validation.abandon()

    @property
    def worth_it(self) -> bool:
        """Two chunks at least: with one, its last report is the load's last."""
        return len(self.groups) > 1

    def _whole(self, count: int) -> bool:
        """Whether the next chunk's reports are all among the first ``count`` loaded."""
        return self._next < len(self.groups) and self._ends[self._next] <= count

    def loaded(self, con, count: int, progress: Progress = quiet) -> None:
        v = self.validation
        if not self._whole(count) and not v.oldest_finished():
            return
        from warehouse.db import memory_limit

        # The chunks' reads keep DuckDB's cache of the blocks they read as small as in the validate step.
        with memory_limit(con, VALIDATE_DUCKDB_MEMORY, self._memory):
            v.collect_finished(con, progress)
            while self._whole(count) and v.has_room():
                group = self.groups[self._next]
                ids = list(dict.fromkeys(rid for i in group if (rid := self._outcomes[i].report_id)))
                self._next += 1
                if ids:
                    v.submit(con, ids, progress)


def start_early_validation(outcomes: list[ReportOutcome], year: int | None,
                           memory: str | None = None) -> EarlyValidation | None:
    """The load's head start on validation, for a run of two chunks or more (None otherwise); ``memory``:
    the load's DuckDB memory limit, restored after each chunk's reads."""
    early = EarlyValidation(outcomes, year, memory)
    return early if early.worth_it else None


def validate_batch(con, report_ids: list[str], settings, year: int | None = None, progress: Progress = quiet,
                   early: EarlyValidation | None = None) -> tuple[RunChecks, Any, Any]:
    """GX validation of the staged reports, stored as checks; returns (RunChecks, decision, reports_df).

    Validated ``VALIDATE_CHUNK`` reports at a time (fewer when that keeps every worker of
    flows/validator.py busy), in the validator processes (the checks of a report depend only on
    it, its children and its previous year, which go into the same chunk); ``early``: the chunks the
    load handed over already, collected with the others. The current reports of the previous year are
    passed along as context for the cross-year checks (X1, X2); they are not validated again.
    """
    import pandas as pd

    from expectations.gate import decide
    from flows import validator
    from warehouse.db import memory_limit

    n = len(set(report_ids))
    pool = validator.prestart(validator_count(n))
    v = early.validation if early is not None else Validation(pool, year, n)
    v.total = n
    rest = [rid for rid in report_ids if rid not in v.submitted]
    chunks = validation_chunks(con, rest, chunk_size(n, pool.workers)) if rest else []
    say = progress if early is not None or len(chunks) > 1 else quiet  # "validated k/n" of several chunks
    try:
        with memory_limit(con, VALIDATE_DUCKDB_MEMORY, settings.warehouse_memory):
            for ids in chunks:
                v.submit(con, ids, say)
            while v.in_flight:
                v.collect(con, say)
    except BaseException:
        v.abandon()
        raise
    checks = v.checks
    reports_df = pd.concat(v.report_parts, ignore_index=True) if v.report_parts else None
    if checks.rows is None:
        from expectations.validate import validate
        from warehouse.load import staging_frames

        checks.rows = validate(staging_frames(con, report_ids=[]))  # no report: the empty frame, without GX
    decision = decide(checks.rows, report_ids, max_fail_share=settings.max_fail_share)  # it reads the fails
    record_gate(con, report_ids, decision, v.failures)
    return checks, decision, reports_df
