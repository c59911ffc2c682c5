"""The registry CSV: validation errors name the line; {samples}; the bundled registry."""

from __future__ import annotations

import os
import re

import pytest

from sources.registry import BUNDLED_REGISTRY, LEVELS, RegistryError, Source, load_registry

HEADER = "agency,year,url,province,city,county,level,parent\n"


def write(tmp_path, text: str, encoding: str = "utf-8"):
    p = tmp_path / "registry.csv"
    p.write_bytes(text.encode(encoding))
    return p


def test_valid_registry_with_comments_blank_lines_and_optional_columns(tmp_path):
    p = write(
        tmp_path,
        "# my sources\n" + HEADER + "\n"
        "六盘水市,2024,https://www.gzlps.gov.cn/a.html,贵州省,六盘水市,,市,\n"
        "某街道办事处,2023,http://example.org/b.html,,,,乡镇街道,某县人民政府\n",
    )
    a, b = load_registry(p)
    assert a == Source(
        "六盘水市", 2024, "https://www.gzlps.gov.cn/a.html", "贵州省", "六盘水市", None, "市", None
    )
    assert (
        a.line == 4 and b.line == 5
    )  # physical lines: comment and blank lines count and b.parent == "某县人民政府" and b.county is None
    assert a.host == "www.gzlps.gov.cn"


def test_only_required_columns_and_gbk_file(tmp_path):
    p = write(tmp_path, "agency,url,year\n衢州市人民政府,http://www.qz.gov.cn/r.html,2022\n", "gbk")
    [s] = load_registry(p)
    assert (s.agency, s.year, s.level) == ("衢州市人民政府", 2022, None)


@pytest.mark.parametrize(
    "row, needle",
    [
        ("甲,2024,http://x.org/a,,,,区,", "level '区' is not one of"),
        ("甲,20x4,http://x.org/a,,,,,", "year '20x4' is not a whole number"),
        ("甲,1999,http://x.org/a,,,,,", "year 1999 is outside"),
        ("甲,2024,ftp://x.org/a,,,,,", "must start with http:// or https://"),
        ("甲,2024,www.x.org/a,,,,,", "must start with http"),
        ("甲,2024,,,,,,", "url is empty"),
        (",2024,http://x.org/a,,,,,", "agency is empty"),
        ("甲,2024,http://x.org/a,,,,,,,", "fields but the header has"),
    ],
)
def test_row_errors_name_the_line(tmp_path, row, needle):
    p = write(tmp_path, HEADER + "乙,2024,http://x.org/ok,,,,,\n" + row + "\n")
    with pytest.raises(RegistryError) as e:
        load_registry(p)
    assert re.search(rf"{re.escape(str(p))} line 3: .*{re.escape(needle)}", str(e.value)), str(e.value)
    assert [line for line, _ in e.value.errors] == [3]


def test_missing_and_unknown_columns(tmp_path):
    with pytest.raises(RegistryError, match=r"line 1: header lacks required column\(s\) year"):
        load_registry(write(tmp_path, "agency,url\n甲,http://x.org/a\n"))
    with pytest.raises(RegistryError, match=r"line 1: unknown column\(s\) provice"):
        load_registry(write(tmp_path, "agency,year,url,provice\n甲,2024,http://x.org/a,贵州省\n"))


def test_all_errors_reported_at_once_and_duplicates_name_both_lines(tmp_path):
    p = write(
        tmp_path,
        HEADER + "甲,2024,http://x.org/a,,,,,\n乙,2024,http://x.org/b,,,,镇,\n甲,2024,http://x.org/a,,,,,\n",
    )
    with pytest.raises(RegistryError) as e:
        load_registry(p)
    assert e.value.errors == [
        (3, "level '镇' is not one of " + ", ".join(LEVELS)),
        (4, "duplicate of line 2 (same agency, year and url)"),
    ]


def test_samples_placeholder(tmp_path):
    p = write(tmp_path, HEADER + "甲,2024,{samples}/a.html,,,,,\n")
    [s] = load_registry(p, samples_base="http://127.0.0.1:8123/")
    assert s.url == "http://127.0.0.1:8123/a.html"
    with pytest.raises(RegistryError, match="line 2: url '{samples}/a.html' uses {samples}"):
        load_registry(p)


def test_empty_registry(tmp_path):
    with pytest.raises(RegistryError, match="empty registry"):
        load_registry(write(tmp_path, "# nothing\n"))
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "absent.csv")


def test_bundled_registry_lists_every_sample_once():
    sources = load_registry(BUNDLED_REGISTRY, samples_base="http://127.0.0.1:1")
    files = {s.url.rsplit("/", 1)[1] for s in sources}
    assert len(sources) == len(files) == 8
    on_disk = {p.name for p in BUNDLED_REGISTRY.parent.iterdir() if p.suffix in (".html", ".pdf")}
    assert files == on_disk
    levels = {s.agency: s.level for s in sources}
    assert levels["石柱土家族自治县人民政府南宾街道办事处"] == "乡镇街道"
    assert levels["普洱市人民政府办公室"] == "部门"


def test_the_parsed_registry_is_kept_and_any_change_to_the_file_is_seen(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    rows = "六盘水市,2024,https://www.gzlps.gov.cn/a.html,贵州省,六盘水市,,市,\n某街道办事处,2023,{samples}/b.html,,,,乡镇街道,某县人民政府\n"
    p = write(tmp_path, HEADER + rows)
    first = load_registry(p, samples_base="http://127.0.0.1:1", cache_dir=cache)
    assert len(list(cache.glob("registry-*.json"))) == 1
    validated = []
    import sources.registry as registry

    real = registry.parse_registry
    monkeypatch.setattr(registry, "parse_registry", lambda *a, **k: validated.append(1) or real(*a, **k))
    again = load_registry(p, samples_base="http://127.0.0.1:1", cache_dir=cache)
    assert again == first and [s.line for s in again] == [s.line for s in first] and not validated
    assert again[1].url == "http://127.0.0.1:1/b.html" and again[1].parent == "某县人民政府"
    # Another sample server: other URLs.
    assert load_registry(p, samples_base="http://127.0.0.1:2", cache_dir=cache)[1].url == "http://127.0.0.1:2/b.html"
    # One byte changed, same size, same modification time: seen.
    st = p.stat()
    p.write_bytes(p.read_bytes().replace(b"2024", b"2022"))
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert p.stat().st_size == st.st_size
    assert load_registry(p, samples_base="http://127.0.0.1:2", cache_dir=cache)[0].year == 2022
    # A damaged cache file: validated again.
    for f in cache.glob("registry-*.json"):
        f.write_text('{"key": 1', encoding="utf-8")
    n = len(validated)
    assert load_registry(p, samples_base="http://127.0.0.1:2", cache_dir=cache)[0].year == 2022
    assert len(validated) == n + 1


def test_a_registry_with_errors_is_never_kept(tmp_path):
    cache = tmp_path / "cache"
    p = write(tmp_path, HEADER + "六盘水市,1999,https://www.gzlps.gov.cn/a.html,,,,,\n")
    for _ in range(2):
        with pytest.raises(RegistryError, match="1999"):
            load_registry(p, cache_dir=cache)
    assert not list(cache.glob("registry-*.json"))


def test_a_registry_with_credentials_in_a_url_is_never_kept(tmp_path):
    cache = tmp_path / "cache"
    p = write(tmp_path, HEADER + "六盘水市,2024,https://alice:pw-1@www.gzlps.gov.cn/a.html,,,,,\n"
                                 "某局,2024,https://www.gzlps.gov.cn/b.html?token=t-2,,,,,\n")
    assert [s.url for s in load_registry(p, cache_dir=cache)] == [
        "https://alice:pw-1@www.gzlps.gov.cn/a.html", "https://www.gzlps.gov.cn/b.html?token=t-2"]
    assert not list(cache.glob("registry-*.json"))
