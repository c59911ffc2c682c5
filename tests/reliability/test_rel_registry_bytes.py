"""Fault 7 (issue 18): registry bytes as users' tools save them.

A UTF-8 registry with one cp1252 byte (an en dash from Word), a stray Latin-1 byte, UTF-16
(Excel's "Unicode text"), a field over csv's 128 KB limit: each gives the right names or a
RegistryError naming the file and line, never garbled agencies or a UnicodeDecodeError.
Invisible characters inside names never make a second agency.
"""

from __future__ import annotations

import pytest

from sources.discover import ListingsError, load_listings
from sources.registry import RegistryError, load_registry, normalize_name

pytestmark = [pytest.mark.reliability]
HEADER = "agency,year,url,province,city,county,level,parent\n"
ROWS = ["六盘水市,2024,https://www.gzlps.gov.cn/a.html,贵州省,六盘水市,,市,\n",
        "钟山区,2024,https://www.zsq.gov.cn/b.html,贵州省,六盘水市,钟山区,县,六盘水市\n"]


def write(tmp_path, data: bytes, name: str = "registry.csv"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def names(path) -> list[str]:
    return [s.agency for s in load_registry(path)]


@pytest.mark.parametrize("stray, what", [(b"\x96", "cp1252 en dash"), (b"\xe9", "Latin-1 e-acute")])
@pytest.mark.parametrize("where", ["comment", "name", "url"])
def test_utf8_with_one_stray_byte_names_the_line(tmp_path, stray, what, where):
    text = (HEADER + ROWS[0] + ROWS[1]).encode()
    if where == "comment":
        data = text + b"# 2024 " + stray + b" checked\n"
        line = 4
    elif where == "name":
        data = text.replace("钟山区".encode(), "钟山区".encode() + stray + b"x", 1)
        line = 3
    else:
        data = text.replace(b"/b.html", b"/b" + stray + b".html")
        line = 3
    path = write(tmp_path, data)
    with pytest.raises(RegistryError) as e:
        load_registry(path)
    msg = str(e.value)
    assert f"{path} line {line}" in msg and "UTF-8" in msg, msg


def test_utf8_only_ascii_with_a_latin1_byte_is_not_read_as_gbk(tmp_path):
    data = b"agency,year,url\nCity Office,2024,https://x.gov.cn/r\xe9sum.html\n"
    with pytest.raises(RegistryError, match="line 2"):
        load_registry(write(tmp_path, data))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "gb18030"])
def test_other_encodings_give_the_right_names(tmp_path, encoding):
    path = write(tmp_path, (HEADER + "".join(ROWS)).encode(encoding))
    assert names(path) == ["六盘水市", "钟山区"]


def test_a_field_over_128_kb_is_an_error_naming_the_line(tmp_path):
    big = '"' + "x" * 200_000 + '"'
    path = write(tmp_path, (HEADER + ROWS[0] + f"钟山区,2024,https://x.gov.cn/a,{big},,,县,\n").encode())
    with pytest.raises(RegistryError, match=r"line 3: cannot be read as CSV"):
        load_registry(path)


def test_nul_bytes_and_undecodable_bytes_are_errors_not_crashes(tmp_path):
    path = write(tmp_path, (HEADER + ROWS[0]).encode() + b"\x00\x00x,2024,https://x.gov.cn/\n")
    with pytest.raises(RegistryError, match="line 3: a NUL byte"):
        load_registry(path)
    path = write(tmp_path, (HEADER + ROWS[0]).encode("gb18030") + b"\x81\x20\xff,2024,https://x.gov.cn/\n")
    with pytest.raises(RegistryError, match="line"):
        load_registry(path)


@pytest.mark.parametrize("variant", ["六盘水市\u200b", "\ufeff六盘水市", "六盘水\u00a0市", "六盘水\u3000市", " 六盘水市  ",
                                     "六盘水\u200d市", "六盘水市\u2060"])
def test_invisible_characters_never_make_a_second_agency(tmp_path, variant):
    rows = HEADER + ROWS[0] + f"{variant},2023,https://www.gzlps.gov.cn/c.html,贵州省,六盘水市,,市,\n"
    rows += f"钟山区,2023,https://www.zsq.gov.cn/d.html,贵州省,{variant},钟山区,县,{variant}\n"
    got = load_registry(write(tmp_path, rows.encode()))
    assert {s.agency for s in got} == {"六盘水市", "钟山区"}
    assert {s.parent for s in got} == {None, "六盘水市"} and {s.city for s in got} == {"六盘水市"}


def test_normalize_name_rules():
    assert normalize_name("Ｎｏ．１　中学") == "No.1中学"  # full-width folded, ideographic space gone
    assert normalize_name("City  Office\u00a0A") == "City Office A"  # one space between Latin words
    assert normalize_name("\u200b") == ""


def test_listings_file_reads_the_same_way(tmp_path):
    path = write(tmp_path, "agency,listing_url\n六盘水市\u200b,https://www.gzlps.gov.cn/nb/\n".encode("utf-16"),
                 "listings.csv")
    assert [listing.agency for listing in load_listings(path)] == ["六盘水市"]
    bad = write(tmp_path, "agency,listing_url\n六盘水市,https://x.gov.cn/nb/\n".encode() + b"# \x96\n", "l2.csv")
    with pytest.raises(ListingsError, match="line 3"):
        load_listings(bad)
