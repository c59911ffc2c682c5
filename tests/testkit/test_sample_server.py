"""The bundled sample corpus served on loopback, fetched through the real fetch path."""

from __future__ import annotations

import email.utils

import pytest
import requests

from sources.fetch import FETCHED, NOT_MODIFIED, Fetcher
from sources.rawstore import RawStore
from sources.registry import BUNDLED_REGISTRY, load_registry
from testkit.serve import SAMPLES_DIR, serve_samples


def test_content_types_validators_and_304():
    with serve_samples() as base:
        r = requests.get(f"{base}/nanbin_2024.html", timeout=5)
        assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=gbk"
        assert r.content == (SAMPLES_DIR / "nanbin_2024.html").read_bytes()
        assert (
            requests.get(f"{base}/huaian_city_2024.pdf", timeout=5).headers["Content-Type"]
            == "application/pdf"
        )
        assert requests.get(f"{base}/qiaokou_2024.html", timeout=5).headers["Content-Type"].endswith("utf-8")
        etag, lm = r.headers["ETag"], r.headers["Last-Modified"]
        assert (
            requests.get(f"{base}/nanbin_2024.html", headers={"If-None-Match": etag}, timeout=5).status_code
            == 304
        )
        assert (
            requests.get(f"{base}/nanbin_2024.html", headers={"If-Modified-Since": lm}, timeout=5).status_code
            == 304
        )
        old = email.utils.formatdate(0, usegmt=True)
        assert (
            requests.get(
                f"{base}/nanbin_2024.html", headers={"If-Modified-Since": old}, timeout=5
            ).status_code
            == 200
        )
        assert requests.get(f"{base}/../testkit/serve.py", timeout=5).status_code == 404
        assert requests.get(f"{base}/%2e%2e/serve.py", timeout=5).status_code == 404
        assert requests.get(f"{base}/missing.html", timeout=5).status_code == 404
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/nanbin_2024.html", timeout=2)  # stopped on exit


def test_bundled_corpus_fetched_then_not_modified(tmp_path):
    store = RawStore(tmp_path / "raw")
    with serve_samples() as base, Fetcher(min_delay_s=0.0, backoff_s=0.01) as fetcher:
        sources = load_registry(BUNDLED_REGISTRY, samples_base=base)
        first = fetcher.fetch_many(sources, store)
        objects = store.object_count()
        second = fetcher.fetch_many(sources, store)
    assert [o.status for o in first] == [FETCHED] * 8
    kinds = {o.source.agency: (o.kind, o.encoding) for o in first}
    assert kinds["淮安市人民政府"] == ("pdf", None)
    assert kinds["石柱土家族自治县人民政府南宾街道办事处"] == ("html", "gb18030")
    assert kinds["平潭综合实验区"] == ("html", "utf-8")
    assert [o.status for o in second] == [NOT_MODIFIED] * 8
    assert all(o.attempts == 1 for o in second)
    assert store.object_count() == objects == 8
