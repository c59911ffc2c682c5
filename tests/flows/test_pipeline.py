"""The plain pipeline (no Prefect) on the bundled samples, served on loopback."""

from __future__ import annotations

import duckdb
import pytest

from flows.outcomes import FETCH_FAILED, PARSE_FAILED, PUBLISHED, QUARANTINED
from flows.plan import run_year
from flows.settings import load_settings
from flows.steps.loading import writer_lock
from flows.steps.parsing import parse_cache_key, parse_one
from testkit.serve import serve_samples

pytestmark = pytest.mark.slow  # GX validation and a publish: a few seconds


@pytest.fixture
def samples_base():
    """The bundled samples on loopback: the pipeline takes the server's URL, it never starts one."""
    with serve_samples() as base:
        yield base


@pytest.fixture
def registry(tmp_path):
    """Two real sample reports, a page that does not exist, and one whose parse will crash."""
    path = tmp_path / "registry.csv"
    path.write_text(
        "agency,year,url,province,city,county,level,parent\n"
        "六盘水市,2024,{samples}/liupanshui_2024.html,贵州省,六盘水市,,市,\n"
        "武汉市硚口区人民政府,2024,{samples}/qiaokou_2024.html,湖北省,武汉市,硚口区,县,武汉市人民政府\n"
        "不存在的机关,2024,{samples}/no_such_report_2024.html,,,,,\n"
        "淮安市人民政府,2024,{samples}/huaian_city_2024.pdf,江苏省,淮安市,,市,\n"
        "平潭综合实验区,2023,{samples}/pingtan_2023.html,福建省,,,,\n",
        encoding="utf-8",
    )
    return path


def test_run_year_records_every_outcome_and_publishes(tmp_path, registry, samples_base, monkeypatch):
    # parse_timeout=0: parse in this process, so that the stand-in parser below is the one used
    settings = load_settings(env={}, home=tmp_path / "home", sources=str(registry), max_fail_share=1.0,
                             parse_timeout=0, samples_base=samples_base)
    real_parse = parse_one

    def crash_on_pdf(data, agency, year, content_type):
        if data.startswith(b"%PDF"):
            raise ValueError("stand-in parser crash")  # the parser itself never raises on the samples
        return real_parse(data, agency, year, content_type)

    monkeypatch.setattr("flows.steps.parsing.parse_one", crash_on_pdf)
    lines: list[str] = []
    s = run_year(2024, settings, progress=lines.append)

    by_agency = {r.agency: r for r in s.reports}
    assert set(by_agency) == {"六盘水市", "武汉市硚口区人民政府", "不存在的机关", "淮安市人民政府"}  # only 2024 rows
    missing = by_agency["不存在的机关"]
    assert missing.outcome == FETCH_FAILED and "http_404" in missing.reasons[0]
    crashed = by_agency["淮安市人民政府"]
    assert crashed.outcome == PARSE_FAILED and "stand-in parser crash" in crashed.reasons[0]
    ok = [by_agency["六盘水市"], by_agency["武汉市硚口区人民政府"]]
    assert all(r.parse == "parsed" and r.report_id for r in ok)
    assert all(r.outcome in (PUBLISHED, QUARANTINED) for r in ok)
    assert all(r.reasons for r in ok if r.outcome == QUARANTINED)
    c = s.counts
    assert (c["sources"], c["fetched"], c["failed"], c["parsed"], c["parse_failed"]) == (4, 3, 1, 2, 1)
    assert lines, "progress was reported"

    assert s.published, s.gate_reason
    con = duckdb.connect(s.marts_path, read_only=True)
    try:
        quality = dict(con.execute("select report_id, status from mart_quality").fetchall())
        why = dict(con.execute("select report_id, reasons from mart_quality").fetchall())
    finally:
        con.close()
    for r in ok:  # what the summary says is what was published
        assert quality[r.report_id] == r.outcome
    # The unparseable document is kept and quarantined with its reason, not dropped.
    assert quality[crashed.report_id] == "quarantined"
    assert "stand-in parser crash" in why[crashed.report_id]

    # Second run: nothing changed, so nothing is parsed again (a failure is retried: the parser may be fixed).
    def only_the_failed_one(data, *args):
        if not data.startswith(b"%PDF"):
            pytest.fail("an unchanged report was parsed again")
        raise ValueError("stand-in parser crash")

    monkeypatch.setattr("flows.steps.parsing.parse_one", only_the_failed_one)
    s2 = run_year(2024, settings)
    assert {r.agency: r.parse for r in s2.reports if r.parse} == {
        "六盘水市": "cached", "武汉市硚口区人民政府": "cached", "淮安市人民政府": "failed"}


def test_validation_started_by_the_load_publishes_what_the_validate_step_alone_publishes(
        tmp_path, registry, samples_base, monkeypatch):
    """Chunks of one report, loads of one report: the load hands chunks to the validators as it goes
    (flows/steps/validation.py); the published checks and statuses are those of the validate step alone."""
    from flows.steps import validation

    real_submit = validation.Validation.submit

    def published(home):
        settings = load_settings(env={}, home=home, sources=str(registry), max_fail_share=1.0, parse_timeout=0,
                                 samples_base=samples_base)
        lines: list[str] = []
        monkeypatch.setattr(validation.Validation, "submit",
                            lambda self, con, ids, progress=None: (lines.append(f"submit {len(ids)}"),
                                                                   real_submit(self, con, ids))[1])
        s = run_year(2024, settings, progress=lines.append)
        con = duckdb.connect(s.marts_path, read_only=True)
        try:
            return lines, [con.execute(f"select * from {t} order by all").fetchall()
                           for t in ("fact_check", "mart_quality")]
        finally:
            con.close()

    monkeypatch.setattr("flows.steps.validating.VALIDATE_CHUNK", 1)
    monkeypatch.setattr("flows.steps.validating.VALIDATE_MIN_CHUNK", 1)
    monkeypatch.setattr("flows.steps.loading.LOAD_CHUNK", 1)
    lines, tables = published(tmp_path / "early")
    validating = lines.index("2024: validating")
    assert "submit 1" in lines[:validating], "no chunk was handed over during the load"
    monkeypatch.setattr("flows.plan.start_early_validation", lambda outcomes, year, memory=None: None)
    lines_alone, tables_alone = published(tmp_path / "alone")
    assert "submit 1" not in lines_alone[:lines_alone.index("2024: validating")]
    assert tables[0] and tables == tables_alone


def test_parse_cache_key_depends_on_content_metadata_and_version():
    k = parse_cache_key("a" * 64, "六盘水市", 2024, "1.0.0")
    assert k == parse_cache_key("a" * 64, "六盘水市", 2024, "1.0.0")
    assert k != parse_cache_key("b" * 64, "六盘水市", 2024, "1.0.0")
    assert k != parse_cache_key("a" * 64, "六盘水市", 2023, "1.0.0")
    assert k != parse_cache_key("a" * 64, "六盘水市", 2024, "1.0.1")


def test_writer_lock_excludes_a_second_writer(tmp_path):
    settings = load_settings(env={}, home=tmp_path)
    with writer_lock(settings), pytest.raises(TimeoutError, match="another xxgk run"), \
            writer_lock(settings, timeout=0.3):
        pass
    with writer_lock(settings, timeout=0.3):  # released
        pass


def test_a_registry_of_the_samples_without_their_server_says_how_to_run_it(tmp_path, registry):
    from sources.registry import RegistryError

    settings = load_settings(env={}, home=tmp_path / "home", sources=str(registry))
    with pytest.raises(RegistryError, match=r"\{samples\}.*xxgk demo.*XXGK_SAMPLES_BASE"):
        run_year(2024, settings)
