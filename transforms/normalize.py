"""Text normalisation (FORMAT.md §9.1), pure.

``norm_text`` keeps the layout (newlines, pipes, spaces between cells) and only
unifies characters: NFKC (full-width digits and brackets, NBSP), traditional to
simplified script when the page is in traditional script, inserted pinyin removed,
curly quotes and odd brackets mapped. Labels are then matched with patterns that
allow whitespace between any two characters (``loose``), so "商业 企业" and
"(三) 不予公开" match without destroying the spaces that separate cells.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters frequent in traditional-script copies of these reports and absent from
# simplified text: finding one is the cue to run the (slow) full conversion.
_TRADITIONAL_CUES = frozenset(
    "報開資訊義務請處總區縣機關與為於這個們對會時從後發經當實據圍彙議與規範檔許費強審結維糾導"
    "權級衛歲齡廣東門戶網頁數統計類項產業環紹劃視願準證書辦決於讓護復議訴訟員據裡舉")
_PINYIN = re.compile(r"\(([a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńň]{1,7})\)")
_CHARMAP = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u300c": '"', "\u300d": '"',
    "\u3014": "(", "\u3015": ")", "\ufe5d": "(", "\ufe5e": ")", "\u3010": "[", "\u3011": "]",
    "\u2014": "-", "\u2013": "-", "\u2212": "-", "\u2015": "-",
    "\u00a0": " ", "\u3000": " ", "\u200b": "", "\ufeff": "", "\u200e": "", "\u200f": "",
    "\r": "\n",
})


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


_TRADITIONAL_RE = re.compile("[" + "".join(sorted(_TRADITIONAL_CUES)) + "]")
_CHARMAP_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _CHARMAP) + "]")


def is_traditional(text: str) -> bool:
    return len(_TRADITIONAL_RE.findall(text, 0, 20000)) >= 3


# A footnote mark glued to a number ("228①", "45²"): NFKC would make it a digit of the number
# (2281, 452). It becomes "*", a mark the cell grammar already reads past.
_MARKS = ("[\u2460-\u2473\u2474-\u2487\u2488-\u249b\u2776-\u2793"
          "\u00b9\u00b2\u00b3\u2070\u2074-\u2079\u2080-\u2089]+")
# ... or standing before a cell's number ("| ①228 |"; not a bullet of prose: "①2023年").
_FOOTNOTE_MARK = re.compile(
    f"(?<=[0-9\uff10-\uff19]){_MARKS}|(?<![^\\s|]){_MARKS}(?=[0-9\uff10-\uff19]+(?:[\\s|]|$))")
_ANY_MARK = re.compile(_MARKS[:-1])  # one mark anywhere: most pages have none, and the search is cheap
# Full-width forms and the ideographic space, each replaced by its compatibility decomposition:
# NFKC of the result equals NFKC of the text (decomposition is per character), and when the
# result is already in NFKC (most pages: these are their only compatibility characters) the
# whole-text normalisation is skipped.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_FULL_WIDTH_NFKD = {chr(c): unicodedata.normalize("NFKD", chr(c)) for c in (*range(0xFF01, 0xFF5F), 0x3000)}


def _nfkc(text: str) -> str:
    if unicodedata.is_normalized("NFKC", text):
        return text
    narrow = text
    for ch in set(_FULL_WIDTH.findall(text)):  # a few distinct characters, each replaced at once
        narrow = narrow.replace(ch, _FULL_WIDTH_NFKD[ch])
    return narrow if unicodedata.is_normalized("NFKC", narrow) else unicodedata.normalize("NFKC", text)


def norm_text(text: str) -> str:
    """Normalise a whole document's text, keeping its layout."""
    if _ANY_MARK.search(text):
        text = _FOOTNOTE_MARK.sub("*", text)
    text = _nfkc(text)
    text = _CHARMAP_RE.sub(lambda m: _CHARMAP[ord(m.group())] or "", text)  # faster than translate here
    if is_traditional(text):
        text = _PINYIN.sub("", text)
        text = _t2s().convert(text)
    return text


def compact(label: str) -> str:
    """A label without any whitespace, for comparing labels."""
    return re.sub(r"\s+", "", label)


_LOOSE_CLASS = {".": "[.、]", "、": "[.、]", ":": "[:]", "/": "[/]"}


@lru_cache(maxsize=1024)
def loose(label: str) -> str:
    """A regex source matching ``label`` with optional whitespace between characters."""
    parts = [_LOOSE_CLASS.get(ch, re.escape(ch)) for ch in compact(label)]
    return r"[ \t\n]*".join(parts)


@lru_cache(maxsize=1024)
def loose_re(label: str) -> re.Pattern[str]:
    return re.compile(loose(label))
