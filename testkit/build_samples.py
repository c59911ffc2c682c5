"""Dev tool: rebuild the bundled sample corpus in sources/samples/ from the seed texts.

    .venv/bin/python -m testkit.build_samples [SHARED_DIR]   # default: ../shared

Reads the five seed reports (``SHARED_DIR/seeds/*.txt``, web-page text with tables as
pipe/line-separated cells) and turns each into a realistic HTML page with
:func:`testkit.render.render_html`: the narrative is kept as ``<p>`` paragraphs, the
tables become template tables (rowspan/colspan as published) whose cell values are read
from the seed by the simple rules below, and metadata lines such as 索引号/发布机构
become a small header table. 普洱 (002) has no tables in its seed and stays table-less,
headings with nothing under them. 南宾街道 (004) is written in GBK. The real 平潭 pages
(2023 and 2024: one agency in two years) and the real 淮安 PDF are copied byte for byte.

The generated files are committed, so nothing at run time depends on this script or on
../shared. Run it again only to change the corpus; review the diff.

Extraction rules (enough for the seeds, not a parser): a line containing ``|`` whose
text is short is a table line; its cells are split on ``|``. Table 1 values follow each
item label, table 2 values are the 7 cells after each row label found in template order,
table 3 is the last 15 numbers of its section.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from testkit.render import render_html
from transforms import formatspec as fs

SAMPLES = Path(__file__).resolve().parents[1] / "sources" / "samples"
_NUM = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class Seed:
    file: str  # seed file name prefix
    out: str  # page file name in sources/samples/
    agency: str
    year: int
    encoding: str = "utf-8"
    site: str | None = None
    title: str | None = None  # when the seed's text carries none


SEEDS = (
    Seed("000_", "liupanshui_2024.html", "六盘水市", 2024, site="六盘水市人民政府"),
    Seed("001_", "qiaokou_2024.html", "武汉市硚口区人民政府", 2024, site="武汉市硚口区人民政府"),
    Seed("002_", "puer_office_2024.html", "普洱市人民政府办公室", 2024, site="普洱市人民政府"),
    Seed(
        "003_",
        "quzhou_2022.html",
        "衢州市",
        2022,
        site="衢州市人民政府",
        title="衢州市2022年政府信息公开工作年度报告",
    ),
    Seed(
        "004_",
        "nanbin_2024.html",
        "石柱土家族自治县人民政府南宾街道办事处",
        2024,
        "gbk",
        "石柱土家族自治县人民政府",
    ),
)
COPIED = ("pingtan_2023.html", "pingtan_2024.html", "huaian_city_2024.pdf")


def _norm(cell: str) -> str:
    return re.sub(r"\s+", "", cell).replace("（", "(").replace("）", ")").replace("：", ":")


def _value(cell: str):
    cell = cell.strip()
    if not _NUM.fullmatch(cell):
        return cell or None
    return float(cell) if "." in cell else int(cell)


def _is_table_line(line: str) -> bool:
    return "|" in line and len(line.replace("|", "").strip()) <= 80


def _cells(lines: list[str]) -> list[str]:
    return [c.strip() for ln in lines for c in ln.split("|") if c.strip()]


def split_sections(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """(text before 一、, [(numeral, heading, body)])."""
    heads = list(re.finditer(fs.SECTION_HEADING, text))
    intro = text[: heads[0].start()] if heads else text
    out = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.append((m.group(1), m.group(0), text[m.end() : end]))
    return intro, out


def _narrative(lines: list[str]) -> list[str]:
    paras = []
    for ln in lines:
        ln = ln.replace("|", " ").strip()
        if not ln:
            continue
        # 普洱's seed runs whole sections into one line: break before (一)/(二)... markers.
        paras += [p.strip() for p in re.split(r"\s+(?=\([一二三四五六七八九十]\))", ln) if p.strip()]
    return paras


def extract_tables(sections: dict[str, list[str]]) -> dict:
    """The contract dict of a seed's tables (None for a table the seed does not have)."""
    report: dict = {"contract": "xxgk.report/1", "templates": {}, "findings": []}
    t1 = [_norm(c) for c in _cells(sections.get("二", []))]
    labels: dict[str, str] = {}
    if t1:
        tpl = fs.F2021
        body: dict = {}
        for it in fs.AD_ITEMS[tpl]:
            i = t1.index(it.label)
            body[it.key] = {
                m: _value(v) for m, v in zip(it.measures, t1[i + 1 : i + 1 + len(it.measures)], strict=True)
            }
        for m in fs.AD_MEASURES[tpl].values():
            if m.label not in t1:
                alt = next((c for c in t1 if any(x in c for x in m.match)), None)
                if alt:
                    labels[m.label] = alt
        report[fs.ACTIVE_DISCLOSURE] = body
        report["templates"][fs.ACTIVE_DISCLOSURE] = tpl
    else:
        report[fs.ACTIVE_DISCLOSURE] = None
        report["templates"][fs.ACTIVE_DISCLOSURE] = None
    t2 = [_norm(c) for c in _cells(sections.get("三", []))]
    if t2:
        tpl = fs.F2021
        body = {}
        pos = 0
        for r in fs.app_rows(tpl):
            pos = next(i for i in range(pos, len(t2)) if any(re.search(p, t2[i]) for p in r.match))
            vals = t2[pos + 1 : pos + 8]
            body[r.key] = {c.key: _value(v) for c, v in zip(fs.APPLICANT_COLUMNS, vals, strict=True)}
            pos += 8
        report[fs.APPLICATIONS] = body
        report["templates"][fs.APPLICATIONS] = tpl
    else:
        report[fs.APPLICATIONS] = None
        report["templates"][fs.APPLICATIONS] = None
    t3 = [c for c in _cells(sections.get("四", [])) if _NUM.fullmatch(c)]
    if t3:
        vals = iter(t3[-15:])
        report[fs.REVIEW_LITIGATION] = {
            g.key: {o.key: _value(next(vals)) for o in fs.RL_OUTCOMES} for g in fs.RL_GROUPS
        }
        report["templates"][fs.REVIEW_LITIGATION] = fs.STANDARD
    else:
        report[fs.REVIEW_LITIGATION] = None
        report["templates"][fs.REVIEW_LITIGATION] = None
    report["_labels"] = labels
    return report


def build_page(seed: Seed, text: str) -> bytes:
    intro, sections = split_sections(text)
    default_title = seed.title or f"{seed.agency}{seed.year}年政府信息公开工作年度报告"
    intro_lines = [ln for ln in intro.splitlines() if ln.replace("|", "").strip()]
    title = default_title
    meta: list[tuple[str, str]] = []
    paragraphs: list[str] = []
    for ln in intro_lines:
        cells = [c.strip() for c in ln.split("|") if c.strip()]
        if "|" in ln and cells and cells[0].endswith((":", "：")) and len(cells) % 2 == 0:
            meta += [(cells[k].rstrip(":："), cells[k + 1]) for k in range(0, len(cells), 2)]
            continue
        clean = " ".join(cells)
        if clean.endswith("工作年度报告") and len(clean) < 60:
            title = clean if title == default_title else title
            continue
        if title != default_title and clean in title:
            continue  # the title repeated over two lines
        paragraphs += _narrative([clean])
    table_lines: dict[str, list[str]] = {}
    for numeral, heading, body in sections:
        paragraphs.append(heading)
        lines = body.splitlines()
        table_lines[numeral] = [ln for ln in lines if _is_table_line(ln)]
        paragraphs += _narrative([ln for ln in lines if not _is_table_line(ln)])
    report = extract_tables(table_lines)
    labels = report.pop("_labels")
    report["agency"], report["year"] = seed.agency, seed.year
    return render_html(
        report,
        title=title,
        paragraphs=paragraphs,
        encoding=seed.encoding,
        meta=meta or None,
        labels=labels,
        site_name=seed.site,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    shared = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "shared"
    SAMPLES.mkdir(exist_ok=True)
    for seed in SEEDS:
        src = next((shared / "seeds").glob(seed.file + "*.txt"))
        page = build_page(seed, src.read_text(encoding="utf-8"))
        (SAMPLES / seed.out).write_bytes(page)
        print(f"{src.name} -> {seed.out} ({len(page)} bytes, {seed.encoding})")
    for name in COPIED:
        shutil.copyfile(shared / "samples" / name, SAMPLES / name)
        print(f"copied {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
