"""Fault 3 (issue 18): a flipped byte in the raw store is never published.

Every body read from the raw store is checked against its SHA-256. A damaged object is set
aside and fetched again from the site (repaired when the site gives the same bytes), and the
run says what it repaired. With the site gone, the report fails with the reason instead.
"""

from __future__ import annotations

import shutil

import pytest
from rel_faults import fast_settings, published_sha
from rel_site import Site, registry, report_page, response

from flows.outcomes import FETCH_FAILED
from flows.plan import run_year
from sources.rawstore import DamagedObject, RawStore, sha256_hex

pytestmark = [pytest.mark.reliability]
YEAR = 2024


def flip_a_byte(store: RawStore, sha: str) -> None:
    path = store.path_of(sha)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_get_and_put_verify_the_hash(tmp_path):
    store = RawStore(tmp_path)
    sha, new = store.put(b"report body " * 100)
    assert new and store.verify(sha)
    flip_a_byte(store, sha)
    with pytest.raises(DamagedObject):
        store.get(sha)
    assert not store.has(sha) and len(list(store.damaged.iterdir())) == 1  # set aside, kept for inspection
    flip_store = RawStore(tmp_path)
    flip_store.put(b"other " * 10)
    sha2, _ = flip_store.put(b"x" * 1000)
    flip_a_byte(flip_store, sha2)
    assert flip_store.put(b"x" * 1000) == (sha2, True)  # the same body downloaded again repairs it
    assert flip_store.repaired == [sha2] and flip_store.get(sha2) == b"x" * 1000


@pytest.mark.slow
def test_a_flipped_raw_byte_is_repaired_from_the_site_and_never_published(tmp_path):
    site = Site()
    _, page = report_page("校验局", seed=4)
    ok = response(200, page, {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'})
    answers = [ok]  # the next answers, in order; the last one stays

    def serve(conn, _n):
        conn.sendall(answers.pop(0) if len(answers) > 1 else answers[0])

    reg = registry(tmp_path / "registry.csv", [("校验局", YEAR, site.route("/r.html", serve))])
    settings = fast_settings(tmp_path / "home", reg)
    sha = sha256_hex(page)
    store = RawStore(settings.raw_dir)
    try:
        run_year(YEAR, settings)
        for full, answer in ((False, [response(304), ok]), (True, [ok])):
            # The parse cache would hide the damage; a new parser version (or a cleared cache) reads the body.
            shutil.rmtree(settings.parsed_dir, ignore_errors=True)
            flip_a_byte(store, sha)
            answers[:] = answer  # 304 (the body is read from the store: damaged), or the body itself
            s = run_year(YEAR, settings.with_overrides(full_run=full))
            assert any("repaired" in n and sha[:12] in n for n in s.notes), s.notes
            assert RawStore(settings.raw_dir).get(sha) == page
            assert published_sha(settings.marts_path, YEAR) == {"校验局": sha}
        # Damaged again, and the site answers 304 then 404: the report fails with the reason and
        # nothing is parsed from bad bytes; the marts keep the good version.
        shutil.rmtree(settings.parsed_dir, ignore_errors=True)
        flip_a_byte(store, sha)
        answers[:] = [response(304), response(404)]
        s = run_year(YEAR, settings)
    finally:
        site.close()
    [o] = s.reports
    assert o.outcome == FETCH_FAILED, o.reasons
    assert any("damaged" in r and "http_404" in r for r in o.reasons), o.reasons
    assert published_sha(settings.marts_path, YEAR) == {"校验局": sha}
