"""A reproducible corpus of N realistic reports for the benchmarks, with its registry.

    .venv/bin/python -m benchmarks.corpus --n 10000 --out benchmarks/out/corpus [--seed 0]

Every report is drawn by :func:`testkit.synth.make_report` (numbers satisfying the
invariants) for its own agency, and written as one of:

* an HTML page (:func:`testkit.render.render_html`, the template tables with their merged
  cells), a share of them in GBK;
* page text in one of the layouts of FORMAT.md §7 (:func:`testkit.synth.render_text`);
* a PDF (reportlab, CID font, ruled tables; table 2 runs over a page break with its
  heading and header row repeated, page markers in the footer).

A share of reports use the F2019 template (in a report of ``year``: the "wrong template
for the year" case of FORMAT.md §7.12). A share carry one planted error, so that the gate
has something to quarantine: ``h1_break`` (一、本年新收 off by one in 自然人 and 总计: row
sum intact, H1 broken) or ``column_shift`` (a table-2 row printed one column to the right).

Output under ``out``::

    pages/NN/NNNNN.{html,txt,pdf}   the documents, served as they are
    registry.csv                     agency,year,url,... with {samples} as the base URL
    truth.json                       per document: agency, kind, layout, encoding,
                                     template, planted error, expected gate outcome and
                                     the drawn contract object
    corpus.json                      parameters and counts (a re-run with the same ones
                                     reuses the corpus)

The same (n, seed, shares, year) give byte-identical files. :func:`registry_for` writes a
copy of the registry with absolute URLs for a server started at run time (the pipeline
only substitutes ``{samples}`` for its own bundled sample server).
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import random
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from testkit.render import render_html
from testkit.synth import LAYOUTS, make_report, render_text
from transforms import formatspec as fs

GENERATOR_VERSION = "2"
SAMPLES = "{samples}"

# How often each text layout appears among the page-text documents. The layouts of
# FORMAT.md §7 all occur; cells run together with no separators at all (平潭) is the rare one.
LAYOUT_WEIGHTS = {
    "pipe_rows": 22,
    "markdown_fillers": 20,
    "cell_per_line": 14,
    "cell_per_line_sep": 10,
    "paragraphs": 10,
    "padded": 10,
    "pdf_space": 10,
    "runs": 4,
}
assert set(LAYOUT_WEIGHTS) == set(LAYOUTS), "every synth layout needs a weight"

PROVINCES = ("河北省", "山西省", "辽宁省", "吉林省", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省",
             "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省", "甘肃省")
_NAME_CHARS = "安宁平和德兴华阳泉山河源清丰永昌富民乐东西南北新城江海林松溪台青石龙凤"
DEPARTMENTS = ("人民政府办公室", "发展和改革局", "教育局", "公安局", "民政局", "司法局", "财政局",
               "人力资源和社会保障局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局",
               "农业农村局", "商务局", "文化广电旅游局", "卫生健康委员会", "应急管理局", "审计局",
               "市场监督管理局", "统计局", "医疗保障局", "城市管理局", "林业局")
TOWNS_SUFFIX = ("镇人民政府", "乡人民政府", "街道办事处")


@dataclass
class Spec:
    """What document ``index`` is (everything drawn from the seed before rendering)."""

    index: int
    agency: str
    year: int
    province: str
    city: str
    county: str
    level: str
    parent: str
    kind: str  # html | text | pdf
    layout: str | None  # text layout, or None
    encoding: str  # utf-8 | gbk
    template: str  # F2019 | F2021
    planted: str | None  # h1_break | column_shift | None
    report_seed: int

    @property
    def suffix(self) -> str:
        return {"html": "html", "text": "txt", "pdf": "pdf"}[self.kind]

    @property
    def rel_path(self) -> str:
        return f"pages/{self.index // 1000:02d}/{self.index:05d}.{self.suffix}"


@dataclass
class CorpusInfo:
    n: int
    seed: int
    pdf_share: float
    error_share: float
    year: int
    generator: str = GENERATOR_VERSION
    counts: dict = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0


# --------------------------------------------------------------------------- planning


def _place_names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add(rng.choice(_NAME_CHARS) + rng.choice(_NAME_CHARS))
    return sorted(names)


def plan(n: int, seed: int = 0, pdf_share: float = 0.05, error_share: float = 0.02, year: int = 2024,
         gbk_share: float = 0.15, text_share: float = 0.35, f2019_share: float = 0.08) -> list[Spec]:
    """The N documents: region, agency (unique), kind, layout, template, planted error."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    for name, share in (("pdf_share", pdf_share), ("error_share", error_share), ("gbk_share", gbk_share),
                        ("text_share", text_share), ("f2019_share", f2019_share)):
        if not 0 <= share <= 1:
            raise ValueError(f"{name} must be between 0 and 1, got {share}")
    if pdf_share + text_share > 1:
        raise ValueError("pdf_share + text_share must not exceed 1")
    rng = random.Random(f"xxgk-bench-corpus:{seed}")
    cities = _place_names(rng, 60)
    counties = _place_names(rng, 120)
    layouts, weights = zip(*LAYOUT_WEIGHTS.items(), strict=True)
    used: set[str] = set()
    specs: list[Spec] = []
    for i in range(n):
        province = rng.choice(PROVINCES)
        city = rng.choice(cities) + "市"
        county = rng.choice(counties) + rng.choice(("县", "区"))
        r = rng.random()
        for _attempt in range(1000):
            if r < 0.35:  # a department of a county
                level, parent, agency = "部门", f"{city}{county}人民政府", f"{city}{county}{rng.choice(DEPARTMENTS)}"
            elif r < 0.55:  # a department of a city
                level, parent, agency = "部门", f"{city}人民政府", f"{city}{rng.choice(DEPARTMENTS)}"
            elif r < 0.85:  # a town or street office
                town = rng.choice(_NAME_CHARS) + rng.choice(_NAME_CHARS)
                level, parent = "乡镇街道", f"{city}{county}人民政府"
                agency = f"{city}{county}{town}{rng.choice(TOWNS_SUFFIX)}"
            elif r < 0.97:
                level, parent, agency = "县", f"{city}人民政府", f"{city}{county}人民政府"
            else:
                level, parent, agency = "市", f"{province}人民政府", f"{province}{city}人民政府"
            if agency not in used:
                break
            r = rng.random()  # taken: draw another kind of body
            county = rng.choice(counties) + rng.choice(("县", "区"))
            city = rng.choice(cities) + "市"
        else:  # pragma: no cover - 60 cities x 120 counties x ... names: not reached for sane N
            agency = f"{agency}{i}"
        used.add(agency)
        k = rng.random()
        kind = "pdf" if k < pdf_share else ("text" if k < pdf_share + text_share else "html")
        layout = rng.choices(layouts, weights)[0] if kind == "text" else None
        encoding = "gbk" if kind == "html" and rng.random() < gbk_share else "utf-8"
        template = fs.F2019 if rng.random() < f2019_share else fs.F2021
        planted = None
        if rng.random() < error_share:
            planted = rng.choice(("h1_break", "column_shift"))
        specs.append(Spec(i, agency, year, province, city, county if level != "市" else "", level, parent,
                          kind, layout, encoding, template, planted, rng.getrandbits(32)))
    return specs


# --------------------------------------------------------------------------- planted errors


def _app_values(report: dict, row: str) -> list:
    return [report["applications"][row][c.key] for c in fs.APPLICANT_COLUMNS]


def plant(report: dict, planted: str | None) -> tuple[dict, dict[str, str]]:
    """(the report as printed, raw text overrides for render_text) with the planted error."""
    if planted is None:
        return report, {}
    printed = copy.deepcopy(report)
    app = printed["applications"]
    if planted == "h1_break":
        for col in ("natural_person", "total"):
            app["new_received"][col] += 1
        return printed, {f"applications.new_received.{c}": str(app["new_received"][c])
                         for c in ("natural_person", "total")}
    if planted == "column_shift":
        cols = [c.key for c in fs.APPLICANT_COLUMNS]
        for row in fs.app_rows(printed["templates"]["applications"]):
            vals = _app_values(printed, row.key)
            shifted = [None, *vals[:-1]]  # a lost first cell: every value one column to the right
            if sum(v for v in shifted[:-1] if v is not None) != shifted[-1]:  # visibly wrong (H2)
                app[row.key] = dict(zip(cols, shifted, strict=True))
                return printed, {f"applications.{row.key}.{c}": "" if v is None else str(v)
                                 for c, v in zip(cols, shifted, strict=True)}
        return plant(report, "h1_break")  # an all-zero table cannot show a shift
    raise ValueError(f"unknown planted error {planted!r}")


# --------------------------------------------------------------------------- rendering


def paragraphs(agency: str, year: int, report: dict | None = None) -> list[str]:
    """The narrative of a page, with the section headings the tables are placed under.

    With ``report``, the overview states the year's new applications as the drawn report
    has them (a narrative figure, checked against the table by S1).
    """
    stated = ""
    if report and report.get("applications"):
        stated = f"全年共新收政府信息公开申请{report['applications']['new_received']['total']}件。"
    return [
        f"根据《中华人民共和国政府信息公开条例》规定，现公布{agency}{year}年政府信息公开工作年度报告。"
        f"本报告中所列数据统计期限为{year}年1月1日至{year}年12月31日。",
        "一、总体情况",
        f"{year}年，{agency}认真贯彻落实政务公开工作要求，持续推进政府信息公开工作。" + stated,
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况",
        "五、存在的主要问题及改进情况",
        "一是公开质量有待提高。二是平台建设有待加强。",
        "六、其他需要报告的事项",
        "本年度未收取信息处理费。",
    ]


def title_of(agency: str, year: int) -> str:
    return f"{agency}{year}年政府信息公开工作年度报告"


def render(spec: Spec) -> tuple[bytes, dict, dict]:
    """(document bytes, drawn report, printed report) of one spec."""
    report = make_report(spec.report_seed, template_ad=spec.template, template_app=spec.template,
                         agency=spec.agency, year=spec.year)
    printed, raw = plant(report, spec.planted)
    if spec.kind == "text":
        data = render_text(printed, spec.layout, raw=raw).encode("utf-8")
    elif spec.kind == "html":
        meta = [("索引号", f"{spec.index:08d}/{spec.year}-00001"), ("发布机构", spec.agency),
                ("发文日期", f"{spec.year + 1}-01-{1 + spec.index % 28:02d}")]
        data = render_html(printed, title=title_of(spec.agency, spec.year),
                           paragraphs=paragraphs(spec.agency, spec.year, report), encoding=spec.encoding, meta=meta,
                           site_name=spec.parent)
    else:
        from benchmarks.pdfgen import render_pdf

        data = render_pdf(printed, title=title_of(spec.agency, spec.year),
                          paragraphs=paragraphs(spec.agency, spec.year, report))
    return data, report, printed


# --------------------------------------------------------------------------- output


REGISTRY_HEADER = ("agency", "year", "url", "province", "city", "county", "level", "parent")


def registry_text(specs: list[Spec], base: str = SAMPLES) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REGISTRY_HEADER)
    for s in specs:
        w.writerow((s.agency, s.year, f"{base.rstrip('/')}/{s.rel_path}", s.province, s.city, s.county,
                    s.level, s.parent))
    return buf.getvalue()


def registry_for(corpus_dir: str | Path, base: str, out: str | Path) -> Path:
    """A copy of the corpus registry with ``{samples}`` replaced by the server's base URL."""
    text = (Path(corpus_dir) / "registry.csv").read_text(encoding="utf-8")
    out = Path(out)
    out.write_text(text.replace(SAMPLES, base.rstrip("/")), encoding="utf-8")
    return out


def load_info(corpus_dir: str | Path) -> dict | None:
    try:
        return json.loads((Path(corpus_dir) / "corpus.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def generate(n: int, out_dir: str | Path, seed: int = 0, pdf_share: float = 0.05, error_share: float = 0.02,
             year: int = 2024, reuse: bool = True, progress=None) -> CorpusInfo:
    """Write N documents, the registry, the ground truth and corpus.json under ``out_dir``.

    With ``reuse`` an existing corpus made with the same parameters is kept as it is.
    """
    out = Path(out_dir)
    wanted = {"n": n, "seed": seed, "pdf_share": pdf_share, "error_share": error_share, "year": year,
              "generator": GENERATOR_VERSION}
    old = load_info(out)
    if reuse and old and all(old.get(k) == v for k, v in wanted.items()) and (out / "registry.csv").is_file():
        return CorpusInfo(**{k: old[k] for k in ("n", "seed", "pdf_share", "error_share", "year", "generator",
                                                 "counts", "bytes", "seconds")})
    t0 = time.perf_counter()
    if (out / "pages").exists():
        shutil.rmtree(out / "pages")
    out.mkdir(parents=True, exist_ok=True)
    specs = plan(n, seed, pdf_share, error_share, year)
    truth: dict[str, dict] = {}
    counts: dict[str, int] = {}
    total = 0
    for s in specs:
        data, report, _printed = render(s)
        path = out / s.rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
        key = s.kind if s.kind != "text" else f"text:{s.layout}"
        key += ":gbk" if s.encoding == "gbk" else ""
        counts[key] = counts.get(key, 0) + 1
        if s.planted:
            counts[f"planted:{s.planted}"] = counts.get(f"planted:{s.planted}", 0) + 1
        if s.template == fs.F2019:
            counts["template:F2019"] = counts.get("template:F2019", 0) + 1
        meta = asdict(s)
        meta.pop("report_seed")
        meta["expect"] = "quarantined" if s.planted else "published"
        meta["report"] = report
        truth[s.rel_path] = meta
        if progress and (s.index + 1) % 1000 == 0:
            progress(f"corpus: {s.index + 1}/{n}")
    (out / "registry.csv").write_text(registry_text(specs), encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    info = CorpusInfo(n=n, seed=seed, pdf_share=pdf_share, error_share=error_share, year=year,
                      counts=dict(sorted(counts.items())), bytes=total, seconds=round(time.perf_counter() - t0, 2))
    (out / "corpus.json").write_text(json.dumps(asdict(info), ensure_ascii=False, indent=1), encoding="utf-8")
    return info


def generate_apart(n: int, out_dir: str | Path, seed: int = 0, year: int = 2024) -> CorpusInfo:
    """``generate`` in a process of its own (``python -m benchmarks.corpus``), for a benchmark that then measures
    the processes it starts: the generator holds every report's ground truth (~3 GB at 100,000), and a child's
    peak RSS as ``os.wait4`` reports it counts what the child was before its exec, i.e. the benchmark's own
    memory (a 100,000-report run "peaked" at 3,049 MB so, against its own 1,433)."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "benchmarks.corpus", "--n", str(n), "--out", str(out_dir),
                           "--seed", str(seed), "--year", str(year)], cwd=root, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the corpus of {n} reports was not generated (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return CorpusInfo(**json.loads(done.stdout))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.corpus", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="number of reports (default 10000)")
    ap.add_argument("--out", default="benchmarks/out/corpus", help="output folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pdf-share", type=float, default=0.05)
    ap.add_argument("--error-share", type=float, default=0.02)
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--force", action="store_true", help="regenerate even if the folder holds this corpus")
    args = ap.parse_args(argv)
    info = generate(args.n, args.out, seed=args.seed, pdf_share=args.pdf_share, error_share=args.error_share,
                    year=args.year, reuse=not args.force, progress=lambda m: print(m, file=sys.stderr))
    print(json.dumps(asdict(info), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
