"""pdfplumber's table finder with its cell search written for many intersections.

``find_tables(page)`` gives what ``page.find_tables()`` gives (default settings), cell for
cell and table for table. pdfplumber's ``intersections_to_cells`` rebuilds the sets of edges
at two points for every pair it tests and scans all later points for each point; here each
point's edge sets are built once and the points below and to the right of a point are
taken from its column and its row.

``cell_text(chars)`` is pdfplumber's ``extract_text(chars)`` and ``text_lines(chars)`` its
``page.extract_text_lines(return_chars=False)`` of a page holding ``chars`` (default
settings), their words and lines grouped directly, without pdfplumber's word and text-map
objects, when every character is upright.
"""

from __future__ import annotations

import math
from itertools import groupby

from pdfplumber import table as table_module
from pdfplumber import utils
from pdfplumber.table import Table, TableFinder, TableSettings, edges_to_intersections
from pdfplumber.utils.text import (
    DEFAULT_X_TOLERANCE,
    DEFAULT_Y_TOLERANCE,
    LIGATURES,
    chars_to_textmap,
    extract_text,
)

from transforms.pdfobjects import TEXT, char_dict, rows_of

_DEFAULT = TableSettings.resolve(None)
_BBOX = utils.geometry.bbox_getter


def intersections_to_cells(intersections: dict) -> list[tuple]:
    """pdfplumber's ``intersections_to_cells``: for each point in sorted order, the smallest
    cell whose four corners are joined by edges, found in the same order. Two points of one
    column are joined by a vertical edge they share, two of one row by a horizontal one
    (pdfplumber's ``edge_connects`` of points that differ in one coordinate, inlined)."""
    if not all(map(math.isfinite, (v for p in intersections for v in p))):
        return table_module.intersections_to_cells(intersections)  # NaN: equality is not identity
    vert = {p: set(map(_BBOX, e["v"])) for p, e in intersections.items()}  # utils.obj_to_bbox, without its call
    horiz = {p: set(map(_BBOX, e["h"])) for p, e in intersections.items()}
    points = sorted(intersections)
    # points of one x (sorted by y) and of one y (sorted by x): sorted order is by x, then y
    column: dict = {}
    row: dict = {}
    for p in points:
        column.setdefault(p[0], []).append(p)
        row.setdefault(p[1], []).append(p)
    at_column = {p: k for pts in column.values() for k, p in enumerate(pts)}
    at_row = {p: k for pts in row.values() for k, p in enumerate(pts)}
    cells = []
    for pt in points[:-1]:
        v, h = vert[pt], horiz[pt]
        right = row[pt[1]][at_row[pt] + 1:]
        cell = None
        for below_pt in column[pt[0]][at_column[pt] + 1:]:
            if v.isdisjoint(vert[below_pt]):
                continue
            h_below = horiz[below_pt]
            for right_pt in right:
                if h.isdisjoint(horiz[right_pt]):
                    continue
                corner = (right_pt[0], below_pt[1])
                if corner in intersections and not vert[corner].isdisjoint(vert[right_pt]) and not (
                        horiz[corner].isdisjoint(h_below)):
                    cell = (pt[0], pt[1], corner[0], corner[1])
                    break
            if cell is not None:
                cells.append(cell)
                break
    return cells


def cells_to_tables(cells: list[tuple]) -> list[list[tuple]]:
    """pdfplumber's ``cells_to_tables``: passes over the cells left, each adding to the
    current group every cell that shares a corner with it (the group's corners growing as
    cells join), a pass that adds none closing the group; the groups sorted by their
    topmost-then-leftmost cell, those of one cell left out. The cells left are kept by
    rebuilding the list once per pass, not by ``list.remove`` once per cell (the same where
    no two cells are equal, as the cell search gives them: else pdfplumber's own)."""
    if len(set(cells)) != len(cells):
        return table_module.cells_to_tables(cells)
    remaining = [(cell, ((cell[0], cell[1]), (cell[0], cell[3]), (cell[2], cell[1]), (cell[2], cell[3])))
                 for cell in cells]
    corners: set = set()
    current: list = []
    tables = []
    while remaining:
        before = len(current)
        left = []
        for item in remaining:
            cell_corners = item[1]
            if not current or not corners.isdisjoint(cell_corners):
                corners.update(cell_corners)
                current.append(item[0])
            else:
                left.append(item)
        remaining = left
        if len(current) == before:
            tables.append(list(current))
            corners.clear()
            current.clear()
    if current:
        tables.append(list(current))
    ordered = sorted(tables, key=lambda t: min((c[1], c[0]) for c in t))
    return [t for t in ordered if len(t) > 1]


class _Finder(TableFinder):
    def __init__(self, page):  # TableFinder.__init__ with the cell search above
        self.page = page
        self.settings = _DEFAULT
        self.edges = self.get_edges()
        self.intersections = edges_to_intersections(
            self.edges, self.settings.intersection_x_tolerance, self.settings.intersection_y_tolerance)
        self.cells = intersections_to_cells(self.intersections)
        self.tables = [Table(self.page, group) for group in cells_to_tables(self.cells)]


def find_tables(page) -> list[Table]:
    """``page.find_tables()`` with default settings."""
    return _Finder(page).tables


def cell_text(chars: list[tuple] | list[dict]) -> str:
    """pdfplumber's ``extract_text(chars)`` (default settings): the words (below) clustered
    into lines by their top, lines in the order of their cluster, words joined by a space and
    lines by a line break. ``chars``: as tuples (pdfobjects.char_dict) or pdfplumber's dicts."""
    if not chars:
        return ""
    if isinstance(chars[0], dict):
        chars = rows_of(chars)
    if len(chars) == 1:  # one word of one character, wherever it stands; a blank is none
        text = chars[0][TEXT]
        return "" if text.isspace() else LIGATURES.get(text, text)
    word = _one_word(chars)
    if word is not None:
        return word
    words = _words(chars)
    if words is None:
        return extract_text(list(map(char_dict, chars)))
    if len(words) == 1:
        return words[0][0]
    row_of = _cluster_ids([w[2] for w in words], DEFAULT_Y_TOLERANCE)
    words.sort(key=lambda w: row_of[w[2]])  # stable
    return "\n".join(" ".join(w[0] for w in row) for _, row in groupby(words, key=lambda w: row_of[w[2]]))


def _one_word(chars: list[tuple]) -> str | None:
    """The text of a cell's common case, else None: upright characters with one top, in
    order of x0, each starting within the tolerance of the one before it ends: one word of
    one line (what ``_words`` finds for them, without its sorts)."""
    text, px0, px1, top, bottom, _, _, upright, _ = chars[0]
    total = top + px0 + px1 + bottom
    ligature = LIGATURES.get
    if upright is not True or len(text) != 1 or text.isspace():
        return None
    out = [ligature(text, text)]
    for text, x0, x1, c_top, bottom, _, _, upright, _ in chars[1:]:
        if (c_top != top or not px0 <= x0 <= px1 + DEFAULT_X_TOLERANCE or upright is not True
                or len(text) != 1 or text.isspace()):
            return None
        total += x0 + x1 + bottom
        out.append(ligature(text, text))
        px0, px1 = x0, x1
    if not math.isfinite(total):
        return None
    return "".join(out)


def _cluster_ids(values: list[float], tolerance: float) -> dict[float, int]:
    """pdfplumber's ``make_cluster_dict``: sorted values chained while each is within the
    tolerance of the one before."""
    ids: dict[float, int] = {}
    group, last = 0, None
    for v in sorted(set(values)):
        if last is not None and v > last + tolerance:
            group += 1
        ids[v] = group
        last = v
    return ids


def _words(chars: list[tuple]) -> list[list] | None:
    """pdfplumber's words of ``chars`` (``WordExtractor.iter_extract_tuples``, default
    settings) as [text, x0, top, x1, bottom]: the characters clustered into lines by their
    top, each line sorted by x0 and cut into words (a blank, a step back, a gap wider than the
    tolerance or a jump in top starts one). None where pdfplumber itself is to be asked:
    characters not all upright, texts it treats specially (empty, holding a blank),
    coordinates that are not finite."""
    x_tol, y_tol = DEFAULT_X_TOLERANCE, DEFAULT_Y_TOLERANCE
    rows = []
    total = 0.0
    for text, x0, x1, top, bottom, _, _, upright, _ in chars:
        if upright is not True or (len(text) != 1 and not _plain(text)):
            return None
        total += top + x0 + x1 + bottom
        rows.append((top, x0, x1, bottom, text))
    if not math.isfinite(total):
        return None
    tops = [r[0] for r in rows]
    if max(tops) <= min(tops) + y_tol:  # one line (a cell's common case)
        order = sorted([(0, r[1], k) for k, r in enumerate(rows)])
    else:
        line_of = _cluster_ids(tops, y_tol)
        # one sort by (line, x0, place): pdfplumber's stable sort by line, then each line's by x0
        order = sorted([(line_of[r[0]], r[1], k) for k, r in enumerate(rows)])
    ligature = LIGATURES.get
    words: list[list] = []
    w: list = []
    line = None
    in_word = False
    px0 = px1 = ptop = 0.0
    for at, x0, k in order:
        top, _, x1, bottom, text = rows[k]
        if at != line:
            line, in_word = at, False
        if text.isspace():
            in_word = False
            continue
        if not in_word or x0 < px0 or x0 > px1 + x_tol or abs(top - ptop) > y_tol:
            w = [ligature(text, text), x0, top, x1, bottom]
            words.append(w)
            in_word = True
        else:
            w[0] += ligature(text, text)
            if top < w[2]:
                w[2] = top
            if x1 > w[3]:
                w[3] = x1
            if bottom > w[4]:
                w[4] = bottom
        px0, px1, ptop = x0, x1, top
    return words


def text_lines(chars: list[tuple] | list[dict]) -> list[dict]:
    """pdfplumber's ``extract_text_lines(return_chars=False)`` of a page whose characters are
    ``chars`` (default settings): the words (above) clustered again into text lines by their
    top in the order they come, each line's words joined by a space, with the box of its
    characters."""
    if not chars:
        return []
    if isinstance(chars[0], dict):
        chars = rows_of(chars)
    words = _words(chars)
    if words is None:
        return chars_to_textmap(list(map(char_dict, chars))).extract_text_lines(strip=True, return_chars=False)
    row_of = _cluster_ids([w[2] for w in words], DEFAULT_Y_TOLERANCE)
    out = []
    for _, group in groupby(words, key=lambda w: row_of[w[2]]):
        row = list(group)
        out.append({"text": " ".join(w[0] for w in row), "x0": min(w[1] for w in row), "top": min(w[2] for w in row),
                    "x1": max(w[3] for w in row), "bottom": max(w[4] for w in row)})
    return out


def _plain(text: str) -> bool:
    """A character's text that pdfplumber's word grouping takes as it is: a blank (dropped),
    or letters without a blank among them."""
    if len(text) == 1:
        return True
    return bool(text) and (text.isspace() or not any(ch.isspace() for ch in text))
