"""Split runs of digits whose cell boundaries were lost, using the invariants as constraints.

Web pages turned into text often glue a table row together: "801000081" is the seven
cells 80, 1, 0, 0, 0, 0, 81 of 本年新收. This module finds every way to cut such a run
into cells (no leading zeros; a lone "0" is fine) and keeps only the cuts that satisfy
the hard invariants of formatspec (H2 per applications row, H1/H3/H6 across rows, H4 per
review/litigation group), with the narrative's figures as extra evidence.

Deterministic and exact: a cell gets a value only when every cut consistent with the
constraints gives it that same value. Otherwise it stays ``None`` and the row is listed
in ``Solution.ambiguous`` with (up to ``MAX_LISTED``) candidate tuples. Searches are
bounded by counted search steps (never by the clock); when a bound is hit, nothing is pruned that was
not proved impossible, so the answer gets less precise, never wrong.

Runs may hold whitespace or "|": those are known cell boundaries (forced cuts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from transforms import evaluator
from transforms import formatspec as fs

MAX_LISTED = 10  # candidate tuples listed per ambiguous row
MAX_CANDIDATES = 20_000  # per row; beyond this the row is reported ambiguous unresolved
MAX_NODES = 400_000  # search nodes per search phase
MAX_ROW_NODES = 60_000  # nodes for one row's splits, so that one odd row cannot starve the others
# Longest runs searched with sum bounds: the unpruned search never needs its node budget
# up to these lengths (worst seen: ~23k of MAX_ROW_NODES for 24 digits, ~11k of MAX_NODES for
# 32), so pruning changes no answer there; longer runs keep the unpruned search and its bound.
PRUNED_ROW_DIGITS = 24  # an applications row (7 cells)
PRUNED_RL_DIGITS = 32  # the 15 review/litigation cells

Value = int | float | None
Candidate = tuple[int | float, ...]

_SEP = re.compile(r"[\s|]+")
_INT = re.compile(r"0|[1-9]\d*")
_DEC = re.compile(r"(0|[1-9]\d*)(\.\d+)?")


class _Exhausted(Exception):
    """The search budget ran out."""


class _Budget:
    """A count of search steps. Never a clock: the same run gives the same answer on an idle
    or a starved machine, so a parse (and its cache) does not depend on the load of the day."""

    def __init__(self, nodes: int | None = None) -> None:
        self.nodes = MAX_NODES if nodes is None else nodes
        self.exhausted = False

    def tick(self) -> None:
        self.nodes -= 1
        if self.nodes <= 0:
            self.exhausted = True
            raise _Exhausted


@dataclass
class Solution:
    """What a solver determined.

    ``values``: key (row / item / group) -> cell values in formatspec column order;
    ``None`` where not determined. ``derived``: (key, column key) of every cell this
    module gave a value by splitting a run (the parser flags them ``cell_derived``).
    ``ambiguous``: key -> candidate tuples (at most MAX_LISTED; the true split is among
    all candidates) for rows with several consistent splits; cells on which all
    candidates agree are still filled (and in ``derived``), the others are ``None``.
    ``unsolvable``: keys whose run admits no split satisfying the constraints (cells
    ``None``; the report is inconsistent or the run is not what was expected).
    ``truncated``: keys whose candidate list is incomplete because a bound was hit.
    For review_litigation, ``values["_all"]`` (and ``ambiguous["_all"]``) also give the
    15 cells as one flat list in formatspec order (groups x outcomes).
    """

    values: dict[str, list[Value]] = field(default_factory=dict)
    derived: set[tuple[str, str]] = field(default_factory=set)
    ambiguous: dict[str, list[Candidate]] = field(default_factory=dict)
    unsolvable: set[str] = field(default_factory=set)
    truncated: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- splitting


_NEXT_NUMBERING = re.compile(r"\d[.、．]\s*$")


def _tokens(run: str | Sequence[str]) -> tuple[str, frozenset[int]]:
    """Concatenated digits and the positions of forced cuts (known cell boundaries).

    A run ending in "5." or "5、" carries the next label's number ("10000015.属于三类..."):
    no cell ends with a dot, so that digit is dropped.
    """
    if isinstance(run, str):
        run = _NEXT_NUMBERING.sub("", run)
    parts = [p for p in (_SEP.split(run.strip()) if isinstance(run, str) else [str(x).strip() for x in run]) if p]
    text, cuts, pos = "", set(), 0
    for p in parts:
        if pos:
            cuts.add(pos)
        text += p
        pos += len(p)
    return text, frozenset(cuts)


def _valid(part: str, decimal: bool) -> bool:
    return bool((_DEC if decimal else _INT).fullmatch(part))


def _num(part: str) -> int | float:
    return float(part) if "." in part else int(part)


def _parts(
    s: str, n: int, forced: frozenset[int], *, decimal_last: bool = False, start: int = 0,
    budget: _Budget | None = None,
) -> Iterator[tuple[str, ...]]:
    """All cuts of s[start:] into n valid parts honouring the forced cuts."""
    if n == 0:
        if start == len(s):
            yield ()
        return
    if budget:
        budget.tick()
    if n == 1:
        if start < len(s) and not any(start < c < len(s) for c in forced) and _valid(
            s[start:], decimal_last
        ):
            yield (s[start:],)
        return
    # A part may not cross a forced cut, and leaves at least one char for each later part.
    limit = len(s) - (n - 1)
    nxt = min((c for c in forced if c > start), default=None)
    if nxt is not None:
        limit = min(limit, nxt)
    for end in range(start + 1, limit + 1):
        part = s[start:end]
        if not _INT.fullmatch(part):
            if part[0] == "0":
                break  # a leading zero only gets worse with a longer part
            continue
        for rest in _parts(s, n - 1, forced, decimal_last=decimal_last, start=end, budget=budget):
            yield (part, *rest)


def splits(run: str | Sequence[str], n: int, *, decimal_last: bool = False) -> Iterator[tuple[int | float, ...]]:
    """Every way to cut a run of digits into n non-negative numbers without leading zeros.

    Whitespace or "|" in the run (or the boundaries between items of a list) are known
    cell boundaries. With ``decimal_last`` the last cell may be a decimal ("5949.08").
    """
    s, forced = _tokens(run)
    for parts in _parts(s, n, forced, decimal_last=decimal_last):
        yield tuple(_num(p) for p in parts)


def _sum_splits(s: str, forced: frozenset[int], n: int, budget: _Budget, start: int = 0,
                end: int | None = None, prune_max: int = 0) -> Iterator[tuple[int, ...]]:
    """Cuts of s[start:end] into n integers whose last equals the sum of the others (H2, H4).

    Runs of ASCII digits up to ``prune_max`` long are searched with sum bounds (same
    cuts, same order, far fewer nodes); longer ones, or runs holding anything else, are
    searched unpruned as they always were, so where the node budget gives up on a
    pathological run does not change.
    """
    end = len(s) if end is None else end
    pruned = len(s) <= prune_max and s.isascii() and s.isdigit()
    parts = _bounded_parts if pruned else _bounded_parts_plain
    if pruned:  # digit sums of s[:i], for casting out nines
        nines = [0]
        for ch in s:
            nines.append(nines[-1] + ord(ch) - 48)
    for k in range(end - 1, start + n - 2, -1):  # the total is s[k:end]
        if any(k < c < end for c in forced):
            break
        total_s = s[k:end]
        if not _INT.fullmatch(total_s):
            continue
        total = int(total_s)
        width = len(total_s)
        # n-1 parts, none longer than the total, fill s[start:k]
        if k - start > (n - 1) * width:
            continue  # the parts would need more digits than the total has: try a longer total
        if pruned and (nines[k] - nines[start] - nines[end] + nines[k]) % 9:
            continue  # a number is its digit sum mod 9, so however cut, the parts' sum is not the total
        yield from (
            (*p, total)
            for p in parts(s, n - 1, forced, start, k, total, budget)
        )


def _one_part(s: str, forced: frozenset[int], start: int, end: int, remaining: int) -> bool:
    """s[start:end] is one valid part (no forced cut inside) whose value is ``remaining``."""
    part = s[start:end]
    return (start < end and not any(start < c < end for c in forced) and _INT.fullmatch(part) is not None
            and int(part) == remaining)


def _first_parts(s: str, forced: frozenset[int], start: int, end: int, n: int,
                 remaining: int) -> Iterator[tuple[int, int]]:
    """(end, value) of each possible first part when s[start:end] is cut into n parts summing
    to ``remaining``, shortest first (parts have at most the digits of ``remaining``)."""
    width = len(str(remaining))
    if end - start < n or end - start > n * width:
        return
    limit = min(end - (n - 1), start + width)
    if forced:
        nxt = min((c for c in forced if start < c < end), default=None)
        if nxt is not None:
            limit = min(limit, nxt)
    for cut in range(start + 1, limit + 1):
        part = s[start:cut]
        if part[0] == "0" and len(part) > 1:
            break  # a leading zero: "0" stands alone
        v = int(part)
        if v > remaining:
            break
        yield cut, v


def _bounded_parts(s: str, n: int, forced: frozenset[int], start: int, end: int, remaining: int,
                   budget: _Budget) -> Iterator[tuple[int, ...]]:
    """Cuts of s[start:end] (ASCII digits) into n integers summing exactly to ``remaining``."""
    budget.tick()
    if n == 1:
        if _one_part(s, forced, start, end, remaining):
            yield (remaining,)
        return
    width = len(str(remaining))
    if end - start < n or end - start > n * width:
        return
    bounds = _sum_bounds(s, forced, start, end, n, width, remaining)
    if bounds is not None:
        yield from _bounded_search(s, n, forced, start, end, remaining, budget, *bounds)


def _sum_bounds(s: str, forced: frozenset[int], start: int, end: int, n: int, width: int,
                remaining: int) -> tuple[list[list[int | None]], list[list[int | None]]] | None:
    """lo[m][i] / hi[m][i]: least / greatest sum of s[i:end] cut into m valid parts of at
    most ``width`` digits honouring the forced cuts (None: no such cut), for m < n.

    Every cut the search can make is one of these, so a branch whose remainder lies outside
    [lo, hi] holds no solution and is skipped without being walked. None when no cut of
    the whole of s[start:end] into n parts can sum to ``remaining``.
    """
    size = end + 1
    # the part starting at i ends by stop[i]: the width, the next forced cut, the end
    stop = [end] * size
    nxt = end
    for i in range(end - 1, start - 1, -1):
        stop[i] = i + 1 if s[i] == "0" else (i + width if i + width < nxt else nxt)  # "0" stands alone
        if i in forced:
            nxt = i
    lo: list[list[int | None]] = [[None] * size for _ in range(n)]
    hi: list[list[int | None]] = [[None] * size for _ in range(n)]
    lo[0][end] = hi[0][end] = 0
    for m in range(1, n + 1):
        lo_prev, hi_prev = lo[m - 1], hi[m - 1]
        if m < n:
            lo_m, hi_m, last_i = lo[m], hi[m], end - m
        else:  # the whole cut: only its bounds at start are needed
            lo_m, hi_m, last_i = [None] * size, [None] * size, start
        for i in range(last_i, start - 1, -1):
            best_lo = best_hi = None
            v = 0
            for j in range(i + 1, stop[i] + 1):
                v = v * 10 + ord(s[j - 1]) - 48
                rest_lo = lo_prev[j]
                if rest_lo is None:
                    continue
                if best_lo is None:
                    best_lo, best_hi = v + rest_lo, v + hi_prev[j]
                else:
                    if v + rest_lo < best_lo:
                        best_lo = v + rest_lo
                    if v + hi_prev[j] > best_hi:
                        best_hi = v + hi_prev[j]
            lo_m[i], hi_m[i] = best_lo, best_hi
    if lo_m[start] is None or not lo_m[start] <= remaining <= hi_m[start]:
        return None
    return lo, hi


def _bounded_search(s: str, n: int, forced: frozenset[int], start: int, end: int, remaining: int,
                    budget: _Budget, lo: list[list[int | None]], hi: list[list[int | None]]
                    ) -> Iterator[tuple[int, ...]]:
    """_bounded_parts's depth-first search, in the same order, pruned with the sum bounds."""
    budget.tick()
    if n == 1:
        if _one_part(s, forced, start, end, remaining):
            yield (remaining,)
        return
    lo_rest, hi_rest = lo[n - 1], hi[n - 1]
    for cut, v in _first_parts(s, forced, start, end, n, remaining):
        rest = remaining - v
        least = lo_rest[cut]
        if least is None or rest < least or rest > hi_rest[cut]:
            continue  # no cut of the remainder can sum to ``rest``
        if n == 2:  # lo[1][cut] is the value of s[cut:end] when that is a valid part: it is ``rest``
            yield (v, rest)
            continue
        for tail in _bounded_search(s, n - 1, forced, cut, end, rest, budget, lo, hi):
            yield (v, *tail)


def _bounded_parts_plain(s: str, n: int, forced: frozenset[int], start: int, end: int, remaining: int,
                         budget: _Budget) -> Iterator[tuple[int, ...]]:
    """_bounded_parts unpruned: its node count is the original one, and a "." or a digit that
    int() rejects fails in int() exactly where it always did."""
    budget.tick()
    if n == 1:
        if _one_part(s, forced, start, end, remaining):
            yield (remaining,)
        return
    for cut, v in _first_parts(s, forced, start, end, n, remaining):
        for rest in _bounded_parts_plain(s, n - 1, forced, cut, end, remaining - v, budget):
            yield (v, *rest)


def _collect(gen: Iterable[Candidate], key: str, sol: Solution) -> list[Candidate]:
    out: list[Candidate] = []
    for cand in gen:
        out.append(cand)
        if len(out) > MAX_CANDIDATES:
            sol.truncated.add(key)
            break
    return out


# --------------------------------------------------------------------------- search


@dataclass
class _Eq:
    """sum(coef * value[row][col]) == 0, or <= 0 when ``le``."""

    terms: list[tuple[str, int, int]]  # (row, column index, coefficient)
    le: bool = False


def _consistent(domains: dict[str, list[Candidate]], eqs: list[_Eq], budget: _Budget) -> dict[str, set[int]] | None:
    """Indexes of each row's candidates that occur in at least one full solution.

    Rows with one candidate are constants. Returns None when no assignment at all
    satisfies the equations. Raises _Exhausted when the budget runs out.
    """
    # Bounds propagation first drops candidates that no assignment of the other rows can
    # complete (it never drops one that occurs in a solution), so the search below mostly
    # sees single-candidate rows; its answer is then mapped back to the original indexes.
    alive = _propagate(domains, eqs)
    if alive is None:
        return None
    if all(len(a) == len(domains[r]) for r, a in alive.items()):
        return _support(domains, eqs, budget)
    support = _support({r: [domains[r][i] for i in a] for r, a in alive.items()}, eqs, budget)
    if support is None:
        return None
    return {r: {alive[r][i] for i in idx} for r, idx in support.items()}


def _propagate(domains: dict[str, list[Candidate]], eqs: list[_Eq]) -> dict[str, list[int]] | None:
    """Indexes of the candidates that pass every equation against the others' value ranges.

    A candidate is dropped when, with every other row of an equation free within its own
    candidates' range, the equation still cannot hold; repeated until nothing changes.
    None when some row is left with no candidate (no assignment satisfies the equations).
    """
    alive = {r: list(range(len(d))) for r, d in domains.items()}
    # per equation: the constant rows' sum, and each other row's contribution per candidate
    grouped: list[tuple[bool, int, list[tuple[str, list[int]]]]] = []
    for e in eqs:
        by_row: dict[str, list[tuple[int, int]]] = {}
        for row, col, coef in e.terms:
            by_row.setdefault(row, []).append((col, coef))
        const, var = 0, []
        for r, terms in by_row.items():
            contrib = [sum(coef * cand[col] for col, coef in terms) for cand in domains[r]]
            if len(contrib) == 1:
                const += contrib[0]
            else:
                var.append((r, contrib))
        if not var:
            if const > 0 or (not e.le and const < 0):
                return None
            continue
        grouped.append((e.le, const, var))
    changed = True
    while changed:
        changed = False
        for le, const, var in grouped:
            lows = [min(contrib[i] for i in alive[r]) for r, contrib in var]
            highs = [max(contrib[i] for i in alive[r]) for r, contrib in var]
            low, high = const + sum(lows), const + sum(highs)
            if low > 0 or (not le and high < 0):
                return None
            for (r, contrib), row_low, row_high in zip(var, lows, highs, strict=True):
                live = alive[r]
                if len(live) == 1:
                    continue
                others_low, others_high = low - row_low, high - row_high
                keep = [i for i in live if others_low + contrib[i] <= 0 and (le or others_high + contrib[i] >= 0)]
                if len(keep) < len(live):
                    if not keep:
                        return None
                    alive[r] = keep
                    changed = True
    return alive


def _support(domains: dict[str, list[Candidate]], eqs: list[_Eq], budget: _Budget) -> dict[str, set[int]] | None:
    """_consistent's exhaustive search (each candidate pinned in turn)."""
    var_rows = sorted((r for r, d in domains.items() if len(d) > 1), key=lambda r: len(domains[r]))
    if not var_rows:
        ok = all(_eq_holds(e, {r: d[0] for r, d in domains.items()}) for e in eqs)
        return {r: {0} for r in domains} if ok else None
    lo = {r: [min(c[i] for c in d) for i in range(len(d[0]))] for r, d in domains.items()}
    hi = {r: [max(c[i] for c in d) for i in range(len(d[0]))] for r, d in domains.items()}
    eqs_of: dict[str, list[_Eq]] = {r: [e for e in eqs if any(t[0] == r for t in e.terms)] for r in var_rows}
    viable: dict[str, set[int]] = {r: set() for r in var_rows}
    assign: dict[str, int] = {r: 0 for r, d in domains.items() if len(d) == 1}

    def feasible(e: _Eq) -> bool:
        low = high = 0
        for row, col, coef in e.terms:
            if row in assign:
                v = domains[row][assign[row]][col]
                low += coef * v
                high += coef * v
            elif coef > 0:
                low += coef * lo[row][col]
                high += coef * hi[row][col]
            else:
                low += coef * hi[row][col]
                high += coef * lo[row][col]
        return low <= 0 if e.le else low <= 0 <= high

    def search(i: int) -> bool:
        budget.tick()
        if i == len(var_rows):
            for r in var_rows:
                viable[r].add(assign[r])
            return True
        r = var_rows[i]
        order = pinned.get(r, range(len(domains[r])))
        for ci in order:
            assign[r] = ci
            if all(feasible(e) for e in eqs_of[r]) and search(i + 1):
                del assign[r]
                return True
        del assign[r]
        return False

    pinned: dict[str, Sequence[int]] = {}
    if not all(feasible(e) for e in eqs):
        return None
    found_any = False
    for r in var_rows:
        for ci in range(len(domains[r])):
            if ci in viable[r]:
                continue
            pinned = {r: (ci,)}
            if search(0):
                found_any = True
        if not found_any:
            return None
    out = {r: {0} for r in domains if len(domains[r]) == 1}
    out.update(viable)
    return out


def _eq_holds(e: _Eq, values: dict[str, Candidate]) -> bool:
    total = sum(coef * values[row][col] for row, col, coef in e.terms)
    return total <= 0 if e.le else total == 0


def _resolve(
    keys: Sequence[str],
    columns: Sequence[str],
    fixed: dict[str, list[Value]],
    cands: dict[str, list[Candidate]],
    eqs: list[_Eq],
    sol: Solution,
    narrative_filter: dict[str, list[Candidate]],
    budget: _Budget,
) -> None:
    """Intersect per-row candidates with the cross-row equations and fill ``sol``."""
    # Equations are usable only over known cells: drop those touching a missing row, an
    # unsolvable run or a blank read cell.
    domains: dict[str, list[Candidate]] = {}
    for k, vals in fixed.items():
        domains[k] = [tuple(vals)]  # type: ignore[arg-type]
    for k, c in cands.items():
        if c and k not in sol.truncated:
            domains[k] = c
    usable = [
        e for e in eqs
        if all(row in domains and all(d[col] is not None for d in domains[row][:1]) for row, col, _ in e.terms)
    ]

    def attempt(doms: dict[str, list[Candidate]]) -> dict[str, set[int]] | None:
        try:
            return _consistent(doms, usable, budget)
        except _Exhausted:
            sol.notes.append("search bound reached: cross-row constraints only partly applied")
            return {k: set(range(len(d))) for k, d in doms.items()}

    final: dict[str, list[Candidate]] = {k: cands[k] for k in cands}
    if usable:
        narrowed = {k: narrative_filter.get(k, d) for k, d in domains.items()}
        viable = attempt(narrowed) if narrowed != domains else None
        if viable is None:
            viable = attempt(domains)
            narrowed = domains
        if viable is None:
            sol.notes.append("runs cannot satisfy the cross-row invariants together; used per-row constraints only")
            narrowed = {k: narrative_filter.get(k, d) for k, d in domains.items()}
            viable = {k: set(range(len(d))) for k, d in narrowed.items()}
        for k in cands:
            if k in viable:
                final[k] = [narrowed[k][i] for i in sorted(viable[k])]
    else:
        for k in cands:
            final[k] = narrative_filter.get(k, cands[k])

    for k in keys:
        if k not in cands:
            continue
        c = final[k]
        if not c:
            if k in sol.truncated:
                sol.ambiguous[k] = []  # undecided: the bound was hit before any split was found
            else:
                sol.unsolvable.add(k)
            sol.values[k] = [None] * len(columns)
            continue
        vals: list[Value] = []
        for i, col in enumerate(columns):
            column_values = {cand[i] for cand in c}
            if len(column_values) == 1 and k not in sol.truncated:
                vals.append(c[0][i])
                sol.derived.add((k, col))
            else:
                vals.append(None)
        sol.values[k] = vals
        if len(c) > 1 or k in sol.truncated:
            sol.ambiguous[k] = c[:MAX_LISTED]


def _narrative_filter(
    cands: dict[str, list[Candidate]], columns: Sequence[str], figures: dict[str, list[tuple[int, int]]]
) -> dict[str, list[Candidate]]:
    """Candidates agreeing with the narrative figures; rows where none agree are left out."""
    out = {}
    for k, c in cands.items():
        wanted = figures.get(k)
        if not wanted:
            continue
        kept = [cand for cand in c if all(cand[i] == v for i, v in wanted)]
        if kept:
            out[k] = kept
    return out


def _figures(narrative: dict[str, int] | None, table: str, keys: Sequence[str], columns: Sequence[str],
             default_col: str | None) -> dict[str, list[tuple[int, int]]]:
    """Narrative keys "row", "row.column" or "table.row.column" as (column index, value)."""
    out: dict[str, list[tuple[int, int]]] = {}
    for key, value in (narrative or {}).items():
        parts = key.split(".")
        if parts[0] == table:
            parts = parts[1:]
        if not parts or parts[0] not in keys or not isinstance(value, int | float):
            continue
        col = parts[1] if len(parts) > 1 else default_col
        if col in columns:
            out.setdefault(parts[0], []).append((list(columns).index(col), value))
    return out


def _is_run(v: object) -> bool:
    return isinstance(v, str) or (isinstance(v, list | tuple) and bool(v) and all(isinstance(x, str) for x in v))


# --------------------------------------------------------------------------- applications


def solve_applications(
    rows: dict[str, list[Value] | str],
    template: str,
    narrative: dict[str, int] | None = None,
) -> Solution:
    """Split the run-together rows of the applications table.

    ``rows``: row key (formatspec.app_rows(template)) -> its 7 values already read (ints
    or None) or a run (a string of digits, or a list of strings each holding whole cells).
    ``narrative``: figures the narrative states, keyed "row" (meaning that row's total),
    "row.column" or "applications.row.column", e.g. {"new_received": 81}.
    Constraints: H2 per row; H1, H3 and H6 per column across rows.
    """
    sol = Solution()
    keys = [r.key for r in fs.app_rows(template)]
    columns = [c.key for c in fs.APPLICANT_COLUMNS]
    fixed: dict[str, list[Value]] = {}
    cands: dict[str, list[Candidate]] = {}
    for k, v in rows.items():
        if k not in keys:
            raise ValueError(f"unknown applications row {k!r} for template {template}")
        if _is_run(v):
            s, forced = _tokens(v)  # type: ignore[arg-type]
            budget = _Budget(MAX_ROW_NODES)
            try:
                cands[k] = _collect(_sum_splits(s, forced, len(columns), budget, prune_max=PRUNED_ROW_DIGITS),
                                    k, sol)
            except _Exhausted:
                sol.truncated.add(k)
                cands[k] = []
        else:
            vals = list(v)  # type: ignore[arg-type]
            if len(vals) != len(columns):
                raise ValueError(f"row {k!r}: {len(vals)} values, expected {len(columns)}")
            fixed[k] = vals
            sol.values[k] = vals
    budget = _Budget()  # the cross-row search gets its own budget
    eqs = _app_equations(template, keys, len(columns))
    figs = _figures(narrative, fs.APPLICATIONS, keys, columns, fs.TOTAL)
    _resolve(keys, columns, fixed, cands, eqs, sol, _narrative_filter(cands, columns, figs), budget)
    return sol


def _app_equations(template: str, keys: Sequence[str], ncols: int) -> list[_Eq]:
    """The rule book's hard rules across the rows (H1, H3, H6: ``formatspec`` marks them for
    the solver), per column, as equations over (row, column index)."""
    return list(_app_equations_of(template, ncols))


@lru_cache(maxsize=8)
def _app_equations_of(template: str, ncols: int) -> tuple[_Eq, ...]:
    index = {c.key: i for i, c in enumerate(fs.APPLICANT_COLUMNS[:ncols])}
    return tuple(
        _Eq([(row, index[column], coef) for row, column, coef in eq.terms], le=eq.op == "<=")
        for eq in evaluator.cross_row_equations(fs.APPLICATIONS, template)
        if all(column in index for _, column, _ in eq.terms)
    )


# --------------------------------------------------------------------------- review / litigation

_RL_GROUPS = [g.key for g in fs.RL_GROUPS]
ALL = "_all"  # review_litigation: the 15 cells as one flat list
_RL_COLS = [o.key for o in fs.RL_OUTCOMES]
_RL_ALIASES = {"litigation": "litigation_total"}  # a caller's short key for narrative.extract's


def _total_is_last(table: str, columns: Sequence[str]) -> None:
    """_sum_splits cuts a run so that its last number is the sum of the others: the rule
    book's per-row sum of the table (H2, H4) must say exactly that, in column order."""
    total, parts = evaluator.row_total(table)
    if (*parts, total) != tuple(columns):
        raise ValueError(f"{table}: the solver's cut (last = sum of the others) is not the rule book's row sum")


_total_is_last(fs.APPLICATIONS, [c.key for c in fs.APPLICANT_COLUMNS])
_total_is_last(fs.REVIEW_LITIGATION, _RL_COLS)


def total_is_sum(values: Sequence[int]) -> bool:
    """A row of the applications table or a review/litigation group satisfies its row sum."""
    return sum(values[:-1]) == values[-1]


def solve_review_litigation(run: str | list, narrative: dict[str, int] | None = None) -> Solution:
    """Split the 15 review/litigation cells (3 groups x upheld, corrected, other, pending, total).

    ``run``: a string of digits (whitespace or "|" = known boundaries), a list of strings
    each holding whole cells, or the 15 values already read. Constraint H4 per group.
    ``narrative``: "admin_review" or "admin_review_total" (行政复议 N件 = its total),
    "litigation" or "litigation_total" (行政诉讼 N件 = direct + after-review totals), or
    "group.outcome" keys, e.g. {"admin_review": 2} (narrative.extract's dict works as is).
    """
    sol = Solution()
    ncols = len(_RL_COLS)
    if isinstance(run, list | tuple) and not _is_run(run):
        vals = list(run)
        if len(vals) != len(_RL_GROUPS) * ncols:
            raise ValueError(f"review_litigation: {len(vals)} values, expected {len(_RL_GROUPS) * ncols}")
        for gi, g in enumerate(_RL_GROUPS):
            sol.values[g] = vals[gi * ncols:(gi + 1) * ncols]
        return _with_all(sol, [])
    s, forced = _tokens(run)
    budget = _Budget()
    whole: list[tuple[Candidate, ...]] = []
    truncated = False

    def groups(start: int, gi: int) -> Iterator[tuple[Candidate, ...]]:
        if gi == len(_RL_GROUPS):
            if start == len(s):
                yield ()
            return
        rest = len(_RL_GROUPS) - gi - 1
        for end in range(start + ncols, len(s) - rest * ncols + 1):
            if gi == len(_RL_GROUPS) - 1 and end != len(s):
                continue
            for cand in _sum_splits(s, forced, ncols, budget, start, end, prune_max=PRUNED_RL_DIGITS):
                for tail in groups(end, gi + 1):
                    yield (cand, *tail)

    try:
        for combo in groups(0, 0):
            whole.append(combo)
            if len(whole) > MAX_CANDIDATES:
                truncated = True
                break
    except _Exhausted:
        truncated = True
    figs = _rl_figures(narrative)
    if figs and whole:
        kept = [c for c in whole if all(f(c) == v for f, v in figs)]
        if kept:
            whole = kept
    if truncated:
        sol.truncated.update(_RL_GROUPS)
        sol.notes.append("review_litigation: search bound reached")
    if not whole:
        for g in _RL_GROUPS:
            sol.values[g] = [None] * ncols
            if truncated:
                sol.ambiguous[g] = []  # undecided: the bound was hit before any split was found
            else:
                sol.unsolvable.add(g)
        return _with_all(sol, [])
    for gi, g in enumerate(_RL_GROUPS):
        vals: list[Value] = []
        for ci, col in enumerate(_RL_COLS):
            seen = {c[gi][ci] for c in whole}
            if len(seen) == 1 and not truncated:
                vals.append(whole[0][gi][ci])
                sol.derived.add((g, col))
            else:
                vals.append(None)
        sol.values[g] = vals
        group_cands = list(dict.fromkeys(c[gi] for c in whole))
        if len(group_cands) > 1 or truncated:
            sol.ambiguous[g] = group_cands[:MAX_LISTED]
    return _with_all(sol, [tuple(v for group in c for v in group) for c in whole])


def _with_all(sol: Solution, flat_candidates: list[Candidate]) -> Solution:
    """Add the "_all" view: the 15 cells as one flat list (groups x outcomes, formatspec order)."""
    sol.values[ALL] = [v for g in _RL_GROUPS for v in sol.values[g]]
    if any(g in sol.ambiguous for g in _RL_GROUPS):
        sol.ambiguous[ALL] = flat_candidates[:MAX_LISTED]
    return sol


def _rl_figures(narrative: dict[str, int] | None) -> list[tuple]:
    out = []
    total = _RL_COLS.index(fs.TOTAL)
    for key, value in (narrative or {}).items():
        k = key.removeprefix(fs.REVIEW_LITIGATION + ".")
        # narrative.extract's keys (admin_review_total, litigation_total): their cells
        paths = fs.NARRATIVE_CELLS.get(_RL_ALIASES.get(k, k), ())
        if paths and all(p.startswith(fs.REVIEW_LITIGATION + ".") for p in paths):
            cells = [p.split(".")[1:] for p in paths]
            idx = [(_RL_GROUPS.index(g), _RL_COLS.index(o)) for g, o in cells]
            out.append((lambda c, idx=idx: sum(c[gi][oi] for gi, oi in idx), value))
            continue
        parts = k.split(".")
        if parts[0] in _RL_GROUPS:
            col = _RL_COLS.index(parts[1]) if len(parts) > 1 and parts[1] in _RL_COLS else total
            gi = _RL_GROUPS.index(parts[0])
            out.append((lambda c, gi=gi, col=col: c[gi][col], value))
    return out


# --------------------------------------------------------------------------- active disclosure


def solve_active_disclosure(
    rows: dict[str, list[Value] | str],
    template: str,
    narrative: dict[str, int] | None = None,
    prev_in_force: dict[str, int] | None = None,
) -> Solution:
    """Split the run-together rows of table 1 (主动公开).

    ``rows``: item key -> its values already read, or a run. A single-cell item's run is
    just its number (a decimal for fees). Multi-cell items have no hard invariant (S3, S4
    are soft), so they resolve only where every split agrees or the narrative pins them:
    ``narrative`` keys "item.measure" (or "active_disclosure.item.measure"), e.g.
    {"normative_documents.issued": 77}. ``prev_in_force``: the previous year's 现行有效件数
    per item (X2, F2021): splits where 现行有效 = last year's + 制发 - 废止 are kept when
    any is. Candidates are listed S3/S4-consistent first.
    """
    sol = Solution()
    items = {it.key: it for it in fs.AD_ITEMS[template]}
    measures = fs.AD_MEASURES[template]
    budget = _Budget()
    for k, v in rows.items():
        if k not in items:
            raise ValueError(f"unknown active_disclosure item {k!r} for template {template}")
        cols = list(items[k].measures)
        if not _is_run(v):
            sol.values[k] = list(v)  # type: ignore[arg-type]
            continue
        last_decimal = measures[cols[-1]].vtype in (fs.DECIMAL, fs.AMOUNT)
        signed = [measures[m].vtype == fs.SIGNED for m in cols]
        s, forced = _tokens(v)  # type: ignore[arg-type]
        if any(signed):
            s, forced, signs = _strip_signs(s, forced)
        else:
            signs = {}
        try:
            found = _collect(
                (c for parts in _parts(s, len(cols), forced, decimal_last=last_decimal, budget=budget)
                 if (c := _signed(parts, signs, signed)) is not None),
                k, sol,
            )
        except _Exhausted:
            sol.truncated.add(k)
            found = []
        if len(cols) > 1:
            # listing order only (never a reason to resolve): S3/S4-consistent, then balanced
            soft = evaluator.item_rule(template, k, tuple(cols))
            if soft is None:
                found.sort(key=lambda c: (False, max(len(str(v)) for v in c)))
            else:
                found.sort(key=lambda c, soft=soft: (not soft(c), max(len(str(v)) for v in c)))
            figs = _figures(narrative, fs.ACTIVE_DISCLOSURE, [k], cols, None).get(k)
            if figs:
                kept = [c for c in found if all(c[i] == val for i, val in figs)]
                found = kept or found
            prev = (prev_in_force or {}).get(k)
            continuity = evaluator.item_rule(template, k, tuple(cols), cross_year=True)  # X2: stock continuity
            if prev is not None and continuity is not None:
                prev_cells = {f"{fs.ACTIVE_DISCLOSURE}.{k}.{fs.IN_FORCE}": prev}
                kept = [c for c in found if continuity(c, prev_cells)]
                found = kept or found
        if not found:
            if k in sol.truncated:
                sol.ambiguous[k] = []
            else:
                sol.unsolvable.add(k)
            sol.values[k] = [None] * len(cols)
            continue
        vals: list[Value] = []
        for i, col in enumerate(cols):
            if len({c[i] for c in found}) == 1 and k not in sol.truncated:
                vals.append(found[0][i])
                if len(cols) > 1:
                    sol.derived.add((k, col))
            else:
                vals.append(None)
        sol.values[k] = vals
        if len(found) > 1 or k in sol.truncated:
            sol.ambiguous[k] = found[:MAX_LISTED]
    return sol


def _strip_signs(s: str, forced: frozenset[int]) -> tuple[str, frozenset[int], dict[int, str]]:
    """Remove +/- signs (F2019 本年增/减): a sign starts a cell, so it is a forced cut."""
    out, cuts, signs = "", set(), {}
    shift = 0
    for i, ch in enumerate(s):
        if ch in "+-":
            signs[len(out)] = ch
            if out:
                cuts.add(len(out))
            shift += 1
            continue
        if i in forced:
            cuts.add(i - shift)
        out += ch
    return out, frozenset(cuts), signs


def _signed(parts: tuple[str, ...], signs: dict[int, str], signed: list[bool]) -> Candidate | None:
    """Numbers of a cut with their signs; None when a sign falls on an unsigned cell."""
    pos, vals = 0, []
    for i, part in enumerate(parts):
        sign = signs.get(pos)
        if sign and not signed[i]:
            return None
        v = _num(part)
        vals.append(-v if sign == "-" else v)
        pos += len(part)
    return tuple(vals)
