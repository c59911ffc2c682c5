"""Which values belong to which row, in layouts without cell separators (pure).

Text extracted from PDFs (FORMAT.md §7.4, §7.6) prints a row's label and its numbers as
words on lines; an extractor may put the numbers after the label, before it, or in the
middle of a label broken over lines. Swapping two rows keeps every column sum, so the
sums cannot catch a row read from its neighbour: a value goes to a row only on
evidence for that row.

Evidence, strongest first:

* inside the label: numbers after the start of a label ("2.申请人逾期未按收费通知要求",
  a group label "(三)不予公开", a block caption "第二十条…") and before its key words
  belong to that label;
* the line: numbers sharing a line with one label only (its key, or the words that
  continue it) belong to that label;
* the table's direction, proved by its ends: numbers before the first label and none
  after the last one (labels follow their numbers), or the reverse.

Numbers that no evidence places, or two groups claimed by one row, leave the rows
concerned ``None`` with ``row_order_unproved``: the parser says it cannot tell.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from transforms import cells as cellgrammar

# Whitespace layouts: values and label words, split apart even where they touch.
TOKEN = cellgrammar.TOKEN
# Words that start a label or a block: what follows them belongs to the next label.
_HEAD = re.compile(
    r"(?:(?<![\d.])\d{1,2}[ \t]*[.、][ \t]*(?=[\u4e00-\u9fff])|(?<!第)\([一二三四五六七八九]\)|[一二三四][ \t]*、"
    r"|第二十条[ \t\n]*第?[ \t\n]*\([一二三四五六七八九]\)|信息内容)")
_SECTION_HEADING = re.compile(r"[一二三四五六七]、.{0,24}?情况")  # "三、收到和处理政府信息公开申请情况"
NEUTRAL_HEADS = frozenset({"信息内容"})  # words that start a block but name no row
_CAPTIONS = ("第二十条", "信息内容")  # a block's caption and header: no row's own label

_CJK = re.compile(r"[\u4e00-\u9fff]")
_NEWLINE = re.compile("\n")
_BARE = re.compile(r"[^\u4e00-\u9fff0-9()]")  # quotes and punctuation vary between printings of a label
AFTER = "after"  # labels come before their numbers
BEFORE = "before"  # numbers come before their labels


@dataclass
class Label:
    key: str
    start: int  # where the label's text starts
    end: int  # where its key words (and the words glued to them) end
    n: int  # cells of the row
    texts: tuple[str, ...] | None = None  # texts that may start this row's label (own, group, block; None: any)


@dataclass
class _Group:
    tokens: list[str]
    start: int
    end: int
    first_line: int
    last_line: int
    owner: int | None = None  # index of the label it belongs to
    strong: bool = False
    by_caption: bool = False  # placed only by a block's caption before it, not by the row's own words


@dataclass
class Assigned:
    """Per label key: the raw values (a list of n strings), or None with a reason."""

    values: dict[str, list[str] | None] = field(default_factory=dict)
    unproved: list[str] = field(default_factory=list)  # keys whose values no evidence places
    extra: dict[str, list[str]] = field(default_factory=dict)  # keys with more values than cells
    short: list[str] = field(default_factory=list)  # fewer values than cells
    short_tokens: dict[str, list[str]] = field(default_factory=dict)
    direction: str | None = None


def assign(text: str, start: int, end: int, labels: list[Label]) -> Assigned:
    """Place the value groups of text[start:end] on ``labels`` (sorted by position)."""
    out = Assigned()
    if not labels:
        return out
    labels = sorted(labels, key=lambda lb: lb.start)
    newlines = [m.start() - start for m in _NEWLINE.finditer(text, start, end)]

    def line(pos: int) -> int:
        return bisect.bisect_right(newlines, pos - start)

    letters_lines: dict[int, bool] = {}  # per line start: many tokens share a line

    def letters_line(pos: int) -> bool:
        lo = text.rfind("\n", 0, pos) + 1
        got = letters_lines.get(lo)
        if got is None:
            got = letters_lines[lo] = _in_letters_line(text, pos)
        return got

    # gaps: before the first label, between labels, after the last
    bounds = [start] + [x for lb in labels for x in (lb.start, lb.end)] + [end]
    groups: list[_Group] = []
    gap_of: list[int] = []  # gap index per group: gap g lies between label g-1 and label g
    head_after: list[bool] = []  # a label-starting word stands between the group and the previous label
    heads_before: list[list[str]] = []  # those words, each up to the next one or the numbers
    tail_before: list[bool] = []  # a continuing word of the previous label stands on the group's first line
    for g in range(len(labels) + 1):
        lo, hi = bounds[2 * g], bounds[2 * g + 1]
        if lo >= hi:
            continue
        heads = [hm.start() for hm in _HEAD.finditer(text, lo, hi)]
        head_pos = heads[0] if heads else None
        current: _Group | None = None
        tail_lines: set[int] = set()
        for m in TOKEN.finditer(text, lo, hi):
            tok = m.group(0)
            if letters_line(m.start()):
                continue  # a header typeset vertically: neither a cell nor a label's words
            is_value = cellgrammar.is_value_token(tok) and not _in_head(text, m) and not _in_word(text, m)
            if is_value and m.start() == lo and lo > 0 and text[lo - 1] in "lIOo" and tok[0].isdigit():
                tok = text[lo - 1] + tok  # the label's match took an OCR-misread digit ("l2"): no number
            if is_value:
                if current is None:
                    current = _Group([], m.start(), m.end(), line(m.start()), line(m.start()))
                    groups.append(current)
                    gap_of.append(g)
                    head_after.append(head_pos is not None and head_pos < m.start())
                    heads_before.append(_head_words(text, [p for p in heads if p < m.start()], m.start()))
                    tail_before.append(line(m.start()) in tail_lines)
                current.tokens.append(tok)
                current.end = m.end()
                current.last_line = line(m.start())
            else:
                current = None
                if head_pos is None or m.start() < head_pos:
                    tail_lines.add(line(m.start()))
    # Evidence of each group's own: inside a label, or on one label's line. The groups
    # placed by their line, and the loose groups at the table's two ends, show which way
    # the table runs (one extractor prints one document one way).
    votes = {AFTER: 0, BEFORE: 0}
    loose: list[int] = []
    for i, grp in enumerate(groups):
        g = gap_of[i]
        prev_i = g - 1 if g > 0 else None
        next_i = g if g < len(labels) else None
        # Before the first label, the section's heading ("三、收到和处理…情况", then the
        # column header) starts no row: the numbers are loose, as in a table printed without it.
        if head_after[i] and not (g == 0 and all(_SECTION_HEADING.match(w) for w in heads_before[i])):
            nxt = labels[next_i] if next_i is not None else None
            if nxt is not None and all(_starts_label(words, nxt.texts) for words in heads_before[i]):
                grp.owner, grp.strong = next_i, True
                if all(w.startswith(_CAPTIONS) for w in heads_before[i]):
                    grp.by_caption = True
                    votes[BEFORE] += 1  # caption, numbers, then the row's label: numbers come first
            # else: the words that start these numbers belong to a row the parser did not find
            continue
        prev_line = line(labels[prev_i].end - 1) if prev_i is not None else None
        next_line = line(labels[next_i].start) if next_i is not None else None
        on_prev = prev_i is not None and (grp.first_line == prev_line or tail_before[i])
        on_next = next_i is not None and grp.last_line == next_line
        if on_prev and not on_next:
            grp.owner, grp.strong = prev_i, True
            votes[AFTER] += 1
        elif on_next and not on_prev:
            grp.owner, grp.strong = next_i, True
            votes[BEFORE] += 1
        else:
            loose.append(i)
            if next_i is None:
                votes[AFTER] += 1
            elif prev_i is None:
                votes[BEFORE] += 1
    direction = (AFTER if votes[AFTER] and not votes[BEFORE] else BEFORE if votes[BEFORE] and not votes[AFTER]
                 else None)
    out.direction = direction
    for i in loose:
        g = gap_of[i]
        if direction == AFTER and g > 0:
            groups[i].owner = g - 1
        elif direction == BEFORE and g < len(labels):
            groups[i].owner = g
    claimed: dict[int, list[_Group]] = {}
    orphan_near: set[int] = set()
    for i, grp in enumerate(groups):
        if grp.owner is None:
            g = gap_of[i]
            orphan_near.update(x for x in (g - 1, g) if 0 <= x < len(labels))
            continue
        claimed.setdefault(grp.owner, []).append(grp)
    for li, lb in enumerate(labels):
        mine = claimed.get(li, [])
        # A caption proves only that the numbers after it come before a label: with numbers
        # no evidence places right after that label too, either group may be the row's.
        if li in orphan_near and not any(grp.strong and not grp.by_caption for grp in mine):
            out.values[lb.key] = None
            out.unproved.append(lb.key)
            continue
        if len(mine) > 1:
            tokens = [t for grp in mine for t in grp.tokens]
            if len(tokens) == lb.n:
                out.values[lb.key] = tokens
                continue
            strong = [grp for grp in mine if grp.strong]
            if len(strong) == 1 and len(strong[0].tokens) == lb.n:
                out.values[lb.key] = strong[0].tokens
                continue
            out.values[lb.key] = None
            out.unproved.append(lb.key)
            continue
        if not mine:
            out.values[lb.key] = [""] * lb.n
            continue
        grp = mine[0]
        if len(grp.tokens) == lb.n:
            out.values[lb.key] = grp.tokens
        elif len(grp.tokens) < lb.n:
            out.values[lb.key] = None
            out.short.append(lb.key)
            out.short_tokens[lb.key] = grp.tokens
        else:
            same_line = [t for t, ln in _token_lines(text, grp, line) if ln == grp.first_line]
            if grp.strong and len(same_line) == lb.n and grp.first_line in (
                    line(lb.end - 1), line(lb.start)):
                out.values[lb.key] = same_line  # the label's own line holds exactly its cells
            else:
                out.values[lb.key] = None
                out.extra[lb.key] = grp.tokens
    return out


def label_key(words: str) -> str:
    """Label words, comparable: no whitespace, "2、" -> "2."."""
    t = re.sub(r"\s+", "", words)
    return t[0] + "." + t[2:] if len(t) > 1 and t[0].isdigit() and t[1] == "、" else t


def _head_words(text: str, heads: list[int], stop: int) -> list[str]:
    """The words from each label-starting position to the next one (or to the numbers)."""
    out = []
    for i, p in enumerate(heads):
        end = heads[i + 1] if i + 1 < len(heads) else stop
        out.append(label_key("".join(w for w in TOKEN.findall(text[p:end])
                                     if not cellgrammar.is_value_token(w) or not w.isdigit() or len(w) <= 2)))
    return out


def _starts_label(words: str, texts: tuple[str, ...] | None) -> bool:
    """Could these words begin one of the texts of the row (its label, its group's, its block's)?"""
    if texts is None or not words or any(words.startswith(n) for n in NEUTRAL_HEADS):
        return True
    w = _BARE.sub("", words)
    return any((bare := _BARE.sub("", t)).startswith(w) or w.startswith(bare) for t in texts)


_LETTERS_LINE = re.compile(r"[ \t]*[\u4e00-\u9fff](?:[ \t]+(?:[\u4e00-\u9fff]|[/\\]|增/减))+[ \t]*")


def _in_letters_line(text: str, pos: int) -> bool:
    """Is pos on a line of single characters ("容 项 / 定"): header words printed one
    character per line (FORMAT.md §7.6), side by side?"""
    lo = text.rfind("\n", 0, pos) + 1
    hi = text.find("\n", pos)
    return bool(_LETTERS_LINE.fullmatch(text, lo, hi if hi >= 0 else len(text)))


def _in_word(text: str, m: re.Match) -> bool:
    """A mark inside a word ("本年增/减"), not a cell of its own."""
    return (not m.group(0)[0].isdigit() and m.start() > 0 and m.end() < len(text)
            and bool(_CJK.match(text[m.start() - 1])) and bool(_CJK.match(text[m.end()])))


_NUMBERING = re.compile(r"[ \t]*[.、][ \t]*[\u4e00-\u9fff]")


def _in_head(text: str, m: re.Match) -> bool:
    """Is this digit token the numbering of a label ("2." in "2.申请人…")?"""
    return len(m.group(0)) <= 2 and bool(_NUMBERING.match(text, m.end(), m.end() + 3))


def _token_lines(text: str, grp: _Group, line) -> list[tuple[str, int]]:
    return [(m.group(0), line(m.start())) for m in TOKEN.finditer(text, grp.start, grp.end)
            if cellgrammar.is_value_token(m.group(0))]
