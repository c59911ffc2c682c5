"""Discovery: find the reports on agencies' sites and merge them into the source registry.

A *listings* file names, per agency, the web page that lists its annual reports (the
政府信息公开年报 column)::

    agency,listing_url,province,city,county,level,parent
    六盘水市,https://www.gzlps.gov.cn/zfxxgk/zfxxgknb/,贵州省,六盘水市,,市,

``discover`` fetches each listing page with the project's polite :class:`sources.fetch.Fetcher`,
follows its pagination up to ``max_pages`` pages per listing (never a page twice; a page
that fails is recorded and the rest goes on), picks the report links with
:func:`transforms.listing.extract_links` and files each under the agency its title names.
``merge_registry`` folds the result into an existing registry; ``write_registry`` writes it
atomically. docs/DISCOVERY.md describes all of it for users.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sources.fetch import Page
from sources.files import atomic_write
from sources.registry import (
    COLUMNS,
    FIRST_YEAR,
    LEVELS,
    OPTIONAL,
    RegistryError,
    Source,
    check_url,
    csv_records,
    decode_csv_bytes,
    load_registry,
)
from transforms import decode as dec
from transforms.listing import ReportLink, extract_links

LISTING_REQUIRED = ("agency", "listing_url")
LISTING_COLUMNS = LISTING_REQUIRED + OPTIONAL
DEFAULT_MAX_PAGES = 20


class ListingsError(RegistryError):
    """The listings file cannot be used; the message names each offending line."""

    def __init__(self, path: str, errors: list[tuple[int, str]]):
        super().__init__(path, errors)
        lines = [f"{path} line {line}: {msg}" if line else f"{path}: {msg}" for line, msg in errors]
        self.args = ("invalid listings file:\n  " + "\n  ".join(lines),)


@dataclass(frozen=True)
class Listing:
    """One listings row: ``agency`` publishes its reports in the column at ``listing_url``."""

    agency: str
    listing_url: str
    province: str | None = None
    city: str | None = None
    county: str | None = None
    level: str | None = None
    parent: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PageVisit:
    """One listing page fetched (or not)."""

    listing: Listing
    url: str
    ok: bool
    error: str | None = None  # a fetch failure code (http_404, timeout, …) or not_html
    http_status: int | None = None
    reports: int = 0  # report links on the page (any year)
    next_pages: int = 0


@dataclass(frozen=True)
class Found:
    """A report found on a listing page, as the registry row it becomes."""

    source: Source
    link: ReportLink
    listing: Listing
    page_url: str


@dataclass
class DiscoveryResult:
    found: list[Found] = field(default_factory=list)  # reports of the requested years, each URL once
    pages: list[PageVisit] = field(default_factory=list)
    undated: list[tuple[Listing, ReportLink]] = field(default_factory=list)  # reports with no year
    other_years: int = 0  # reports found but outside the requested years
    truncated: list[Listing] = field(default_factory=list)  # listings that had more pages than max_pages
    # Other URLs for an agency and year already found (a PDF next to its page, or the same
    # report on two sites): the registry gets one row per agency and year.
    alternates: list[Found] = field(default_factory=list)
    listed_urls: set[str] = field(default_factory=set)  # every report URL seen (any year): for merge

    @property
    def sources(self) -> list[Source]:
        return [f.source for f in self.found]

    @property
    def failed_pages(self) -> list[PageVisit]:
        return [p for p in self.pages if not p.ok]


# --------------------------------------------------------------------------- listings file
def _read_text(path: Path) -> str:
    return decode_csv_bytes(path.read_bytes(), str(path), ListingsError)


def parse_listings(text: str, *, name: str = "<listings>") -> list[Listing]:
    """Validate listings CSV text (``agency,listing_url`` plus optional region columns)."""
    errors: list[tuple[int, str]] = []
    out: list[Listing] = []
    seen: dict[str, int] = {}
    for line, rec in csv_records(text, name, LISTING_REQUIRED, LISTING_COLUMNS, ListingsError, errors,
                                 "listings file"):
        row_errors = []
        if not rec["agency"]:
            row_errors.append("agency is empty")
        url = rec["listing_url"]
        if not url:
            row_errors.append("listing_url is empty")
        elif msg := check_url(url):
            row_errors.append(msg.replace("url ", "listing_url ", 1))
        level = rec.get("level") or None
        if level is not None and level not in LEVELS:
            row_errors.append(f"level {level!r} is not one of {', '.join(LEVELS)}")
        if not row_errors and url in seen:
            row_errors.append(f"listing_url repeats line {seen[url]}")
        if row_errors:
            errors.extend((line, m) for m in row_errors)
            continue
        seen[url] = line
        out.append(Listing(
            agency=rec["agency"], listing_url=url, province=rec.get("province") or None,
            city=rec.get("city") or None, county=rec.get("county") or None, level=level,
            parent=rec.get("parent") or None, line=line,
        ))
    if errors:
        raise ListingsError(name, errors)
    return out


def load_listings(path: str | os.PathLike) -> list[Listing]:
    """Read and validate a listings file; raises :class:`ListingsError` naming the lines."""
    p = Path(path)
    try:
        text = _read_text(p)
    except OSError as e:
        raise ListingsError(str(p), [(0, f"cannot read: {e.strerror or e}")]) from None
    return parse_listings(text, name=str(p))


# --------------------------------------------------------------------------- fetching a page
def fetch_page(fetcher, url: str) -> Page:
    """GET one listing page with the fetcher's politeness, retries, size cap and redirect
    checks, without storing it in the raw store: a listing page is not a report."""
    try:
        return fetcher.fetch_url(url)
    except Exception as e:  # noqa: BLE001 - one page's trouble is that page's failure
        return Page(url, None, error=getattr(e, "code", None) or type(e).__name__)


# --------------------------------------------------------------------------- discovery
def _canonical(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme.lower(), p.netloc.lower(), p.path or "/", p.query, ""))


_INDEX_FILE = re.compile(r"/(?:index|default)\.(?:s?html?|jhtml)$", re.IGNORECASE)


def _page_key(url: str) -> str:
    """Pages are the same when their URLs are, and a folder is the same page as its index.html."""
    p = urlsplit(_canonical(url))
    return urlunsplit((p.scheme, p.netloc, _INDEX_FILE.sub("/", p.path), p.query, ""))


def crawl_listing(listing: Listing, fetcher, *, max_pages: int = DEFAULT_MAX_PAGES,
                  years: set[int] | None = None) -> tuple[list[PageVisit], list[tuple[ReportLink, str]], bool]:
    """Fetch one listing and its further pages (breadth first, each page once).

    Further pages are the listing's pagination and its year sub-columns (…/2023n/); a
    sub-column naming a year outside ``years`` is not read.

    Returns the page visits, the report links with the page each was found on (in page
    order, duplicates included), and whether pages were left unvisited because of ``max_pages``.
    """
    queue = [listing.listing_url]
    seen = {_page_key(listing.listing_url)}
    visits: list[PageVisit] = []
    links: list[tuple[ReportLink, str]] = []
    while queue and len(visits) < max_pages:
        url = queue.pop(0)
        got = fetch_page(fetcher, url)
        seen.add(_page_key(got.url))
        if got.error or got.body is None:
            visits.append(PageVisit(listing, url, False, got.error or "no_body", got.http_status))
            continue
        try:
            decoded = dec.decode(got.body, got.content_type)
            if decoded.kind not in (dec.HTML, dec.TEXT):
                visits.append(PageVisit(listing, url, False, "not_html", got.http_status))
                continue
            page = extract_links(decoded.text, got.url)
        except Exception:  # noqa: BLE001 - a page we cannot read is that page's failure, not the run's
            visits.append(PageVisit(listing, url, False, "unreadable", got.http_status))
            continue
        # A sidebar link to another site's report (the province's) is not a report of this listing.
        links.extend((r, url) for r in page.reports if _same_site(r.url, listing.listing_url, got.url))
        new = 0
        subs = [u for u, y in page.sub_listings if years is None or y is None or y in years]
        for nxt in [*page.next_pages, *subs]:
            key = _page_key(nxt)
            if key not in seen:
                seen.add(key)
                queue.append(nxt)
                new += 1
        visits.append(PageVisit(listing, url, True, None, got.http_status, len(page.reports), new))
    return visits, links, bool(queue)


def _site(url: str) -> str:
    host = urlsplit(url).netloc.lower()
    return host[4:] if host.startswith("www.") else host


def _same_site(link: str, *pages: str) -> bool:
    return _site(link) in {_site(p) for p in pages}


_CORE_SUFFIX = re.compile(r"(?:人民政府办公厅|人民政府办公室|人民政府|政府办公室|政府办公厅|政府)$")


def _core(name: str) -> str:
    return _CORE_SUFFIX.sub("", re.sub(r"\s+", "", name))


def _region_name(listing: Listing, prefix: str) -> str | None:
    """The listing's region that a short name like 市财政局 / 区民政局 is relative to."""
    core = _core(listing.agency)
    if prefix in "市州盟":
        cands = [listing.city, core]
    elif prefix in "区县旗":
        cands = [listing.county, core]
    else:  # 省
        cands = [listing.province, core]
    for c in cands:
        if c and c.endswith(prefix) and len(c) > 1:
            return c
    return None


def qualify_agency(name: str, listing: Listing) -> str:
    """"市财政局" on 六盘水市's site is 六盘水市财政局: short names are made unique with the
    listing's region (the registry keys reports by agency and year)."""
    if len(name) >= 3 and name[0] in "省市州盟区县旗" and not name.startswith(("市辖", "县级")):
        region = _region_name(listing, name[0])
        if region:
            return region + name[1:]
    return name


def _infer_level(name: str) -> str | None:
    if re.search(r"(?:镇|乡|街道|街道办事处|苏木)(?:人民政府)?$", name):
        return "乡镇街道"
    if re.search(r"(?:省|自治区)(?:人民政府)?$", name):
        return "省"
    if re.search(r"(?:县|区|旗)(?:人民政府)?$", name):
        return "县"
    if re.search(r"(?:市|州|盟)(?:人民政府)?$", name):
        return "市"
    return "部门"


_OFFICE_SUFFIX = re.compile(r"(?:办事处|管理委员会|管委会)$")


def _base(name: str) -> str:
    """A body's name without the words that vary between its own titles (人民政府, 办事处, ...)."""
    return _OFFICE_SUFFIX.sub("", _core(name))


def same_body(title_name: str, listing: Listing) -> bool:
    """Whether a title's agency is the listing's own body in other words: 六盘水市 for
    六盘水市人民政府, 南宾街道办事处 for 石柱县南宾街道 (a short form of the listing's name)."""
    title, own = _base(title_name), _base(listing.agency)
    if not title or not own:
        return False
    return title == own or (len(title) >= 3 and own.endswith(title))


def source_for(link: ReportLink, listing: Listing, known: dict[str, Listing] | None = None) -> Source:
    """The registry row for a report link found on ``listing``'s pages.

    * A title naming the listing's own body, in whatever wording (六盘水市 for 六盘水市人民政府,
      a short name), is filed under the listing's agency as the listings file names it: one
      body, one name, every year.
    * A title naming another body that the listings file knows (``known``: name, core and base
      name -> its listing) goes under that listing's agency and region.
    * A title naming a body the listings file does not know (a department's report on the
      city's column) goes under that body, with the listing's agency as its parent and the
      listing's province and city.
    * No agency in the title: the listing's agency.
    """
    assert link.year is not None
    own = Source(listing.agency, link.year, link.url, listing.province, listing.city, listing.county,
                 listing.level, listing.parent)
    if not link.agency:
        return own
    name = qualify_agency(link.agency, listing)
    if same_body(name, listing) or same_body(link.agency, listing):
        return own
    k = known or {}
    other = k.get(name) or k.get(_core(name)) or k.get(_base(name))
    if other is not None:
        if other is listing:
            return own
        return Source(other.agency, link.year, link.url, other.province, other.city, other.county, other.level,
                      other.parent)
    level = _infer_level(name)
    county = listing.county
    if level == "县" and not county:
        county = _core(name)
    city = listing.city
    if level == "市" and not city:
        city = _core(name)
    return Source(name, link.year, link.url, listing.province, city, county, level, listing.agency)


def known_bodies(listings: Iterable[Listing]) -> dict[str, Listing]:
    """Every listing by its agency's name and core name (人民政府 etc. dropped)."""
    known: dict[str, Listing] = {}
    for li in listings:
        for key in (li.agency, _core(li.agency), _base(li.agency)):
            known.setdefault(key, li)
    return known


def discover(listings: Iterable[Listing], fetcher, *, years: Iterable[int] | None = None,
             max_pages: int = DEFAULT_MAX_PAGES, workers: int = 4) -> DiscoveryResult:
    """Fetch every listing (pagination included) and return the reports of ``years`` (all if None).

    Each report URL is recorded once, under the first listing and page that showed it.
    Listings on different hosts are crawled in parallel; the fetcher keeps each host polite.
    """
    listings = list(listings)
    wanted = set(years) if years is not None else None
    if max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, got {max_pages}")
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(listings) or 1)),
                            thread_name_prefix="xxgk-discover") as pool:
        crawled = list(pool.map(lambda li: crawl_listing(li, fetcher, max_pages=max_pages, years=wanted),
                                listings))
    result = DiscoveryResult()
    known = known_bodies(listings)
    seen: set[str] = set()
    candidates: list[Found] = []
    for listing, (visits, links, truncated) in zip(listings, crawled, strict=True):
        result.pages.extend(visits)
        if truncated:
            result.truncated.append(listing)
        for link, page_url in links:
            key = _canonical(link.url)
            if key in seen:
                continue
            seen.add(key)
            result.listed_urls.add(key)
            if link.year is None:
                result.undated.append((listing, link))
                continue
            if wanted is not None and link.year not in wanted:
                result.other_years += 1
                continue
            if not FIRST_YEAR <= link.year <= dt.date.today().year:  # the registry's own bounds
                result.other_years += 1
                continue
            candidates.append(Found(source_for(link, listing, known), link, listing, page_url))
    best: dict[tuple[str, int], Found] = {}
    for f in candidates:
        key = (f.source.agency, f.source.year)
        if key not in best or _rank(f) < _rank(best[key]):
            best[key] = f
    chosen = {id(f) for f in best.values()}
    result.found = [f for f in candidates if id(f) in chosen]
    result.alternates = [f for f in candidates if id(f) not in chosen]
    return result


def _rank(f: Found) -> tuple[int, int]:
    """Lower is better: a year stated in the title, then a page rather than an attachment
    (the page usually carries the tables as HTML and links the attachment anyway)."""
    return (0 if f.link.year_source == "title" else 1, 1 if f.link.is_attachment else 0)


# --------------------------------------------------------------------------- registry merge
@dataclass(frozen=True)
class Moved:
    old: Source
    new: Source


def merge_registry(existing: list[Source], found: DiscoveryResult | Iterable[Source] | Iterable[Found]
                   ) -> tuple[list[Source], list[Source], list[Moved]]:
    """Fold discovered reports into a registry: ``(merged, added, moved)``.

    * a report already there (same agency, year and url) changes nothing;
    * a report whose agency and year are there under another url: when that old url is no
      longer listed anywhere discovery looked, the report has moved: its row keeps its place
      and its region columns (empty ones are filled from discovery) and takes the new url.
      When the old url is still listed, the registry's row stands (one report per agency
      and year; the warehouse would otherwise treat the two as versions of each other);
    * anything else is added, at the end, in discovery order.
    """
    if isinstance(found, DiscoveryResult):
        new_rows = found.sources
        listed = set(found.listed_urls) | {_canonical(s.url) for s in new_rows}
    else:
        new_rows = [f.source if isinstance(f, Found) else f for f in found]
        listed = {_canonical(s.url) for s in new_rows}
    merged = list(existing)
    keys = {(s.agency, s.year, _canonical(s.url)) for s in merged}
    added: list[Source] = []
    moved: list[Moved] = []
    for src in new_rows:
        key = (src.agency, src.year, _canonical(src.url))
        if key in keys:
            continue
        same = [i for i, old in enumerate(merged) if old.agency == src.agency and old.year == src.year]
        gone = [i for i in same if _canonical(merged[i].url) not in listed]
        if same and len(gone) < len(same):
            continue  # known under a URL that is still listed
        if gone:
            i = gone[0]
            old = merged[i]
            new = replace(old, url=src.url, **{c: getattr(src, c) for c in OPTIONAL if not getattr(old, c)})
            merged[i] = new
            moved.append(Moved(old, new))
        else:
            merged.append(src)
            added.append(src)
        keys.add(key)
    return merged, added, moved


def write_registry(path: str | os.PathLike, sources: Iterable[Source]) -> None:
    """Write a source registry CSV (UTF-8, the columns of sources.registry) atomically."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for s in sources:
        w.writerow([s.agency, s.year, s.url, *[(getattr(s, c) or "") for c in OPTIONAL]])
    atomic_write(p, buf.getvalue())


# --------------------------------------------------------------------------- entry points
@dataclass(frozen=True)
class DiscoverySummary:
    listings: int
    pages: int
    failed_pages: int
    found: int
    added: int
    moved: int
    registry_rows: int
    written: bool
    added_sources: tuple[Source, ...] = ()
    moved_sources: tuple[Moved, ...] = ()
    page_failures: tuple[tuple[str, str], ...] = ()  # (page url, failure code)

    def as_dict(self) -> dict:
        """Plain values for logs and flow results."""
        d = {k: v for k, v in self.__dict__.items() if not isinstance(v, tuple)}
        d["added"] = [f"{s.year} {s.agency} {s.url}" for s in self.added_sources] or self.added
        d["moved"] = [f"{m.new.year} {m.new.agency}: {m.old.url} -> {m.new.url}" for m in self.moved_sources] \
            or self.moved
        d["page_failures"] = [f"{err} {url}" for url, err in self.page_failures]
        return d


def discover_into_registry(listings_path: str | os.PathLike, registry_path: str | os.PathLike,
                           years: Iterable[int] | None, fetcher, *, max_pages: int = DEFAULT_MAX_PAGES
                           ) -> DiscoverySummary:
    """For the scheduled flow: discover, merge into ``registry_path`` (created if missing) and
    rewrite it when something was added or moved. Raises ListingsError / RegistryError."""
    listings = load_listings(listings_path)
    existing = load_registry(registry_path) if Path(registry_path).exists() else []
    result = discover(listings, fetcher, years=years, max_pages=max_pages)
    merged, added, moved = merge_registry(existing, result)
    written = bool(added or moved) or not Path(registry_path).exists()
    if written:
        write_registry(registry_path, merged)
    return DiscoverySummary(len(listings), len(result.pages), len(result.failed_pages), len(result.found),
                            len(added), len(moved), len(merged), written, tuple(added), tuple(moved),
                            tuple((p.url, p.error or "") for p in result.failed_pages))
