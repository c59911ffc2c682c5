"""pdfplumber's table finder with its cell search written for many intersections.

``find_tables(page)`` gives what ``page.find_tables()`` gives (default settings), cell for
cell and table for table. pdfplumber's ``intersections_to_cells`` rebuilds the sets of edges
at two points for every pair it tests and scans all later points for each point; here each
point's edge sets are built once and the points below and to the right of a point are
taken from its column and its row.
"""

from __future__ import annotations

from pdfplumber import utils
from pdfplumber.table import Table, TableFinder, TableSettings, cells_to_tables, edges_to_intersections

_DEFAULT = TableSettings.resolve(None)


def intersections_to_cells(intersections: dict) -> list[tuple]:
    """pdfplumber's ``intersections_to_cells``: for each point in sorted order, the smallest
    cell whose four corners are joined by edges, found in the same order."""
    vert = {p: set(map(utils.obj_to_bbox, e["v"])) for p, e in intersections.items()}
    horiz = {p: set(map(utils.obj_to_bbox, e["h"])) for p, e in intersections.items()}

    def connects(p1: tuple, p2: tuple) -> bool:
        if p1[0] == p2[0] and not vert[p1].isdisjoint(vert[p2]):
            return True
        return p1[1] == p2[1] and not horiz[p1].isdisjoint(horiz[p2])

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
        below = column[pt[0]][at_column[pt] + 1:]
        right = row[pt[1]][at_row[pt] + 1:]
        cell = None
        for below_pt in below:
            if not connects(pt, below_pt):
                continue
            for right_pt in right:
                if not connects(pt, right_pt):
                    continue
                corner = (right_pt[0], below_pt[1])
                if corner in intersections and connects(corner, right_pt) and connects(corner, below_pt):
                    cell = (pt[0], pt[1], corner[0], corner[1])
                    break
            if cell is not None:
                break
        if cell is not None:
            cells.append(cell)
    return cells


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
