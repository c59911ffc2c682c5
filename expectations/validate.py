"""Validate a run's staged reports with the GX suites; one check row per report and rule.

The frames are pivoted into one wide matrix (report × cell path); each suite then runs
once over a frame holding every report of its family (``expectations.suites``), so the
cost grows with the number of rules, not with reports × rules. GX decides pass/fail;
this module only maps its unexpected rows back to report ids and adds the statuses GX
cannot express (FORMAT.md §9.3): a rule touching a cell that is absent is
``skipped_missing``, one touching a blank/unreadable cell is ``skipped_blank`` (GX ignores
those rows), a not-applicable cell counts as 0 and the detail says so.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from expectations import suites as sx
from expectations.frames import FramesLike, as_pandas
from transforms import evaluator
from transforms import formatspec as fs
from transforms.evaluator import FAIL, PASS, SKIPPED_BLANK, SKIPPED_MISSING

COLUMNS = ["report_id", "check_id", "scope", "severity", "status", "expected", "actual", "detail"]
NUMBERS = ("expected", "actual")
_STATUS = np.array([PASS, FAIL, SKIPPED_BLANK, SKIPPED_MISSING], dtype=object)  # by code 0-3
_NEGATED = {"==": "!=", "<=": ">", ">=": "<", "<": ">="}
_PREV = "prev:"
_TEMPLATE_COLUMN = {fs.ACTIVE_DISCLOSURE: "template_active_disclosure", fs.APPLICATIONS: "template_applications"}


class ValidationError(RuntimeError):
    """GX could not evaluate an expectation (never reported as a pass)."""


# --------------------------------------------------------------------------- GX runtime


@dataclass
class _Runtime:
    context: object
    batch_definitions: dict
    suites: dict


_RUNTIME: _Runtime | None = None
_LOCK = threading.Lock()  # one GX context per process; Prefect may call validate from several threads


def _runtime() -> _Runtime:
    """One ephemeral GX context per process, with the suites registered once."""
    global _RUNTIME
    if _RUNTIME is None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        from expectations.gximport import defer_unused_modules

        defer_unused_modules()  # before GX's import: ~0.8 CPU-s of modules the suites never use
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        from expectations.gximport import fast_column_lookup, without_config_copies

        fast_column_lookup()

        for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
            logging.getLogger(name).setLevel(logging.ERROR)
        ctx = gx.get_context(mode="ephemeral")
        without_config_copies(ctx)
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        source = ctx.data_sources.add_pandas("xxgk_staging")
        bds, registered = {}, {}
        for name, suite in sx.build_suites().items():
            bds[name] = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("run")
            registered[name] = ctx.suites.add(suite)
        _RUNTIME = _Runtime(ctx, bds, registered)
    return _RUNTIME


# Unexpected rows kept per expectation in the GX results handed to Data Docs (pages stay small).
DOCS_SAMPLE = 50


def _run_suite(family: str, df: pd.DataFrame, report_ids: np.ndarray,
               gx_results: list | None = None) -> dict[int, np.ndarray]:
    """{group index: positions of the rows GX found unexpected}."""
    with _LOCK:
        rt = _runtime()
        batch = rt.batch_definitions[family].get_batch(batch_parameters={"dataframe": df})
        res = batch.validate(rt.suites[family], result_format={"result_format": "COMPLETE"})
    out = {}
    for r in res.results:
        idx = r.expectation_config.meta["group_index"]
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise ValidationError(f"suite {family}, {sx.groups()[family][idx].check_id}: "
                                  f"{r.exception_info.get('exception_message')}")
        out[idx] = np.asarray(r.result.get("unexpected_index_list") or [], dtype=np.int64)
        if gx_results is not None:
            # For Data Docs: name the reports instead of frame positions, and keep a sample only.
            r.result["unexpected_index_list"] = [str(report_ids[i]) for i in out[idx][:DOCS_SAMPLE]]
            for key in ("unexpected_list", "partial_unexpected_list", "partial_unexpected_index_list",
                        "partial_unexpected_counts"):
                if r.result.get(key):
                    r.result[key] = r.result[key][:DOCS_SAMPLE]
    if gx_results is not None:
        gx_results.append((family, res))
    return out


# --------------------------------------------------------------------------- wide matrix


class _Wide:
    """Cells of every report as matrices: value (na -> 0, blank -> NaN), known, na."""

    def __init__(self, cells: pd.DataFrame, report_ids: pd.Index):
        self.rows = {rid: i for i, rid in enumerate(report_ids)}
        c = cells[cells["report_id"].isin(self.rows)]
        codes, uniques = _cell_paths(c)
        self.cols = {p: j for j, p in enumerate(uniques)}
        ri = (report_ids.get_indexer(c["report_id"]) if report_ids.is_unique  # as the map, a third of its time
              else c["report_id"].map(self.rows).to_numpy())
        n, m = len(report_ids), len(uniques)
        value = pd.to_numeric(c["value"], errors="coerce").to_numpy(dtype=float)
        is_na = (c["marker"].to_numpy() == "na") & np.isnan(value)
        self.value = np.full((n, m + 1), np.nan)
        self.known = np.zeros((n, m + 1), dtype=bool)
        self.na = np.zeros((n, m + 1), dtype=bool)
        # Reversed so that the first record of a duplicated cell wins.
        self.value[ri[::-1], codes[::-1]] = np.where(is_na, 0.0, value)[::-1]
        self.known[ri, codes] = True
        self.na[ri[::-1], codes[::-1]] = is_na[::-1]
        self.absent = m  # a column that is never known

    def get(self, rows: np.ndarray, path: str):
        j = self.cols.get(path, self.absent)
        valid = rows >= 0
        r = np.where(valid, rows, 0)
        return (np.where(valid, self.value[r, j], np.nan), self.known[r, j] & valid, self.na[r, j] & valid)


def _cell_paths(c: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Each cell's column (its path ``table.item.measure``) and the paths in order of first appearance:
    ``pd.factorize`` of the joined path strings, computed on the three columns' codes (joining ~200 strings
    a report cost more than the rest of the matrix); the paths themselves are joined once each."""
    parts = [c["table_name"], c["item"], c["measure"]]
    if not any(p.isna().any() for p in parts):
        (tc, tu), (ic, iu), (mc, mu) = (pd.factorize(p) for p in parts)
        key = (tc.astype(np.int64) * len(iu) + ic) * len(mu) + mc
        codes, keys = pd.factorize(key)
        t, rest = np.divmod(keys, len(iu) * len(mu))
        i, m = np.divmod(rest, len(mu))
        paths = [f"{a}.{b}.{d}" for a, b, d in zip(tu[t], iu[i], mu[m], strict=True)]
        if len(set(paths)) == len(paths):  # else two cells' names join to one path: as the strings do
            return codes, paths
    joined = parts[0].astype(str) + "." + parts[1].astype(str) + "." + parts[2].astype(str)
    codes, uniques = pd.factorize(joined)
    return codes, list(uniques)


@dataclass
class _Family:
    name: str
    report_ids: np.ndarray
    columns: dict  # column -> (value, known, na) arrays

    def frame(self) -> pd.DataFrame:
        data = {col: v for col, (v, _, _) in self.columns.items()}
        data[sx.ZERO] = np.zeros(len(self.report_ids))
        return pd.DataFrame(data)


def _family_columns(wide: _Wide, rules, self_rows: np.ndarray, prev_rows: np.ndarray | None = None) -> dict:
    cols = {}
    for rule in rules:
        for p in rule.paths:
            if p in cols:
                continue
            if p.startswith(_PREV):
                cols[p] = wide.get(prev_rows, p.removeprefix(_PREV))
            else:
                cols[p] = wide.get(self_rows, p)
    return cols


# --------------------------------------------------------------------------- results


def _rows(n: int, **columns) -> dict[str, np.ndarray]:
    """Check rows (``COLUMNS``) as ``n`` rows of arrays, a scalar repeated: a rule's rows stay numpy arrays of
    Python strings, joined once (``validate_columns``); a pandas frame a rule converted every row's strings to
    Arrow, and the validator then took the rows that are no passes out again (~0.2 CPU-s of a chunk's ~1)."""
    out = {}
    for c in COLUMNS:
        v = columns[c]
        out[c] = v if isinstance(v, np.ndarray) else np.full(n, v, dtype=float if c in NUMBERS else object)
    return out


def _take(rows: dict[str, np.ndarray], keep: np.ndarray | None) -> dict[str, np.ndarray]:
    return rows if keep is None else {c: v[keep] for c, v in rows.items()}


def _count(rows: dict[str, np.ndarray]) -> int:
    return len(rows["report_id"])


def _fmt(v: float) -> str:
    if v != v:  # NaN
        return "?"
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _side_text(rule: sx.Rule, side: int, values: dict[str, float]) -> str:
    parts = []
    for t in evaluator.sides(rule.check)[side]:
        text = _fmt(values[t.text]) if t.const is None else _fmt(float(t.const))
        if parts:
            parts.append(("- " if t.sign < 0 else "+ ") + text)
        else:
            parts.append(("-" if t.sign < 0 else "") + text)
    return " ".join(parts)


def _sum_rule_rows(rule: sx.Rule, fam: _Family, failed: np.ndarray, keep: np.ndarray | None = None) -> dict:
    paths = list(dict.fromkeys(rule.paths))
    vals = np.column_stack([fam.columns[p][0] for p in paths]) if paths else np.zeros((len(fam.report_ids), 0))
    known = np.column_stack([fam.columns[p][1] for p in paths])
    na = np.column_stack([fam.columns[p][2] for p in paths])
    missing = ~known
    blank = known & np.isnan(vals)
    any_missing, any_blank, any_na = missing.any(axis=1), blank.any(axis=1), na.any(axis=1)
    if rule.check_id == "H7":  # a count against its expected value: GX alone decides
        any_missing[:] = False
        any_blank[:] = False
    status = _STATUS[np.where(any_missing, 3, np.where(any_blank, 2, np.where(failed, 1, 0)))]
    col = {p: i for i, p in enumerate(paths)}
    sides = evaluator.side_sums(rule.check, lambda column: vals[:, col[column]])
    checked = (status == PASS) | (status == FAIL)
    expected = np.where(checked, sides[0], np.nan)
    actual = np.where(checked, sides[1], np.nan)

    statement = rule.statement()
    detail = np.full(len(fam.report_ids), statement, dtype=object)
    for i in np.flatnonzero(~checked | failed | any_na):
        if status[i] == SKIPPED_MISSING:
            detail[i] = f"{statement}: not checked, not in the report: " + ", ".join(
                p for p, m in zip(paths, missing[i], strict=True) if m)
            continue
        if status[i] == SKIPPED_BLANK:
            detail[i] = f"{statement}: not checked, blank or unreadable: " + ", ".join(
                p for p, b in zip(paths, blank[i], strict=True) if b)
            continue
        row = {p: vals[i, j] for p, j in col.items()}
        op = _NEGATED[rule.op] if status[i] == FAIL else rule.op
        text = f"{statement}: {_side_text(rule, 0, row)} {op} {_side_text(rule, 1, row)}"
        if any_na[i]:
            text += " (not-applicable cells counted as 0: " + ", ".join(
                p for p, n in zip(paths, na[i], strict=True) if n) + ")"
        detail[i] = text
    out = _rows(len(fam.report_ids), report_id=fam.report_ids, check_id=rule.check_id, scope=rule.scope,
                severity=rule.severity, status=status, expected=expected, actual=actual, detail=detail)
    return _take(out, keep)


def _domain_rows(fam: _Family, domain_groups: list[tuple[sx.Group, np.ndarray]], table: str) -> dict:
    from expectations.custom import in_domain

    n = len(fam.report_ids)
    failed = np.zeros(n, dtype=bool)
    bad_cells: dict[int, list[str]] = {}
    for group, rows in domain_groups:
        failed[rows] = True
        for r in rows:
            for p in group.column_list:
                v = fam.columns[p][0][r] if p != sx.ZERO else 0.0
                if not in_domain(np.array([v]), group.domain)[0]:
                    bad_cells.setdefault(int(r), []).append(f"{p} = {_fmt(v)} (not {sx.DOMAIN_TEXT[group.domain]})")
    statement = "every cell is in the domain of its value type"
    detail = np.full(n, statement, dtype=object)
    for r, cells in bad_cells.items():
        detail[r] = f"{statement}: " + "; ".join(cells)
    present = np.zeros(n, dtype=bool)  # a table without any cell is not checked
    for group, _ in domain_groups:
        for p in group.column_list:
            if p != sx.ZERO:
                present |= fam.columns[p][1]
    detail[~present] = f"not checked: {table} is not in the report"
    return _rows(n, report_id=fam.report_ids, check_id="H5", scope=f"table={table}",
                 severity=domain_groups[0][0].severity, status=_STATUS[np.where(failed, 1, np.where(present, 0, 3))],
                 expected=np.nan, actual=np.nan, detail=detail)


def _validate_family(fam: _Family, table: str | None = None, keep_for: dict | None = None,
                     gx_results: list | None = None) -> list[dict]:
    """Run the family's suite once; the check rows (``_rows``) of each rule."""
    if len(fam.report_ids) == 0:
        return []
    from expectations.custom import evaluate_rules

    frame = fam.frame()
    unexpected = _run_suite(fam.name, frame, fam.report_ids, gx_results)
    rules = sx.rules()[fam.name]
    out, domain_groups = [], []
    for gi, group in enumerate(sx.groups()[fam.name]):
        gx_rows = unexpected.get(gi, np.zeros(0, dtype=np.int64))
        if group.kind == "domain":
            domain_groups.append((group, gx_rows))
            continue
        # GX says which reports break the invariant; the per-scope split uses the same evaluator.
        ok, evaluated = evaluate_rules(frame[list(group.column_list)].to_numpy(dtype=float, na_value=np.nan),
                                       group.rules, group.constants, group.op)
        if group.missing_fails:
            ok &= evaluated
        failed = ~ok
        if not np.array_equal(np.flatnonzero(failed.any(axis=1)), np.unique(gx_rows)):
            raise ValidationError(f"suite {fam.name}, {group.check_id}: GX and the per-scope split disagree")
        for j, i in enumerate(group.rule_indices):
            rule = rules[i]
            out.append(_sum_rule_rows(rule, fam, failed[:, j], (keep_for or {}).get(rule.check_id)))
    if domain_groups:
        out.append(_domain_rows(fam, domain_groups, table))
    return out


# --------------------------------------------------------------------------- families


def _rows_of(wide: _Wide, ids) -> np.ndarray:
    return np.array([wide.rows.get(r, -1) for r in ids], dtype=np.int64)


def _previous(reports: pd.DataFrame, all_reports: pd.DataFrame) -> pd.Series:
    """report_id -> the report id of the same agency's previous year (current version preferred)."""
    prev = all_reports[["report_id", "agency_id", "year", "is_current"]].dropna(subset=["agency_id", "year"])
    prev["is_current"] = prev["is_current"].fillna(True).astype(bool)
    prev = prev.sort_values("is_current").drop_duplicates(["agency_id", "year"], keep="last")
    prev = prev.rename(columns={"report_id": "prev_id"})
    prev["year"] = prev["year"] + 1
    merged = reports[["report_id", "agency_id", "year"]].dropna(subset=["agency_id", "year"]).merge(
        prev[["prev_id", "agency_id", "year"]], on=["agency_id", "year"], how="left")
    return merged.set_index("report_id")["prev_id"]


def _h7_family(wide: _Wide, reports: pd.DataFrame) -> tuple[_Family, dict]:
    ids = reports["report_id"].to_numpy()
    rows = _rows_of(wide, ids)
    valid = rows >= 0
    cols, missing_lists = {}, {}
    rl_paths = [p for p in fs.cell_paths(None, None)]
    for t in fs.TABLES:
        found = np.zeros(len(ids))
        expected = np.full(len(ids), np.nan)
        miss: dict = {}
        if t == fs.REVIEW_LITIGATION:
            known = _known(wide, rows, valid, rl_paths)
            present = known.any(axis=1)  # a table with none of its cells is missing
            groups = [(fs.STANDARD, np.flatnonzero(present), rl_paths, known[present])]
        else:
            tpl_of = reports[_TEMPLATE_COLUMN[t]]
            groups = []
            for tpl in fs.TEMPLATES:
                sel = np.flatnonzero((tpl_of == tpl).to_numpy(dtype=bool, na_value=False))
                paths = [p for p in fs.cell_paths(tpl if t == fs.ACTIVE_DISCLOSURE else None,
                                                  tpl if t == fs.APPLICATIONS else None) if p.startswith(t + ".")]
                groups.append((tpl, sel, paths, _known(wide, rows[sel], valid[sel], paths)))
        without = np.ones(len(ids), dtype=bool)
        for tpl, sel, paths, known in groups:
            without[sel] = False
            found[sel] = known.sum(axis=1)
            expected[sel] = fs.SHAPE[t][tpl]
            for k in np.flatnonzero(~known.all(axis=1)):
                miss[int(sel[k])] = [p for p, ok in zip(paths, known[k], strict=True) if not ok]
        for i in np.flatnonzero(without):
            miss[int(i)] = None  # no template (or no cell of table 3): the table is missing
        ones = np.ones(len(ids), dtype=bool)
        cols[f"h7.{t}.found"] = (found, ones, ~ones)
        cols[f"h7.{t}.expected"] = (expected, ones, ~ones)
        missing_lists[t] = miss
    return _Family("report", ids, cols), missing_lists


def _known(wide: _Wide, rows: np.ndarray, valid: np.ndarray, paths: list[str]) -> np.ndarray:
    """rows × paths: the report has the cell (a path the run never saw is the never-known column)."""
    cols = np.array([wide.cols.get(p, wide.absent) for p in paths], dtype=np.int64)
    return wide.known[np.where(valid, rows, 0)][:, cols] & valid[:, None]


def _h7_details(rows: dict, missing_lists: dict, ids: np.ndarray) -> dict:
    pos = {rid: i for i, rid in enumerate(ids)}
    details = []
    for rid, scope, status, exp, act in zip(rows["report_id"], rows["scope"], rows["status"],
                                            rows["expected"], rows["actual"], strict=True):
        table = scope.removeprefix("table=")
        miss = missing_lists[table].get(pos[rid], [])
        if status == PASS:
            details.append(f"{table}: all {_fmt(exp)} cells present")
        elif miss is None:
            details.append(f"{table}: table missing (not in the report, or not readable); its checks were not run")
        else:
            shown = ", ".join(miss[:8]) + (f" (+{len(miss) - 8} more)" if len(miss) > 8 else "")
            details.append(f"{table}: {_fmt(act)} of {_fmt(exp)} cells present; missing: {shown}")
    detail = np.empty(len(details), dtype=object)
    detail[:] = details
    return {**rows, "detail": detail}


def _missing_table_rows(reports: pd.DataFrame) -> list[dict]:
    """The checks of a table 1/2 the report does not have: skipped_missing, one row per check id."""
    out = []
    for table, col in _TEMPLATE_COLUMN.items():
        ids = reports.loc[~reports[col].isin(fs.TEMPLATES), "report_id"].to_numpy()
        if len(ids) == 0:
            continue
        for cid, sev in [(inv.id, inv.severity) for inv in fs.INVARIANTS
                         if inv.table == table and not inv.cross_year] + [("H5", fs.OTHER_CHECKS["H5"][0])]:
            out.append(_rows(len(ids), report_id=ids, check_id=cid, scope=f"table={table}", severity=sev,
                             status=SKIPPED_MISSING, expected=np.nan, actual=np.nan,
                             detail=f"not checked: {table} is not in the report"))
    return out


def _dedupe_ids(ids: list) -> list:
    return list(dict.fromkeys(ids))


def validate(frames: FramesLike, prev_frames: FramesLike | None = None, *,
             gx_results: list | None = None) -> pd.DataFrame:
    """Check rows (``COLUMNS``) for every report of ``frames.reports``.

    ``prev_frames`` may hold earlier years (for X1/X2); its reports are not validated.
    ``gx_results``, when given, receives ``(suite name, ExpectationSuiteValidationResult)``
    per suite run (for ``expectations.datadocs.build_docs``).
    """
    columns = validate_columns(frames, prev_frames, gx_results=gx_results)
    return pd.DataFrame(columns=COLUMNS) if columns is None else check_frame(columns)


def check_frame(columns: dict[str, np.ndarray], index=None) -> pd.DataFrame:
    """Check rows given as ``validate_columns`` gives them, as the frame ``validate`` returns (text
    columns of pandas' ``str``, numbers float)."""
    return pd.DataFrame({c: (columns[c].astype(float) if c in NUMBERS else pd.array(columns[c], dtype="str"))
                         for c in COLUMNS}, index=index)


def validate_columns(frames: FramesLike, prev_frames: FramesLike | None = None, *,
                     gx_results: list | None = None) -> dict[str, np.ndarray] | None:
    """``validate``'s check rows as arrays by column (text: Python strings in object arrays), or None
    when there is no report."""
    frames, prev_frames = as_pandas(frames), as_pandas(prev_frames)
    reports = frames.reports.reset_index(drop=True)
    if "is_current" not in reports:
        reports = reports.assign(is_current=True)
    all_reports, all_cells = reports, frames.cells
    if prev_frames is not None:
        pr = prev_frames.reports
        if "is_current" not in pr:
            pr = pr.assign(is_current=True)
        all_reports = pd.concat([reports, pr[~pr["report_id"].isin(reports["report_id"])]], ignore_index=True)
        all_cells = pd.concat([frames.cells, prev_frames.cells[~prev_frames.cells["report_id"].isin(
            reports["report_id"])]], ignore_index=True)
    if reports.empty:
        return None
    wide = _Wide(all_cells, pd.Index(_dedupe_ids(list(all_reports["report_id"]))))
    rules = sx.rules()
    out: list[dict] = []

    # Tables 1 and 2, per template; table 3 for every report (absent cells -> skipped_missing).
    s2_keep_levels = reports["level"].isin(sx.NO_RULEMAKING_LEVELS) if "level" in reports else None
    for table, col in _TEMPLATE_COLUMN.items():
        for tpl in fs.TEMPLATES:
            sel = reports[col] == tpl
            ids = reports.loc[sel, "report_id"].to_numpy()
            fam = f"{table}.{tpl}"
            rows = _rows_of(wide, ids)
            keep = {}
            if table == fs.ACTIVE_DISCLOSURE:
                keep["S2"] = (s2_keep_levels[sel].to_numpy() if s2_keep_levels is not None
                              else np.zeros(len(ids), dtype=bool))
            family = _Family(fam, ids, _family_columns(wide, rules[fam], rows))
            out += _validate_family(family, table, keep, gx_results)
    ids = reports["report_id"].to_numpy()
    fam = f"{fs.REVIEW_LITIGATION}.{fs.STANDARD}"
    out += _validate_family(_Family(fam, ids, _family_columns(wide, rules[fam], _rows_of(wide, ids))),
                            fs.REVIEW_LITIGATION, gx_results=gx_results)
    out += _missing_table_rows(reports)

    # H7 shape.
    h7, missing_lists = _h7_family(wide, reports)
    out += [_h7_details(f, missing_lists, ids) for f in _validate_family(h7, gx_results=gx_results)]

    # X1/X2: the same agency's previous year, same template for the table (X4).
    prev_id = _previous(reports, all_reports)
    tpl_of = all_reports.drop_duplicates("report_id").set_index("report_id")
    for table, col in _TEMPLATE_COLUMN.items():
        for tpl in fs.TEMPLATES:
            fam = f"cross_year.{table}.{tpl}"
            if fam not in rules:
                continue
            pids = prev_id.reindex(reports["report_id"]).to_numpy()
            has_prev = pd.notna(pids)
            this_tpl = reports[col].to_numpy() == tpl
            prev_tpl = np.array([pd.notna(p) and tpl_of.at[p, col] == tpl for p in pids], dtype=bool)
            sel = has_prev & this_tpl & prev_tpl
            ids_sel = reports["report_id"].to_numpy()[sel]
            cols = _family_columns(wide, rules[fam], _rows_of(wide, ids_sel), _rows_of(wide, pids[sel]))
            out += _validate_family(_Family(fam, ids_sel, cols), gx_results=gx_results)

    out += _narrative_rows(wide, reports, frames.narrative, gx_results)
    out += _hierarchy_rows(wide, reports, gx_results)
    out = [r for r in out if _count(r)]  # H7 gives every report rows
    return {c: np.concatenate([r[c] for r in out]) for c in COLUMNS}


def _narrative_rows(wide: _Wide, reports: pd.DataFrame, narrative: pd.DataFrame | None,
                    gx_results: list | None = None) -> list[dict]:
    if narrative is None or narrative.empty:
        return []
    rules = sx.rules()["narrative"]
    keys = {r.scope.removeprefix("figure="): r for r in rules}
    nar = narrative[narrative["key"].isin(keys) & narrative["report_id"].isin(reports["report_id"])]
    nar = nar.assign(value=pd.to_numeric(nar["value"], errors="coerce")).dropna(subset=["value"])
    if nar.empty:
        return []
    table = nar.drop_duplicates(["report_id", "key"]).pivot(index="report_id", columns="key", values="value")
    ids = table.index.to_numpy()
    rows = _rows_of(wide, ids)
    cols = _family_columns(wide, rules, rows)
    stated = {}
    for key in keys:
        v = table[key].to_numpy(dtype=float) if key in table else np.full(len(ids), np.nan)
        stated[key] = ~np.isnan(v)
        cols[sx.NARRATIVE + key] = (v, stated[key], np.zeros(len(ids), dtype=bool))
    fam = _Family("narrative", ids, cols)
    out = []
    for rows in _validate_family(fam, gx_results=gx_results):
        # a row only for the figures the narrative states
        stated_key = rows["scope"][0].removeprefix("figure=")
        out.append(_take(rows, stated[stated_key]))
    return out


def _hierarchy_rows(wide: _Wide, reports: pd.DataFrame, gx_results: list | None = None) -> list[dict]:
    if "parent" not in reports:
        return []
    cur = reports[reports["is_current"].fillna(True).astype(bool)]
    kids = cur[cur["parent"].notna() & (cur["parent"].astype(str) != "")]
    if kids.empty:
        return []
    parents = cur.merge(kids[["parent", "year", "report_id"]].rename(columns={"report_id": "child_id"}),
                        left_on=["agency", "year"], right_on=["parent", "year"], how="inner")
    if parents.empty:
        return []
    rules = sx.rules()["hierarchy"]
    groups = parents.groupby("report_id", sort=False)["child_id"].apply(list)
    ids = groups.index.to_numpy()
    rows = _rows_of(wide, ids)
    cols = _family_columns(wide, rules, rows)
    for p in sx.HIERARCHY_PATHS:
        total = np.zeros(len(ids))
        known = np.ones(len(ids), dtype=bool)
        na = np.zeros(len(ids), dtype=bool)
        for i, children in enumerate(groups):
            v, k, n = wide.get(_rows_of(wide, children), p)
            total[i] = v.sum()  # NaN when a child's cell is blank -> skipped_blank
            known[i] = k.all()
            na[i] = n.any()
        cols[sx.CHILDREN + p] = (total, known, na)
    return _validate_family(_Family("hierarchy", ids, cols), gx_results=gx_results)
