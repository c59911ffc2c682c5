"""The staging rows of one parsed report: its cells, tables, findings, narrative and stored JSON.

Built where the report is parsed: a parse worker (flows/steps/parsing.py) stores them in the
report's parsed-cache entry, after its JSON, as a compressed Arrow stream (``rows_bytes``), so that
the one warehouse writer only appends them (``warehouse.load.load_documents``) instead of
flattening 200 cells per report in Python; the loader builds them itself (``content_rows``) for a report that has none. No DuckDB
or pandas here: a parse worker does not import them.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.ipc as ipc

from transforms.records import (
    TEXT,
    CellRecord,
    cell_markers,
    cell_tuples,
    ocr_tables,
    table_items,
    table_status,
)

# The columns of each kind of row, after the loader's (batch_pos, report_id) (warehouse/load.py adds those).
SCHEMAS = {
    "table": pa.schema([("table_name", pa.string()), ("template", pa.string()), ("status", pa.string())]),
    "cell": pa.schema([("table_name", pa.string()), ("item", pa.string()), ("measure", pa.string()),
                       ("value", pa.float64()), ("marker", pa.string()), ("provenance", pa.string())]),
    "finding": pa.schema([("seq", pa.int32()), ("code", pa.string()), ("severity", pa.string()),
                          ("message", pa.string()), ("where", pa.string())]),
    "narrative": pa.schema([("key", pa.string()), ("value", pa.int64())]),
}
KINDS = {kind: tuple(schema.names) for kind, schema in SCHEMAS.items()}
SMALL_KINDS = ("table", "finding", "narrative")  # a few rows per report: kept as JSON in the file's metadata
CELL_SCHEMA = SCHEMAS["cell"]
CELL_COLUMNS = KINDS["cell"]


@dataclass
class Rows:
    """A report's rows as the loader appends them: ``cells`` (CELL_SCHEMA), the small kinds as
    columns, and ``payload`` (the report's JSON as stored in stg_document.report_json)."""

    cells: pa.Table
    small: dict[str, dict[str, list]]
    payload: str
    head: dict  # what the document row reads of the report (HEAD_KEYS)


HEAD_KEYS = ("agency", "year", "templates")


def payload(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, sort_keys=True, default=str)


def cell_number(value, cell: CellRecord, who: str) -> float | None:
    """A cell's value as stored (a float), or a ValueError naming the report (``who``) and the cell."""
    if value is None:
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        out = float(value)
    else:
        raise ValueError(f"{who} {cell.table}.{cell.item}.{cell.measure}:"
                         f" cell value must be a number or null, got {value!r}")
    if math.isnan(out) or math.isinf(out):
        raise ValueError(f"{who} {cell.table}.{cell.item}.{cell.measure}:"
                         f" cell value {value!r} is not a finite number")
    return out


_PLAIN_VALUES = {int, float, type(None)}


def _plain_numbers(values: list) -> bool:
    """None, ints and floats only, of a finite sum: what Arrow may convert at once (a sum that is not
    finite may hide a NaN or an infinity, or only overflow: the cell-by-cell way then decides)."""
    if not set(map(type, values)) <= _PLAIN_VALUES:
        return False
    try:
        return math.isfinite(sum([v for v in values if v is not None]))
    except OverflowError:  # an int beyond a float's range
        return False


def _values(cells: list[tuple], who: str) -> pa.Array:
    """The value column: ``cell_number`` of every cell (a ValueError naming the first bad one). The
    common report (``_plain_numbers``) converts in Arrow at once; Arrow refuses an int a float cannot
    hold exactly: that, like any other type, takes the cell-by-cell way."""
    values = [c[3] for c in cells]
    if _plain_numbers(values):
        try:
            return pa.array(values, pa.float64())
        except (pa.ArrowInvalid, OverflowError):
            pass
    out = [None if v is None else cell_number(v, CellRecord(*c), who) for v, c in zip(values, cells, strict=True)]
    return pa.array(out, pa.float64())


_CELL_STRUCT = pa.struct(list(CELL_SCHEMA))


def _cells_at_once(cells: list[tuple]) -> pa.Table | None:
    """The cells' table in one conversion (half the CPU of a column at a time), for the common report
    (``_plain_numbers``, as ``_values`` converts at once). None when
    that does not apply or Arrow refuses anything: the column-at-a-time way then decides, with its errors."""
    if not _plain_numbers([c[3] for c in cells]):
        return None
    try:
        return pa.Table.from_struct_array(pa.array(cells, _CELL_STRUCT))
    except (pa.ArrowException, OverflowError, ValueError, TypeError):
        return None


_SHAPES: dict[tuple, tuple[pa.Array, ...]] = {}  # a report's shape -> its cells' name, marker and provenance columns
_MAX_SHAPES = 64  # (a template's full tables and the few that lack one: a handful in a run)


def _cells_by_shape(report: dict) -> pa.Table | None:
    """The cells' table of the common report (no cell marked by a finding, none read by OCR, the values
    ``_plain_numbers``), as ``cell_tuples`` and ``_cells_at_once`` give it, without a tuple a cell: the
    table, item and measure columns depend only on the report's shape (its items and their measures,
    those of a template), so they are built once a shape; only the values are converted. None
    otherwise: the tuples' way decides."""
    shape: list[tuple] = []
    values: list = []
    for table, item, measures in table_items(report):
        shape.append((table, item, tuple(measures)))
        values += measures.values()
    if not _plain_numbers(values) or cell_markers(report) or ocr_tables(report):
        return None
    key = tuple(shape)
    names = _SHAPES.get(key)
    if names is None:
        paths = [(table, item, measure) for table, item, measures in shape for measure in measures]
        columns = list(zip(*paths, strict=True)) if paths else [(), (), ()]
        names = tuple(pa.array(col, pa.string()) for col in columns) + (
            pa.nulls(len(paths), pa.string()), pa.array([TEXT] * len(paths), pa.string()))
        if len(_SHAPES) >= _MAX_SHAPES:
            _SHAPES.clear()
        _SHAPES[key] = names
    try:
        value = pa.array(values, pa.float64())
    except (pa.ArrowInvalid, OverflowError):
        return None
    return pa.Table.from_arrays([names[0], names[1], names[2], value, names[3], names[4]], schema=CELL_SCHEMA)


def content_rows(report: dict, narrative: dict | None, who: str = "", stored: str | None = None) -> Rows:
    """The rows of a report; raises ValueError on a cell that is not a number. ``stored``: its
    ``payload``, when the caller has it already."""
    tpl = report.get("templates") or {}
    statuses = table_status(report)
    table = _cells_by_shape(report)
    cells = cell_tuples(report) if table is None else []
    findings = list(report.get("findings") or ())
    narrative = narrative or {}
    small = {
        "table": {"table_name": list(statuses), "template": [tpl.get(t) for t in statuses],
                  "status": list(statuses.values())},
        "finding": {"seq": list(range(len(findings))), "code": [f.get("code") for f in findings],
                    "severity": [f.get("severity") for f in findings],
                    "message": [f.get("message") for f in findings], "where": [f.get("where") for f in findings]},
        "narrative": {"key": [str(k) for k in narrative],
                      "value": [None if v is None else int(v) for v in narrative.values()]},
    }
    if table is None:
        table = _cells_at_once(cells)
    if table is None:
        values = _values(cells, who)
        columns = dict(zip(CELL_COLUMNS, zip(*cells, strict=True), strict=True)) if cells \
            else dict.fromkeys(CELL_COLUMNS, ())
        columns["value"] = values
        table = pa.table({n: columns[n] if n == "value" else pa.array(columns[n], CELL_SCHEMA.field(n).type)
                          for n in CELL_COLUMNS}, schema=CELL_SCHEMA)
    return Rows(cells=table, small=small, payload=payload(report) if stored is None else stored, head={k: report.get(k) for k in HEAD_KEYS})


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_plain(obj) -> bool:
    """Whether ``json.loads(json.dumps(obj))`` gives ``obj`` back as it is: dicts with str keys,
    lists, str, int, float, bool and None only, of exactly those types (no tuple, subclass,
    Decimal, date or non-str key, which the JSON would change). Checking costs half of reading
    the JSON back (~30 µs against ~60 for a report)."""
    stack = [obj]
    pop, push = stack.pop, stack.append
    while stack:
        o = pop()
        t = type(o)
        if t is dict:
            for k, v in o.items():
                tv = type(v)
                if type(k) is not str:
                    return False
                if tv is dict or tv is list:
                    push(v)
                elif tv not in _JSON_SCALARS:
                    return False
        elif t is list:
            for v in o:
                tv = type(v)
                if tv is dict or tv is list:
                    push(v)
                elif tv not in _JSON_SCALARS:
                    return False
        elif t not in _JSON_SCALARS:
            return False
    return True


_MAGIC = b"xxgk-rows/2\n"  # then the Arrow stream's length (8 bytes, little-endian) and the stream, LZ4-compressed
_CODEC = pa.Codec("lz4")
_WRITE_OPTIONS = ipc.IpcWriteOptions()  # the defaults; given, so that no writer reads them from os.environ again


def rows_bytes(rows: Rows, payload_at: tuple[int, int] | None = None) -> bytes:
    """A report's rows as bytes (an Arrow stream, compressed: 1.5 KB for 200 cells; the small kinds and
    the head in its metadata), which the parse stores with the report's parsed-cache entry
    (flows/steps/parsing.py ``write_cache``). The payload goes with them, unless ``payload_at`` says
    where it is in the entry's JSON (byte offsets): then it is read from there (``read_rows``)."""
    meta = {"xxgk.meta": json.dumps({"small": rows.small, "head": rows.head}, ensure_ascii=False)}
    if payload_at is None:
        meta["xxgk.payload"] = rows.payload
    else:
        meta["xxgk.payload_at"] = f"{payload_at[0]} {payload_at[1]}"
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, CELL_SCHEMA.with_metadata(meta), options=_WRITE_OPTIONS) as writer:
        writer.write_table(rows.cells)
    stream = sink.getvalue()
    return _MAGIC + struct.pack("<Q", stream.size) + _CODEC.compress(stream, asbytes=True)


def read_rows(data: bytes | memoryview, entry: bytes | memoryview = b"") -> Rows | None:
    """The rows of ``rows_bytes``, stored after the JSON ``entry``; None when they are not that (a
    damaged or older part): the loader then builds them from the report."""
    try:
        if bytes(data[:len(_MAGIC)]) != _MAGIC:
            return None
        (size,) = struct.unpack_from("<Q", data, len(_MAGIC))
        stream = _CODEC.decompress(data[len(_MAGIC) + 8:], decompressed_size=size)
        table = ipc.open_stream(stream).read_all()
        meta = table.schema.metadata or {}
        if not table.schema.equals(CELL_SCHEMA):  # metadata aside
            return None
        got = json.loads(meta[b"xxgk.meta"])
        small, head = got["small"], got["head"]
        if set(small) != set(SMALL_KINDS) or any(tuple(small[k]) != KINDS[k] for k in SMALL_KINDS):
            return None
        if not isinstance(head, dict) or tuple(head) != HEAD_KEYS:
            return None
        if b"xxgk.payload_at" in meta:
            start, end = map(int, meta[b"xxgk.payload_at"].split())
            stored = bytes(entry[start:end])
            if not (0 <= start < end <= len(entry) and stored[:1] == b"{" and stored[-1:] == b"}"):
                return None
            text = stored.decode("utf-8")
        else:
            text = meta[b"xxgk.payload"].decode("utf-8")
        return Rows(cells=table.replace_schema_metadata(None), small=small, payload=text, head=head)
    except (OSError, ValueError, KeyError, TypeError, struct.error, pa.ArrowException):
        return None
