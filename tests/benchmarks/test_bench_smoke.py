"""The benchmark commands still work, at a tiny N (the 10,000-report runs are for ``make bench``)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from sources.registry import LEVELS, load_registry
from transforms.parse import parse_document
from transforms.records import iter_cells

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmarks/ is a folder of scripts, not an installed package
from benchmarks import bench_e2e, bench_marts, corpus, run_all  # noqa: E402
from benchmarks.serve_corpus import serve_corpus  # noqa: E402


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "corpus.json"}


def test_corpus_is_reproducible_with_a_valid_registry_and_ground_truth(tmp_path):
    kw = {"seed": 5, "pdf_share": 0.1, "error_share": 0.25}
    info = corpus.generate(30, tmp_path / "a", **kw)
    corpus.generate(30, tmp_path / "b", **kw)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    other = corpus.generate(30, tmp_path / "c", seed=6, pdf_share=0.1, error_share=0.25)
    assert _digest(tmp_path / "c") != _digest(tmp_path / "a")
    assert info.counts != other.counts or info.bytes != other.bytes

    rows = load_registry(tmp_path / "a" / "registry.csv", samples_base="http://127.0.0.1:9")
    assert len(rows) == 30 and len({r.agency for r in rows}) == 30
    assert all(r.province and r.city and r.level in LEVELS and r.parent for r in rows)
    truth = json.loads((tmp_path / "a" / "truth.json").read_text(encoding="utf-8"))
    assert sorted(truth) == sorted(r.url.removeprefix("http://127.0.0.1:9/") for r in rows)
    kinds = {t["kind"] for t in truth.values()}
    assert kinds == {"html", "text", "pdf"}
    assert any(t["planted"] for t in truth.values()) and any(t["encoding"] == "gbk" for t in truth.values())

    # Each clean document parses back to the numbers it was drawn with (PDFs and the
    # separator-less layout aside: slow, resp. ambiguous by nature).
    checked = 0
    for rel, t in truth.items():
        if t["planted"] or t["kind"] == "pdf" or t["layout"] == "runs":
            continue
        got = parse_document((tmp_path / "a" / rel).read_bytes(), agency=t["agency"], year=t["year"]).report
        assert {c.path: c.value for c in iter_cells(got)} == {c.path: c.value for c in iter_cells(t["report"])}, rel
        checked += 1
    assert checked >= 15
    # Same parameters: the corpus is reused, not written again.
    assert corpus.generate(30, tmp_path / "a", **kw).seconds == info.seconds


def test_generated_pdf_spans_pages_and_parses_back():
    spec = next(s for s in corpus.plan(40, seed=2, pdf_share=1.0, text_share=0.0) if not s.planted)
    data, report, _ = corpus.render(spec)
    assert data.startswith(b"%PDF-") and data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") >= 2
    got = parse_document(data, agency=spec.agency, year=spec.year).report
    assert {c.path: c.value for c in iter_cells(got)} == {c.path: c.value for c in iter_cells(report)}


@pytest.mark.slow
def test_bare_loop_pipeline_and_mart_queries_run_at_tiny_n(tmp_path):
    from flows.plan import run_year
    from flows.settings import Settings

    corpus.generate(10, tmp_path / "corpus", seed=1, pdf_share=0.0, error_share=0.2)
    with serve_corpus(tmp_path / "corpus") as base:
        registry = corpus.registry_for(tmp_path / "corpus", base, tmp_path / "registry.csv")
        bare = bench_e2e.measure(["benchmarks.bare_loop", "--registry", str(registry), "--home",
                                  str(tmp_path / "bare")], label="bare loop")
        summary = run_year(2024, Settings(home=tmp_path / "home", sources=str(registry), min_delay=0.0,
                                          max_per_host=4))
    assert bare["detail"]["loaded"] == 10 and bare["detail"]["failed"] == 0
    assert bare["detail"]["parse_processes"] == bench_e2e.pipeline_parse_processes({})  # the same as the pipeline
    assert bare["cpu_s"] > 0 and bare["peak_rss_mb"] > 20 and bare["wall_s"] >= bare["inner_s"] > 0
    assert summary.published and summary.counts["parsed"] == 10
    marts = bench_marts.run(tmp_path / "home" / "marts.duckdb", runs=3)
    assert marts["mart_agency_year_rows"] == summary.counts["published"]
    assert set(marts["queries"]) == set(bench_marts.QUERIES)
    assert all(q["median_ms"] > 0 for q in marts["queries"].values())
    assert marts["mart_query_ms"] == max(marts["queries"][q]["median_ms"] for q in bench_marts.HEADLINE)


def test_targets_are_checked_as_stated():
    at_limit = {"pdf_reports_per_s_core": 30, "html_reports_per_s_core": 1500, "parse_reports_per_s_core": 1000,
                "ocr_pages_per_s_core": 0.5, "pipeline_over_bare": 1.15, "rerun_over_first": 0.05,
                "small_run_s": 4, "peak_rss_mb": 1536, "mart_query_ms": 49.9, "reports": 10000}
    assert set(at_limit) == set(run_all.TARGETS)
    ok = run_all.check_targets(at_limit)
    assert all(t["met"] for t in ok.values())
    bad = run_all.check_targets({"pdf_reports_per_s_core": 29.9, "html_reports_per_s_core": 1499,
                                 "parse_reports_per_s_core": 999, "ocr_pages_per_s_core": 0.49,
                                 "pipeline_over_bare": 1.16, "rerun_over_first": 0.051, "small_run_s": 4.01,
                                 "peak_rss_mb": 1537, "mart_query_ms": 50, "reports": 9999})
    assert not any(t["met"] for t in bad.values())
    assert run_all.check_targets({})["mart_query_ms"]["met"] is False


def test_the_benchmark_site_answers_like_the_sample_server(tmp_path):
    # benchmarks.serve_corpus's own process (asyncio) must give what testkit.serve gives.
    import requests

    from benchmarks.serve_corpus import serve_in_process

    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "a.html").write_bytes('<meta charset="gbk"><p>报告</p>'.encode("gbk"))
    with serve_in_process(tmp_path) as base, requests.Session() as s:
        first = s.get(f"{base}/pages/a.html")
        assert first.status_code == 200 and first.headers["Content-Type"] == "text/html; charset=gbk"
        assert first.content == (tmp_path / "pages" / "a.html").read_bytes()
        again = s.get(f"{base}/pages/a.html", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.content == b""
        since = s.get(f"{base}/pages/a.html", headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status_code == 304
        assert s.get(f"{base}/pages/missing.html").status_code == 404
        assert s.get(f"{base}/../etc/passwd").status_code == 404


@pytest.mark.slow
def test_run_all_takes_the_ocr_figure_from_bench_ocr():
    # run_all reads bench_ocr's summary: a change of either side must not leave the figure empty
    from benchmarks import run_all

    said: list[str] = []
    rate = run_all.ocr_rate(said.append, ["000"])
    assert rate is not None and rate > 0
    assert "wrong 0" in said[-1], said


def test_measure_counts_the_cpu_of_processes_nobody_waited_for(tmp_path):
    # The pipeline's fork server workers outlive the flow process unwaited: wait4 alone lost their CPU.
    (tmp_path / "orphan_burner.py").write_text(
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    t = time.process_time()\n"
        "    while time.process_time() - t < 0.6:\n"
        "        pass\n"
        "    os._exit(0)\n"
        "print('{\"seconds\": 0.01}')\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    got = bench_e2e.measure(["orphan_burner"], env, "orphan burner")
    assert got["cpu_whole_tree"] is True
    assert got["cpu_process_s"] < 0.4  # the parent exits at once and never waits
    assert got["cpu_s"] >= 0.55  # the orphan's 0.6 s, counted


def test_the_benchmarks_prefect_runs_log_at_prefects_default_level(monkeypatch, tmp_path):
    # The measured flow runs send their INFO lines to the server, as a user's do: no quieter level set
    # by the benchmark, and none leaking in from the shell.
    from benchmarks.prefect_server import prefect_env

    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "ERROR")
    env = prefect_env(tmp_path, "http://127.0.0.1:1/api")
    assert "PREFECT_LOGGING_LEVEL" not in env and env["PREFECT_API_URL"] == "http://127.0.0.1:1/api"


def test_the_corpus_made_apart_is_the_corpus_made_here(tmp_path):
    """generate_apart: the same corpus from a process of its own (so the benchmark's process stays small)."""
    here = corpus.generate(25, tmp_path / "here", seed=7)
    apart = corpus.generate_apart(25, tmp_path / "apart", seed=7)
    assert _digest(tmp_path / "apart") == _digest(tmp_path / "here")
    assert (apart.n, apart.counts, apart.bytes) == (here.n, here.counts, here.bytes)
