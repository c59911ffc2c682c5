"""Validation results and the gate's decision, stored in the warehouse."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from transforms import formatspec as fs
from warehouse.statuses import CHECK_STATUSES, GATE_STATUSES

if TYPE_CHECKING:  # DuckDB is imported where checks are stored, not where they are made (the validators)
    import duckdb

CHECK_COLUMNS = ("report_id", "check_id", "scope", "severity", "status", "expected", "actual", "detail")
SEVERITIES = (fs.ERROR, fs.WARNING)
STATUSES = GATE_STATUSES

# Text columns whose strings repeat over a chunk's ~150,000 rows (a rule's statement is the detail of its passes):
# a validator hands them over as Arrow dictionaries (~35 MB a chunk of 2,500 reports where plain strings were
# ~55: pickled, sent and read again by both processes); DuckDB stores the same strings.
_REPEATED = ("check_id", "scope", "severity", "status", "detail")
_CHECK_SCHEMA = pa.schema([
    ("report_id", pa.string()), ("check_id", pa.string()), ("scope", pa.string()), ("severity", pa.string()),
    ("status", pa.string()), ("expected", pa.float64()), ("actual", pa.float64()), ("detail", pa.string()),
])


def store_checks(con: duckdb.DuckDBPyConnection, checks_df: pd.DataFrame) -> int:
    """Store check results; the rows of every report in ``checks_df`` replace its previous ones.

    Returns the number of rows stored. Raises ValueError naming the first bad column or value.
    """
    return store_check_table(con, check_table(checks_df))


def check_table(checks) -> pa.Table:
    """Check rows as store_check_table stores them; raises ValueError naming the first bad column
    or value. Pure (a validator process makes the table it hands back). ``checks``: a frame, or
    arrays by column (expectations.validate.validate_columns)."""
    names = checks.columns if isinstance(checks, pd.DataFrame) else checks
    missing = [c for c in CHECK_COLUMNS if c not in names]
    if missing:
        raise ValueError(f"store_checks: missing columns {missing} (need {list(CHECK_COLUMNS)})")
    df = {c: checks[c] for c in CHECK_COLUMNS}
    bad = np.asarray(pd.isna(df["report_id"]) | pd.isna(df["check_id"]))
    if bad.any():
        raise ValueError(f"store_checks: row {int(bad.argmax())} has no report_id or check_id")
    for col, allowed in (("severity", SEVERITIES), ("status", CHECK_STATUSES)):
        bad = ~_isin(df[col], allowed)
        if bad.any():
            i = int(bad.argmax())
            raise ValueError(f"store_checks: row {i} {col} {np.asarray(df[col])[i]!r} is not one of {allowed}")

    def text(col: str) -> pa.Array:
        v = df[col]
        if isinstance(v, np.ndarray) and v.dtype == object:
            try:  # Python strings (and None/NaN) as they are: converted once, here
                if col in _REPEATED:
                    codes, strings = pd.factorize(v)  # NaN/None: code -1, a null
                    return pa.DictionaryArray.from_arrays(
                        pa.array(codes, pa.int32(), mask=codes < 0), pa.array(strings, pa.string()))
                return pa.array(v, pa.string(), from_pandas=True)
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                pass
        return pa.array(pd.Series(v).astype("string"), pa.string(), from_pandas=True)

    def number(col: str) -> pa.Array:
        return pa.array(np.asarray(pd.to_numeric(df[col], errors="raise"), dtype="float64"), pa.float64(),
                        from_pandas=True)

    return pa.table({c: number(c) if c in ("expected", "actual") else text(c) for c in CHECK_COLUMNS})


def _stored_type(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _isin(values, allowed) -> np.ndarray:
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object, copy=False)
    return s.isin(allowed).to_numpy(dtype=bool)


def store_check_table(con: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
    """Store a ``check_table``: the rows of every report in it replace its previous ones."""
    if [(f.name, _stored_type(f.type)) for f in table.schema] != [(f.name, f.type) for f in _CHECK_SCHEMA]:
        raise ValueError(f"store_check_table: schema {table.schema} is not {_CHECK_SCHEMA}")
    from warehouse import db

    with db.session(con) as cur, db.transaction(cur):
        cur.register("in_check", table)
        db.run_sql(cur, "facts", "store_checks.sql")
    return table.num_rows


def set_status(
    con: duckdb.DuckDBPyConnection,
    statuses: Mapping[str, str],
    reasons: Mapping[str, str | Iterable[str]] | None = None,
) -> None:
    """Record the gate's decision per report: 'passed' or 'quarantined', with optional reasons."""
    reasons = reasons or {}
    rows = []
    for rid, status in statuses.items():
        if status not in STATUSES:
            raise ValueError(f"set_status: status of {rid} is {status!r}, not one of {STATUSES}")
        why = reasons.get(rid)
        if why is not None and not isinstance(why, str):
            why = "; ".join(str(x) for x in why)
        rows.append({"report_id": rid, "status": status, "reasons": why or None})
    if not rows:
        return
    table = pa.Table.from_pylist(rows, schema=pa.schema([("report_id", pa.string()), ("status", pa.string()),
                                                         ("reasons", pa.string())]))
    from warehouse import db

    with db.session(con) as cur, db.transaction(cur):
        cur.register("in_status", table)
        db.run_sql(cur, "facts", "set_status.sql")
