"""What the published tables and columns mean, in Chinese first and English after.

The comments (``COMMENT ON`` in marts.duckdb, field metadata ``description`` in the Parquet
files) and the published ``dim_code`` table are generated here from the format description
(transforms/formatspec.py) and the figures the SQL models compute (sql/marts/03_figures.sql),
so a label is written once. :func:`column_comment` falls back to ``None`` for a column nobody
described: tests/warehouse/test_wh_describe.py fails on it.
"""

from __future__ import annotations

from transforms import formatspec as fs

# --------------------------------------------------------------------------- tables

TABLE_COMMENTS: dict[str, tuple[str, str]] = {
    "dim_agency": ("机关维度：每个发布年报的机关一行，属性取自其最新一份年报的登记行", "agencies"),
    "dim_report": ("年报维度：每个机关每年的当前版本年报一行，含状态（已发布/已隔离）", "reports"),
    "dim_code": ("代码表：事实表中每个代码（行、列、分组）的中文标签，按模板列出", "codes and their Chinese labels"),
    "fact_active_disclosure": (f"事实表：{fs.TABLE_LABELS[fs.ACTIVE_DISCLOSURE]}（表一），每个单元格一行",
                               "active disclosure cells (table 1)"),
    "fact_application": (f"事实表：{fs.TABLE_LABELS[fs.APPLICATIONS]}（表二），每个单元格一行",
                         "application cells (table 2)"),
    "fact_review_litigation": (f"事实表：{fs.TABLE_LABELS[fs.REVIEW_LITIGATION]}（表三），每个单元格一行",
                               "review and litigation cells (table 3)"),
    "fact_check": ("校验结果：已发布年报的每项检查（H1-H7 硬性、S/X 提示）一行", "checks of published reports"),
    "mart_agency_year": ("机关年度指标：每个机关每年一行，含主要数字、比率及与上年的变化（仅已发布年报）",
                         "headline figures per agency and year"),
    "mart_region_year": ("地区年度指标：按年份、省、市、层级汇总的主要数字（同一层级内相加）",
                         "headline figures per region, level and year"),
    "mart_quality": ("质量表：每份当前年报（已发布或已隔离）的检查通过、提示、失败数及隔离原因",
                     "quality of every current report"),
}

# --------------------------------------------------------------------------- figures


def _row_label(key: str) -> str:
    return next(r.label for r in fs.APP_ROWS if r.key == key)


def _group_label(key: str) -> str:
    return next(g.label for g in (*fs.APP_GROUPS, *fs.RL_GROUPS) if g.key == key)


# The headline figures of sql/marts/03_figures.sql and 04_mart_agency_year.sql.
FIGURES: dict[str, tuple[str, str]] = {
    "applications_received": (f"{_row_label(fs.NEW_RECEIVED)}（总计列）", "applications received"),
    "applications_processed": ("本年度办理结果总计（(七)总计，总计列）", "applications processed"),
    "granted": (f"{_row_label(fs.GRANTED)}（总计列）", "granted"),
    "partially_granted": ("(二)部分公开（总计列）", "partially granted"),
    "denied": (f"{_group_label(fs.DENIED)}（1-8 项之和，总计列）", "denied"),
    "disclosure_rate": ("公开率 =（予以公开 + 部分公开）/ 办理结果总计；分母为 0 或未知时为空",
                        "disclosure rate"),
    "review_total": (f"{_group_label(fs.ADMIN_REVIEW)}总计", "administrative reviews"),
    "litigation_total": ("行政诉讼总计（未经复议直接起诉 + 复议后起诉）", "lawsuits"),
    "cases_corrected": ("结果纠正（行政复议与行政诉讼合计）", "cases corrected"),
    "cases_decided": ("已审结案件（结果维持 + 结果纠正 + 其他结果，复议与诉讼合计）", "cases decided"),
    "correction_rate": ("纠错率 = 结果纠正 / 已审结案件；分母为 0 或未知时为空", "correction rate"),
    "fees_10k_yuan": ("行政事业性收费金额（万元，仅 F2021 模板有）", "fees, 10,000 yuan"),
}

# --------------------------------------------------------------------------- columns

_CODES_AD = "、".join(f"{it.key}={it.label}" for it in fs.AD_ITEMS[fs.F2021])
_CODES_RL = "、".join(f"{g.key}={g.label}" for g in fs.RL_GROUPS)
_CODES_OUT = "、".join(f"{o.key}={o.label}" for o in fs.RL_OUTCOMES)
_CODES_APPLICANT = "、".join(f"{c.key}={c.label}" for c in fs.APPLICANT_COLUMNS)

COLUMNS: dict[str, tuple[str, str]] = {
    "agency_id": ("机关编号（由机关名称和地区生成，稳定不变）", "agency id"),
    "agency": ("机关名称（登记表中的名称）", "agency"),
    "name": ("机关名称（登记表中的名称）", "name"),
    "province": ("省级行政区", "province"),
    "city": ("地级市（直辖市、省直管地区为空）", "city"),
    "county": ("县、区", "county"),
    "level": ("机关层级：省、市、县、乡镇街道、部门", "level"),
    "parent_agency_id": ("上级机关编号（其年报载入后即有此编号）", "parent agency id"),
    "report_id": ("年报编号（由机关、年份和内容哈希生成）", "report id"),
    "year": ("年报所属年度", "year"),
    "year_start": ("年报所属年度的第一天（日期类型，供 BI 工具的时间筛选使用）", "year start date"),
    "source_url": ("年报原文网址", "source URL"),
    "content_sha256": ("所载原文内容的 SHA-256 哈希（原文副本按此存放）", "content SHA-256"),
    "fetched_at": ("抓取时间（UTC）", "fetched at"),
    "template_active_disclosure": ("表一所用模板：F2021 或 F2019", "template of table 1"),
    "template_applications": ("表二所用模板：F2021 或 F2019", "template of table 2"),
    "status": ("状态", "status"),
    "value": ("数值，按年报所印；空白、不适用（/、-）或无法识别时为空，绝不记为 0", "value"),
    "provenance": ("数值来源：text 原文文字、derived 由连写数字拆分、ocr 由图片识别", "provenance"),
    "item": (f"表一的事项代码（{_CODES_AD} 等，见 dim_code）", "item"),
    "measure": ("表一的指标代码（issued=本年制发件数、decisions=处理决定数量等，见 dim_code）", "measure"),
    "row_code": ("表二的行代码（new_received=本年新收、granted=予以公开等，见 dim_code）", "row code"),
    "applicant": (f"表二的申请人列代码（{_CODES_APPLICANT}）", "applicant"),
    "proceeding": (f"表三的程序代码（{_CODES_RL}）", "proceeding"),
    "outcome": (f"表三的结果代码（{_CODES_OUT}）", "outcome"),
    "check_id": ("检查编号（H1-H7 硬性错误、S/X 提示，见 docs/CHECKS.md）", "check id"),
    "severity": ("严重程度：error 错误（导致隔离）或 warning 提示", "severity"),
    "expected": ("检查期望的数值（等式右边）", "expected"),
    "actual": ("年报实际的数值（等式左边）", "actual"),
    "detail": ("检查说明，以检查范围开头，如 [column=total]", "detail"),
    "reports": ("汇总的年报份数", "reports"),
    "reports_complete": ("主要数字（新收、办理、予以公开、部分公开、不予公开、复议、诉讼）全部已知的年报份数",
                         "reports with every headline figure known"),
    "checks_passed": ("通过的检查数", "checks passed"),
    "checks_warned": ("未通过的提示性检查数（warning）", "checks warned"),
    "checks_failed": ("未通过的错误性检查数（error，导致隔离）", "checks failed"),
    "checks_skipped": ("因单元格空白或缺失而跳过的检查数", "checks skipped"),
    "findings_error": ("解析发现的错误数（如表格缺失）", "parser findings, errors"),
    "findings_warning": ("解析发现的提示数（如单元格空白、不适用）", "parser findings, warnings"),
    "cells_ocr": ("由图片识别（OCR）并经勾稽关系证明后发布的数值个数", "values read from pictures by OCR, proved"),
    "cells_ocr_unproved": ("图片识别但无法证明、留空（NULL）的单元格数", "OCR readings left null, unproved"),
    "failed_checks": ("未通过的错误性检查及其范围，如 H1[column=total]", "failed checks"),
    "warned_checks": ("未通过的提示性检查及其范围", "warned checks"),
    "reasons": ("隔离原因（已发布的年报为空）", "reasons"),
    # dim_code
    "code": ("代码（事实表中 item、measure、row_code、applicant、proceeding、outcome 的取值）", "code"),
    "table_code": ("所属表：active_disclosure 表一、applications 表二、review_litigation 表三", "table code"),
    "kind": ("代码种类：row 行、column 列、group 分组", "kind"),
    "label_zh": ("中文标签，按模板所印", "Chinese label"),
    "template": ("模板：F2019、F2021，表三为 standard", "template"),
    "sort": ("在模板中的顺序", "sort order"),
}

TABLE_COLUMNS: dict[tuple[str, str], tuple[str, str]] = {
    ("dim_report", "status"): ("状态：published 已发布、quarantined 已隔离（未通过错误性检查）", "status"),
    ("mart_quality", "status"): ("状态：published 已发布、quarantined 已隔离（未通过错误性检查）", "status"),
    ("fact_check", "status"): ("检查结果：pass 通过、fail 未通过、skipped_blank/skipped_missing 跳过", "status"),
    ("mart_region_year", "level"): ("机关层级（每行只含一个层级，不同层级不可相加）", "level"),
}


def column_comment(table: str, column: str) -> str | None:
    """'中文说明 / english name' for a published column, or None when nobody described it."""
    zh_en = TABLE_COLUMNS.get((table, column)) or COLUMNS.get(column)
    if zh_en is None:
        for prefix, zh_prefix, en_prefix in (("prev_", "上年", "previous year's "),
                                             ("delta_", "较上年增减：", "change on the previous year, ")):
            if column.startswith(prefix) and column[len(prefix):] in FIGURES:
                zh, en = FIGURES[column[len(prefix):]]
                zh_en = (zh_prefix + zh, en_prefix + en)
                break
        else:
            zh_en = FIGURES.get(column)
    if zh_en is None:
        return None
    zh, en = zh_en
    if table == "mart_region_year" and column in FIGURES and not column.endswith("_rate"):
        zh += "（同层级机关之和，跳过未知值）"
    return f"{zh} / {en}"


def table_comment(table: str) -> str | None:
    zh_en = TABLE_COMMENTS.get(table)
    return f"{zh_en[0]} / {zh_en[1]}" if zh_en else None


# --------------------------------------------------------------------------- dim_code


def code_rows() -> list[tuple[str, str, str, str, str, int]]:
    """(code, table_code, kind, label_zh, template, sort): every code of every template."""
    rows: list[tuple[str, str, str, str, str, int]] = []

    def add(code: str, table: str, kind: str, label: str, template: str) -> None:
        rows.append((code, table, kind, label, template, len(rows) + 1))

    for tpl in fs.TEMPLATES:
        measures = fs.AD_MEASURES[tpl]
        for it in fs.AD_ITEMS[tpl]:
            add(it.key, fs.ACTIVE_DISCLOSURE, "row", it.label, tpl)
        for key in dict.fromkeys(m for it in fs.AD_ITEMS[tpl] for m in it.measures):
            add(key, fs.ACTIVE_DISCLOSURE, "column", measures[key].label, tpl)
    groups = {g.key: g.label for g in fs.APP_GROUPS}
    for tpl in fs.TEMPLATES:
        for g in fs.APP_GROUPS:
            if any(r.group == g.key for r in fs.app_rows(tpl)):
                add(g.key, fs.APPLICATIONS, "group", g.label, tpl)
        for r in fs.app_rows(tpl):
            # "1.属于国家秘密" alone is ambiguous: the group's "(三)" goes before it
            label = groups[r.group].split(")")[0] + ")" + r.label if r.group else r.label
            add(r.key, fs.APPLICATIONS, "row", label, tpl)
        for c in fs.APPLICANT_COLUMNS:
            add(c.key, fs.APPLICATIONS, "column", c.label, tpl)
    for g in fs.RL_GROUPS:
        add(g.key, fs.REVIEW_LITIGATION, "group", g.label, fs.STANDARD)
    for o in fs.RL_OUTCOMES:
        add(o.key, fs.REVIEW_LITIGATION, "column", o.label, fs.STANDARD)
    return rows


def code_table():
    """:func:`code_rows` as an Arrow table (registered as ``arg_dim_code`` at publish)."""
    import pyarrow as pa

    names = ["code", "table_code", "kind", "label_zh", "template", "sort"]
    cols = list(zip(*code_rows(), strict=True))
    types = [pa.string()] * 5 + [pa.int32()]
    return pa.table({n: pa.array(c, t) for n, c, t in zip(names, cols, types, strict=True)})


# --------------------------------------------------------------------------- short headers

_EXTRA_HEADERS = {  # columns of the export queries (sql/export/) that are no published column
    "item_label": "事项", "measure_label": "指标", "row_label": "行", "applicant_label": "申请人",
    "proceeding_label": "程序", "outcome_label": "结果",
}
_SHORT = {"disclosure_rate": "公开率", "correction_rate": "纠错率", "applications_processed": "办理结果总计",
          "cases_decided": "已审结案件", "cases_corrected": "结果纠正", "denied": "(三)不予公开",
          "review_total": "行政复议总计", "litigation_total": "行政诉讼总计",
          "fees_10k_yuan": "行政事业性收费(万元)", "value": "数值", "agency": "机关"}


def short_label(table: str, column: str) -> str:
    """A column header in Chinese for spreadsheets: the comment's first words."""
    for prefix, zh in (("prev_", "上年"), ("delta_", "较上年增减·")):
        if column.startswith(prefix) and column[len(prefix):] in FIGURES:
            return zh + short_label(table, column[len(prefix):])
    if column in _SHORT:
        return _SHORT[column]
    if column in _EXTRA_HEADERS:
        return _EXTRA_HEADERS[column]
    text = column_comment(table, column)
    if text is None:
        return column
    zh = text.split(" / ")[0]
    cut = [i for i in (zh.find(c, 1) for c in "（：，=；") if i > 0]
    return zh[: min(cut)] if cut else zh
