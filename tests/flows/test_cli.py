import json
import subprocess
import sys

import pytest

from flows.cli import build_parser, main, parse_years


def test_parse_years_ranges_and_lists():
    assert parse_years("2019-2021") == [2019, 2020, 2021]
    assert parse_years("2024,2022") == [2022, 2024]
    assert parse_years("2019-2020, 2023") == [2019, 2020, 2023]


@pytest.mark.parametrize("bad", ["2024-2022", "twenty", "24", "2019-"])
def test_bad_years_exit_2(bad, capsys):
    with pytest.raises(SystemExit) as e:
        main(["backfill", "--years", bad])
    assert e.value.code == 2
    assert "--years" in capsys.readouterr().err


def test_every_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) >= {"parse", "run", "backfill", "demo", "status"}
    for name, p in sub.choices.items():
        assert p.description, f"{name} has no description"
        text = p.format_help()
        assert "--help" in text


def test_parse_unreadable_file_is_exit_1_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "flows.cli", "parse", str(tmp_path / "nope.html")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and "cannot read" in r.stderr and "Traceback" not in r.stderr


def test_status_without_marts_is_one_clear_line(xxgk_env, capsys):
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert "nothing published yet" in err and err.count("\n") == 1


def test_bad_setting_is_one_clear_line(xxgk_env, monkeypatch, capsys):
    monkeypatch.setenv("XXGK_MAX_FAIL_SHARE", "2")
    assert main(["status"]) == 1
    assert "max_fail_share" in capsys.readouterr().err


def test_parse_prints_contract_json(tmp_path, capsys):
    pytest.importorskip("transforms.parse")
    f = tmp_path / "r.txt"
    f.write_text("某某市人民政府2024年政府信息公开工作年度报告\n", encoding="utf-8")
    assert main(["parse", str(f), "--agency", "某某市", "--year", "2024"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["contract"] == "xxgk.report/1"
    assert out["agency"] == "某某市" and out["year"] == 2024


@pytest.mark.slow
def test_run_then_status_as_a_user_would(tmp_path):
    """`xxgk run` on the bundled samples (served on loopback), then `xxgk status`."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    env["XXGK_HOME"] = str(tmp_path / "data")
    xxgk = [sys.executable, "-m", "flows.cli"]
    r = subprocess.run([*xxgk, "run", "--year", "2023"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "2023: fetching 1 report(s)" in r.stderr  # progress on stderr
    assert r.stdout.startswith("2023: 1 report(s) in the registry; fetched 1")
    assert "marts:" in r.stdout

    r = subprocess.run([*xxgk, "status", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    status = json.loads(r.stdout)
    assert status["marts"].endswith("marts.duckdb")
    assert {row["year"] for row in status["reports_by_year"]} == {2023}
    assert status["tables"]["dim_report"] == 1
