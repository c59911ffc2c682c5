"""The artifacts every ``etl_year`` run leaves (flows/etl.py): a table of per-report outcomes, a markdown
summary with the counts and the marts path, and a link to the Data Docs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect.artifacts import create_link_artifact, create_markdown_artifact

from flows.ahead import Ahead
from flows.outcomes import RunSummary


def _artifact_year_key(kind: str, year: int) -> str:
    return f"xxgk-{kind}-{year}"  # artifact keys: lowercase letters, digits and dashes


def create_rows_table(rows: list[dict[str, Any]], key: str, description: str) -> None:
    """``create_table_artifact``'s request (same type, key, runs and rows), with the rows' JSON written once and
    non-ASCII text as is: Prefect's own validates each of 10,000 rows with pydantic, walks them for NaNs and
    writes each Chinese character as a 6-byte escape (a 3.35 MB request at 10,000 reports, 2.9 MB now)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import ArtifactCreate
    from prefect.utilities.context import get_task_and_flow_run_ids

    task_run_id, flow_run_id = get_task_and_flow_run_ids()
    data = json.dumps(rows, ensure_ascii=False, allow_nan=False)
    with get_client(sync_client=True) as client:
        client.create_artifact(ArtifactCreate(type="table", key=key, description=description, data=data,
                                              flow_run_id=flow_run_id, task_run_id=task_run_id))


def create_report_table(summary: RunSummary) -> None:
    """The per-report table: every report of the run, its fetch, parse and outcome, with reasons."""
    rows = [r.row() for r in summary.reports] or [{"agency": "", "outcome": "no registry row for this year"}]
    create_rows_table(rows, _artifact_year_key("reports", summary.year),
                      f"Per-report outcomes of {summary.year}: fetch, parse, gate, publish, with reasons")


class ReportTable(Ahead):
    """The per-report table artifact, posted from a thread once the outcomes are final (after the publish):
    the server takes ~0.5 s to store 10,000 rows, which the Data Docs and the run record's steps cover.
    ``finish`` waits for it; a table never started (a run that stopped earlier) or whose post failed is
    posted then, as before."""

    name = "xxgk-report-table"

    def work(self, summary: RunSummary) -> None:
        create_report_table(summary)


def publish_artifacts(summary: RunSummary, table: ReportTable | None = None) -> None:
    markdown = summary.markdown()
    if summary.unchanged_since:
        # The outcomes are the recorded run's (flows/runrecord.py), whose table is the latest of its key:
        # posting 10,000 identical rows again was a sixth of an unchanged re-run.
        markdown += (f"\n\nThe per-report table (`{_artifact_year_key('reports', summary.year)}`) is the one of "
                     f"the run of {summary.unchanged_since}.")
    else:
        (table or ReportTable()).finish(summary)
    create_markdown_artifact(
        markdown=markdown,
        key=_artifact_year_key("summary", summary.year),
        description=f"xxgk run summary for {summary.year}",
    )
    target = summary.data_docs_path or summary.marts_path
    if target:
        link = target if "://" in target else "file://" + str(Path(target).resolve())
        create_link_artifact(
            link=link,
            link_text="Data Docs" if summary.data_docs_path else "marts.duckdb (no Data Docs built)",
            key=_artifact_year_key("data-docs", summary.year),
            description=f"Validation results (Great Expectations Data Docs) of {summary.year}",
        )
    else:
        create_markdown_artifact(
            markdown=f"No Data Docs for {summary.year}: nothing was validated.",
            key=_artifact_year_key("data-docs", summary.year),
        )
