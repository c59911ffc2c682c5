"""A re-run with nothing changed takes the last complete run's outcomes (flows/runrecord.py),
and anything that could change an outcome makes it run every step again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from flows import runrecord
from flows.plan import run_year
from flows.settings import load_settings
from testkit.serve import serve_samples

pytestmark = pytest.mark.slow  # several runs with validation and publish

SAMPLES = Path(__file__).resolve().parents[2] / "sources" / "samples"
PAGES = ["liupanshui_2024.html", "qiaokou_2024.html", "pingtan_2023.html"]


@pytest.fixture
def site(tmp_path):
    """The sample pages on a loopback server of the test's own (one port for all runs)."""
    root = tmp_path / "site"
    root.mkdir()
    for name in PAGES:
        shutil.copy(SAMPLES / name, root / name)
    with serve_samples(root, port=0) as base:
        registry = tmp_path / "registry.csv"
        registry.write_text(
            "agency,year,url,province,city,county,level,parent\n"
            f"六盘水市,2024,{base}/liupanshui_2024.html,贵州省,六盘水市,,市,\n"
            f"武汉市硚口区人民政府,2024,{base}/qiaokou_2024.html,湖北省,武汉市,硚口区,县,武汉市人民政府\n"
            f"不存在的机关,2024,{base}/missing_2024.html,,,,,\n"
            f"平潭综合实验区,2023,{base}/pingtan_2023.html,福建省,,,,\n",
            encoding="utf-8",
        )
        yield root, registry


def _settings(tmp_path, registry, **kw):
    kw = {"max_fail_share": 1.0, **kw}
    return load_settings(env={}, home=tmp_path / "home", sources=str(registry), parse_timeout=0, min_delay=0.0,
                         retries=0, **kw)


def _outcomes(summary):
    return [(o.agency, o.fetch == "failed", o.outcome, o.report_id, tuple(o.reasons)) for o in summary.reports]


def _stamps(home: Path):
    return [(st.st_size, st.st_mtime_ns) for st in (os.stat(home / n) for n in ("warehouse.duckdb", "marts.duckdb"))]


def test_unchanged_rerun_keeps_the_outcomes_and_writes_nothing(tmp_path, site, monkeypatch):
    _root, registry = site
    settings = _settings(tmp_path, registry)
    first = run_year(2024, settings)
    assert first.unchanged_since is None and first.published
    assert runrecord.record_path(settings.home, 2024).is_file()
    stamps = _stamps(settings.home)

    def no_parse(*_a, **_k):
        pytest.fail("an unchanged run parsed a document")

    monkeypatch.setattr("flows.steps.parsing.parse_one", no_parse)
    again = run_year(2024, settings)
    assert again.unchanged_since
    assert _outcomes(again) == _outcomes(first)
    assert (again.published, again.marts_path, again.data_docs_path) == (
        first.published, first.marts_path, first.data_docs_path)
    c = again.counts
    assert (c["fetched"], c["not_modified"], c["failed"], c["parse_cached"]) == (0, 2, 1, 2)
    assert _stamps(settings.home) == stamps, "the warehouse or the marts were written"
    assert "Nothing changed" in again.markdown()


def test_a_changed_page_runs_every_step(tmp_path, site):
    root, registry = site
    settings = _settings(tmp_path, registry)
    run_year(2024, settings)
    page = root / "qiaokou_2024.html"
    page.write_bytes(page.read_bytes() + b"\n<!-- revised -->\n")
    again = run_year(2024, settings)
    assert again.unchanged_since is None
    by = {o.agency: o for o in again.reports}
    assert by["武汉市硚口区人民政府"].fetch == "fetched" and by["武汉市硚口区人民政府"].parse == "parsed"
    assert by["六盘水市"].fetch == "not_modified"
    assert run_year(2024, settings).unchanged_since  # and the run after that has nothing new again


def test_full_run_setting_runs_every_step(tmp_path, site):
    _root, registry = site
    run_year(2024, _settings(tmp_path, registry))
    full = run_year(2024, _settings(tmp_path, registry, full_run=True))
    assert full.unchanged_since is None and full.counts["parse_cached"] == 2


def test_another_years_run_in_between_runs_every_step(tmp_path, site):
    # Year 2023's load changes the warehouse: 2024's cross-year checks may change with it.
    _root, registry = site
    settings = _settings(tmp_path, registry)
    run_year(2024, settings)
    assert run_year(2023, settings).unchanged_since is None
    assert run_year(2024, settings).unchanged_since is None
    assert run_year(2024, settings).unchanged_since


def test_a_backfill_rerun_skips_every_unchanged_year(tmp_path, site):
    # Years run oldest first; 2024's checks look at 2023, nothing looks at 2024 from 2023.
    _root, registry = site
    settings = _settings(tmp_path, registry)
    for year in (2023, 2024):
        assert run_year(year, settings).unchanged_since is None
    assert [run_year(year, settings).unchanged_since is not None for year in (2023, 2024)] == [True, True]


@pytest.mark.parametrize("damage", ["garbage", "deleted marts", "other gate setting"])
def test_a_record_that_no_longer_holds_runs_every_step(tmp_path, site, damage):
    _root, registry = site
    settings = _settings(tmp_path, registry)
    run_year(2024, settings)
    if damage == "garbage":
        runrecord.record_path(settings.home, 2024).write_text("{not json", encoding="utf-8")
    elif damage == "deleted marts":
        settings.marts_path.unlink()
    else:
        settings = _settings(tmp_path, registry, max_fail_share=0.9)
    again = run_year(2024, settings)
    assert again.unchanged_since is None and again.published
    assert settings.marts_path.is_file()
    assert run_year(2024, settings).unchanged_since  # a fresh record was written


def test_a_run_that_fails_half_way_leaves_no_record(tmp_path, site, monkeypatch):
    _root, registry = site
    settings = _settings(tmp_path, registry)
    run_year(2024, settings)

    def broken(*_a, **_k):
        raise RuntimeError("validation crashed")

    monkeypatch.setattr("flows.plan.validate_batch", broken)
    with pytest.raises(RuntimeError):
        run_year(2024, _settings(tmp_path, registry, full_run=True))
    assert not runrecord.record_path(settings.home, 2024).exists()
    monkeypatch.undo()
    assert run_year(2024, settings).unchanged_since is None


def test_the_warehouse_rows_are_compared_only_when_the_file_changed(tmp_path, site, monkeypatch):
    # A warehouse file as the record left it needs no query; a touched one is queried, and a
    # write-ahead log beside it (changes not in the file yet) is never taken as unchanged on sight.
    _root, registry = site
    settings = _settings(tmp_path, registry)
    run_year(2024, settings)
    queried = []
    real = runrecord.warehouse_state
    monkeypatch.setattr(runrecord, "warehouse_state", lambda *a: queried.append(a) or real(*a))
    assert run_year(2024, settings).unchanged_since and not queried
    os.utime(settings.warehouse_path)  # touched, rows as they were: queried, still unchanged
    assert run_year(2024, settings).unchanged_since and len(queried) == 1
    assert runrecord.warehouse_file(settings.warehouse_path) is not None
    wal = Path(f"{settings.warehouse_path}.wal")
    wal.write_bytes(b"")
    try:
        assert runrecord.warehouse_file(settings.warehouse_path) is None
    finally:
        wal.unlink()


def test_a_changed_registry_runs_every_step_even_at_the_same_size_and_time(tmp_path, site):
    # The registry is kept parsed between runs (sources/registry.py); the key is its bytes, not its stat.
    _root, registry = site
    settings = _settings(tmp_path, registry)
    run_year(2024, settings)
    assert run_year(2024, settings).unchanged_since
    st = registry.stat()
    registry.write_bytes(registry.read_bytes().replace("贵州省".encode(), "云南省".encode()))
    os.utime(registry, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = run_year(2024, settings)
    assert again.unchanged_since is None and again.published
    assert {o.source.province for o in again.reports if o.agency == "六盘水市"} == {"云南省"}


def test_a_record_read_ahead_is_taken_only_while_the_file_holds_the_same_bytes(tmp_path):
    home = tmp_path / "home"
    path = runrecord.record_path(home, 2024)
    path.parent.mkdir(parents=True)
    path.write_text('{"fingerprint": "a"}', encoding="utf-8")
    runrecord.read_ahead(home, 2024)
    taken = runrecord._read_record(path)
    assert taken == {"fingerprint": "a"}
    runrecord.read_ahead(home, 2024)
    path.write_text('{"fingerprint": "b"}', encoding="utf-8")  # rewritten after it was read ahead
    assert runrecord._read_record(path) == {"fingerprint": "b"}
    path.unlink()
    runrecord.read_ahead(home, 2024)  # no record: nothing kept, the check finds none
    with pytest.raises(FileNotFoundError):
        runrecord._read_record(path)
