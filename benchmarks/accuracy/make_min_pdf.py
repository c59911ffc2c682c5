"""A minimal PDF reproducer: only a title and the review/litigation table printed as three
sub-tables, with a page break (and a "- 1 -" footer) after the first sub-table."""
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model as M  # noqa: E402
import pdfgen as P  # noqa: E402

rep = next(r for r in M.load_reports() if r.name == "huaian")
o = {"rl_subtables": 1, "footer_style": "- {} -"}
d = P.Doc(o, random.Random(0))
for ln in P.G.title_lines(rep, {}):
    d.para(ln, 16, center=True)
d.para("四、政府信息公开行政复议、行政诉讼情况")
for i, (widths, cells) in enumerate(P.t3_cells(rep.truth, o)):
    d.table(widths, cells)
    if i == 0:
        d.newpage()
d.para("五、存在的主要问题及改进情况")
out = M.OUT_ROOT / "wrong" / "parser" / "min"
out.mkdir(parents=True, exist_ok=True)
(out / "rl_subtables_page_break.min.pdf").write_bytes(d.bytes())
(out / "rl_subtables_page_break.min.json").write_text(json.dumps(
    {"cell": "review_litigation.admin_review.*", "true": rep.truth["review_litigation"],
     "note": "three sub-tables, page break after 行政复议's; the parser reads 复议后起诉's row as 行政复议"},
    ensure_ascii=False, indent=1), encoding="utf-8")
