"""The one declarative description of the report format.

Everything that knows about the format reads this module: the parser (labels, row
order, value types), the warehouse (codes of the fact tables), the expectations
(invariants) and the docs (``xxgk docs-format``). Nothing else lists a row, a column,
a label or an invariant. Names follow docs/CONTRACT.md; rules follow docs/FORMAT.md.

Labels are written *normalised* (see ``transforms.normalize.norm_label``): simplified
script, ASCII brackets and colons, no whitespace. ``match`` holds the distinctive
substrings the parser looks for (FORMAT.md §9.1); ``label`` is the official wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

F2019 = "F2019"
F2021 = "F2021"
TEMPLATES = (F2019, F2021)
STANDARD = "standard"  # the one layout of the review/litigation table

# Value types (H5 domains).
COUNT = "count"  # integer >= 0
SIGNED = "signed"  # integer, may be negative (F2019 本年增/减)
DECIMAL = "decimal"  # decimal >= 0 (F2021 fees, in 万元)
AMOUNT = "amount"  # decimal >= 0, unit not fixed (F2019 采购总金额)

ERROR = "error"
WARNING = "warning"
INFO = "info"  # a fact about how a table was read, not a problem


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    vtype: str = COUNT
    match: tuple[str, ...] = ()  # header variants, normalised


@dataclass(frozen=True)
class Item:
    """A row of the active-disclosure table (规章, 行政许可, ...)."""

    key: str
    label: str
    block: str  # caption, e.g. 第二十条第(一)项
    measures: tuple[str, ...]
    match: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """A value row of the applications table."""

    key: str
    label: str
    match: tuple[str, ...]  # regexes over normalised text, tried in order
    group: str | None = None  # (三)..(六) group key, None for top-level rows
    leaf: bool = False  # one of the mutually exclusive outcomes summed by H3
    templates: frozenset[str] = frozenset(TEMPLATES)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    match: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    match: tuple[str, ...]


@dataclass(frozen=True)
class Invariant:
    """A rule the printed numbers must satisfy.

    ``lhs op rhs`` where each side is a sum of cell paths (``table.row.column``).
    Paths may hold placeholders expanded by ``each``: ``{column}`` (applicant
    columns), ``{row}`` (value rows of the template), ``{group}`` (review/litigation
    groups), ``{item}`` (the items named in ``items``), and ``{leaves}`` (the result
    leaf rows of the template). A term starting with ``-`` is subtracted; a term that
    is a number is a constant. ``prev:`` marks a cell of the same agency's previous
    year (cross-report checks). ``solver``: the run-together-digit solver uses the rule
    too (``transforms.evaluator``: a hard one as an equation, a soft one to order candidates).
    ``transforms.evaluator`` is the one reader of these terms.
    """

    id: str
    severity: str
    table: str
    statement: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    op: str = "=="  # ==, <=, >=, <
    each: str | None = None  # column | row | group | item
    templates: frozenset[str] = frozenset(TEMPLATES)
    items: tuple[str, ...] = ()
    cross_year: bool = False
    solver: bool = False


# --------------------------------------------------------------------------- table 1
ACTIVE_DISCLOSURE = "active_disclosure"
APPLICATIONS = "applications"
REVIEW_LITIGATION = "review_litigation"
TABLES = (ACTIVE_DISCLOSURE, APPLICATIONS, REVIEW_LITIGATION)

TABLE_LABELS = {
    ACTIVE_DISCLOSURE: "主动公开政府信息情况",
    APPLICATIONS: "收到和处理政府信息公开申请情况",
    REVIEW_LITIGATION: "政府信息公开行政复议、行政诉讼情况",
}

# Section headings 一..六 (FORMAT.md §1), matched on normalised text.
SECTION_HEADING = (
    r"([一二三四五六])[、.．](总体情况|工作基本情况|[^。;|\n]{0,12}主动公开[^。;|\n]{0,12}情况"
    r"|[^。;|\n]{0,8}收到和处理[^。;|\n]{0,16}申请[^。;|\n]{0,4}情况"
    r"|[^。;|\n]{0,24}行政复议[^。;|\n]{0,12}行政诉讼[^。;|\n]{0,4}情况"
    r"|[^。;|\n]{0,16}存在[^。;|\n]{0,20}(问题|措施|情况)|其[他它][^。;|\n]{0,4}报告[^。;|\n]{0,3}事项)"
)

BLOCKS = {
    "20.1": "第二十条第(一)项",
    "20.5": "第二十条第(五)项",
    "20.6": "第二十条第(六)项",
    "20.8": "第二十条第(八)项",
    "20.9": "第二十条第(九)项",
}

AD_MEASURES: dict[str, dict[str, Measure]] = {
    F2021: {
        "issued": Measure("issued", "本年制发件数", COUNT, ("本年制发", "本年新发", "制发件数")),
        "repealed": Measure("repealed", "本年废止件数", COUNT, ("本年废止", "废止件数")),
        "in_force": Measure("in_force", "现行有效件数", COUNT, ("现行有效",)),
        "decisions": Measure("decisions", "本年处理决定数量", COUNT, ("本年处理决定", "处理决定数量")),
        "amount_10k_yuan": Measure(
            "amount_10k_yuan", "本年收费金额(单位:万元)", DECIMAL, ("本年收费金额", "收费金额")
        ),
    },
    F2019: {
        "new_made": Measure("new_made", "本年新制作数量", COUNT, ("本年新制作", "新制作")),
        "new_published": Measure("new_published", "本年新公开数量", COUNT, ("本年新公开", "新公开")),
        "total_published": Measure("total_published", "对外公开总数量", COUNT, ("对外公开总数", "公开总数")),
        "prev_items": Measure("prev_items", "上一年项目数量", COUNT, ("上一年项目数量", "上一年项目")),
        "delta_items": Measure("delta_items", "本年增/减", SIGNED, ("本年增/减", "本年增减", "增/减", "增减")),
        "decisions": Measure("decisions", "处理决定数量", COUNT, ("处理决定数量",)),
        "projects": Measure("projects", "采购项目数量", COUNT, ("采购项目数量",)),
        "amount": Measure("amount", "采购总金额", AMOUNT, ("采购总金额",)),
    },
}

AD_ITEMS: dict[str, tuple[Item, ...]] = {
    F2021: (
        Item("regulations", "规章", BLOCKS["20.1"], ("issued", "repealed", "in_force"), ("规章",)),
        Item(
            "normative_documents",
            "行政规范性文件",
            BLOCKS["20.1"],
            ("issued", "repealed", "in_force"),
            ("行政规范性文件", "规范性文件", "规范性档案"),
        ),
        Item("licensing", "行政许可", BLOCKS["20.5"], ("decisions",), ("行政许可",)),
        Item("penalty", "行政处罚", BLOCKS["20.6"], ("decisions",), ("行政处罚",)),
        Item("coercion", "行政强制", BLOCKS["20.6"], ("decisions",), ("行政强制",)),
        Item("fees", "行政事业性收费", BLOCKS["20.8"], ("amount_10k_yuan",), ("行政事业性收费",)),
    ),
    F2019: (
        Item(
            "regulations", "规章", BLOCKS["20.1"], ("new_made", "new_published", "total_published"), ("规章",)
        ),
        Item(
            "normative_documents",
            "规范性文件",
            BLOCKS["20.1"],
            ("new_made", "new_published", "total_published"),
            ("行政规范性文件", "规范性文件", "规范性档案"),
        ),
        Item("licensing", "行政许可", BLOCKS["20.5"], ("prev_items", "delta_items", "decisions"), ("行政许可",)),
        Item(
            "other_services",
            "其他对外管理服务事项",
            BLOCKS["20.5"],
            ("prev_items", "delta_items", "decisions"),
            ("其他对外管理服务事项", "对外管理服务事项"),
        ),
        Item("penalty", "行政处罚", BLOCKS["20.6"], ("prev_items", "delta_items", "decisions"), ("行政处罚",)),
        Item("coercion", "行政强制", BLOCKS["20.6"], ("prev_items", "delta_items", "decisions"), ("行政强制",)),
        Item("fees", "行政事业性收费", BLOCKS["20.8"], ("prev_items", "delta_items"), ("行政事业性收费",)),
        Item("procurement", "政府集中采购", BLOCKS["20.9"], ("projects", "amount"), ("政府集中采购",)),
    ),
}

# Template markers for table 1 (FORMAT.md §8.4), normalised substrings.
AD_MARKERS = {
    F2021: ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额", "本年新发件数"),
    F2019: (
        "本年新制作数量",
        "本年新公开数量",
        "对外公开总数量",
        "上一年项目数量",
        "本年增/减",
        "其他对外管理服务事项",
        "第二十条第(九)项",
        "采购总金额",
        "政府集中采购",
    ),
}

# --------------------------------------------------------------------------- table 2
APPLICANT_COLUMNS: tuple[Column, ...] = (
    Column("natural_person", "自然人", ("自然人",)),
    Column("commercial", "商业企业", ("商业企业",)),
    Column("research", "科研机构", ("科研机构",)),
    Column("social_welfare", "社会公益组织", ("社会公益组织",)),
    Column("legal_services", "法律服务机构", ("法律服务机构",)),
    Column("other_org", "其他", ("其他",)),
    Column("total", "总计", ("总计",)),
)
APPLICANT_PARTS = tuple(c.key for c in APPLICANT_COLUMNS[:-1])  # the six applicant types
APPLICATIONS_HEADER_MARKERS = ("本列数据的勾稽关系", "申请人情况")

APP_GROUPS: tuple[Group, ...] = (
    Group("denied", "(三)不予公开", ("(三)不予公开",)),
    Group("unavailable", "(四)无法提供", ("(四)无法提供",)),
    Group("rejected", "(五)不予处理", ("(五)不予处理",)),
    Group("other", "(六)其他处理", ("(六)其他处理",)),
)
APP_SECTION_LABELS = ("三、本年度办理结果",)  # rowspan group label, no values

_21 = frozenset({F2021})
_19 = frozenset({F2019})
# Literal, normalised substrings (ASCII brackets, no whitespace, simplified script), tried
# in order; the parser allows whitespace between characters and finds the leading
# "(n)" / "n." of the label itself.
APP_ROWS: tuple[Row, ...] = (
    Row("new_received", "一、本年新收政府信息公开申请数量", ("本年新收", "本年度新收", "新收政府信息公开申请", "一、本年")),
    Row("carried_over", "二、上年结转政府信息公开申请数量", ("上年结转", "上年度结转", "上一年结转", "二、上年")),
    Row("granted", "(一)予以公开", ("予以公开",), leaf=True),
    Row("partially_granted", "(二)部分公开(区分处理的,只计这一情形,不计其他情形)", ("部分公开",), leaf=True),
    Row("denied_state_secret", "1.属于国家秘密", ("国家秘密",), "denied", True),
    Row("denied_prohibited_by_law", "2.其他法律行政法规禁止公开", ("法律行政法规禁止", "禁止公开"), "denied", True),
    Row("denied_three_safeties", "3.危及\"三安全一稳定\"", ("三安全一稳定", "危及"), "denied", True),
    Row("denied_third_party", "4.保护第三方合法权益", ("第三方合法权益", "第三方"), "denied", True),
    Row("denied_internal_affairs", "5.属于三类内部事务信息", ("三类内部事务", "内部事务"), "denied", True),
    Row("denied_process_info", "6.属于四类过程性信息", ("四类过程性", "过程性信息"), "denied", True),
    Row("denied_enforcement_file", "7.属于行政执法案卷", ("行政执法案卷", "执法案卷"), "denied", True),
    Row("denied_query", "8.属于行政查询事项", ("行政查询", "查询事项"), "denied", True),
    Row("unavailable_not_held", "1.本机关不掌握相关政府信息", ("不掌握",), "unavailable", True),
    Row("unavailable_needs_creation", "2.没有现成信息需要另行制作", ("另行制作", "没有现成信息"), "unavailable", True),
    Row("unavailable_unclear", "3.补正后申请内容仍不明确", ("补正后", "仍不明确"), "unavailable", True),
    Row("rejected_petition", "1.信访举报投诉类申请", ("信访举报投诉", "信访"), "rejected", True),
    Row("rejected_duplicate", "2.重复申请", ("重复申请",), "rejected", True),
    Row("rejected_publication", "3.要求提供公开出版物", ("公开出版物",), "rejected", True),
    Row("rejected_excessive", "4.无正当理由大量反复申请", ("大量反复",), "rejected", True),
    Row(
        "rejected_confirmation",
        "5.要求行政机关确认或重新出具已获取信息",
        ("确认或重新出具", "重新出具"),
        "rejected",
        True,
    ),
    Row(
        "other_no_correction",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        ("逾期不补正", "申请人无正当理由"),
        "other",
        True,
        _21,
    ),
    Row(
        "other_unpaid_fee",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        ("缴纳费用", "收费通知", "逾期未按收费"),
        "other",
        True,
        _21,
    ),
    Row("other_other", "3.其他", ("3.其他", "3.其它"), "other", True, _21),
    Row("other_processing", "(六)其他处理", ("(六)其他处理", "其他处理", "其它处理"), None, True, _19),
    Row("total_processed", "(七)总计", ("(七)总计", "总计"), None, False),
    Row("carried_forward", "四、结转下年度继续办理", ("结转下年度", "结转下一年度", "结转下年", "四、结转")),
)

# Local rows some provinces add to table 1 (FORMAT.md §3, Hubei): read past, tagged non-standard.
AD_NONSTANDARD_ROWS = ("其他主动公开文件",)

# Template markers for table 2: the three (六) sub-items exist only in F2021.
APP_MARKERS = {F2021: ("逾期不补正", "缴纳费用", "申请人无正当理由", "收费通知要求", "不再处理其政府信息公开申请")}


def app_rows(template: str) -> tuple[Row, ...]:
    return tuple(r for r in APP_ROWS if template in r.templates)


def app_leaves(template: str) -> tuple[str, ...]:
    return tuple(r.key for r in app_rows(template) if r.leaf)


# --------------------------------------------------------------------------- table 3
RL_GROUPS: tuple[Group, ...] = (
    Group("admin_review", "行政复议", ("行政复议",)),
    Group("litigation_direct", "行政诉讼·未经复议直接起诉", ("未经复议直接起诉",)),
    Group("litigation_after_review", "行政诉讼·复议后起诉", ("复议后起诉",)),
)
RL_OUTCOMES: tuple[Column, ...] = (
    Column("upheld", "结果维持", ("结果维持",)),
    Column("corrected", "结果纠正", ("结果纠正",)),
    Column("other", "其他结果", ("其他结果",)),
    Column("pending", "尚未审结", ("尚未审结",)),
    Column("total", "总计", ("总计",)),
)
RL_HEADER_END = "复议后起诉"  # the 15 numbers follow this header word (FORMAT.md §9.4)

# --------------------------------------------------------------------------- named codes
# The few codes that code (not data) must name: the digits solver's equations, the
# evidence's carried rows, the parser's repairs. Each is checked against the tables above,
# so a renamed code fails at import rather than silently matching nothing.


def _code(key: str, keys: set[str]) -> str:
    if key not in keys:
        raise ValueError(f"named code {key!r} is not defined by the format description")
    return key


_APP_ROW_KEYS = {r.key for r in APP_ROWS}
_AD_ITEM_KEYS = {it.key for t in TEMPLATES for it in AD_ITEMS[t]}
NEW_RECEIVED = _code("new_received", _APP_ROW_KEYS)
CARRIED_OVER = _code("carried_over", _APP_ROW_KEYS)
TOTAL_PROCESSED = _code("total_processed", _APP_ROW_KEYS)
CARRIED_FORWARD = _code("carried_forward", _APP_ROW_KEYS)
GRANTED = _code("granted", _APP_ROW_KEYS)
OTHER_PROCESSING = _code("other_processing", _APP_ROW_KEYS)  # F2019 (六)其他处理
OTHER_OTHER = _code("other_other", _APP_ROW_KEYS)  # F2021 (六)3.其他
NATURAL_PERSON = _code("natural_person", {c.key for c in APPLICANT_COLUMNS})
TOTAL = _code("total", {c.key for c in APPLICANT_COLUMNS} & {c.key for c in RL_OUTCOMES})
DENIED = _code("denied", {g.key for g in APP_GROUPS})
ADMIN_REVIEW = _code("admin_review", {g.key for g in RL_GROUPS})
LITIGATION_DIRECT = _code("litigation_direct", {g.key for g in RL_GROUPS})
LITIGATION_AFTER_REVIEW = _code("litigation_after_review", {g.key for g in RL_GROUPS})
REGULATIONS = _code("regulations", _AD_ITEM_KEYS)
NORMATIVE_DOCUMENTS = _code("normative_documents", _AD_ITEM_KEYS)
ISSUED = _code("issued", set(AD_MEASURES[F2021]))
REPEALED = _code("repealed", set(AD_MEASURES[F2021]))
IN_FORCE = _code("in_force", set(AD_MEASURES[F2021]))

# --------------------------------------------------------------------------- cells


def ad_cells(template: str) -> tuple[tuple[str, str, Measure], ...]:
    """(item, measure key, Measure) for every table-1 cell of a template, in order."""
    ms = AD_MEASURES[template]
    return tuple((it.key, m, ms[m]) for it in AD_ITEMS[template] for m in it.measures)


def cell_paths(template_ad: str | None, template_app: str | None) -> list[str]:
    """Every cell path of a report, in template order (H7 shape)."""
    out: list[str] = []
    if template_ad:
        out += [f"{ACTIVE_DISCLOSURE}.{i}.{m}" for i, m, _ in ad_cells(template_ad)]
    if template_app:
        out += [f"{APPLICATIONS}.{r.key}.{c.key}" for r in app_rows(template_app) for c in APPLICANT_COLUMNS]
    out += [f"{REVIEW_LITIGATION}.{g.key}.{o.key}" for g in RL_GROUPS for o in RL_OUTCOMES]
    return out


def vtype_of(path: str, template_ad: str | None = None) -> str:
    table, item, measure = path.split(".")
    if table == ACTIVE_DISCLOSURE and template_ad:
        return AD_MEASURES[template_ad][measure].vtype
    return COUNT


SHAPE = {  # H7: value cells per table and template
    ACTIVE_DISCLOSURE: {F2021: 10, F2019: 22},
    APPLICATIONS: {F2021: 25 * 7, F2019: 23 * 7},
    REVIEW_LITIGATION: {STANDARD: 15},
}

# --------------------------------------------------------------------------- invariants
_T2 = APPLICATIONS
_T3 = REVIEW_LITIGATION
_T1 = ACTIVE_DISCLOSURE

_S4 = Invariant(
    "S4", WARNING, _T1,
    "本年新公开数量 <= 本年新制作数量",
    (f"{_T1}.{{item}}.new_published",),
    (f"{_T1}.{{item}}.new_made",),
    op="<=",
    each="item",
    templates=_19,
    items=("regulations", "normative_documents"),
    solver=True,
)

INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "H1", ERROR, _T2,
        "新收 + 上年结转 = (七)总计 + 结转下年度, for every column (the table's own 勾稽关系)",
        (f"{_T2}.new_received.{{column}}", f"{_T2}.carried_over.{{column}}"),
        (f"{_T2}.total_processed.{{column}}", f"{_T2}.carried_forward.{{column}}"),
        each="column",
        solver=True,
    ),
    Invariant(
        "H2", ERROR, _T2,
        "总计 = the sum of the six applicant columns, for every row",
        (f"{_T2}.{{row}}.total",),
        tuple(f"{_T2}.{{row}}.{c}" for c in APPLICANT_PARTS),
        each="row",
        solver=True,
    ),
    Invariant(
        "H3", ERROR, _T2,
        "(七)总计 = the sum of the result leaf rows (一)..(六), for every column",
        (f"{_T2}.total_processed.{{column}}",),
        (f"{_T2}.{{leaves}}.{{column}}",),
        each="column",
        solver=True,
    ),
    Invariant(
        "H4", ERROR, _T3,
        "总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结, for each proceeding",
        (f"{_T3}.{{group}}.total",),
        tuple(f"{_T3}.{{group}}.{o}" for o in ("upheld", "corrected", "other", "pending")),
        each="group",
        solver=True,
    ),
    Invariant(
        "H6", ERROR, _T2,
        "结转下年度 <= 新收 + 上年结转, for every column",
        (f"{_T2}.carried_forward.{{column}}",),
        (f"{_T2}.new_received.{{column}}", f"{_T2}.carried_over.{{column}}"),
        op="<=",
        each="column",
        solver=True,
    ),
    Invariant(
        "S3", WARNING, _T1,
        "现行有效件数 >= 本年制发件数 - 本年废止件数",
        (f"{_T1}.{{item}}.in_force",),
        (f"{_T1}.{{item}}.issued", f"-{_T1}.{{item}}.repealed"),
        op=">=",
        each="item",
        templates=_21,
        items=("regulations", "normative_documents"),
        solver=True,
    ),
    _S4,
    Invariant(
        "S5", WARNING, _T1,
        "上一年项目数量 + 本年增/减 >= 0",
        (f"{_T1}.{{item}}.prev_items", f"{_T1}.{{item}}.delta_items"),
        ("0",),
        op=">=",
        each="item",
        templates=_19,
        items=("licensing", "other_services", "penalty", "coercion", "fees"),
    ),
    Invariant(
        "S7", WARNING, _T1,
        "行政事业性收费 (万元) is below 1,000,000 for a single body (unit confusion)",
        (f"{_T1}.fees.amount_10k_yuan",),
        ("1000000",),
        op="<",
        templates=_21,
    ),
    Invariant(
        "X1", WARNING, _T2,
        "上年结转 (this year) = 结转下年度 (the same agency's previous year), for every column",
        (f"{_T2}.carried_over.{{column}}",),
        (f"prev:{_T2}.carried_forward.{{column}}",),
        each="column",
        cross_year=True,
    ),
    Invariant(
        "X2", WARNING, _T1,
        "现行有效(Y) = 现行有效(Y-1) + 本年制发(Y) - 本年废止(Y), F2021 years only",
        (f"{_T1}.{{item}}.in_force",),
        (f"prev:{_T1}.{{item}}.in_force", f"{_T1}.{{item}}.issued", f"-{_T1}.{{item}}.repealed"),
        each="item",
        templates=_21,
        items=("regulations", "normative_documents"),
        cross_year=True,
        solver=True,
    ),
)

# Rules the digit solver uses to order candidates but that are not (yet) checks: FORMAT.md's
# S4 has a second half the checks do not evaluate. Same form as INVARIANTS.
SOLVER_HINTS: tuple[Invariant, ...] = (
    replace(_S4, statement="对外公开总数量 >= 本年新公开数量 (FORMAT.md S4, second half; orders the solver's "
                           "candidates only)",
            lhs=(f"{_T1}.{{item}}.total_published",), rhs=(f"{_T1}.{{item}}.new_published",), op=">="),
)

# S1: narrative figure key -> the cells whose sum the figure should equal (transforms.narrative)
NARRATIVE_CELLS: dict[str, tuple[str, ...]] = {
    "new_received": (f"{APPLICATIONS}.new_received.total",),
    "carried_over": (f"{APPLICATIONS}.carried_over.total",),
    "total_processed": (f"{APPLICATIONS}.total_processed.total",),
    "carried_forward": (f"{APPLICATIONS}.carried_forward.total",),
    "granted": (f"{APPLICATIONS}.granted.total",),
    "admin_review_total": (f"{REVIEW_LITIGATION}.admin_review.total",),
    "litigation_total": (
        f"{REVIEW_LITIGATION}.litigation_direct.total",
        f"{REVIEW_LITIGATION}.litigation_after_review.total",
    ),
}

_NARR_GAP = r"[^。;；，,、:：\d|()（）]{0,%d}?"
# The number: not part of a longer number or decimal, directly followed by 件 (so 7万余件,
# 1000余件 and "15市级件" never match).
_NARR_NUM = r"(?<![\d.])(\d{1,7})件"

# S1: key -> (regex, words that must appear in the matched span, words that must not)
NARRATIVE_PHRASES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "new_received": (
        r"(?:新收到?|收到|接收|受理)" + _NARR_GAP % 16 + r"(?:申请|政府信息)(?:共|数量|总数|合计|为)?" + _NARR_NUM,
        ("公开",),
        ("复议", "诉讼", "结转", "办结", "答复"),
    ),
    "carried_over": (r"上一?年度?结转" + _NARR_GAP % 12 + _NARR_NUM, (), ("下一?年", "复议", "诉讼")),
    "carried_forward": (r"结转(?:至|到)?下一?年度?" + _NARR_GAP % 8 + _NARR_NUM, (), ("复议", "诉讼")),
    "total_processed": (r"(?:办结|办理完[毕结]|答复完毕)" + _NARR_GAP % 10 + _NARR_NUM, (), ("结转", "复议", "诉讼")),
    "granted": (r"(?<!不)予以公开" + _NARR_GAP % 4 + _NARR_NUM, (), ("部分", "不予")),
    "admin_review_total": (r"行政复议" + _NARR_GAP % 10 + _NARR_NUM, (), ("诉讼", "败诉", "纠错", "纠正")),
    "litigation_total": (r"行政诉讼" + _NARR_GAP % 10 + _NARR_NUM, (), ("复议", "败诉", "纠错", "纠正")),
}

# S2: the registry levels (sources.registry LEVELS) of bodies without rule-making power.
# 部门 is not listed: a department below 省 has none, but the level alone does not say
# whether a 部门 is a province's (which may make rules) or a city's.
NO_RULEMAKING_LEVELS = ("乡镇街道", "县")

# Checks computed from the spec but not expressible as a sum rule; listed so that the
# docs and the check table know their ids and severities.
OTHER_CHECKS = {
    "H5": (ERROR, "every cell is in its domain: counts are integers >= 0, deltas integers, fees decimals >= 0"),
    "H7": (ERROR, "shape: every table present with all its rows and cells (F2021 10/175/15, F2019 22/161/15)"),
    "S1": (WARNING, "figures quoted in the narrative equal the table cells"),
    "S2": (WARNING, f"bodies without rule-making power ({', '.join(NO_RULEMAKING_LEVELS)}) report 规章 = 0"),
    "XH": (WARNING, "a region's consolidated report is not smaller than the sum of its children's reports"),
}


# What each check means in words, for readers of the published site (reportsite).
CHECK_WORDS_ZH = {
    "H1": "表二：新收 + 上年结转 = 办理结果总计 + 结转下年度（每一列）",
    "H2": "表二：总计列 = 六类申请人之和（每一行）",
    "H3": "表二：办理结果总计 = (一)至(六)各项之和（每一列）",
    "H4": "表三：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结（每类程序）",
    "H5": "每个数值在其取值范围内：件数为非负整数，收费为非负小数",
    "H6": "表二：结转下年度不大于新收 + 上年结转（每一列）",
    "H7": "表格完整：三张表都在，且行、列齐全（表缺失或无法识别，例如表格是图片）",
    "S1": "正文中引用的数字与表格一致",
    "S2": "没有规章制定权的机关，规章数应为 0",
    "S3": "表一：现行有效件数不小于本年制发件数 - 本年废止件数",
    "S4": "表一：本年新公开数量不大于本年新制作数量",
    "S5": "表一：上一年项目数量 + 本年增/减不小于 0",
    "S7": "表一：行政事业性收费（万元）不应超过 1,000,000（可能是单位错误）",
    "X1": "跨年：本年上年结转 = 上年结转下年度（每一列）",
    "X2": "跨年：现行有效件数(本年) = 现行有效件数(上年) + 本年制发 - 本年废止",
    "XH": "上级地区的汇总年报不应小于其下级年报之和",
}



@dataclass(frozen=True)
class Check:
    """One expanded instance of an invariant: concrete cell paths."""

    id: str
    severity: str
    scope: str  # e.g. "column=total", "row=granted", "group=admin_review"
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    op: str
    cross_year: bool = False

    @property
    def name(self) -> str:
        return f"{self.id}[{self.scope}]" if self.scope else self.id


def _expand_term(term: str, var: str | None, value: str | None, template_app: str | None) -> list[str]:
    if var:
        term = term.replace("{" + var + "}", value or "")
    if "{leaves}" in term:
        sign = "-" if term.startswith("-") else ""
        body = term.lstrip("-")
        return [sign + body.replace("{leaves}", leaf) for leaf in app_leaves(template_app or F2021)]
    return [term]


def expand(inv: Invariant, template_ad: str | None, template_app: str | None) -> list[Check]:
    """The concrete checks an invariant stands for, given the report's templates."""
    template = template_ad if inv.table == ACTIVE_DISCLOSURE else template_app
    if inv.table != REVIEW_LITIGATION and (template is None or template not in inv.templates):
        return []
    domain: list[str | None]
    if inv.each == "column":
        domain = [c.key for c in APPLICANT_COLUMNS]
    elif inv.each == "row":
        domain = [r.key for r in app_rows(template_app or F2021)]
    elif inv.each == "group":
        domain = [g.key for g in RL_GROUPS]
    elif inv.each == "item":
        domain = list(inv.items)
    else:
        domain = [None]
    out = []
    for value in domain:
        lhs = tuple(t for term in inv.lhs for t in _expand_term(term, inv.each, value, template_app))
        rhs = tuple(t for term in inv.rhs for t in _expand_term(term, inv.each, value, template_app))
        scope = f"{inv.each}={value}" if inv.each else ""
        out.append(Check(inv.id, inv.severity, scope, lhs, rhs, inv.op, inv.cross_year))
    return out


@lru_cache(maxsize=64)
def checks_for(template_ad: str | None, template_app: str | None, cross_year: bool = False) -> tuple[Check, ...]:
    return tuple(
        c
        for inv in INVARIANTS
        if inv.cross_year == cross_year
        for c in expand(inv, template_ad, template_app)
    )


INVARIANTS_BY_ID = {inv.id: inv for inv in INVARIANTS}

# Finding codes (CONTRACT.md §1) and their default severities.
FINDINGS = {
    "tables_missing": ERROR,
    "cell_unreadable": WARNING,
    "cell_not_applicable": WARNING,
    "cell_blank": WARNING,
    "cell_derived": WARNING,
    "cell_ambiguous": WARNING,
    "row_missing": ERROR,
    "template_year_mismatch": WARNING,
    "metadata_conflict": WARNING,
    "metadata_missing": WARNING,
    "invariant_violation": ERROR,
    "unit_uncertain": WARNING,
    "legacy_format": ERROR,
    "nonstandard_row": WARNING,
    "row_order_unproved": WARNING,
    "table_from_image": INFO,  # the table was read from a picture by OCR (transforms.imagetable)
    "cell_ocr_unproved": WARNING,  # an OCR'd value no invariant proves: null, candidates listed
}


@dataclass(frozen=True)
class FormatDoc:
    """What ``docs/FORMAT_CODES.md`` is generated from (see transforms.docs)."""

    tables: tuple[str, ...] = TABLES
    invariants: tuple[Invariant, ...] = INVARIANTS
    extra: dict = field(default_factory=lambda: dict(OTHER_CHECKS))
