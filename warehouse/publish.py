"""Publish the marts for BI tools: ``$XXGK_HOME/marts.duckdb`` and ``$XXGK_HOME/marts/*.parquet``.

The database is built in a temporary file beside ``marts.duckdb`` in the DuckDB 1.x storage
format (``STORAGE_VERSION 'v1.0.0'``), checkpointed and detached, then moved over the old
file with ``os.replace``. A reader that opens the file sees either the old or the new
database, never a half-written one; a reader already open keeps reading the old one (its
open file survives the rename). Each Parquet file is swapped the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse import db, describe
from warehouse.layout import MARTS_DB, MARTS_PARQUET
from warehouse.statuses import PUBLISHED, QUARANTINED, status_table

# CONTRACT.md §2, in the order they are written.
TABLES = (
    "dim_agency",
    "dim_report",
    "dim_code",
    "fact_active_disclosure",
    "fact_application",
    "fact_review_litigation",
    "fact_check",
    "mart_agency_year",
    "mart_region_year",
    "mart_quality",
)
# What sql/marts/copy_to_early.sql copies for the report site (it reads no fact).
SITE_TABLES = ("dim_agency", "dim_report", "mart_agency_year", "mart_region_year", "mart_quality")
STORAGE_VERSION = "v1.0.0"  # opened by DuckDB 1.x drivers (DBeaver, Metabase, duckdb-engine)
DB_NAME = MARTS_DB
PARQUET_DIR = MARTS_PARQUET
PARQUET_FETCH_ROWS = 16_384  # rows DuckDB hands over at once
# The compression DuckDB uses for the published facts' text columns (codes, report ids, check words
# and details: few distinct values), which it picks anyway: named, so that the copy does not try FSST
# and RLE on every segment first (~0.2 CPU-s of each large fact at 10,000 reports; the same segments
# and file size). Numbers keep DuckDB's own choice (the setting does not apply to them).
FACT_TEXT_COMPRESSION = "dictionary"
PARQUET_ROW_GROUP = 122_880  # rows per Parquet row group (DuckDB's own row group size)


@dataclass(frozen=True)
class PublishSummary:
    path: Path
    parquet_dir: Path
    published: int  # current reports in the facts and marts
    quarantined: int  # current reports held back (listed in mart_quality)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # report_id -> (status, reasons) as published: 'published' or 'quarantined'; the warehouse may
    # hold back more than the gate named (a failed error-severity check)
    statuses: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(home: Path, parquet_dir: Path) -> None:
    # Left over by a publish that died; only one process can hold the warehouse, so none is live.
    for p in [*home.glob(f".{DB_NAME}.tmp-*"), *parquet_dir.glob(".*.parquet.tmp-*")]:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


@contextlib.contextmanager
def marts_built(con: duckdb.DuckDBPyConnection, quarantined: Iterable[str] | None = None) -> Iterator[None]:
    """The published tables as ``out_<table>`` of the warehouse session, for the block: temporary
    tables, and views for the four facts (read once, by the copy into the published file), which
    read the frames registered here."""
    ids = sorted(set(quarantined or ()))
    con.register("arg_quarantined", pa.table({"report_id": pa.array(ids, pa.string())}))
    con.register("arg_dim_code", describe.code_table())
    con.register("arg_status", status_table())
    try:
        for name in db.numbered_files("marts"):
            db.run_sql(con, "marts", name)
        yield
    finally:
        con.unregister("arg_quarantined")
        con.unregister("arg_dim_code")
        con.unregister("arg_status")


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_tables(cur: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """COMMENT ON every published table and column (warehouse/describe.py; COMMENT takes no
    parameters, so the text goes in as an escaped literal; the names are the constant TABLES)."""
    columns = cur.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = $db "
                          "ORDER BY table_name, column_index", {"db": catalog}).fetchall()
    statements = [f"COMMENT ON TABLE {catalog}.{t} IS {_sql_literal(text)}"
                  for t in TABLES if (text := describe.table_comment(t)) is not None]
    statements += [f'COMMENT ON COLUMN {catalog}.{t}."{col}" IS {_sql_literal(text)}'
                   for t, col in columns if t in TABLES and (text := describe.column_comment(t, col)) is not None]
    with db.transaction(cur):  # one commit, not one per comment (0.8 s of 4,000 reports' publish)
        for statement in statements:
            cur.execute(statement)


def write_parquet(cur: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """The published ``pub.<table>`` (attached) as Parquet, each field's ``description`` metadata its column's comment."""
    import pyarrow.parquet as pq

    # Streamed: fact_check alone is ~7 KB a report as Arrow, and the whole table fetched at once
    # grew the flow's memory with the year's size. DuckDB's batches are kept small (large ones
    # cost it more memory) and gathered into row groups of PARQUET_ROW_GROUP rows.
    batches = cur.sql(f"SELECT * FROM pub.{table}").fetch_record_batch(PARQUET_FETCH_ROWS)  # one of TABLES
    fields = []
    for f in batches.schema:
        text = describe.column_comment(table, f.name)
        fields.append(f.with_metadata({"description": text}) if text else f)
    schema = pa.schema(fields, metadata={"description": describe.table_comment(table) or table})
    with pq.ParquetWriter(str(path), schema) as writer:
        group: list[pa.RecordBatch] = []
        rows = 0
        for batch in batches:
            group.append(batch)
            rows += batch.num_rows
            if rows >= PARQUET_ROW_GROUP:
                writer.write_table(pa.Table.from_batches(group).cast(schema))
                group, rows = [], 0
        if group:
            writer.write_table(pa.Table.from_batches(group).cast(schema))


@contextlib.contextmanager
def _compression(cur: duckdb.DuckDBPyConnection, method: str | None) -> Iterator[None]:
    """DuckDB's ``force_compression`` (a setting of the whole database) for the block; None: as it is."""
    if method is None:
        yield
        return
    cur.execute(f"SET force_compression = '{method}'")  # one of the constants above
    try:
        yield
    finally:
        cur.execute("RESET force_compression")


def copy_and_export(cur: duckdb.DuckDBPyConnection, parquet: dict[str, Path]) -> None:
    """The built tables copied into the attached ``pub`` (sql/marts/copy_to_pub.sql, one statement
    per table, in the order of TABLES), and each published table written as Parquet as soon as it
    is copied, by a second thread on its own connection: the Parquet writer (one core) runs while
    DuckDB builds the next tables, not after them all."""
    from concurrent.futures import ThreadPoolExecutor

    statements = cur.extract_statements(db.sql_text("marts", "copy_to_pub.sql"))
    if [s.query.split("pub.", 1)[-1].split(None, 1)[0] for s in statements] != list(TABLES):
        raise RuntimeError("warehouse SQL marts/copy_to_pub.sql must create each of TABLES, in their order")
    reader = cur.cursor()  # the same database (and its attached pub), its own transactions
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="xxgk-parquet") as writer:
            written = []
            try:
                for statement, table in zip(statements, TABLES, strict=True):
                    try:
                        with _compression(cur, FACT_TEXT_COMPRESSION if table.startswith("fact_") else None):
                            cur.execute(statement)
                    except duckdb.Error as exc:
                        raise RuntimeError(f"warehouse SQL marts/copy_to_pub.sql failed: {exc}") from exc
                    written.append(writer.submit(write_parquet, reader, table, parquet[table]))
            except BaseException:
                for future in written:
                    future.cancel()  # none is left to start when a copy failed
                raise
            for future in written:
                future.result()  # from the published tables, as published; raises what a writer raised
    finally:
        reader.close()


def publish(con: duckdb.DuckDBPyConnection, home: Path, quarantined: set[str] | None = None,
            alongside: Callable[[Path], Callable[[bool], None]] | None = None) -> PublishSummary:
    """Build and atomically publish marts.duckdb and marts/*.parquet under ``home``.

    ``alongside(path)``, when given, is called as soon as the dimensions and marts are built, with
    a file that holds them as they are published (sql/marts/copy_to_early.sql: the same rows, from
    the same tables, not the facts), for work that reads them while the facts are copied (the
    report site). It returns ``done(published)``, called once the new files are in place (True) or
    when the publish failed (False): what it made from the file must not be shown before.
    """
    t0 = time.monotonic()
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    parquet_dir = home / PARQUET_DIR
    parquet_dir.mkdir(exist_ok=True)
    _remove_stale(home, parquet_dir)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_db = home / f".{DB_NAME}.tmp-{tag}"
    wal = tmp_db.with_name(tmp_db.name + ".wal")
    early = tmp_db.with_name(tmp_db.name + ".early")
    tmp_parquet = {t: parquet_dir / f".{t}.parquet.tmp-{tag}" for t in TABLES}
    rows: dict[str, int] = {}
    done: Callable[[bool], None] | None = None
    published = False
    with db.session(con) as cur:  # its own temp tables, dropped with it
        try:
            with marts_built(cur, quarantined):
                if alongside is not None:
                    cur.execute("ATTACH $path AS early", {"path": str(early)})
                    try:
                        db.run_sql(cur, "marts", "copy_to_early.sql")
                    finally:
                        cur.execute("DETACH early")
                    done = alongside(early)
                cur.execute(f"ATTACH $path AS pub (STORAGE_VERSION '{STORAGE_VERSION}')", {"path": str(tmp_db)})
                try:
                    copy_and_export(cur, tmp_parquet)
                    comment_tables(cur, "pub")
                    for t in TABLES:  # identifiers from the constant list above, never user input
                        rows[t] = cur.execute(f"SELECT count(*) FROM pub.{t}").fetchall()[0][0]
                    cur.execute("CHECKPOINT pub")
                finally:
                    cur.execute("DETACH pub")
            if wal.exists():
                raise RuntimeError(f"publish: {wal} remained after the checkpoint; the file is not self-contained")
            with open(tmp_db, "rb+") as fh:
                os.fsync(fh.fileno())
            # Everything is written: now swap, the database first, then each Parquet file.
            drop_reader_wal(home / DB_NAME)
            os.replace(tmp_db, home / DB_NAME)
            for t, path in tmp_parquet.items():
                os.replace(path, parquet_dir / f"{t}.parquet")
            _fsync_dir(home)
            _fsync_dir(parquet_dir)
            published = True
        finally:
            if done is not None:
                done(published)
            for p in [tmp_db, wal, *tmp_parquet.values(), early, early.with_name(early.name + ".wal")]:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
        statuses = {rid: (st, why) for rid, st, why in db.query(cur, "marts", "scope_rows.sql")}
    return PublishSummary(
        path=home / DB_NAME,
        parquet_dir=parquet_dir,
        published=sum(1 for st, _ in statuses.values() if st == PUBLISHED),
        quarantined=sum(1 for st, _ in statuses.values() if st == QUARANTINED),
        rows=rows,
        seconds=round(time.monotonic() - t0, 3),
        statuses=statuses,
    )


# ---------------------------------------------------------------- what readers leave behind
# BI tools (DBeaver) open marts.duckdb read-write by default. A user's edit whose connection died
# leaves marts.duckdb.wal beside the file: DuckDB would replay it into the next publish (rows gone,
# views added) or refuse to open it ("WAL does not match database file"). A publish is never read
# through a reader's WAL, and the status command never waits for a reader's lock.


def drop_reader_wal(db_path: Path) -> bool:
    """Remove the WAL a reader left beside the published file, just before a new one replaces it.

    Only the pipeline writes marts.duckdb, and it never writes in place: any WAL there is a
    reader's. A connection still open keeps writing to its own (now unlinked) WAL file.
    """
    wal = Path(str(db_path) + ".wal")
    try:
        wal.unlink()
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def open_published(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the last publish as published: without a reader's WAL, and
    without waiting for a reader's read-write lock (both read a private copy of the file)."""
    db_path = Path(db_path)
    wal = Path(str(db_path) + ".wal")
    if not wal.exists():
        try:
            con = duckdb.connect(str(db_path), read_only=True)
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise
        else:
            try:
                yield con
            finally:
                con.close()
            return
    with tempfile.TemporaryDirectory(prefix="xxgk-marts-") as tmp:
        copy = Path(tmp) / DB_NAME
        with open(db_path, "rb") as src, open(copy, "wb") as dst:  # one inode, even if a publish swaps it
            shutil.copyfileobj(src, dst, 1 << 20)
        con = duckdb.connect(str(copy), read_only=True)
        try:
            yield con
        finally:
            con.close()
