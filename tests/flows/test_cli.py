import json
import re
import subprocess
import sys

import pytest

from flows.cli import EXIT_NOT_PUBLISHED, build_parser, main, parse_years


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


def _dead_registry(tmp_path) -> str:
    """A registry whose every host is dead: a loopback port nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: connections are refused
    reg = tmp_path / "dead.csv"
    reg.write_text("agency,year,url\n"
                   f"甲市,2024,http://127.0.0.1:{port}/a.html\n乙县,2024,http://127.0.0.1:{port}/b.html\n",
                   encoding="utf-8")
    return str(reg)


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert re.fullmatch(r"xxgk \S+\n", capsys.readouterr().out)


def test_help_documents_the_exit_codes():
    parser = build_parser()
    assert "3  run/backfill/demo" in parser.format_help()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("run", "backfill", "demo"):
        assert "3 when a year published nothing" in " ".join(sub.choices[name].format_help().split())


def test_run_on_a_registry_of_dead_hosts_exits_3_and_says_why(xxgk_env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XXGK_RETRIES", "0")
    assert main(["run", "--year", "2024", "--sources", _dead_registry(tmp_path), "--quiet"]) == EXIT_NOT_PUBLISHED
    out, err = capsys.readouterr()
    assert "nothing published: nothing fetched: all 2 fetch(es) failed" in out
    assert err.strip().splitlines()[-1] == "xxgk: 2024: nothing published: nothing fetched: all 2 fetch(es) failed"
    # ... and `xxgk failures` lists both, with the fetcher's reason
    assert main(["failures", "--year", "2024", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["agency"], r["outcome"]) for r in rows} == {("甲市", "fetch_failed"), ("乙县", "fetch_failed")}
    assert all(r["reasons"] and r["reasons"][0].startswith("fetch:") for r in rows)


def test_a_bad_registry_is_an_error_exit_1(xxgk_env, tmp_path, capsys):
    reg = tmp_path / "bad.csv"
    reg.write_text("agency,year,url\n甲市,20x4,http://127.0.0.1/a.html\n", encoding="utf-8")
    assert main(["run", "--year", "2024", "--sources", str(reg), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "bad.csv" in err and "line" in err and "Traceback" not in err


def test_failures_without_any_run_is_one_clear_line(xxgk_env, capsys):
    assert main(["failures"]) == 1
    assert "no complete run recorded" in capsys.readouterr().err


def test_failures_of_the_demo_lists_the_quarantined_report(demo_home, capsys):
    assert main(["failures", "--home", str(demo_home)]) == 0
    out = capsys.readouterr().out
    assert "2024  普洱市人民政府办公室  quarantined" in out and "H7" in out
    assert "六盘水市" not in out  # published


def test_export_xlsx_and_csv_with_chinese_headers(demo_home, tmp_path, capsys):
    from openpyxl import load_workbook

    assert main(["export", "--home", str(demo_home), "--year", "2024", "--format", "xlsx",
                 "--out", str(tmp_path)]) == 0
    path = tmp_path / "xxgk_2024.xlsx"
    assert capsys.readouterr().out.strip() == str(path.resolve())
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["机关年度指标", "地区年度指标", "表一主动公开", "表二依申请公开", "表三复议诉讼", "质量"]
    rows = list(wb["机关年度指标"].iter_rows(values_only=True))
    header = rows[0]
    assert "机关" in header and "公开率" in header and "年报所属年度" in header
    assert len(rows) == 1 + 5  # the five published reports of 2024
    got = dict(zip(header, next(r for r in rows if r[header.index("机关")] == "淮安市人民政府"), strict=False))
    assert isinstance(got["一、本年新收政府信息公开申请数量"], int)
    assert len(list(wb["质量"].iter_rows(values_only=True))) == 1 + 6  # 普洱 (quarantined) as well

    assert main(["export", "--home", str(demo_home), "--year", "2024", "--format", "csv",
                 "--out", str(tmp_path / "csv")]) == 0
    files = sorted((tmp_path / "csv").glob("*.csv"))
    assert len(files) == 6
    text = (tmp_path / "csv" / "xxgk_2024_表二依申请公开.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM as UTF-8
    assert "(三)3.危及\"\"三安全一稳定\"\"" in text.decode("utf-8-sig")


def test_export_of_a_year_with_nothing_published_is_exit_1(demo_home, tmp_path, capsys):
    assert main(["export", "--home", str(demo_home), "--year", "2019", "--out", str(tmp_path)]) == 1
    assert "nothing published for 2019" in capsys.readouterr().err


@pytest.mark.slow
def test_run_subprocess_on_dead_hosts_exits_non_zero(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    env.update(XXGK_HOME=str(tmp_path / "data"), XXGK_RETRIES="0")
    r = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--year", "2024", "--sources",
                        _dead_registry(tmp_path), "-q"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == EXIT_NOT_PUBLISHED, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_full_run_subprocess_prints_everything_and_exits_zero(tmp_path):
    """`xxgk run --full` ends its validator and itself at once (flows/validator.py, flows/cli.py): the
    summary is still printed in full, the status is the command's, the marts and Data Docs are there."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    env["XXGK_HOME"] = str(tmp_path / "data")
    for _ in range(2):  # the second is the warm run of benchmarks/bench_small.py
        r = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--full", "--year", "2024", "-q"],
                           capture_output=True, text=True, env=env, timeout=600)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr
        lines = r.stdout.splitlines()
        assert lines[0].startswith("2024: 6 report(s) in the registry; fetched 6")
        assert lines[-2] == f"marts: {tmp_path / 'data' / 'marts.duckdb'}"
        assert lines[-1] == f"data docs: {tmp_path / 'data' / 'data_docs' / '2024' / 'index.html'}"
    assert (tmp_path / "data" / "data_docs" / "2024" / "index.html").is_file()
