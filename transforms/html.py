"""HTML page to text (pure), in the "one table row per line, cells joined by |" layout.

Government pages are flattened the way the common converters do it (FORMAT.md §7.2):
each ``<tr>`` becomes one line ``cell | cell | ... |``, a cell spanning ``n`` columns is
followed by ``n - 1`` empty filler cells, and rowspan labels appear only on their first
row. The text parser then reads pages and pre-flattened text alike. Layout tables (a
cell holding another table) are rendered as blocks, not as rows.

lxml's HTML parser is used with network access off; it resolves no external entities.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import cffi
from lxml import etree

_SKIP = frozenset({"script", "style", "noscript", "iframe", "svg", "object", "embed", "template", "select"})
_BLOCK = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "article", "header",
    "footer", "blockquote", "pre", "center", "form", "dl", "dt", "dd", "title", "caption", "main", "nav",
    "table", "tr", "hr", "address", "aside", "figure", "figcaption",
})
_ATTACHMENT = re.compile(r"\.(pdf|docx?|wps|xlsx?|ofd)(?:[?#].*)?$", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_MAX_DEPTH = 400  # deeper nesting is flattened: its text is kept, its structure is not

# lxml.etree's own elements (not lxml.html's HtmlElement classes, whose lookup costs a Python
# call per element touched): the same libxml2 tree, walked once.
_PARSER = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, huge_tree=False)
_CELLS = ("td", "th")


@dataclass
class HtmlText:
    text: str
    title: str | None
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (href, link text)
    images: int = 0
    tables: int = 0


_CELL_TEXTS: dict[str, str] = {}  # a cell's text -> as rendered (squashed, no "|")
_TAGS: dict[str, str] = {}  # raw tag -> local lowercase name: a page repeats a few tags many times


def _tag(el) -> str:
    tag = el.tag
    if not isinstance(tag, str):  # comments, processing instructions, entities
        return ""
    name = _TAGS.get(tag)
    if name is None:
        name = tag.rsplit("}", 1)[-1].lower()
        if len(_TAGS) < 1000:  # bounded: odd pages may invent any number of tags
            _TAGS[tag] = name
    return name


def _span(value: str | None) -> int:
    if value is None:  # the common case: no span attribute
        return 1
    if value.isdigit() and value.isascii():  # a plain number (most spans): what int() below reads
        return max(1, min(int(value), 100))
    try:
        return max(1, min(int(str(value).strip() or 1), 100))
    except ValueError:
        return 1


_FILLERS = {str(n): _span(str(n)) - 1 for n in range(101)}  # a plain colspan -> its filler cells


def _squash(text: str) -> str:
    r"""Runs of whitespace as one space, none at the ends (what ``re.sub(r"\s+", " ", t).strip()`` gives)."""
    return " ".join(text.split())


def _text_content(el) -> str:
    return "".join(el.itertext())


class _Renderer:
    def __init__(self) -> None:
        self.attachments: list[tuple[str, str]] = []
        self.images = 0
        self.tables = 0

    def inline_text(self, el, depth: int) -> str:
        if len(el) == 0 and depth < _MAX_DEPTH and _tag(el) in _CELLS:
            return _squash(el.text or "")  # a cell of plain text (most): what walk gives
        out: list[str] = []
        self.walk(el, out, depth)
        return _squash("".join(out))

    def walk(self, el, out: list[str], depth: int) -> None:
        """Render ``el``'s content (not its tail) into ``out``."""
        tag = _TAGS.get(el.tag) if isinstance(el.tag, str) else None
        if tag is None:
            tag = _tag(el)
            if not tag:
                return
        if tag in _SKIP:
            return
        if tag == "img":
            self.images += 1
            return
        if tag == "br":
            out.append("\n")
            return
        if tag == "sup" and len(_text_content(el).strip()) <= 3:
            out.append("*")  # a footnote reference: glued to a number ("44<sup>1</sup>") it would be a digit
            return
        if tag == "a":
            href = el.get("href") or ""
            if _ATTACHMENT.search(href.strip()):
                self.attachments.append((href.strip(), _squash(_text_content(el))))
        if tag == "table" and depth < _MAX_DEPTH:
            self.table(el, out, depth)
            return
        block = tag in _BLOCK
        if block:
            out.append("\n")
        if el.text:
            out.append(el.text)
        if depth >= _MAX_DEPTH:
            out.append(" ".join(el.itertext()))
        else:
            for child in el:
                self.walk(child, out, depth + 1)
                if child.tail:
                    out.append(child.tail)
        if block:
            out.append("\n")

    def rows(self, table) -> list:
        out = []
        for child in table:
            tag = child.tag
            tag = _TAGS.get(tag) or _tag(child) if type(tag) is str else ""
            if tag == "tr":
                out.append(child)
            elif tag in ("thead", "tbody", "tfoot"):
                out += [tr for tr in child if type(tr.tag) is str and (_TAGS.get(tr.tag) or _tag(tr)) == "tr"]
        return out

    def table(self, table, out: list[str], depth: int) -> None:
        self.tables += 1
        out.append("\n")
        for child in table:
            if _tag(child) == "caption":
                out.append(self.inline_text(child, depth + 1) + "\n")
        nested = next(table.iterdescendants("table"), None) is not None  # any layout cells at all (rarely)
        cell_depth = depth + 1
        plain = cell_depth < _MAX_DEPTH
        after_row = "\n"  # before a row: "" right after a row of cells, whose "|\n" ends its line
        for tr in self.rows(table):
            cells = tr  # its children: the cells among them are taken below
            if nested:
                cells = [c for c in tr if c.tag in _CELLS or (type(c.tag) is str and _tag(c) in _CELLS)]
                if any(c.find(".//table") is not None for c in cells):
                    for cell in cells:  # a layout table: its cells are blocks
                        self.walk(cell, out, cell_depth)
                        out.append("\n")
                    after_row = "\n"
                    continue
            parts: list[str] = []
            fillers = 0
            for cell in cells:
                tag = cell.tag
                if tag != "td" and tag != "th" and (type(tag) is not str or _tag(cell) not in _CELLS):
                    continue  # not a cell (a stray element inside the row)
                if plain and len(cell) == 0:  # a cell of plain text (most)
                    text = cell.text
                    if not text:
                        parts.append("")
                    elif text.isdigit():  # a number: no space to squash, no "|"
                        parts.append(text)
                    else:
                        shown = _CELL_TEXTS.get(text)  # labels repeat from table to table
                        if shown is None:
                            shown = " ".join(text.split()).replace("|", "/")
                            if len(_CELL_TEXTS) >= 4096:  # bounded: any page may bring new texts
                                _CELL_TEXTS.clear()
                            _CELL_TEXTS[text] = shown
                        parts.append(shown)
                else:
                    parts.append(self.inline_text(cell, cell_depth).replace("|", "/"))
                if cell.values():  # any attribute at all: cheaper to ask than for one by name
                    colspan = cell.get("colspan")
                    if colspan is not None:
                        fill = _FILLERS.get(colspan)
                        fillers += _span(colspan) - 1 if fill is None else fill
            if not parts:
                continue  # no cells
            parts.extend([""] * fillers)  # as converters do: all fillers at the end of the row
            # The blank line between two rows ("|\n\n") is one newline once blank lines collapse.
            out.append(after_row + " | ".join(parts) + " |\n")
            after_row = ""
        out.append("\n")


_BLANK_LINES = re.compile(r"\n\s*\n")


def _collapse_blank_lines(text: str) -> str:
    r"""What ``re.sub(r"[ \t]*\n[\s]*\n+", "\n", text)`` gives, without trying that pattern at
    every position: each run of whitespace holding two newlines or more, from the spaces and
    tabs before its first newline to its last newline, becomes one newline."""
    if " \n" not in text and "\t\n" not in text:  # no spaces to take before a newline
        return _BLANK_LINES.sub("\n", text)
    out = []
    pos = 0
    for m in _BLANK_LINES.finditer(text):
        start = m.start()
        while start > pos and text[start - 1] in " \t":
            start -= 1
        out.append(text[pos:start])
        out.append("\n")
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


# ------------------------------------------------------------------ the compiled helper (optional)
# transforms/_htmltext.c does what html_to_text does after lxml's parse (the <title>, the <body>
# walked as _Renderer walks it, blank lines collapsed, the ends stripped: the same rules, byte for
# byte) on the libxml2 nodes lxml built, in one pass in C, where _Renderer pays ~0.5 us a table
# cell for lxml's proxies. A page it was not written for (it says so: -1) is rendered by the
# Python below, as is every page when the library is absent (no C compiler) or
# XXGK_HTML_NATIVE=0. `make` builds it beside its source. Loading it when this module is
# imported is, with pdfobjects' helper, the only I/O in transforms/.
_TEXT_VERSION = 2
_TEXT_LIBRARY = Path(__file__).with_name("_htmltext.so")
_TEXT_FFI = cffi.FFI()
_TEXT_FFI.cdef("""
int htmltext_version(void);
int htmltext_libxml_version(void);
long htmltext_page(intptr_t element, long node_offset, char *out, long cap, char *links, long links_cap,
                   long *counts);
""")
# Where lxml's element proxy holds its libxml2 node (lxml.etree.h: struct LxmlElement is
# PyObject_HEAD, _doc, _c_node): the C side uses it only if that node points back to the proxy.
_NODE_OFFSET = object.__basicsize__ + _TEXT_FFI.sizeof("void *")


def _load_text_library():
    """The compiled helper, or None (absent, not loadable, another version or built against another
    libxml2 than lxml's, or XXGK_HTML_NATIVE=0)."""
    if os.environ.get("XXGK_HTML_NATIVE", "1") == "0":
        return None
    major, minor, micro = etree.LIBXML_COMPILED_VERSION
    try:
        lib = _TEXT_FFI.dlopen(str(_TEXT_LIBRARY))
        if lib.htmltext_version() != _TEXT_VERSION:
            return None
        return lib if lib.htmltext_libxml_version() == major * 10000 + minor * 100 + micro else None
    except (OSError, AttributeError):
        return None


_TEXT_LIB = _load_text_library()
LOADED = _TEXT_LIB is not None  # whether the compiled helper loaded (bench_parse and the tests report it)


def use_compiled_renderer(on: bool) -> bool:
    """Switch between the compiled helper (if it loads) and _Renderer; returns whether the helper
    is now used (tests and the benchmark compare the two in one process)."""
    global _TEXT_LIB
    _TEXT_LIB = _load_text_library() if on else None
    return _TEXT_LIB is not None


_ALLOC = _TEXT_FFI.new_allocator(should_clear_after_alloc=False)  # the helper writes what is read


def _page_compiled(root, size: int) -> HtmlText | None:
    """What html_to_text gives for the page parsed into ``root`` (of ``size`` characters), or
    None when the helper is not there or leaves this page to _Renderer."""
    lib = _TEXT_LIB
    if lib is None:
        return None
    ffi = _TEXT_FFI
    cap = 3 * size + 4096  # UTF-8 of the page's text, and room: grown below when short
    counts = ffi.new("long[4]")
    while True:
        out = _ALLOC("char[]", cap)
        links = _ALLOC("char[]", cap // 4)
        n = lib.htmltext_page(id(root), _NODE_OFFSET, out, cap, links, cap // 4, counts)
        if n != -2:
            break
        if cap >= 1 << 28:  # a page that renders beyond 256 MB: _Renderer's
            return None
        cap *= 4
    if n < 0:
        return None
    title_bytes = counts[3]  # the title first (-1: the page has none), then the links
    skip = max(title_bytes, 0)
    try:
        text = ffi.unpack(out, n).decode("utf-8")
        title = None if title_bytes < 0 else ffi.unpack(links, title_bytes).decode("utf-8")
        parts = ffi.unpack(links + skip, counts[2] - skip).decode("utf-8").split("\0") if counts[2] > skip else []
    except UnicodeDecodeError:
        return None
    attachments = []
    for i in range(0, len(parts) - 1, 2):
        href = parts[i].strip()
        if _ATTACHMENT.search(href):
            attachments.append((href, parts[i + 1]))
    return HtmlText(text=text, title=title or None, attachments=attachments, images=counts[0], tables=counts[1])


def html_to_text(text: str) -> HtmlText:
    """Render a decoded HTML page as text; tables as pipe rows."""
    text = _XML_DECL.sub("", text, count=1)
    try:
        root = etree.fromstring(text, _PARSER)
    except (etree.ParserError, ValueError):
        return HtmlText(text=text, title=None)
    if root is None:  # what lxml.html.document_fromstring refuses as "Document is empty"
        return HtmlText(text=text, title=None)
    compiled = _page_compiled(root, len(text))  # the rest of this function, in C (when built)
    if compiled is not None:
        return compiled
    title_el = next(root.iterdescendants("title"), None)  # what root.find(".//title") walks, at once
    title = _squash(_text_content(title_el)) if title_el is not None else None
    body = next(root.iterdescendants("body"), None)  # root.find(".//body")
    r = _Renderer()
    out: list[str] = []
    r.walk(body if body is not None else root, out, 0)
    rendered = "".join(out)
    # Collapse the blank lines block elements leave behind; keep single newlines.
    rendered = _collapse_blank_lines(rendered)
    return HtmlText(text=rendered.strip(), title=title or None, attachments=r.attachments,
                    images=r.images, tables=r.tables)
