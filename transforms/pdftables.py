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
from itertools import groupby, repeat
from operator import itemgetter

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
    bit_of: dict = {}  # an edge's box (utils.obj_to_bbox) -> its bit: a point's edges as a set of bits
    masks = {}
    for p, e in intersections.items():
        v = h = 0
        for edge in e["v"]:
            v |= bit_of.setdefault(_BBOX(edge), 1 << len(bit_of))
        for edge in e["h"]:
            h |= bit_of.setdefault(_BBOX(edge), 1 << len(bit_of))
        masks[p] = (v, h)
    return _cells(masks)


def _cells(masks: dict) -> list[tuple]:
    """``intersections_to_cells`` of each point's vertical and horizontal edges as bit sets
    (point -> (vertical bits, horizontal bits)); two points share an edge where their bits
    meet."""
    points = sorted(masks)
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
        v, h = masks[pt]
        right = row[pt[1]][at_row[pt] + 1:]
        cell = None
        for below_pt in column[pt[0]][at_column[pt] + 1:]:
            v_below, h_below = masks[below_pt]
            if not v & v_below:
                continue
            for right_pt in right:
                v_right, h_right = masks[right_pt]
                if not h & h_right:
                    continue
                corner = (right_pt[0], below_pt[1])
                at = masks.get(corner)
                if at is not None and at[0] & v_right and at[1] & h_below:
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
    def __init__(self, page):  # TableFinder.__init__ with the edge and cell search below
        self.page = page
        self.settings = _DEFAULT
        masks = _intersections(page)
        if masks is not None:
            self.cells = _cells(masks)
        else:  # a value that is not finite: pdfplumber's own edges
            self.edges = self.get_edges()
            self.intersections = edges_to_intersections(
                self.edges, self.settings.intersection_x_tolerance, self.settings.intersection_y_tolerance)
            self.cells = intersections_to_cells(self.intersections)
        self.tables = [Table(self.page, group) for group in cells_to_tables(self.cells)]


# An edge as a tuple: x0, top, x1, bottom, width, height (the values of pdfplumber's edge
# dict that its table finder reads)
_SNAP, _JOIN, _MIN_PREFILTER, _MIN_LENGTH = (_DEFAULT.snap_x_tolerance, _DEFAULT.join_x_tolerance,
                                             _DEFAULT.edge_min_length_prefilter, _DEFAULT.edge_min_length)
_CROSS = _DEFAULT.intersection_x_tolerance
assert (_DEFAULT.snap_y_tolerance, _DEFAULT.join_y_tolerance, _DEFAULT.intersection_y_tolerance) == (_SNAP, _JOIN, _CROSS)


def _page_edges(page) -> tuple[list[tuple], list[tuple]]:
    """The page's vertical and horizontal edges of at least ``edge_min_length_prefilter``
    (pdfplumber's ``page.edges`` through ``filter_edges``: lines, the four sides of each
    rectangle, each step of a curve along an axis), in pdfplumber's order."""
    v: list[tuple] = []
    h: list[tuple] = []
    for ln in page.lines:  # utils.line_to_edge
        e = (ln["x0"], ln["top"], ln["x1"], ln["bottom"], ln["width"], ln["height"])
        if e[1] == e[3]:
            if e[4] >= _MIN_PREFILTER:
                h.append(e)
        elif e[5] >= _MIN_PREFILTER:
            v.append(e)
    for r in page.rects:  # utils.rect_to_edges: top, bottom, left, right
        x0, top, x1, bottom, width, height = r["x0"], r["top"], r["x1"], r["bottom"], r["width"], r["height"]
        if width >= _MIN_PREFILTER:
            h.append((x0, top, x1, top, width, 0))
            h.append((x0, top + height, x1, bottom, width, 0))
        if height >= _MIN_PREFILTER:
            v.append((x0, top, x0, bottom, 0, height))
            v.append((x1, top, x1, bottom, 0, height))
    for c in page.curves:  # utils.curve_to_edges
        pts = c["pts"]
        for p0, p1 in zip(pts, pts[1:], strict=False):
            e = (min(p0[0], p1[0]), min(p0[1], p1[1]), max(p0[0], p1[0]), max(p0[1], p1[1]), abs(p0[0] - p1[0]),
                 abs(p0[1] - p1[1]))
            if p0[0] == p1[0]:
                if e[5] >= _MIN_PREFILTER:
                    v.append(e)
            elif p0[1] == p1[1] and e[4] >= _MIN_PREFILTER:
                h.append(e)
    return v, h


def _snap(edges: list[tuple], vertical: bool) -> list[tuple]:
    """utils.snap_objects: edges clustered by x0 (vertical) or top (horizontal), each
    cluster moved to its mean, clusters in order of value, each in the edges' order."""
    k = 0 if vertical else 1
    ids: dict = {}
    group, last = 0, None
    for x in sorted({e[k] for e in edges}):  # clustering.cluster_list of the distinct values
        if last is not None and not x <= last + _SNAP:
            group += 1
        ids[x] = group
        last = x
    clusters: list[list[tuple]] = [[] for _ in range(group + 1)]
    for e in edges:
        clusters[ids[e[k]]].append(e)
    out = []
    for cluster in clusters:
        avg = sum(e[k] for e in cluster) / len(cluster)
        for x0, top, x1, bottom, width, height in cluster:  # utils.move_object
            if vertical:
                value = avg - x0
                out.append((x0 + value, top, x1 + value, bottom, width, height))
            else:
                value = avg - top
                out.append((x0, top + value, x1, bottom + value, width, height))
    return out


def _join(edges: list[tuple], vertical: bool) -> list[tuple]:
    """table.merge_edges after the snap: the edges of one line (one x0, one top) sorted along
    it and joined where they overlap or lie within the join tolerance, then those of at least
    ``edge_min_length`` kept."""
    k, lo, hi = (0, 1, 3) if vertical else (1, 0, 2)
    out = []
    for _, line in groupby(sorted(edges, key=itemgetter(k)), key=itemgetter(k)):
        joined = sorted(line, key=itemgetter(lo))
        kept = [joined[0]]
        for e in joined[1:]:
            last = kept[-1]
            if e[lo] <= last[hi] + _JOIN:
                if e[hi] > last[hi]:  # utils.resize_object
                    x0, top, x1, bottom, width, height = last
                    if vertical:
                        kept[-1] = (x0, top, x1, e[hi], width, height + (e[hi] - bottom))
                    else:
                        kept[-1] = (x0, top, e[hi], bottom, e[hi] - x0, height)
            else:
                kept.append(e)
        out.extend(e for e in kept if e[5 if vertical else 4] >= _MIN_LENGTH)
    return out


def _intersections(page) -> dict | None:
    """pdfplumber's ``edges_to_intersections`` of the page's edges (``get_edges`` with the
    default settings) as each point's vertical and horizontal edges in bits (``_cells``);
    None where a value is not finite (pdfplumber's own then)."""
    v, h = _page_edges(page)
    if not all(map(math.isfinite, (x for e in (*v, *h) for x in e))):
        return None
    v = _join(_snap(v, True), True) if v else []
    h = _join(_snap(h, False), False) if h else []
    bit_of: dict = {}
    masks: dict = {}
    v_bits = [(e, bit_of.setdefault(e[:4], 1 << len(bit_of))) for e in sorted(v, key=itemgetter(0, 1))]
    h_bits = [(e, bit_of.setdefault(e[:4], 1 << len(bit_of))) for e in sorted(h, key=itemgetter(1, 0))]
    for (x, top, _, bottom, _, _), v_bit in v_bits:
        for (x0, y, x1, _, _, _), h_bit in h_bits:
            if top <= y + _CROSS and bottom >= y - _CROSS and x >= x0 - _CROSS and x <= x1 + _CROSS:
                at = masks.get((x, y))
                masks[(x, y)] = (v_bit, h_bit) if at is None else (at[0] | v_bit, at[1] | h_bit)
    return masks


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
    texts, x0s, x1s, tops, bottoms, _, _, uprights, _ = zip(*chars, strict=True)
    n = len(texts)
    if uprights.count(True) != n:
        return None
    if (len("".join(texts)) != n or "" in texts) and not all(map(_plain, texts)):  # not one letter each
        return None
    if not math.isfinite(sum(tops) + sum(x0s) + sum(x1s) + sum(bottoms)):
        return None
    # one sort by (line, x0, place): pdfplumber's stable sort by line, then each line's by x0
    if max(tops) <= min(tops) + y_tol:  # one line (a cell's common case)
        lines = repeat(0, n)
    else:
        lines = map(_cluster_ids(tops, y_tol).__getitem__, tops)
    order = sorted(zip(lines, x0s, range(n), tops, x1s, bottoms, texts, strict=True))
    ligature = LIGATURES.get
    words: list[list] = []
    w: list = []
    line = None
    in_word = False
    px0 = px1 = ptop = 0.0
    for at, x0, _, top, x1, bottom, text in order:
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
