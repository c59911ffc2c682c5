"""Every text layout of FORMAT.md §7 and every marker of §9.2, on real-looking fragments."""

from __future__ import annotations

import pytest

from testkit.synth import LAYOUTS, make_report, render_text
from transforms import formatspec as fs
from transforms.parse import parse_report


def parse_text(text: str, **kw) -> dict:
    return parse_report(text.encode("utf-8"), **kw)


def cell(report: dict, path: str):
    table, item, measure = path.split(".")
    return report[table][item][measure]


def codes_at(report: dict, path: str) -> set[str]:
    return {f["code"] for f in report["findings"] if f["where"] == path}


def assert_same_cells(got: dict, want: dict, allow_null: bool = False) -> None:
    for table in fs.TABLES:
        for item, measures in want[table].items():
            for measure, value in measures.items():
                g = got[table][item][measure]
                if allow_null and g is None:
                    assert codes_at(got, f"{table}.{item}.{measure}") & {"cell_ambiguous"}
                    continue
                assert g == value, f"{table}.{item}.{measure}: {g!r} != {value!r}"


@pytest.mark.parametrize("template", [fs.F2021, fs.F2019])
@pytest.mark.parametrize("layout", [lo for lo in LAYOUTS if lo != "runs"])
def test_every_layout_reads_every_cell(layout, template):
    for seed in range(3):
        want = make_report(seed, template_ad=template, template_app=template,
                           year=2024 if template == fs.F2021 else 2020)
        got = parse_text(render_text(want, layout))
        assert got["templates"] == want["templates"]
        assert (got["agency"], got["year"]) == (want["agency"], want["year"])
        assert_same_cells(got, want)
        assert not [f for f in got["findings"] if f["code"] == "invariant_violation"]


def test_runs_of_digits_are_split_exactly_or_left_null_with_candidates():
    for seed in range(5):
        want = make_report(seed)
        got = parse_text(render_text(want, "runs"))
        assert_same_cells(got, want, allow_null=True)
        derived = [f for f in got["findings"] if f["code"] == "cell_derived"]
        assert derived  # whatever was split is flagged


ROW = "一、本年新收政府信息公开申请数量"


def _fragment_report(t2_rows: str, t1: str = "", t3: str = "") -> str:
    return ("某区统计局2023年政府信息公开工作年度报告\n二、主动公开政府信息情况\n" + t1 +
            "\n三、收到和处理政府信息公开申请情况\n(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和) |\n"
            "申请人情况 | ||||||||\n" + t2_rows + "\n四、政府信息公开行政复议、行政诉讼情况\n" + t3 +
            "\n五、存在的主要问题及改进情况\n无。")


def test_cell_per_line_blank_cells_stay_blank_and_only_total_is_read():
    # 区统计局 2023 (FORMAT.md §7.3): six blank applicant cells, the 总计 cell 0
    text = _fragment_report(f"{ROW} |\n|\n|\n|\n|\n|\n|\n0 |\n||\n二、上年结转政府信息公开申请数量 |\n0 |")
    got = parse_text(text)
    row = got["applications"]["new_received"]
    assert row == {"natural_person": None, "commercial": None, "research": None, "social_welfare": None,
                   "legal_services": None, "other_org": None, "total": 0}
    assert codes_at(got, "applications.new_received.natural_person") == {"cell_blank"}
    assert not codes_at(got, "applications.new_received.total")


def test_not_applicable_marks_are_null_not_zero():
    t1 = "第二十条第(一)项 | |||\n信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n规章 | / | / | / |\n" \
         "行政规范性文件 | 5 | 1 | 25 |"
    got = parse_text(_fragment_report(f"{ROW} | 3 | 0 | 0 | 0 | 0 | 0 | 3 |", t1=t1))
    assert got["active_disclosure"]["regulations"] == {"issued": None, "repealed": None, "in_force": None}
    assert codes_at(got, "active_disclosure.regulations.issued") == {"cell_not_applicable"}
    assert got["active_disclosure"]["normative_documents"] == {"issued": 5, "repealed": 1, "in_force": 25}


@pytest.mark.parametrize("mark", ["/", "-", "—", "——", "／", "－", "×"])
def test_each_not_applicable_mark(mark):
    got = parse_text(_fragment_report(f"{ROW} | {mark} | 0 | 0 | 0 | 0 | 0 | 0 |"))
    assert cell(got, "applications.new_received.natural_person") is None
    assert codes_at(got, "applications.new_received.natural_person") == {"cell_not_applicable"}


@pytest.mark.parametrize("raw,value", [("〇", 0), ("零", 0), ("无", 0), ("1,234", 1234), ("1，234", 1234),
                                       ("１２", 12), ("? 7", 7), ("\u00a07", 7)])
def test_zero_words_separators_full_width_and_nbsp(raw, value):
    got = parse_text(_fragment_report(f"{ROW} | {raw} | 0 | 0 | 0 | 0 | 0 | {raw} |"))
    assert cell(got, "applications.new_received.natural_person") == value
    assert cell(got, "applications.new_received.total") == value


@pytest.mark.parametrize("raw", ["若干", "3-5", "1.5", "-3", "+3"])
def test_unreadable_cells_are_null_with_a_finding(raw):
    got = parse_text(_fragment_report(f"{ROW} | {raw} | 0 | 0 | 0 | 0 | 0 | 3 |"))
    assert cell(got, "applications.new_received.natural_person") is None
    assert codes_at(got, "applications.new_received.natural_person") == {"cell_unreadable"}


def test_single_merged_zero_covers_the_whole_row():
    # 柞水县凤凰镇 2021 (§7.8): one "0" spanning seven columns, eight fillers
    got = parse_text(_fragment_report(f"{ROW} | 0 | ||||||||\n二、上年结转政府信息公开申请数量 | 0 | ||||||||"))
    assert set(got["applications"]["new_received"].values()) == {0}
    assert codes_at(got, "applications.new_received.total") == {"cell_derived"}


def test_blank_total_is_derived_from_its_parts_and_flagged():
    got = parse_text(_fragment_report(f"{ROW} | 5 | 1 | 0 | 0 | 0 | 0 | |"))
    assert cell(got, "applications.new_received.total") == 6
    assert codes_at(got, "applications.new_received.total") == {"cell_derived"}


def test_paragraph_layout_with_a_vanished_blank_is_ambiguous_not_shifted():
    want = make_report(1)
    text = render_text(want, "paragraphs", raw={"applications.granted.commercial": ""})
    got = parse_text(text)
    assert set(got["applications"]["granted"].values()) == {None}
    assert codes_at(got, "applications.granted.total") == {"cell_ambiguous"}
    assert got["applications"]["partially_granted"] == want["applications"]["partially_granted"]


def test_report_breaking_h1_is_parsed_as_printed_with_the_violation():
    want = make_report(2)
    printed = want["applications"]["carried_forward"]["total"] + 5
    text = render_text(want, "pipe_rows", raw={"applications.carried_forward.total": str(printed)})
    got = parse_text(text)
    assert cell(got, "applications.carried_forward.total") == printed
    h1 = [f for f in got["findings"] if f["code"] == "invariant_violation" and f["where"] == "H1[column=total]"]
    assert h1 and h1[0]["severity"] == "error" and "H1" in h1[0]["message"]


def test_f2019_report_with_signed_deltas_and_procurement_amount():
    want = make_report(3, template_ad=fs.F2019, template_app=fs.F2019, year=2020)
    raw = {"active_disclosure.licensing.delta_items": "-8", "active_disclosure.penalty.delta_items": "+1036",
           "active_disclosure.procurement.amount": "251000元"}
    got = parse_text(render_text(want, "markdown_fillers", raw=raw))
    assert got["templates"]["active_disclosure"] == fs.F2019 and got["templates"]["applications"] == fs.F2019
    assert cell(got, "active_disclosure.licensing.delta_items") == -8
    assert cell(got, "active_disclosure.penalty.delta_items") == 1036
    assert cell(got, "active_disclosure.procurement.amount") == 251000
    assert codes_at(got, "active_disclosure.procurement.amount") == {"unit_uncertain"}
    assert "other_processing" in got["applications"] and "other_other" not in got["applications"]


def test_f2019_lost_header_line_is_read_by_position():
    want = make_report(4, template_ad=fs.F2019, template_app=fs.F2019, year=2020)
    text = render_text(want, "pipe_rows").replace("本年新制作数量 | 本年新公开数量", "本年新 | 本年新")
    got = parse_text(text)
    assert got["templates"]["active_disclosure"] == fs.F2019
    assert got["active_disclosure"]["regulations"] == want["active_disclosure"]["regulations"]


def test_templates_are_detected_per_table_never_from_the_year():
    want = make_report(5, template_ad=fs.F2019, template_app=fs.F2021, year=2022)
    got = parse_text(render_text(want, "pipe_rows"))
    assert got["templates"]["active_disclosure"] == fs.F2019
    assert got["templates"]["applications"] == fs.F2021
    assert codes_at(got, "active_disclosure") == {"template_year_mismatch"}
    assert_same_cells(got, want)


def test_split_header_cells_spaces_and_typos():
    want = make_report(6)
    text = (render_text(want, "pipe_rows").replace("商业企业", "商业 企业").replace("科研机构", "科研\n\n机构")
            .replace("现行有效件数", "现行有效件").replace("(三)不予公开", "(三) 不予公开")
            .replace("第二十条第(一)项", "第二十条  第(一)项"))
    got = parse_text(text)
    assert_same_cells(got, want)


def test_traditional_script_with_inserted_pinyin():
    from opencc import OpenCC

    want = make_report(7)
    text = OpenCC("s2t").convert(render_text(want, "pipe_rows")).replace("報告", "報(bào)告", 1)
    got = parse_text(text)
    assert_same_cells(got, want)
    assert got["year"] == want["year"]


def test_fee_printed_in_yuan_is_converted_and_flagged():
    want = make_report(8)
    got = parse_text(render_text(want, "pipe_rows", raw={"active_disclosure.fees.amount_10k_yuan": "26550元"}))
    assert cell(got, "active_disclosure.fees.amount_10k_yuan") == pytest.approx(2.655)
    assert codes_at(got, "active_disclosure.fees.amount_10k_yuan") == {"cell_derived"}


def test_markdown_separator_lines_from_third_party_pipelines():
    want = make_report(9)
    text = render_text(want, "markdown_fillers").replace(
        "| 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |",
        "| 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |\n"
        + "|---" * 15 + "|")
    got = parse_text(text)
    assert got["review_litigation"] == want["review_litigation"]


def test_legacy_pre_2019_report_is_recognised_not_parsed():
    text = ("某县2017年政府信息公开工作年度报告\n一、概述\n…\n二、主动公开政府信息情况\n…\n"
            "三、依申请公开政府信息情况\n本年度共受理申请5件。\n四、政府信息公开的收费及减免情况\n未收费。")
    got = parse_text(text)
    assert got["applications"] is None
    assert "legacy_format" in {f["code"] for f in got["findings"]}
    assert {f["where"] for f in got["findings"] if f["code"] == "tables_missing"} == set(fs.TABLES)


def test_html_with_rowspan_colspan_in_gbk():
    want = make_report(10)
    rows = render_text(want, "pipe_rows")
    body = []
    for line in rows.split("\n"):
        if "|" in line:
            cells = [c.strip() for c in line.strip().rstrip("|").split("|")]
            body.append("<tr>" + "".join(f"<td colspan='1'><p><span>{c}</span></p></td>" for c in cells) + "</tr>")
        else:
            body.append(f"</table><p>{line}</p><table>")
    html = ("<html><head><meta charset='gbk'><title>" + f"{want['agency']}{want['year']}年政府信息公开工作年度报告"
            + "</title></head><body><table>" + "".join(body) + "</table></body></html>")
    got = parse_report(html.encode("gbk"))
    assert_same_cells(got, want)
    assert got["agency"] == want["agency"]


def test_text_without_any_report_gives_json_with_findings_not_a_crash():
    for data in (b"", b"\x00\x01\x02", "随便一段文字".encode(), b"%PDF-1.4 broken", b"PK\x03\x04zip"):
        got = parse_report(data)
        assert got["contract"] == "xxgk.report/1"
        assert {f["where"] for f in got["findings"] if f["code"] == "tables_missing"} == set(fs.TABLES)


def test_table_words_in_narrative_are_not_taken_for_a_table():
    text = ("某局2023年政府信息公开工作年度报告\n一、总体情况\n严格落实政府规章、行政规范性文件动态更新机制,"
            "办理行政许可事项 共计 120 件,行政处罚 5 件,本年新收申请 3 件。\n五、存在的主要问题及改进情况\n无")
    got = parse_text(text)
    assert got["active_disclosure"] is None and got["applications"] is None


def test_f2019_page_with_blank_result_totals_like_shanghai_2019():
    """Shanghai 2019 (FORMAT.md §6.1): F2019 tables as rowspan/colspan HTML, the 总计 cell of
    every result row left blank. Blank totals whose six parts are printed are derived and flagged."""
    from testkit.render import render_html

    want = make_report(12, template_ad=fs.F2019, template_app=fs.F2019, year=2019, agency="上海市人民政府办公厅")
    printed = {k: dict(v) for k, v in want["applications"].items()}
    leaves = fs.app_leaves(fs.F2019)
    for key in leaves:
        printed[key]["total"] = None
    page = render_html({**want, "applications": printed}, title="2019年上海市人民政府办公厅政府信息公开工作年度报告",
                       paragraphs=["本年度报告中所列数据统计期限从2019年1月1日到12月31日止。"])
    got = parse_report(page)
    assert got["templates"] == want["templates"]
    assert (got["agency"], got["year"]) == ("上海市人民政府办公厅", 2019)
    assert_same_cells(got, want)  # totals derived = the printed parts' sums
    assert all(codes_at(got, f"applications.{k}.total") == {"cell_derived"} for k in leaves)
    assert not codes_at(got, "applications.total_processed.total")


def test_a_subtotal_column_outside_the_template_is_read_past():
    want = make_report(13)
    text = render_text(want, "pipe_rows").replace("法律服务机构 | 其他 |", "法律服务机构 | 其他 | 小计 |")
    lines = []
    for line in text.split("\n"):
        cells = [c.strip() for c in line.rstrip().rstrip("|").split("|")]
        labels = [c for c in cells if c and not c.isdigit()]
        nums = [c for c in cells if c.isdigit()]
        if len(nums) == 7 and labels:  # a table-2 row: insert the subtotal of the five org columns
            org = sum(int(n) for n in nums[1:6])
            cells = labels + nums[:6] + [str(org)] + nums[6:]
            line = " | ".join(cells) + " |"
        lines.append(line)
    got = parse_text("\n".join(lines))
    assert got["applications"] == want["applications"]
    assert "nonstandard_row" in codes_at(got, "applications")


_DETERMINISM_SCRIPT = """
import hashlib, json
from testkit.synth import make_report, render_text
from transforms import formatspec as fs
from transforms.parse import parse_report
h = hashlib.sha256()
for seed in range(12):
    for tpl in (fs.F2019, fs.F2021):
        text = render_text(make_report(seed, template_ad=tpl, template_app=tpl), "runs")
        h.update(json.dumps(parse_report(text.encode()), sort_keys=True, ensure_ascii=False, default=str).encode())
print(h.hexdigest())
"""


def test_parse_output_does_not_depend_on_string_hashing():
    # Python salts str hashes per process: a set of row keys once ordered the findings differently
    # from one run to the next. The same document must give the same bytes in every process.
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    digests = set()
    for seed in ("0", "1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT], cwd=root, env=env, capture_output=True,
                             text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
