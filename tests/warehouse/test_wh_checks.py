"""warehouse.checks.check_table: the same table from a frame and from arrays by column (as a validator hands
its check rows over), and the same refusals."""

import numpy as np
import pandas as pd
import pytest

from warehouse import db
from warehouse.checks import _CHECK_SCHEMA, CHECK_COLUMNS, check_table, store_check_table


def _rows() -> dict[str, np.ndarray]:
    text = {"report_id": ["r1", "r1", "r2"], "check_id": ["H1", "H5", "H1"], "scope": ["column=total", "table=x", None],
            "severity": ["error", "error", "warning"], "status": ["pass", "fail", "skipped_blank"],
            "detail": ["a + b == c", "every cell: x = -1 (not an integer >= 0)", np.nan]}
    out = {c: np.array(v, dtype=object) for c, v in text.items()}
    out["expected"] = np.array([3.0, np.nan, np.nan])
    out["actual"] = np.array([3.0, np.nan, np.nan])
    return {c: out[c] for c in CHECK_COLUMNS}


def test_arrays_and_frame_give_the_same_table_and_stored_rows(tmp_path):
    rows = _rows()
    from_arrays, from_frame = check_table(rows), check_table(pd.DataFrame(rows))
    assert from_frame.schema == _CHECK_SCHEMA
    assert from_arrays.column("detail").type.value_type == "string"  # repeated strings: a dictionary
    assert from_arrays.cast(_CHECK_SCHEMA).equals(from_frame)
    assert from_arrays.column("scope").to_pylist() == ["column=total", "table=x", None]
    assert from_arrays.column("detail").to_pylist()[2] is None
    stored = []
    for i, table in enumerate((from_arrays, from_frame)):
        con = db.connect(tmp_path / f"w{i}.duckdb")
        db.init_schema(con)
        assert store_check_table(con, table) == 3
        stored.append(con.execute("SELECT * EXCLUDE (checked_at) FROM chk_result ORDER BY ALL").fetchall())
        con.close()
    assert stored[0] == stored[1] and len(stored[0]) == 3


@pytest.mark.parametrize("column, value, message", [
    ("severity", "fatal", "row 1 severity 'fatal' is not one of"),
    ("status", "passed", "row 1 status 'passed' is not one of"),
    ("check_id", None, "row 1 has no report_id or check_id"),
])
def test_bad_rows_are_refused_from_arrays_and_frames(column, value, message):
    rows = _rows()
    rows[column] = rows[column].copy()
    rows[column][1] = value
    for given in (rows, pd.DataFrame(rows)):
        with pytest.raises(ValueError, match=message):
            check_table(given)
