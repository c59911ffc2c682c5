"""A listing page (an agency's 政府信息公开年报 column) to its report links (pure, no I/O).

``extract_links(html, base_url)`` returns the links that are annual information-disclosure
reports (政府信息公开工作年度报告), each with its absolute URL, title, year and the agency its
title names, and the URLs of further pages of the same listing (pagination).

What counts as a report is decided by the link's title (its ``title`` attribute or its text;
for attachments also the file name and the text of the row it sits in), following the title
variants of FORMAT.md §8.3. docs/DISCOVERY.md describes the rules for users.

lxml's HTML parser is used with network access off; scripts are kept (not executed) because
Chinese government sites write their pagination with ``createPageHTML(...)``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import lxml.html

_PARSER = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, huge_tree=False)

ATTACHMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".wps")

# The report phrase: 政府信息公开工作年度报告 and its variants (…年度政府信息公开工作报告,
# 政府信息公开年报, 政府信息公开年度报告, 政务信息公开…). Matched on a normalised title.
_REPORT = re.compile(r"(?:政府|政务)?信息公开(?:工作)?(?:年度)?(?:工作)?(?:报告|年报)")
# A title with any of these is something else: notices about reports, guides, catalogues,
# rules, forms, other annual reports, interpretations and graphics of a report, partial-year
# reports, corrections.
_NOT_A_REPORT = re.compile(
    r"通知|工作要点|要点|指南|目录|制度|规定|办法|意见|方案|申请表|申请书|表格|依申请公开|"
    r"统计年报|统计报表|财务报告|财务年报|决算|部门预算|解读|图解|一图|图读|图说|问答|报送|编制工作|"
    r"编制和|编制发布|做好|格式|模板|填报|考核|评估|评议|测评|上半年|半年|季度|月度|更正|勘误|说明|征集|公告|公示"
)
_CN_DIGITS = str.maketrans("〇零○一二三四五六七八九", "00012345678" + "9")
_CN_YEAR = re.compile(r"([〇零○一二三四五六七八九]{4})(?=年)")
# A row cell naming the publisher ("发布机构：市财政局", or a cell of its own).
_ORGAN = re.compile(r"^(?:发布机构|发布单位|来源|信息来源|发文机关)?[:：]?\s*([\u4e00-\u9fff()（）]{2,30}?"
                    r"(?:局|委员会|委|办公室|办公厅|办|厅|政府|中心|院|镇|乡|街道办事处|街道|区|县|市|州|所|站|队|馆|会|署|处))$")
_YEAR_NIAN = re.compile(r"(?<!\d)((?:19|20)\d{2})年")
_YEAR_BARE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_YEAR_WORD = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)(?:年度|年)?")
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_URL_DATE = re.compile(r"(?:/t|/|_)((?:19|20)\d{2})(0[1-9]|1[0-2])(\d{2})?(?=[_/.])")
_URL_YEAR_COLUMN = re.compile(r"/((?:19|20)\d{2})n(?:d)?/")
_BRACKET_TAG = re.compile(r"^[【\[]([^】\]]{2,30})[】\]]")
_GENERIC_AGENCY = frozenset({
    "本级", "全市", "全区", "全县", "全省", "全州", "全镇", "全旗", "本机关", "本单位", "本部门",
    "我局", "我市", "我区", "我县", "我委", "我办", "我镇", "年度", "政府", "工作", "本院",
    "置顶", "最新", "推荐", "重要", "热门", "公告", "原文", "全文", "图文", "文字版", "新",
})
_AGENCY_JUNK = " -_—–:·,、.()[]【】<>\"'“”‘’|/"
_NEXT_WORDS = frozenset({"下一页", "下页", "后一页", "后页", "下一頁", "next", "nextpage"})
_NEXT_SYMBOLS = frozenset({">", ">>", "»", "›", "→"})
_TRUNCATED = re.compile(r"(?:政府|政务)?信息公开(?:工作)?(?:年度|年报)[^.…]{0,3}(?:\.{2,}|…+)$")
_TRUNCATED_HEAD = re.compile(r"(?:政府|政务)?信息公开(?:工作)?(?:年度|年报).{0,3}$")
_YEAR_COLUMN_TEXT = re.compile(r"^((?:19|20)\d{2})年?度?$")
_RECORD_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_PAGE_FILE = re.compile(r"^(?:index|list|default|page)_\d+\.(?:s?html?|jhtml|jsp|php|aspx?)$", re.IGNORECASE)
_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^()]*)\)")
_ROW_TAGS = ("li", "tr", "dd", "dt", "p")
_ROW_MAX_CHARS = 300
_MAX_TITLE_CHARS = 120


@dataclass(frozen=True)
class ReportLink:
    """One report found on a listing page."""

    url: str  # absolute, without fragment
    title: str  # as shown (whitespace collapsed)
    year: int | None  # the report year: from the title, else from the publication date (see year_source)
    agency: str | None  # the agency the title names (year and suffix stripped, FORMAT §8.3), or None
    is_attachment: bool  # .pdf / .doc / .docx / .wps
    year_source: str | None = None  # title | column | published | url | None
    published: str | None = None  # YYYY-MM-DD from the link's row, when shown


@dataclass(frozen=True)
class ListingPage:
    reports: list[ReportLink] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)  # absolute URLs of further pages of this listing
    title: str | None = None  # the page's <title>
    # Sub-columns below this one, e.g. a "2023年度" folder: (absolute URL, the year it names or None).
    sub_listings: list[tuple[str, int | None]] = field(default_factory=list)


# --------------------------------------------------------------------------- titles
def normalise_title(text: str) -> str:
    """NFKC (full-width digits and brackets to ASCII), whitespace removed, book quotes dropped,
    years in Chinese numerals (二〇二三年) as digits."""
    t = unicodedata.normalize("NFKC", text or "")
    t = re.sub(r"\s+", "", t)
    t = _CN_YEAR.sub(lambda m: m.group(1).translate(_CN_DIGITS), t)
    return re.sub(r"[《》〈〉\"“”]", "", t)


def is_report_title(text: str) -> bool:
    """Does this title name an annual 政府信息公开 report (and nothing else)?

    A title cut short by the site ("某某局2024年政府信息公开工作年度…") counts when what is left
    already says 年度 or 年报 after 信息公开.
    """
    t = normalise_title(_strip_dates(text))
    if not t or len(t) > _MAX_TITLE_CHARS or _NOT_A_REPORT.search(t):
        return False
    return bool(_REPORT.search(t) or _TRUNCATED.search(t))


def _strip_dates(text: str) -> str:
    """Dates shown inside a link's text ("… 2025-01-20") are its publication date, not its year."""
    return _DATE.sub(" ", text or "")


def year_from_title(text: str) -> int | None:
    """The report year a title states: "2023年", "2023年度", or a bare 2023 (e.g. "(2023)")."""
    t = normalise_title(_strip_dates(text))
    m = _YEAR_NIAN.search(t) or _YEAR_BARE.search(t)
    if not m:
        return None
    year = int(m.group(1))
    return year if 2000 <= year <= 2099 else None


def agency_from_title(text: str) -> str | None:
    """The agency a report title names, with the year and the report phrase stripped (FORMAT §8.3).

    Handles ``{机关}{YYYY}年(度)?…报告``, ``{YYYY}年(度)?{机关}…报告``, ``【{机关}】…`` and a name
    after the phrase (``…年度报告({机关})``). None when the title names no agency.
    """
    t = re.sub(r"(?:\.{2,}|…+)$", "", normalise_title(_strip_dates(text)))
    m = _REPORT.search(t) or _TRUNCATED_HEAD.search(t)
    if not m:
        return None
    prefix, suffix = t[: m.start()], t[m.end():]
    tag = None
    tm = _BRACKET_TAG.match(prefix)
    if tm:
        tag = tm.group(1)
        prefix = prefix[tm.end():]
    agency = _clean_agency(prefix)
    if not agency and tag:
        agency = _clean_agency(tag)
    if not agency:
        # "2023年政府信息公开工作年度报告(某某局)" / "…年度报告-某某局"
        agency = _clean_agency(re.sub(r"^[(\-—_:]+|[)]+$", "", suffix))
    return agency


def _clean_agency(text: str) -> str | None:
    a = _YEAR_WORD.sub("", text)
    a = a.replace("()", "")
    a = a.strip(_AGENCY_JUNK)
    a = re.sub(r"^关于(?:印发|公布|发布|公开)?", "", a)
    a = re.sub(r"(?:关于|的|发布|公布|公开)$", "", a)
    a = re.sub(r"^的", "", a)
    a = re.sub(r"年度?$", "", a).strip(_AGENCY_JUNK)
    if len(a) < 2 or a in _GENERIC_AGENCY or not re.search(r"[\u4e00-\u9fff]", a):
        return None
    if re.fullmatch(r"(?:全文|正文|全稿|附件|pdf|PDF|word|WORD|下载)+", a):
        return None
    return a


# --------------------------------------------------------------------------- links
def _absolute(base_url: str, href: str) -> str | None:
    href = re.sub(r"[\t\r\n]", "", href or "").strip()  # browsers drop these inside an href
    if not href or href.startswith("#"):
        return None
    low = href.lower()
    if low.startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    url = urljoin(base_url, href)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
    return url.replace(" ", "%20")  # "2024 年报.pdf": a registry URL may not contain whitespace


def is_attachment_url(url: str) -> bool:
    parts = urlsplit(url)
    path = unquote(parts.path).lower()
    query = unquote(parts.query).lower()
    return path.endswith(ATTACHMENT_EXTENSIONS) or query.endswith(ATTACHMENT_EXTENSIONS)


def _text(el) -> str:
    return re.sub(r"\s+", " ", el.text_content() or "").strip()


class _Texts:
    """Text of elements, computed once each: rows are looked up for every link, and a big
    container's text would otherwise be rebuilt per link (quadratic on long listings)."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[object, str]] = {}  # holds the element: ids stay unique

    def __call__(self, el) -> str:
        hit = self._cache.get(id(el))
        if hit is None:
            hit = self._cache[id(el)] = (el, _text(el))
        return hit[1]


def _row_of(a, texts: _Texts):
    """The list item / table row / paragraph the link sits in, if small enough to be one row."""
    el = a.getparent()
    for _ in range(4):
        if el is None:
            return None
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.lower() in _ROW_TAGS or tag.lower() == "div":
            return el if len(texts(el)) <= _ROW_MAX_CHARS else None
        el = el.getparent()
    return None


def _published(row_text: str) -> str | None:
    m = _DATE.search(row_text)
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if 1 <= mo <= 12 and 1 <= d <= 31:
        return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def _year_fallback(url: str, published: str | None) -> tuple[int | None, str | None]:
    """No year in the title: a year column in the URL (…/2023n/…), else publication year − 1
    (reports are published in the first months of the following year, FORMAT §8.2 rule 4)."""
    m = _URL_YEAR_COLUMN.search(urlsplit(url).path)
    if m:
        return int(m.group(1)), "column"
    if published:
        return int(published[:4]) - 1, "published"
    m = _URL_DATE.search(urlsplit(url).path)
    if m:
        return int(m.group(1)) - 1, "url"
    return None, None


def _title_candidates(a, url: str, attachment: bool) -> list[str]:
    cands = [a.get("title") or "", _strip_dates(_text(a))]
    if attachment:
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        cands.append(name.rsplit(".", 1)[0])
    return [re.sub(r"\s+", " ", c).strip() for c in cands if c and c.strip()]


def _pick_title(cands: list[str]) -> str | None:
    """The fullest report-like title (a title attribute often holds what the text truncates)."""
    good = [c for c in cands if is_report_title(c)]
    if not good:
        return None
    if any(_NOT_A_REPORT.search(normalise_title(c)) for c in cands):
        return None  # e.g. text "解读" with a title attribute naming the report
    return max(good, key=lambda c: len(normalise_title(c)))


def _row_title(row, skip) -> str | None:
    """The report-like piece of text in a row (for an attachment whose own text is "下载")."""
    pieces = []
    for node in row.iter():
        if node is skip or not isinstance(node.tag, str):
            continue
        for txt in (node.text, node.tail, node.get("title")):
            if txt and txt.strip():
                pieces.append(txt.strip())
    good = [p for p in pieces if is_report_title(p)]
    return max(good, key=len) if good else None


def _row_agency(row, skip) -> str | None:
    """The publisher a row shows next to an agency-less title (a 发布机构 cell or span)."""
    for node in row.iter():
        if node is skip or not isinstance(node.tag, str) or node.tag.lower() == "a":
            continue
        for txt in (node.text, node.tail):
            m = _ORGAN.match(normalise_title(txt or ""))
            if m and not _REPORT.search(m.group(1)):
                name = _clean_agency(m.group(1))
                if name:
                    return name
    return None


def _is_bare_column_name(title: str) -> bool:
    """A navigation link to the column itself ("政府信息公开年报"), not a report."""
    t = normalise_title(title)
    m = _REPORT.search(t)
    return bool(m) and len(t) - len(m.group(0)) <= 2


def _with_records(html: str) -> str:
    """Hanweb-style pages ship their list as ``<record><![CDATA[<li>…</li>]]></record>`` inside a
    script and render it in the browser: append those records so their links are seen."""
    if "<record" not in html or "CDATA" not in html:
        return html
    records = "".join(m.group(1) for m in _RECORD_CDATA.finditer(html))
    if not records:
        return html
    cut = html.lower().rfind("</body>")
    extra = f'<div class="xxgk-records">{records}</div>'
    return html[:cut] + extra + html[cut:] if cut >= 0 else html + extra


def extract_links(html: str, base_url: str) -> ListingPage:
    """Report links and further listing pages of one listing page (see the module docstring)."""
    if not html or not html.strip():
        return ListingPage()
    try:
        root = lxml.html.document_fromstring(_with_records(html), parser=_PARSER)
    except (ValueError, lxml.etree.ParserError):
        return ListingPage()
    base = root.find(".//base[@href]")
    if base is not None:
        base_url = urljoin(base_url, base.get("href"))
    title_el = root.find(".//title")
    page_title = _text(title_el) if title_el is not None else None

    texts = _Texts()
    anchors = [a for a in root.iter("a") if a.get("href")]
    resolved = [(a, _absolute(base_url, a.get("href"))) for a in anchors]
    # Which rows hold a page (not attachment) link whose own title says "report": an
    # attachment in the same row is that report's download, not a report of its own.
    # Keyed by id(); the dict holds the elements so lxml keeps returning the same proxy objects.
    rows_with_page_report: dict[int, object] = {}
    for a, url in resolved:
        if url and not is_attachment_url(url) and _pick_title(_title_candidates(a, url, False)):
            row = _row_of(a, texts)
            if row is not None:
                rows_with_page_report[id(row)] = row

    reports: dict[str, ReportLink] = {}
    for a, url in resolved:
        if not url:
            continue
        attachment = is_attachment_url(url)
        row = _row_of(a, texts)
        title = _pick_title(_title_candidates(a, url, attachment))
        if title is None and attachment and row is not None and id(row) not in rows_with_page_report:
            own = " ".join(_title_candidates(a, url, False))
            if not _NOT_A_REPORT.search(normalise_title(own)):
                title = _row_title(row, a)
        if title is None:
            continue
        if not attachment and (urlsplit(url).path.endswith("/") or url.rstrip("/") == base_url.rstrip("/")):
            continue  # a directory: a sub-column, not a report page
        row_text = texts(row) if row is not None else ""
        published = _published(row_text)
        year, source = year_from_title(title), "title"
        if year is None:
            if _is_bare_column_name(title) and not published:
                continue
            year, source = _year_fallback(url, published)
        agency = agency_from_title(title)
        if agency is None and row is not None:
            agency = _row_agency(row, a)
        link = ReportLink(url=url, title=title, year=year, agency=agency,
                          is_attachment=attachment, year_source=source, published=published)
        prev = reports.get(url)
        if prev is None:
            reports[url] = link
        elif prev.year_source != "title" and link.year_source == "title":
            reports[url] = link  # the same URL listed twice: keep the fuller description
        elif prev.agency is None and link.agency is not None:
            reports[url] = replace(prev, agency=link.agency)

    return ListingPage(reports=list(reports.values()),
                       next_pages=_next_pages(root, resolved, base_url, set(reports)), title=page_title,
                       sub_listings=_sub_listings(resolved, base_url, set(reports)))


# --------------------------------------------------------------------------- pagination
def _same_host(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


def _directory(url: str) -> str:
    path = urlsplit(url).path or "/"
    return path[: path.rfind("/") + 1]


def _next_pages(root, resolved, base_url: str, report_urls: set[str]) -> list[str]:
    out: list[str] = []

    def add(url: str | None) -> None:
        if url and url not in out and url not in report_urls and _same_host(url, base_url) \
                and url != base_url and not is_attachment_url(url):
            out.append(url)

    base_dir = _directory(base_url)
    base_parts = urlsplit(base_url)
    for a, url in resolved:
        if not url:
            continue
        last = urlsplit(url).path.rsplit("/", 1)[-1]
        if _is_next_label(_text(a)) or _is_next_label(a.get("title") or ""):
            add(url)
        elif _PAGE_FILE.match(last) and _directory(url) == base_dir:
            add(url)  # index_1.html, index_2.html, … in this column's folder
        elif re.fullmatch(r"\[?\d{1,3}\]?", normalise_title(_text(a))) and urlsplit(url).path == base_parts.path \
                and urlsplit(url).query != base_parts.query:
            add(url)  # numbered page links that differ only in the query (?page=2)
    scripts = "\n".join(s.text or "" for s in root.iter("script"))
    for url in _script_pages(scripts, base_url):
        add(url)
    return out


def _is_next_label(text: str) -> bool:
    label = normalise_title(text).lower()
    if label in _NEXT_SYMBOLS:
        return True
    return label.strip("[]【】<>«»‹›()→ ") in _NEXT_WORDS


def _sub_listings(resolved, base_url: str, report_urls: set[str]) -> list[tuple[str, int | None]]:
    """Folders below this column whose link names a year ("2023年度"), reads like a report title,
    or names a group of annual reports ("部门年报"): sub-columns of the annual-report column."""
    base_dir = _directory(base_url)
    out: list[tuple[str, int | None]] = []
    for a, url in resolved:
        if not url or url in report_urls or not _same_host(url, base_url) or urlsplit(url).query:
            continue
        path = urlsplit(url).path
        folder = path.endswith("/") or re.search(r"/(?:index|default)\.(?:s?html?|jhtml)$", path, re.IGNORECASE)
        if not folder or not path.startswith(base_dir) or _directory(url) == base_dir:
            continue
        label = normalise_title(a.get("title") or _text(a))
        m = _YEAR_COLUMN_TEXT.match(label)
        # Year columns, report-like titles, and 部门年报 / 乡镇年报 style sub-columns.
        if m or is_report_title(label) or (len(label) <= 12 and re.search(r"年报|年度报告", label)):
            year = int(m.group(1)) if m else year_from_title(label)
            if all(u != url for u, _ in out):
                out.append((url, year))
    return out


def _js_args(text: str) -> list[str]:
    return [x.strip().strip("'\"") for x in text.split(",")]


def _script_pages(script: str, base_url: str) -> list[str]:
    """Pages from TRS-style ``createPageHTML(count, current, "index", "html")`` calls (page 0 is
    index.html, page n is index_n.html), also the ``createPageHTML('div', count, current, …)``
    variant and arguments passed as variables (``var countPage = 5``)."""
    out: list[str] = []
    for m in _CREATE_PAGE.finditer(script):
        args = _js_args(m.group(1))
        if len(args) >= 5 and _int_arg(args[0], script) is None:
            args = args[1:]  # the variant whose first argument is the id of the pager's div
        if len(args) < 4:
            continue
        count, current = _int_arg(args[0], script), _int_arg(args[1], script)
        name, ext = args[2], args[3]
        if count is None or current is None or not re.fullmatch(r"[\w\-]+", name) \
                or not re.fullmatch(r"[A-Za-z]{2,5}", ext):
            continue
        for n in range(min(count, 1000)):
            if n == current:
                continue
            out.append(urljoin(base_url, f"{name}.{ext}" if n == 0 else f"{name}_{n}.{ext}"))
    return out


def _int_arg(arg: str, script: str) -> int | None:
    if re.fullmatch(r"\d{1,5}", arg):
        return int(arg)
    if re.fullmatch(r"[A-Za-z_$][\w$]*", arg):
        m = re.search(rf"\b{re.escape(arg)}\s*=\s*(\d{{1,5}})\b", script)
        if m:
            return int(m.group(1))
    return None
