"""Make table images and scanned PDFs from a report's numbers (the OCR tests' generator).

The machine has no CJK font, so the Chinese glyphs are cut out of the bundled 淮安 PDF
(a real report, its fonts embedded) rendered with PDFium; digits and Latin come from a
Liberation font. Tables follow the official templates (FORMAT.md §2, §4, §5): merged
caption and header cells, the rowspan label columns of the applications table (三、本年度
办理结果 written vertically), wrapped long labels. A scan is pages at 150 dpi with a slight
skew, speckle noise and JPEG, put into a PDF with no text layer; the applications table is
broken across two pages.
"""

from __future__ import annotations

import functools
import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from transforms import formatspec as fs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HUAIAN = FIXTURES / "pdf" / "huaian_city_2024.pdf"
_LATIN = "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"
SIZE = 17  # text height in pixels at 150 dpi (~8 pt)
INK = 0


@functools.lru_cache(maxsize=1)
def glyphs() -> dict[str, Image.Image]:
    """char -> its glyph (grayscale, cropped to the ink), from the rendered 淮安 PDF."""
    import pypdfium2 as pdfium

    scale = 4.0
    doc = pdfium.PdfDocument(HUAIAN.read_bytes())
    out: dict[str, Image.Image] = {}
    for page in doc:
        img = page.render(scale=scale, grayscale=True).to_pil().convert("L")
        height = page.get_height()
        tp = page.get_textpage()
        for i in range(tp.count_chars()):
            ch = tp.get_text_range(i, 1)
            if not ch or ch in out or not ("\u4e00" <= ch <= "\u9fff" or ch in "（）：、，“”。"):
                continue
            left, bottom, right, top = tp.get_charbox(i)
            if right - left < 3:
                continue
            if top - bottom < 3:  # 一 and other flat glyphs: a square box around the stroke
                mid, half = (top + bottom) / 2, (right - left) / 2
                bottom, top = mid - half, mid + half
            box = (int(left * scale) - 1, int((height - top) * scale) - 1,
                   int(right * scale) + 2, int((height - bottom) * scale) + 2)
            crop = img.crop(box)
            if np.array(crop).min() < 128:
                out[ch] = crop
    return out


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_LATIN, size)


def has_glyphs(text: str) -> bool:
    g = glyphs()
    return all(ord(c) < 128 or c in g for c in text)


def text_width(text: str, size: int = SIZE) -> int:
    g = glyphs()
    w = 0
    for ch in text:
        if ch in g:
            w += size + 1
        else:
            w += int(_font(size).getlength(ch)) + 1
    return w


def draw_text(img: Image.Image, x: int, y: int, text: str, size: int = SIZE) -> None:
    """Draw text with its top-left corner at (x, y)."""
    g = glyphs()
    draw = ImageDraw.Draw(img)
    for ch in text:
        if ch in g:
            gl = g[ch]
            h = size
            w = max(1, round(gl.width * h / gl.height)) if ch not in "（）：、，“”。" else round(size * 0.5)
            glyph = gl.resize((min(w, size), h), Image.LANCZOS)
            mask = Image.eval(glyph, lambda v: 255 - v)
            img.paste(INK, (x + (size - glyph.width) // 2 if ch not in "（）" else x, y), mask)
            x += size + 1
        else:
            draw.text((x, y - 2), ch, fill=INK, font=_font(size))
            x += int(_font(size).getlength(ch)) + 1


def wrap(text: str, width: int, size: int = SIZE) -> list[str]:
    lines, cur = [], ""
    for ch in text:
        if cur and text_width(cur + ch, size) > width:
            lines.append(cur)
            cur = ""
        cur += ch
    return lines + [cur] if cur else lines


class Grid:
    """Draws a table: cells by (row top, row bottom, x0, x1) with centred, wrapped text."""

    def __init__(self, img: Image.Image, x: int, y: int) -> None:
        self.img, self.x, self.y = img, x, y
        self.draw = ImageDraw.Draw(img)

    def cell(self, x0: int, y0: int, x1: int, y1: int, text: str = "", vertical: bool = False) -> None:
        self.draw.rectangle((self.x + x0, self.y + y0, self.x + x1, self.y + y1), outline=INK, width=2)
        if not text:
            return
        lines = list(text) if vertical else wrap(text, x1 - x0 - 10)
        line_h = SIZE + 5
        top = self.y + (y0 + y1) // 2 - len(lines) * line_h // 2 + 2
        for i, line in enumerate(lines):
            w = text_width(line)
            draw_text(self.img, self.x + (x0 + x1) // 2 - w // 2, top + i * line_h, line)


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.10g}"
    return str(v)


# --------------------------------------------------------------------------- tables
ROW_H = 36
T_WIDTH = 1100


def active_disclosure(values: dict, x: int = 60, y: int = 0, width: int = T_WIDTH) -> tuple[Image.Image, int]:
    """Table 1 (F2021) as an image; returns (image, height used)."""
    img = Image.new("L", (width + 2 * x, 14 * ROW_H + 20), 255)
    g = Grid(img, x, 10)
    c = [0, 380, 620, 860, width]
    r = 0
    measures = fs.AD_MEASURES[fs.F2021]
    blocks = [("20.1", ["regulations", "normative_documents"], ("issued", "repealed", "in_force")),
              ("20.5", ["licensing"], ("decisions",)), ("20.6", ["penalty", "coercion"], ("decisions",)),
              ("20.8", ["fees"], ("amount_10k_yuan",))]
    labels = {it.key: it.label for it in fs.AD_ITEMS[fs.F2021]}
    for block, items, ms in blocks:
        g.cell(c[0], r, c[4], r + ROW_H, fs.BLOCKS[block].replace("(", "（").replace(")", "）"))
        r += ROW_H
        g.cell(c[0], r, c[1], r + ROW_H, "信息内容")
        if len(ms) == 3:
            for i, m in enumerate(ms):
                g.cell(c[i + 1], r, c[i + 2], r + ROW_H, measures[m].label)
        else:
            g.cell(c[1], r, c[4], r + ROW_H, measures[ms[0]].label.replace("(", "（").replace(")", "）")
                   .replace(":", "："))
        r += ROW_H
        for it in items:
            g.cell(c[0], r, c[1], r + ROW_H, labels[it])
            row = values.get(it) or {}
            if len(ms) == 3:
                for i, m in enumerate(ms):
                    g.cell(c[i + 1], r, c[i + 2], r + ROW_H, _fmt(row.get(m)))
            else:
                g.cell(c[1], r, c[4], r + ROW_H, _fmt(row.get(ms[0])))
            r += ROW_H
    return img.crop((0, 0, img.width, r + 20)), r + 20


_APP_LABEL_X = [0, 46, 190, 470]  # 三、 column | group column | leaf column | values
_GROUP_LABELS = {g.key: g.label.replace("(", "（").replace(")", "）") for g in fs.APP_GROUPS}


def _row_label(row: fs.Row) -> str:
    return row.label.replace("(", "（").replace(")", "）").replace(",", "，").replace('"', "")


def applications_rows(values: dict, rows: list[fs.Row], header: bool, width: int = T_WIDTH,
                      x: int = 60) -> Image.Image:
    """A part of table 2 (F2021): the header when asked, then the given value rows."""
    vx = _APP_LABEL_X[3]
    cw = (width - vx) // 7
    heights = [ROW_H * 2 if len(wrap(_row_label(r), 260)) > 1 else ROW_H for r in rows]
    total_h = (ROW_H * 3 if header else 0) + sum(heights) + 20
    img = Image.new("L", (width + 2 * x, total_h), 255)
    g = Grid(img, x, 10)
    y = 0
    if header:
        g.cell(0, 0, vx, 3 * ROW_H, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）")
        g.cell(vx, 0, width, ROW_H, "申请人情况")
        g.cell(vx, ROW_H, vx + cw, 3 * ROW_H, "自然人")
        g.cell(vx + cw, ROW_H, vx + 6 * cw, 2 * ROW_H, "法人或其他组织")
        g.cell(vx + 6 * cw, ROW_H, width, 3 * ROW_H, "总计")
        for i, name in enumerate(("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")):
            g.cell(vx + (i + 1) * cw, 2 * ROW_H, vx + (i + 2) * cw, 3 * ROW_H, name)
        y = 3 * ROW_H
    tops = []
    for row, h in zip(rows, heights, strict=True):
        tops.append((row, y, y + h))
        y += h
    # the merged label cells: 三、本年度办理结果 (vertical) and the group labels
    results = [(r, a, b) for r, a, b in tops if r.key not in ("new_received", "carried_over", "carried_forward")]
    if results:
        g.cell(0, results[0][1], _APP_LABEL_X[1], results[-1][2], "三、本年度办理结果", vertical=True)
    for gk, glabel in _GROUP_LABELS.items():
        span = [(a, b) for r, a, b in tops if r.group == gk]
        if span:
            g.cell(_APP_LABEL_X[1], span[0][0], _APP_LABEL_X[2], span[-1][1], glabel)
    for row, a, b in tops:
        if row.key in ("new_received", "carried_over", "carried_forward"):
            g.cell(0, a, vx, b, _row_label(row))
        elif row.group:
            g.cell(_APP_LABEL_X[2], a, vx, b, _row_label(row))
        else:
            g.cell(_APP_LABEL_X[1], a, vx, b, _row_label(row))
        vals = values.get(row.key) or {}
        for i, col in enumerate(fs.APPLICANT_COLUMNS):
            g.cell(vx + i * cw, a, vx + (i + 1) * cw if i < 6 else width, b, _fmt(vals.get(col.key)))
    return img.crop((0, 0, img.width, y + 20))


def review_litigation(values: dict, width: int = T_WIDTH, x: int = 60) -> Image.Image:
    img = Image.new("L", (width + 2 * x, 5 * ROW_H + 20), 255)
    g = Grid(img, x, 10)
    cw = width // 15
    g.cell(0, 0, 5 * cw, ROW_H, "行政复议")
    g.cell(5 * cw, 0, width, ROW_H, "行政诉讼")
    outcomes = [o.label for o in fs.RL_OUTCOMES]
    for i, o in enumerate(outcomes):
        g.cell(i * cw, ROW_H, (i + 1) * cw, 3 * ROW_H, o)
    g.cell(5 * cw, ROW_H, 10 * cw, 2 * ROW_H, "未经复议直接起诉")
    g.cell(10 * cw, ROW_H, width, 2 * ROW_H, "复议后起诉")
    for k in range(10):
        g.cell((5 + k) * cw, 2 * ROW_H, (6 + k) * cw if k < 9 else width, 3 * ROW_H, outcomes[k % 5])
    flat = [(values.get(gr.key) or {}).get(o.key) for gr in fs.RL_GROUPS for o in fs.RL_OUTCOMES]
    for i, v in enumerate(flat):
        g.cell(i * cw, 3 * ROW_H, (i + 1) * cw if i < 14 else width, 4 * ROW_H, _fmt(v))
    return img.crop((0, 0, img.width, 4 * ROW_H + 20))


def table_images(report: dict) -> list[Image.Image]:
    """The three tables of a report as three images (the "<img> tables" case)."""
    rows = list(fs.app_rows(fs.F2021))
    return [active_disclosure(report["active_disclosure"])[0],
            applications_rows(report["applications"], rows, header=True),
            review_litigation(report["review_litigation"])]


# --------------------------------------------------------------------------- pages
PAGE_W, PAGE_H = 1240, 1754  # A4 at 150 dpi


def _text_block(lines: list[str]) -> Image.Image:
    img = Image.new("L", (PAGE_W, (SIZE + 14) * len(lines) + 10), 255)
    for i, line in enumerate(lines):
        draw_text(img, 100, 5 + i * (SIZE + 14), line)
    return img


def scan_pages(report: dict, title: str) -> list[Image.Image]:
    """A report's pages as clean 150 dpi images: the title, the three tables, table 2 broken."""
    rows = list(fs.app_rows(fs.F2021))
    blocks: list[Image.Image] = [
        _text_block([title, "", "一、总体情况", "现将本机关年度政府信息公开工作情况报告如下。",
                     "二、主动公开政府信息情况"]),
        active_disclosure(report["active_disclosure"])[0],
        _text_block(["三、收到和处理政府信息公开申请情况"]),
        applications_rows(report["applications"], rows[:9], header=True),
        None,  # page break inside table 2
        applications_rows(report["applications"], rows[9:], header=False),
        _text_block(["四、政府信息公开行政复议、行政诉讼情况"]),
        review_litigation(report["review_litigation"]),
        _text_block(["五、存在的主要问题及改进情况"]),
    ]
    pages, page, y = [], Image.new("L", (PAGE_W, PAGE_H), 255), 120
    for block in blocks:
        if block is None or y + block.height > PAGE_H - 100:
            pages.append(page)
            page, y = Image.new("L", (PAGE_W, PAGE_H), 255), 120
            if block is None:
                continue
        page.paste(block.crop((0, 0, min(block.width, PAGE_W), block.height)), (0, y))
        y += block.height + 10
    pages.append(page)
    return pages


def degrade(img: Image.Image, seed: int, skew: float = 0.6, noise: float = 0.004) -> Image.Image:
    """A scanner's look: slight rotation, blur, speckles, JPEG."""
    rng = random.Random(seed)
    angle = rng.uniform(-skew, skew)
    out = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    out = out.filter(ImageFilter.GaussianBlur(0.6))
    arr = np.array(out, dtype=np.int16)
    nrng = np.random.default_rng(seed)
    arr += nrng.normal(0, 10, arr.shape).astype(np.int16)
    mask = nrng.random(arr.shape) < noise
    arr[mask] = nrng.integers(0, 120, int(mask.sum()))
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=75)
    return Image.open(io.BytesIO(buf.getvalue())).convert("L")


def scanned_pdf(pages: list[Image.Image]) -> bytes:
    """Images as the pages of a PDF at 150 dpi, no text layer."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W * 72 / 150, PAGE_H * 72 / 150))
    for page in pages:
        c.drawImage(ImageReader(page.convert("RGB")), 0, 0, PAGE_W * 72 / 150, PAGE_H * 72 / 150)
        c.showPage()
    c.save()
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def image_page(report: dict, names: tuple[str, ...] = ("t1.png", "t2.png", "t3.png")) -> tuple[bytes, dict[str, bytes]]:
    """A report page whose three tables are PNG pictures: (HTML bytes, {src: PNG bytes})."""
    pictures = {name: png_bytes(img) for name, img in zip(names, table_images(report), strict=True)}
    title = f"{report['agency']}{report['year']}年政府信息公开工作年度报告"
    html = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><div class="nav"><img src="logo.gif"></div><h1>{title}</h1>
<p>本报告所列数据统计期限为{report['year']}年1月1日至{report['year']}年12月31日。</p>
<p>一、总体情况</p><p>现将本机关年度政府信息公开工作情况报告如下。</p>
<p>二、主动公开政府信息情况</p><p><img src="{names[0]}"></p>
<p>三、收到和处理政府信息公开申请情况</p><p><img src="{names[1]}"></p>
<p>四、政府信息公开行政复议、行政诉讼情况</p><p><img src="{names[2]}"></p>
<p>五、存在的主要问题及改进情况</p><p>无。</p><p>六、其他需要报告的事项</p><p>无。</p>
</body></html>"""
    return html.encode("utf-8"), pictures
