"""Security properties as tests: what is fetched, what is parsed, what is stored, what is shown."""

from __future__ import annotations

import random
import re
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import rel_fuzz as rf
import rel_marts as rm
from rel_site import Site, registry, report_page, watching_server

from flows.plan import run_year
from flows.settings import Settings
from sources.registry import RegistryError, parse_registry
from transforms.parse import parse_document

pytestmark = pytest.mark.reliability
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def watcher():
    """A loopback server the hostile documents point their external entities and DTDs at."""
    with watching_server(b'<!ENTITY leak "LEAKED-FROM-NETWORK">') as w:
        yield w


# ----------------------------------------------------------------------------- parsing: no network, no entities
def test_xxe_in_html_page_resolves_nothing_and_fetches_nothing(watcher):
    base, hits = watcher
    secret = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "root:x:0:0"
    page = (f'<?xml version="1.0"?><!DOCTYPE html SYSTEM "{base}/dtd" [<!ENTITY x SYSTEM "file:///etc/hostname">'
            f'<!ENTITY y SYSTEM "{base}/xxe"><!ENTITY % p SYSTEM "{base}/param"> %p;]>'
            f"<html><head><link rel=stylesheet href='{base}/css'></head><body><p>A&x;B&y;C&leak;</p>"
            f"<img src='{base}/img'><iframe src='{base}/frame'></iframe></body></html>").encode()
    res = parse_document(page)
    assert hits == []
    assert secret not in res.text and "LEAKED" not in res.text


def test_xxe_and_entity_expansion_in_docx_resolve_nothing(watcher):
    base, hits = watcher
    for kind in (2, 3):  # billion laughs; external entities (file:// and loopback)
        data = rf.hostile_docx(random.Random(0), kind, loopback=base)
        res = parse_document(data)
        assert "lollollol" not in res.text
        assert "root:" not in res.text and "LEAKED" not in res.text
    assert hits == []


# ----------------------------------------------------------------------------- fetching: schemes
@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/a.html", "javascript:alert(1)",
                                 "gopher://127.0.0.1:70/_x", "data:text/html,<p>x</p>", "//127.0.0.1/x"])
def test_registry_accepts_only_http_and_https(url):
    with pytest.raises(RegistryError, match="http"):
        parse_registry(f'agency,year,url\n某局,2024,"{url}"\n')


# ----------------------------------------------------------------------------- SQL: names are data
HOSTILE = ["'; DROP TABLE dim_agency; --", 'Robert"); DROP TABLE fact_application;--', "局\\'\x1a$1 $$ ?"]


@pytest.mark.slow
def test_hostile_agency_names_load_as_names_through_the_pipeline(tmp_path):
    site = Site()
    try:
        rows = []
        for i, name in enumerate(HOSTILE):
            _rep, page = report_page(name, seed=i)
            rows.append((name, 2024, site.page(f"/h{i}.html", page) + "?q=';--"))
        reg = registry(tmp_path / "registry.csv", rows)
        home = tmp_path / "home"
        s = run_year(2024, Settings().with_overrides(home=home, sources=str(reg), min_delay=0.0, retries=0))
    finally:
        site.close()
    assert s.published, s.gate_reason
    with duckdb.connect(str(home / "marts.duckdb"), read_only=True) as con:
        names = {n for (n,) in con.execute("SELECT name FROM dim_agency").fetchall()}
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert set(HOSTILE) <= names
    assert {"dim_agency", "fact_application"} <= tables
    assert rm.duplicates(home / "marts.duckdb") == dict.fromkeys(rm.KEYED, 0)


def test_sql_files_and_warehouse_code_take_values_as_parameters():
    """No Python value is formatted into SQL text: f-strings with SQL only interpolate
    identifiers from fixed lists (checked by the marker comment) or nothing."""
    offenders = []
    for path in sorted((REPO / "warehouse").glob("*.py")) + [REPO / "flows" / "plan.py"] + sorted((REPO / "flows" / "steps").glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"""f["'].*\b(SELECT|INSERT|DELETE|UPDATE|WHERE|VALUES)\b.*\{""", line, re.I):
                names = re.findall(r"\{([^}]+)\}", line)
                # identifiers: table names from the module's constant lists, loop variables over them
                if not all(re.fullmatch(r"t|name|table|layer|STORAGE_VERSION|[A-Z_]+", x.strip()) for x in names):
                    offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()[:120]}")
    assert not offenders, "values formatted into SQL:\n" + "\n".join(offenders)


# ----------------------------------------------------------------------------- Prefect on loopback
def test_prefect_server_binds_loopback_by_default_and_auth_is_documented(monkeypatch):
    for var in ("PREFECT_SERVER_API_HOST", "PREFECT_API_URL"):
        monkeypatch.delenv(var, raising=False)
    from prefect.settings import get_current_settings

    assert get_current_settings().server.api.host == "127.0.0.1"
    texts = {p: p.read_text(encoding="utf-8") for p in [REPO / "prefect.yaml", REPO / "Makefile",
                                                         *sorted((REPO / "docs").glob("*.md")),
                                                         *sorted((REPO / "flows").glob("*.py"))] if p.exists()}
    for path, text in texts.items():
        for m in re.finditer(r"prefect server start[^\n`]*", text):
            assert "--host 0.0.0.0" not in m.group(0), f"{path.name}: {m.group(0)}"
        assert "PREFECT_SERVER_API_HOST=0.0.0.0" not in text, path.name
    docs = "".join(t for p, t in texts.items() if p.suffix == ".md")
    assert "PREFECT_SERVER_API_AUTH_STRING" in docs, "the Prefect server's auth setting is not documented"
    # The bundled sample server binds loopback too.
    from testkit.serve import serve_samples

    with serve_samples() as base:
        assert base.startswith("http://127.0.0.1:")


# ----------------------------------------------------------------------------- secrets
@pytest.mark.slow
def test_credentials_in_urls_never_reach_logs_or_artifacts(tmp_path):
    """A registry URL with user:password@ or a token in its query string works, but the
    secret is redacted wherever the URL is recorded: manifest, run summary, command output,
    published marts and Parquet."""
    secret_pw, secret_tok = "pw-S3CR3T-1", "tok-S3CR3T-2"
    site = Site()
    try:
        _rep, page = report_page("凭据局", seed=1)
        site.page("/report.html", page)
        url = site.url("/report.html").replace("http://", f"http://alice:{secret_pw}@") + f"?token={secret_tok}"
        missing = site.url("/missing.html").replace("http://", f"http://bob:{secret_pw}@") + f"?access_token={secret_tok}"
        reg = registry(tmp_path / "registry.csv", [("凭据局", 2024, url), ("缺失局", 2024, missing)])
        home = tmp_path / "home"
        p = rm.xxgk("run", "--year", "2024", "--sources", str(reg), home=home, env={"XXGK_RETRIES": "0"})
    finally:
        site.close()
    assert p.returncode == 0, p.stderr[-1500:]
    leaks = []
    if secret_pw in p.stdout + p.stderr or secret_tok in p.stdout + p.stderr:
        leaks.append("command output")
    for f in home.rglob("*"):
        if not f.is_file() or "objects" in f.parts or "parsed" in f.parts or f.suffix in (".duckdb", ".parquet"):
            continue
        data = f.read_bytes()
        if secret_pw.encode() in data or secret_tok.encode() in data:
            leaks.append(str(f.relative_to(home)))
    with duckdb.connect(str(home / "marts.duckdb"), read_only=True) as con:
        urls = [u for (u,) in con.execute("SELECT source_url FROM dim_report").fetchall()]
    if any(secret_pw in u or secret_tok in u for u in urls):
        leaks.append("marts.duckdb dim_report.source_url")
    for pf in (home / "marts").glob("*.parquet"):
        text = str(pq.read_table(pf).to_pylist())
        if secret_pw in text or secret_tok in text:
            leaks.append(f"marts/{pf.name}")
    assert not leaks, f"credentials from registry URLs leak into: {', '.join(sorted(set(leaks)))}"
