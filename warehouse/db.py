"""The private warehouse database (``$XXGK_HOME/warehouse.duckdb``) and its SQL files.

SQL lives in ``warehouse/sql/{staging,facts,marts}/``. Files named ``NN_*.sql`` of staging
and facts make up the schema (run in order by :func:`init_schema`); the others are run by
the loader and the publisher. Python only runs them; values always travel as parameters or
registered frames, never inside the SQL text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pyarrow as pa

from transforms import formatspec as fs

SQL_DIR = Path(__file__).parent / "sql"
SCHEMA_LAYERS = ("staging", "facts")
_NUMBERED = re.compile(r"^\d\d_.*\.sql$")


def connect(path: str | os.PathLike, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open (creating it if needed) the warehouse database; only the pipeline opens it.

    ``memory_limit`` (e.g. "512MB") bounds DuckDB's buffers, which spill to disk beyond it;
    DuckDB's own default is 80 % of the machine's memory, and building the marts of 10,000
    reports then held ~700 MB where 300 MB do (1.7 s slower).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), config={"memory_limit": memory_limit} if memory_limit else {})


_MEMORY = re.compile(r"(?i)^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


@contextmanager
def memory_limit(con: duckdb.DuckDBPyConnection, limit: str, restore: str | None) -> Iterator[None]:
    """DuckDB's memory limit (the database's, every connection's) set to ``limit`` for a block, then to
    ``restore`` (the connection's own setting; None: DuckDB's default). What the limit bounds is mostly
    DuckDB's cache of the blocks it read, which the buffer pool keeps up to the limit."""
    for value in (limit, restore):
        if value is not None and not _MEMORY.match(value):
            raise ValueError(f"not a memory size: {value!r}")
    con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{restore}'" if restore else "RESET memory_limit")


def sql_text(layer: str, name: str) -> str:
    path = SQL_DIR / layer / name
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {layer}/{name} under {SQL_DIR}")
    return path.read_text(encoding="utf-8")


def run_sql(con: duckdb.DuckDBPyConnection, layer: str, name: str, params=None) -> None:
    """Run one SQL file. A file with parameters must hold a single statement."""
    text = sql_text(layer, name)
    try:
        if params is None:
            con.execute(text)
        else:
            con.execute(text, params)
    except duckdb.Error as exc:
        raise RuntimeError(f"warehouse SQL {layer}/{name} failed: {exc}") from exc


def query(con: duckdb.DuckDBPyConnection, layer: str, name: str, params=None) -> list[tuple]:
    """Run a single-statement SQL file and fetch all its rows."""
    try:
        return con.execute(sql_text(layer, name), params).fetchall()
    except duckdb.Error as exc:
        raise RuntimeError(f"warehouse SQL {layer}/{name} failed: {exc}") from exc


def numbered_files(layer: str) -> list[str]:
    return sorted(p.name for p in (SQL_DIR / layer).iterdir() if _NUMBERED.match(p.name))


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the staging and fact schema (idempotent) and refresh ``dim_code`` from formatspec
    and ``ref_status`` from warehouse/statuses.py."""
    from warehouse.statuses import status_table

    with session(con) as cur:
        cur.register("in_status", status_table())
        run_sql(cur, "facts", "refresh_status.sql")
        for layer in SCHEMA_LAYERS:
            for name in numbered_files(layer):
                run_sql(cur, layer, name)
        with transaction(cur):
            cur.register("in_code", code_table())
            run_sql(cur, "facts", "refresh_codes.sql")


def code_table() -> pa.Table:
    """Every cell code of every template, read from transforms/formatspec.py."""
    import pyarrow as pa  # here, not at the top: a re-run with nothing new opens the warehouse without it

    rows: list[tuple] = []
    for tpl in fs.TEMPLATES:
        for n, (item, measure, m) in enumerate(fs.ad_cells(tpl)):
            label = next(it.label for it in fs.AD_ITEMS[tpl] if it.key == item)
            rows.append((fs.ACTIVE_DISCLOSURE, tpl, item, measure, label, m.label, None, None, m.vtype, n))
        n = 0
        for row in fs.app_rows(tpl):
            for col in fs.APPLICANT_COLUMNS:
                rows.append((fs.APPLICATIONS, tpl, row.key, col.key, row.label, col.label, row.group, row.leaf,
                             fs.COUNT, n))
                n += 1
    n = 0
    for grp in fs.RL_GROUPS:
        for out in fs.RL_OUTCOMES:
            rows.append((fs.REVIEW_LITIGATION, fs.STANDARD, grp.key, out.key, grp.label, out.label, None, None,
                         fs.COUNT, n))
            n += 1
    names = ["table_name", "template", "item", "measure", "item_label", "measure_label", "grp", "leaf",
             "vtype", "ordinal"]
    types = [pa.string()] * 7 + [pa.bool_(), pa.string(), pa.int32()]
    cols = list(zip(*rows, strict=True))
    return pa.table({n: pa.array(c, t) for n, c, t in zip(names, cols, types, strict=True)})


@contextmanager
def session(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A separate connection to the same database for one unit of work.

    DuckDB 2 refuses new work on a connection whose last result was not fully fetched
    (e.g. after a caller's ``fetchone()``); a cursor has its own result, temp tables and
    registered frames, so the warehouse functions never trip over the caller's state.
    """
    cur = con.cursor()
    try:
        yield cur
    finally:
        cur.close()


@contextmanager
def transaction(cur: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """The block's statements on ``cur`` as one transaction: committed at its end, rolled back
    when it raises."""
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise


def year_state(con: duckdb.DuckDBPyConnection, year: int) -> list[list]:
    """A token of the stored rows a run of ``year`` depends on (staging/year_state.sql)."""
    with session(con) as cur:
        return [list(row) for row in query(cur, "staging", "year_state.sql", {"y": int(year)})]
