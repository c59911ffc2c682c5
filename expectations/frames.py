"""The staged frames the expectations validate, and a builder from contract reports.

``validate`` accepts any object with the four pandas frames of
``warehouse.load.staging_frames`` (``FramesLike``). ``frames_from_reports`` builds such
frames from parsed reports (contract dicts), for tests and for ad-hoc validation of
``xxgk parse`` output without a warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from transforms import records

REPORT_COLUMNS = (
    "report_id", "agency_id", "agency", "year", "province", "city", "county", "level", "parent",
    "template_active_disclosure", "template_applications", "is_current", "source_url",
)
CELL_COLUMNS = ("report_id", "table_name", "item", "measure", "value", "marker")
FINDING_COLUMNS = ("report_id", "code", "severity", "message", "where")
NARRATIVE_COLUMNS = ("report_id", "key", "value")


class FramesLike(Protocol):
    reports: pd.DataFrame
    cells: pd.DataFrame
    findings: pd.DataFrame
    narrative: pd.DataFrame


@dataclass
class Frames:
    reports: pd.DataFrame
    cells: pd.DataFrame
    findings: pd.DataFrame
    narrative: pd.DataFrame


def as_pandas(frames: FramesLike | None) -> FramesLike | None:
    """Frames whose members are Arrow tables (``warehouse.load.staging_tables``, handed to a validator
    process) as pandas frames; pandas frames as they are."""
    if frames is None or isinstance(frames.cells, pd.DataFrame):
        return frames
    return Frames(**{name: getattr(frames, name).to_pandas() for name in ("reports", "cells", "findings", "narrative")})


def frames_from_reports(items: Iterable[dict]) -> Frames:
    """Frames from ``{"report_id", "agency", "year", ..., "report": contract, "narrative": {key: n}}``.

    Missing metadata defaults to None; ``agency_id`` defaults to the agency name and
    ``is_current`` to True.
    """
    reps, cells, finds, narr = [], [], [], []
    for it in items:
        report = it["report"]
        rid = it["report_id"]
        tpl = report.get("templates") or {}
        row = {c: it.get(c) for c in REPORT_COLUMNS}
        row["agency"] = it.get("agency") or report.get("agency")
        row["year"] = it.get("year") or report.get("year")
        row["agency_id"] = it.get("agency_id") or row["agency"]
        row["is_current"] = it.get("is_current", True)
        row["template_active_disclosure"] = tpl.get("active_disclosure")
        row["template_applications"] = tpl.get("applications")
        reps.append(row)
        for c in records.iter_cells(report):
            value = None if c.value is None else float(c.value)
            cells.append((rid, c.table, c.item, c.measure, value, c.marker))
        for f in report.get("findings") or ():
            finds.append((rid, f.get("code"), f.get("severity"), f.get("message"), f.get("where")))
        for key, value in (it.get("narrative") or {}).items():
            narr.append((rid, key, value))
    return Frames(
        reports=pd.DataFrame(reps, columns=list(REPORT_COLUMNS)),
        cells=pd.DataFrame(cells, columns=list(CELL_COLUMNS)).astype({"value": "float64"}),
        findings=pd.DataFrame(finds, columns=list(FINDING_COLUMNS)),
        narrative=pd.DataFrame(narr, columns=list(NARRATIVE_COLUMNS)),
    )
