"""The template rows and the true reports (from the expected JSON), independent of the parser."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "tests" / "fixtures" / "seeds"
HUAIAN_PDF = REPO / "sources" / "samples" / "huaian_city_2024.pdf"
HUAIAN_EXPECTED = REPO / "tests" / "fixtures" / "pdf" / "huaian_city_2024.expected.json"
# corpora, results and reproducers (generated, not committed)
OUT_ROOT = Path(os.environ.get("XXGK_ACCURACY_DIR") or REPO / "benchmarks" / "out" / "accuracy")

COLS = ["natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total"]

# (key, group label or None, leaf label)
APP_ROWS_F2021 = [
    ("new_received", None, "一、本年新收政府信息公开申请数量"),
    ("carried_over", None, "二、上年结转政府信息公开申请数量"),
    ("granted", "三、本年度办理结果", "（一）予以公开"),
    ("partially_granted", None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    ("denied_state_secret", "（三）不予公开", "1.属于国家秘密"),
    ("denied_prohibited_by_law", None, "2.其他法律行政法规禁止公开"),
    ("denied_three_safeties", None, "3.危及“三安全一稳定”"),
    ("denied_third_party", None, "4.保护第三方合法权益"),
    ("denied_internal_affairs", None, "5.属于三类内部事务信息"),
    ("denied_process_info", None, "6.属于四类过程性信息"),
    ("denied_enforcement_file", None, "7.属于行政执法案卷"),
    ("denied_query", None, "8.属于行政查询事项"),
    ("unavailable_not_held", "（四）无法提供", "1.本机关不掌握相关政府信息"),
    ("unavailable_needs_creation", None, "2.没有现成信息需要另行制作"),
    ("unavailable_unclear", None, "3.补正后申请内容仍不明确"),
    ("rejected_petition", "（五）不予处理", "1.信访举报投诉类申请"),
    ("rejected_duplicate", None, "2.重复申请"),
    ("rejected_publication", None, "3.要求提供公开出版物"),
    ("rejected_excessive", None, "4.无正当理由大量反复申请"),
    ("rejected_confirmation", None, "5.要求行政机关确认或重新出具已获取信息"),
    ("other_no_correction", "（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("other_unpaid_fee", None, "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("other_other", None, "3.其他"),
    ("total_processed", None, "（七）总计"),
    ("carried_forward", None, "四、结转下年度继续办理"),
]
_F21_OTHER = ("other_no_correction", "other_unpaid_fee", "other_other")
APP_ROWS_F2019 = [r for r in APP_ROWS_F2021 if r[0] not in _F21_OTHER]
APP_ROWS_F2019.insert(20, ("other_processing", None, "（六）其他处理"))

APP_HEADER_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"

T1_F2021 = [  # caption, column heads, rows (key, label, measures)
    ("第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"],
     [("regulations", "规章", ["issued", "repealed", "in_force"]),
      ("normative_documents", "行政规范性文件", ["issued", "repealed", "in_force"])]),
    ("第二十条第（五）项", ["本年处理决定数量"], [("licensing", "行政许可", ["decisions"])]),
    ("第二十条第（六）项", ["本年处理决定数量"],
     [("penalty", "行政处罚", ["decisions"]), ("coercion", "行政强制", ["decisions"])]),
    ("第二十条第（八）项", ["本年收费金额（单位：万元）"], [("fees", "行政事业性收费", ["amount_10k_yuan"])]),
]
T1_F2019 = [
    ("第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
     [("regulations", "规章", ["new_made", "new_published", "total_published"]),
      ("normative_documents", "规范性文件", ["new_made", "new_published", "total_published"])]),
    ("第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
     [("licensing", "行政许可", ["prev_items", "delta_items", "decisions"]),
      ("other_services", "其他对外管理服务事项", ["prev_items", "delta_items", "decisions"])]),
    ("第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
     [("penalty", "行政处罚", ["prev_items", "delta_items", "decisions"]),
      ("coercion", "行政强制", ["prev_items", "delta_items", "decisions"])]),
    ("第二十条第（八）项", ["上一年项目数量", "本年增/减"],
     [("fees", "行政事业性收费", ["prev_items", "delta_items"])]),
    ("第二十条第（九）项", ["采购项目数量", "采购总金额"],
     [("procurement", "政府集中采购", ["projects", "amount"])]),
]
RL_GROUPS = ["admin_review", "litigation_direct", "litigation_after_review"]
RL_OUTCOMES = ["upheld", "corrected", "other", "pending", "total"]
RL_OUTCOME_LABELS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


class Report:
    """A true report: the expected JSON plus the prose around its tables."""

    def __init__(self, name: str, truth: dict, preamble: str, postamble: str, title_in_preamble: bool):
        self.name = name
        self.truth = truth
        self.preamble = preamble
        self.postamble = postamble
        self.title_in_preamble = title_in_preamble

    def copy(self) -> Report:
        return Report(self.name, copy.deepcopy(self.truth), self.preamble, self.postamble, self.title_in_preamble)


def _split_prose(text: str) -> tuple[str, str]:
    i = text.find("二、主动公开政府信息情况")
    j = text.find("五、", text.find("行政复议", i))
    pre = text[:i].rstrip()
    post = text[j:] if j > 0 else "五、存在的主要问题及改进情况\n无。\n六、其他需要报告的事项\n无。"
    return pre, post


def _huaian_text() -> str:
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(str(HUAIAN_PDF))
    return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def load_reports() -> list[Report]:
    out = []
    for f in sorted(SEEDS.glob("*.expected.json")):
        truth = json.loads(f.read_text(encoding="utf-8"))
        if truth["applications"] is None:
            continue
        text = (SEEDS / f.name.replace(".expected.json", ".txt")).read_text(encoding="utf-8")
        pre, post = _split_prose(text)
        # drop the page's metadata lines and the seed's own title so that variants control them
        lines = [ln for ln in pre.splitlines() if "|" not in ln]
        title_in = any("年度报告" in ln and len(ln) < 60 for ln in lines[:4])
        lines = [ln for ln in lines if not ("年度报告" in ln and len(ln) < 60) and ln.strip() != truth["agency"]]
        out.append(Report(f.name[:3], truth, "\n".join(lines), post, title_in))
    truth = json.loads(HUAIAN_EXPECTED.read_text(encoding="utf-8"))
    text = _huaian_text().replace("\r\n", "\n")
    pre, post = _split_prose(text)
    pre = re.sub(r"^- 1 -\n淮安市人民政府\n2024 年政府信息公开工作年度报告\n", "", pre)
    out.append(Report("huaian", truth, pre, post, False))
    return out


def no_tables_report() -> Report:
    f = SEEDS / "002_bb811dedbdb07dfb.expected.json"
    truth = json.loads(f.read_text(encoding="utf-8"))
    text = (SEEDS / "002_bb811dedbdb07dfb.txt").read_text(encoding="utf-8")
    return Report("002", truth, text, "", True)


def to_f2019_applications(truth: dict) -> None:
    apps = truth["applications"]
    merged = {c: sum(apps[k][c] for k in _F21_OTHER) for c in COLS}
    new = {}
    for key, _, _ in APP_ROWS_F2019:
        new[key] = merged if key == "other_processing" else apps[key]
    truth["applications"] = new
    truth["templates"]["applications"] = "F2019"


def to_f2019_active(truth: dict) -> None:
    ad = truth["active_disclosure"]
    new = {
        "regulations": {"new_made": ad["regulations"]["issued"], "new_published": ad["regulations"]["issued"],
                        "total_published": ad["regulations"]["in_force"]},
        "normative_documents": {"new_made": ad["normative_documents"]["issued"] + 3,
                                "new_published": ad["normative_documents"]["issued"],
                                "total_published": ad["normative_documents"]["in_force"]},
        "licensing": {"prev_items": 412, "delta_items": -8, "decisions": ad["licensing"]["decisions"]},
        "other_services": {"prev_items": 57, "delta_items": 3, "decisions": 1296},
        "penalty": {"prev_items": 2381, "delta_items": 0, "decisions": ad["penalty"]["decisions"]},
        "coercion": {"prev_items": 46, "delta_items": -2, "decisions": ad["coercion"]["decisions"]},
        "fees": {"prev_items": 9, "delta_items": -1},
        "procurement": {"projects": 31, "amount": 862.5},
    }
    truth["active_disclosure"] = new
    truth["templates"]["active_disclosure"] = "F2019"


def flat_cells(rep: dict) -> dict:
    out = {}
    for table in ("active_disclosure", "applications", "review_litigation"):
        t = rep.get(table)
        if not isinstance(t, dict):
            continue
        for row, cols in t.items():
            if isinstance(cols, dict):
                for col, v in cols.items():
                    out[f"{table}.{row}.{col}"] = v
    return out
