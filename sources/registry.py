"""The source registry: which agencies' reports to fetch, for which years, from where.

A registry is a CSV file (UTF-8, with or without BOM; GBK/GB18030 as saved by Excel is
accepted too) whose header names its columns::

    agency,year,url,province,city,county,level,parent
    六盘水市,2024,https://www.gzlps.gov.cn/.../t20250120_1.html,贵州省,六盘水市,,市,

``agency``, ``year`` and ``url`` are required; the others are optional and may be left
empty. ``level`` is one of 省, 市, 县, 乡镇街道, 部门. Blank lines and lines starting with
``#`` are ignored. ``{samples}`` inside a URL stands for the base URL of the bundled
sample server (its port is chosen at run time): pass ``samples_base`` to fill it in.

Validation collects every problem and raises one :class:`RegistryError` whose message
names each offending line. docs/SOURCES.md documents the format for users.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REQUIRED = ("agency", "year", "url")
OPTIONAL = ("province", "city", "county", "level", "parent")
COLUMNS = REQUIRED + OPTIONAL
LEVELS = ("省", "市", "县", "乡镇街道", "部门")
NAME_COLUMNS = ("agency", "province", "city", "county", "parent")  # normalised: normalize_name
FIRST_YEAR = 2008  # the 条例 took effect on 2008-05-01; no annual report predates it
SAMPLES_PLACEHOLDER = "{samples}"
BUNDLED_REGISTRY = Path(__file__).resolve().parent / "samples" / "registry.csv"


class RegistryError(ValueError):
    """The registry cannot be used; ``errors`` holds (line number, message) pairs."""

    def __init__(self, path: str, errors: list[tuple[int, str]]):
        self.path = path
        self.errors = errors
        lines = [f"{path} line {line}: {msg}" if line else f"{path}: {msg}" for line, msg in errors]
        super().__init__("invalid source registry:\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class Source:
    """One registry row: the report of ``agency`` for ``year`` at ``url``."""

    agency: str
    year: int
    url: str
    province: str | None = None
    city: str | None = None
    county: str | None = None
    level: str | None = None
    parent: str | None = None
    line: int | None = field(default=None, compare=False)  # where it came from, for messages

    @property
    def host(self) -> str:
        """host[:port], lower-cased: the unit of politeness."""
        return urlsplit(self.url).netloc.lower()


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_csv_bytes(data: bytes, name: str, error_cls=None) -> str:
    """The text of a registry or listings file: UTF-8 (BOM or not), UTF-16 (BOM, or NUL bytes
    that say so) or GBK/GB18030 as Excel saves it on a Chinese Windows.

    A UTF-8 file with a few stray bytes (an en dash pasted from Word is one cp1252 byte 0x96, a
    Latin-1 "é" is 0xE9) is not re-read as GB18030, which would turn every name into garbage:
    the error names each line holding such a byte. Bytes that fit no encoding do the same.
    """
    error_cls = error_cls or RegistryError
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(data) >= 4 and data.count(b"\x00") > len(data) // 4
    ):
        enc = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else (
            "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
        try:
            return data.decode(enc).lstrip("\ufeff")
        except UnicodeDecodeError as e:
            raise error_cls(name, [(0, f"looks like UTF-16 but byte {e.start} does not decode ({e.reason}); "
                                       "save the file as UTF-8")]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="surrogateescape")
    bad = [i for i, ch in enumerate(text) if "\udc80" <= ch <= "\udcff"]
    good = sum(1 for ch in text if ord(ch) > 127 and not "\udc80" <= ch <= "\udcff")
    if good >= len(bad) or len(bad) <= 2:
        # UTF-8 with stray bytes: name the lines (offsets in the text map back to lines alike).
        errors, seen = [], set()
        for i in bad:
            line = text.count("\n", 0, i) + 1
            if line in seen:
                continue
            seen.add(line)
            byte = ord(text[i]) - 0xDC00
            guess = bytes([byte]).decode("cp1252", errors="replace")
            errors.append((line, f"byte 0x{byte:02X} is not UTF-8 (a Windows-1252 or Latin-1 {guess!r} pasted "
                                 "from another program?); save the file as UTF-8"))
        raise error_cls(name, errors)
    try:
        return data.decode("gb18030")  # Excel on a Chinese Windows saves CSV as GBK
    except UnicodeDecodeError as e:
        raise error_cls(name, [(_line_of(data, e.start), f"byte 0x{data[e.start]:02X} fits neither UTF-8 nor "
                                                         "GBK/GB18030; save the file as UTF-8")]) from None


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_SPACES = re.compile(r"\s+")
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) | (?=[\u3000-\u9fff\uff00-\uffef])")


@functools.lru_cache(maxsize=1 << 16)  # regions and parents repeat on every row of a large registry
def normalize_name(name: str | None) -> str | None:
    """A name as it identifies an agency or a region: NFKC (full-width and compatibility forms
    folded), zero-width characters and soft hyphens removed, runs of white space (NBSP and the
    ideographic space included) one space, none next to a Chinese character, none at the ends.
    Look-alike names from invisible characters become one name."""
    if name is None:
        return None
    text = unicodedata.normalize("NFKC", name).translate(_ZERO_WIDTH)
    text = _SPACES.sub(" ", text).strip()
    return _CJK_SPACE.sub("", text)


def check_url(url: str) -> str | None:
    """Why ``url`` is not a usable report URL, or None."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return f"url {url!r} must start with http:// or https://"
    if not parts.hostname:
        return f"url {url!r} has no host"
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return f"url {url!r} has an invalid port"
    if _SPACES.search(url):  # \s is str.isspace()'s set
        return f"url {url!r} contains whitespace"
    return None


def _check_year(raw: str) -> tuple[int | None, str | None]:
    last = dt.date.today().year
    try:
        year = int(raw)
    except ValueError:
        return None, f"year {raw!r} is not a whole number (expected e.g. 2024)"
    if not FIRST_YEAR <= year <= last:
        return None, f"year {year} is outside {FIRST_YEAR}..{last}"
    return year, None


def csv_records(text: str, name: str, required: tuple[str, ...], columns: tuple[str, ...], error_cls,
                errors: list[tuple[int, str]], what: str = "file") -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: stripped value}) for each data row of a CSV with a header.

    Comment lines (#) and blank lines are skipped, line numbers kept. A bad header raises
    ``error_cls(name, errors)`` at once; a row with too many fields is added to ``errors``.
    """
    lines = ["" if ln.lstrip().startswith("#") else ln for ln in text.splitlines()]
    reader = csv.reader(io.StringIO("\n".join(lines) + "\n"))
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:  # a field over csv's limit (128 KB), a NUL byte, a stray quote
            errors.append((reader.line_num, f"cannot be read as CSV: {e}"))
            raise error_cls(name, errors) from None
        line = reader.line_num
        if not "".join(row).strip():
            continue
        if header is None:
            header = [c.strip().lower() for c in row]
            missing = [c for c in required if c not in header]
            unknown = [c for c in header if c not in columns]
            dupes = sorted({c for c in header if header.count(c) > 1})
            if missing:
                errors.append((line, f"header lacks required column(s) {', '.join(missing)} "
                                     f"(header is: {','.join(header)})"))
            if unknown:
                errors.append((line, f"unknown column(s) {', '.join(unknown)}; known: {', '.join(columns)}"))
            if dupes:
                errors.append((line, f"column(s) {', '.join(dupes)} appear more than once"))
            if errors:
                raise error_cls(name, errors)
            continue
        if len(row) > len(header):
            errors.append((line, f"{len(row)} fields but the header has {len(header)} columns"))
            continue
        rec = {col: (row[i].strip() if i < len(row) else "") for i, col in enumerate(header)}
        if "\x00" in "".join(rec.values()):  # csv reads NUL since Python 3.11; no name holds one
            errors.append((line, "a NUL byte in a field (a binary, damaged or UTF-16 file read as another encoding?)"))
            continue
        for col in NAME_COLUMNS:
            if rec.get(col):
                rec[col] = normalize_name(rec[col]) or ""
        yield line, rec
    if header is None:
        errors.append((0, f"empty {what}: expected a header line with {','.join(columns)}"))


def parse_registry(text: str, *, name: str = "<registry>", samples_base: str | None = None) -> list[Source]:
    """Validate registry CSV text; see the module docstring for the format."""
    errors: list[tuple[int, str]] = []
    out: list[Source] = []
    seen: dict[tuple[str, int, str], int] = {}
    for line, rec in csv_records(text, name, REQUIRED, COLUMNS, RegistryError, errors, "registry"):
        row_errors: list[str] = []
        if not rec["agency"]:
            row_errors.append("agency is empty")
        year, msg = _check_year(rec["year"])
        if msg:
            row_errors.append(msg)
        url = rec["url"]
        if SAMPLES_PLACEHOLDER in url:
            if samples_base is None:
                row_errors.append(
                    f"url {url!r} uses {SAMPLES_PLACEHOLDER} but no sample server base URL was given"
                )
            else:
                url = url.replace(SAMPLES_PLACEHOLDER, samples_base.rstrip("/"))
        if not url:
            row_errors.append("url is empty")
        elif SAMPLES_PLACEHOLDER not in url and (msg := check_url(url)):
            row_errors.append(msg)
        level = rec.get("level") or None
        if level is not None and level not in LEVELS:
            row_errors.append(f"level {level!r} is not one of {', '.join(LEVELS)}")
        if row_errors:
            errors.extend((line, m) for m in row_errors)
            continue
        assert year is not None
        key = (rec["agency"], year, url)
        if key in seen:
            errors.append((line, f"duplicate of line {seen[key]} (same agency, year and url)"))
            continue
        seen[key] = line
        out.append(
            Source(
                agency=rec["agency"],
                year=year,
                url=url,
                province=rec.get("province") or None,
                city=rec.get("city") or None,
                county=rec.get("county") or None,
                level=level,
                parent=rec.get("parent") or None,
                line=line,
            )
        )
    if errors:
        raise RegistryError(name, errors)
    return out


def load_registry(path: str | os.PathLike, samples_base: str | None = None,
                  cache_dir: str | os.PathLike | None = None) -> list[Source]:
    """Read and validate a registry file; raises :class:`RegistryError` naming the lines.

    With ``cache_dir``, a registry that validated is kept there in its parsed form, keyed by
    the SHA-256 of the file's bytes, ``samples_base`` and this module's code: the same bytes
    read again skip the validation (a third of a second at 10,000 rows; hashing them takes
    a few ms). Any change to the file is another key; a registry with errors, or with
    credentials in a URL, is never kept.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise RegistryError(str(p), [(0, f"cannot read: {e.strerror or e}")]) from None
    cached = key = None
    if cache_dir is not None:
        key = _cache_key(data, samples_base)
        cached = _read_cached(Path(cache_dir), key)
        if cached is not None:
            return cached
    rows = parse_registry(decode_csv_bytes(data, str(p)), name=str(p), samples_base=samples_base)
    if key is not None and not _has_secrets(rows):
        _write_cached(Path(cache_dir), key, rows)
    return rows


_CACHE_FIELDS = ("agency", "year", "url", "province", "city", "county", "level", "parent", "line")
_CACHE_VERSION = 1


@functools.lru_cache(maxsize=1)
def _code_key() -> str:
    """This module's source: another validation is another cache."""
    import hashlib

    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _cache_key(data: bytes, samples_base: str | None) -> str:
    import hashlib

    h = hashlib.sha256(data)
    h.update(f"\0{_CACHE_VERSION}\0{samples_base}\0{_code_key()}".encode())
    return h.hexdigest()


def _cache_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"registry-{key[:32]}.json"


def _read_cached(cache_dir: Path, key: str) -> list[Source] | None:
    import json

    try:
        got = json.loads(_cache_file(cache_dir, key).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(got, dict) or got.get("key") != key or got.get("fields") != list(_CACHE_FIELDS):
        return None
    try:
        return [Source(*row) for row in got["rows"]]
    except (TypeError, KeyError):
        return None  # a damaged cache file: validated again


def _has_secrets(rows: list[Source]) -> bool:
    """URLs with credentials (``user:password@``, a token in the query) are never written down:
    such a registry is validated on every run instead."""
    from sources.rawstore import redact_url

    return any(redact_url(r.url) != r.url for r in rows)


def _write_cached(cache_dir: Path, key: str, rows: list[Source]) -> None:
    import contextlib
    import json

    from sources.files import atomic_write

    body = {"key": key, "fields": list(_CACHE_FIELDS),
            "rows": [[getattr(r, f) for f in _CACHE_FIELDS] for r in rows]}
    with contextlib.suppress(OSError):  # a read-only home: validated on every run instead
        for old in cache_dir.glob("registry-*.json"):  # one kept: the last registry read
            old.unlink(missing_ok=True)
        atomic_write(_cache_file(cache_dir, key), json.dumps(body, ensure_ascii=False), fsync=False)


def load_bundled(samples_base: str) -> list[Source]:
    """The bundled sample registry, its URLs pointing at ``samples_base``."""
    return load_registry(BUNDLED_REGISTRY, samples_base=samples_base)
