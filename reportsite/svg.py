"""Charts as inline SVG, drawn at build time: the site needs no script and nothing from the internet."""

from __future__ import annotations

from functools import lru_cache
from html import escape

PALETTE = ("#2f6db5", "#46a35e", "#e0a030", "#c8453c", "#7b5ea7", "#3aa6a6")
W, H = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 52

# A site draws the same few titles, axes, legends and series names on every page: each is
# written once and reused (a tenth of a 10,000-report publish was spent drawing them again).
_text = lru_cache(maxsize=4096)(escape)


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    step = 10 ** (len(str(int(v))) - 1)
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * step:
            return m * step
    return 10 * step


def _fmt(v: float, percent: bool) -> str:
    if percent:
        return f"{v * 100:.0f}%"
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"


@lru_cache(maxsize=1024)
def _head(title: str, ymax: float, percent: bool) -> str:
    """The chart's opening, its title and its value axis with the grid lines."""
    plot_h = H - TOP - BOTTOM
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
           f'role="img" aria-label="{escape(title)}" class="chart">',
           f'<title>{escape(title)}</title>',
           f'<text x="{LEFT}" y="16" class="ct">{escape(title)}</text>']
    steps = 4 if percent else 5  # 0-100 % by quarters; 250 by fifties
    for i in range(steps + 1):
        v = ymax * i / steps
        y = TOP + plot_h - plot_h * i / steps
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="ax">{_fmt(v, percent)}</text>')
    return "\n".join(out)


@lru_cache(maxsize=256)
def _legend(legend: tuple[tuple[str, str], ...]) -> str:
    out = []
    x = LEFT
    for color, name in legend:
        out.append(f'<rect x="{x}" y="{H - 16}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{x + 14}" y="{H - 7}" class="lg">{escape(name)}</text>')
        x += 24 + 13 * len(name)
    out.append("</svg>")
    return "\n".join(out)


def _frame(title: str, ymax: float, percent: bool, body: list[str], legend: list[tuple[str, str]]) -> str:
    return "\n".join([_head(title, ymax, percent), *body, _legend(tuple(legend))])


def bar_chart(title: str, categories: list[str], series: list[tuple[str, list[float | None]]]) -> str:
    """Grouped bars: one group per category (a year), one bar per series; None is no bar."""
    values = [v for _n, vs in series for v in vs if v is not None]
    ymax = _nice_max(max(values, default=0))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    group_w = plot_w / max(1, len(categories))
    bar_w = min(28.0, group_w * 0.8 / max(1, len(series)))
    body = []
    for ci, cat in enumerate(categories):
        gx = LEFT + group_w * ci + (group_w - bar_w * len(series)) / 2
        for si, (name, vs) in enumerate(series):
            v = vs[ci]
            if v is None:
                continue
            h = plot_h * v / ymax
            x, y = gx + si * bar_w, TOP + plot_h - h
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                        f'fill="{PALETTE[si % len(PALETTE)]}"><title>{_text(name)} {_text(cat)}: '
                        f'{_fmt(v, False)}</title></rect>')
        body.append(f'<text x="{LEFT + group_w * (ci + 0.5):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                    f'class="ax">{_text(cat)}</text>')
    legend = [(PALETTE[i % len(PALETTE)], n) for i, (n, _v) in enumerate(series)]
    return _frame(title, ymax, False, body, legend)


def line_chart(title: str, categories: list[str], series: list[tuple[str, list[float | None]]],
               percent: bool = True) -> str:
    """Lines over the categories (years); a None breaks nothing, it is only not drawn."""
    values = [v for _n, vs in series for v in vs if v is not None]
    ymax = 1.0 if percent else _nice_max(max(values, default=0))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = plot_w / max(1, len(categories))
    body = []
    for ci, cat in enumerate(categories):
        body.append(f'<text x="{LEFT + step * (ci + 0.5):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                    f'class="ax">{_text(cat)}</text>')
    for si, (name, vs) in enumerate(series):
        color = PALETTE[si % len(PALETTE)]
        pts = [(LEFT + step * (ci + 0.5), TOP + plot_h - plot_h * min(v, ymax) / ymax, v)
               for ci, v in enumerate(vs) if v is not None]
        if len(pts) > 1:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y, _v in pts)
            body.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y, v in pts:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}"><title>{_text(name)}: '
                        f'{_fmt(v, percent)}</title></circle>')
            body.append(f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" class="ax">{_fmt(v, percent)}</text>')
    return _frame(title, ymax, percent, body, [(PALETTE[i % len(PALETTE)], n) for i, (n, _v) in enumerate(series)])
