"""The publishing gate: which reports are quarantined, and whether to publish at all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from transforms import formatspec as fs
from transforms.evaluator import FAIL


@dataclass(frozen=True)
class GateDecision:
    quarantined: dict[str, list[str]] = field(default_factory=dict)  # report_id -> reasons
    publish: bool = True
    reason: str = ""


def _reason(check_id: str, scope: str, detail: str) -> str:
    name = f"{check_id}[{scope}]" if scope else check_id
    # detail is "<rule with the cells named>: <the values>"; the values are the useful part.
    values = detail.split(": ", 1)[1] if ": " in detail else detail
    return f"{name}: {values}"


def decide(checks_df: pd.DataFrame, report_ids: Iterable[str], max_fail_share: float = 0.5) -> GateDecision:
    """Quarantine every report with a failed ``error`` check; stop the publish if too many fail.

    ``report_ids`` are the reports of this run (the denominator of the share). A report
    without any check row is not quarantined here: H7 makes sure every validated report has
    rows. Publishing is stopped when more than ``max_fail_share`` of the run's reports are
    quarantined, or when the run has no report at all.
    """
    if not 0 <= max_fail_share <= 1:
        raise ValueError(f"max_fail_share must be between 0 and 1, got {max_fail_share!r}")
    ids = list(dict.fromkeys(report_ids))
    failed = checks_df[(checks_df["status"] == FAIL) & (checks_df["severity"] == fs.ERROR)
                       & checks_df["report_id"].isin(ids)]
    quarantined: dict[str, list[str]] = {}
    for rid, cid, scope, detail in zip(failed["report_id"], failed["check_id"], failed["scope"],
                                       failed["detail"].fillna(""), strict=True):
        quarantined.setdefault(rid, []).append(_reason(cid, scope, detail))
    if not ids:
        return GateDecision(quarantined, False, "no reports in this run: nothing to publish")
    share = len(quarantined) / len(ids)
    summary = f"{len(quarantined)} of {len(ids)} reports quarantined ({share:.0%})"
    if share > max_fail_share:
        return GateDecision(
            quarantined, False,
            f"{summary}, more than the allowed {max_fail_share:.0%}: publish stopped, previous marts kept",
        )
    return GateDecision(quarantined, True, f"{summary}; publishing the other {len(ids) - len(quarantined)}")
