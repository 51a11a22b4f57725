"""The government information-disclosure annual report (政府信息公开工作年度报告), as data.

Field keys follow shared/benchmark/FIELDS.md. Aliases are label fragments after normalisation
(simplified characters, no whitespace, punctuation, brackets or list numbering).
"""

from __future__ import annotations

from schemas.constraints import SumRule
from schemas.report_type import ColumnSpec, ReportType, RowSpec, SectionSpec, TableLocation, TemplateSpec, ValueKind


def _cols(*specs: str, kind: ValueKind = "int", signed: tuple[str, ...] = ()) -> tuple[ColumnSpec, ...]:
    cols = []
    for spec in specs:
        key, label = spec.split(":")
        col_kind: ValueKind = "decimal" if key == "amount" else kind
        cols.append(ColumnSpec(key=key, label=label, kind=col_kind, signed=key in signed))
    return tuple(cols)


# ---- table 2 -------------------------------------------------------------------------------

_T2_2021_FILES = _cols("issued:本年制发件数", "repealed:本年废止件数", "in_force:现行有效件数")
_T2_2021_DECISIONS = _cols("decisions:本年处理决定数量")
_T2_2019_FILES = _cols("made:本年新制作数量", "published:本年新公开数量", "total:对外公开总数量")
_T2_2019_ITEMS = _cols("prev_items:上一年项目数量", "change:本年增/减", "decisions:处理决定数量", signed=("change",))

_T2_WORDS = (
    "第二十条",
    "信息内容",
    "本年制发件数",
    "本年废止件数",
    "现行有效件数",
    "本年处理决定数量",
    "本年收费金额",
    "单位",
    "万元",
    "本年新制作数量",
    "本年新公开数量",
    "对外公开总数量",
    "上一年项目数量",
    "本年增减",
    "处理决定数量",
    "采购项目数量",
    "采购总金额",
    "本年新",
    "制作数量",
    "公开数量",
    "项",
)

T2_LOCATION = TableLocation(
    headings=("主动公开政府信息情况",),
    anchors=("第二十条",),  # the header row cites the regulation's article 20 …
    confirm=("信息内容",),  # … beside the column title
    confirm_within=200,
    header_words=(
        "信息内容", "第二十条", "本年制发件数", "现行有效件数", "处理决定数量", "本年新制作数量", "上一年项目数量",
    ),
)  # fmt: skip

T2_2021 = SectionSpec(
    key="t2",
    title="主动公开政府信息情况",
    location=T2_LOCATION,
    header_words=_T2_WORDS,
    rows=(
        RowSpec(key="rules", label="规章", columns=_T2_2021_FILES, aliases=("规章",)),
        RowSpec(key="normative", label="行政规范性文件", columns=_T2_2021_FILES, aliases=("规范性文件",)),
        RowSpec(key="licensing", label="行政许可", columns=_T2_2021_DECISIONS, aliases=("行政许可",)),
        RowSpec(key="penalty", label="行政处罚", columns=_T2_2021_DECISIONS, aliases=("行政处罚",)),
        RowSpec(key="coercion", label="行政强制", columns=_T2_2021_DECISIONS, aliases=("行政强制",)),
        RowSpec(
            key="fees",
            label="行政事业性收费",
            columns=(ColumnSpec(key="amount", label="本年收费金额(万元)", kind="decimal", unit="万元"),),
            aliases=("行政事业性收费", "事业性收费"),
        ),
    ),
)

T2_2019 = SectionSpec(
    key="t2",
    title="主动公开政府信息情况",
    location=T2_LOCATION,
    header_words=_T2_WORDS,
    rows=(
        RowSpec(key="rules", label="规章", columns=_T2_2019_FILES, aliases=("规章",)),
        RowSpec(key="normative", label="规范性文件", columns=_T2_2019_FILES, aliases=("规范性文件",)),
        RowSpec(key="licensing", label="行政许可", columns=_T2_2019_ITEMS, aliases=("行政许可",)),
        RowSpec(
            key="other_services",
            label="其他对外管理服务事项",
            columns=_T2_2019_ITEMS,
            aliases=("对外管理服务", "其他对外管理"),
        ),
        RowSpec(key="penalty", label="行政处罚", columns=_T2_2019_ITEMS, aliases=("行政处罚",)),
        RowSpec(key="coercion", label="行政强制", columns=_T2_2019_ITEMS, aliases=("行政强制",)),
        RowSpec(
            key="fees",
            label="行政事业性收费",
            columns=_T2_2019_ITEMS[:2],
            aliases=("行政事业性收费", "事业性收费"),
        ),
        RowSpec(
            key="procurement",
            label="政府集中采购",
            columns=_cols("items:采购项目数量", "amount:采购总金额"),
            aliases=("政府集中采购", "集中采购"),
        ),
    ),
)

# ---- table 3 -------------------------------------------------------------------------------

T3_COLUMNS = _cols(
    "natural:自然人",
    "commercial:商业企业",
    "research:科研机构",
    "social:社会公益组织",
    "legal:法律服务机构",
    "other_org:其他",
    "total:总计",
)
_T3_PARTS = tuple(col.key for col in T3_COLUMNS[:-1])


def _t3_row(
    key: str, label: str, *aliases: str, exact: tuple[str, ...] = (), replaces: tuple[str, ...] = ()
) -> RowSpec:
    return RowSpec(key=key, label=label, columns=T3_COLUMNS, aliases=aliases, exact=exact, replaces=replaces)


_T3_HEAD = (
    _t3_row("new_received", "一、本年新收政府信息公开申请数量", "本年新收"),
    _t3_row("carried_over", "二、上年结转政府信息公开申请数量", "上年结转"),
    _t3_row("granted", "(一)予以公开", "予以公开"),
    _t3_row("partial", "(二)部分公开", "部分公开"),
    _t3_row("denied_state_secret", "(三)1.属于国家秘密", "国家秘密"),
    _t3_row("denied_law_forbidden", "(三)2.其他法律行政法规禁止公开", "法规禁止", "禁止公开"),
    _t3_row("denied_three_safety", "(三)3.危及“三安全一稳定”", "三安全一稳定", "危及三安全"),
    _t3_row("denied_third_party", "(三)4.保护第三方合法权益", "第三方合法权益", "保护第三方"),
    _t3_row("denied_internal", "(三)5.属于三类内部事务信息", "内部事务"),
    _t3_row("denied_process", "(三)6.属于四类过程性信息", "过程性信息"),
    _t3_row("denied_enforcement", "(三)7.属于行政执法案卷", "执法案卷"),
    _t3_row("denied_query", "(三)8.属于行政查询事项", "行政查询"),
    _t3_row("unable_not_held", "(四)1.本机关不掌握相关政府信息", "不掌握"),
    _t3_row("unable_need_creation", "(四)2.没有现成信息需要另行制作", "另行制作", "没有现成信息"),
    _t3_row("unable_unclear", "(四)3.补正后申请内容仍不明确", "仍不明确", "补正后申请内容"),
    _t3_row("rejected_complaint", "(五)1.信访举报投诉类申请", "信访举报", "投诉类申请"),
    _t3_row("rejected_duplicate", "(五)2.重复申请", "重复申请"),
    _t3_row("rejected_publication", "(五)3.要求提供公开出版物", "公开出版物"),
    _t3_row("rejected_excessive", "(五)4.无正当理由大量反复申请", "大量反复", "反复申请"),
    _t3_row("rejected_confirm", "(五)5.要求行政机关确认或重新出具已获取信息", "重新出具", "确认或重新", "已获取信息"),
)
_T3_TAIL = (
    _t3_row("total", "(七)总计", "七总计", exact=("总计", "合计")),
    _t3_row("carried_forward", "四、结转下年度继续办理", "结转下年", "下年度继续", "继续办理"),
)
_T3_OTHER_2019 = (_t3_row("other", "(六)其他处理", "其他处理"),)
_T3_OTHER_2021 = (
    # some 2021 reports print (六) as one row, as the 2019 form does (FIELDS.md: keys t3.other.*)
    _t3_row(
        "other",
        "(六)其他处理",
        "其他处理",
        replaces=("other_overdue_correction", "other_overdue_fee", "other_misc"),
    ),
    _t3_row("other_overdue_correction", "(六)1.申请人无正当理由逾期不补正…", "逾期不补正", "无正当理由逾期"),
    _t3_row("other_overdue_fee", "(六)2.申请人逾期未按收费通知要求缴纳费用…", "逾期未按收费", "缴纳费用", "收费通知"),
    _t3_row("other_misc", "(六)3.其他", exact=("其他", "3其他", "六3其他")),
)

_T3_WORDS = (
    "收到和处理政府信息公开申请情况",
    "本列数据的勾稽关系为",
    "第一项加第二项之和",
    "等于第三项加第四项之和",
    "申请人情况",
    "自然人",
    "法人或其他组织",
    "商业企业",
    "科研机构",
    "社会公益组织",
    "法律服务机构",
    "其他",
    "总计",
    "三本年度办理结果",
    "本年度办理结果",
    "不予公开",
    "无法提供",
    "不予处理",
    "其他处理",
    "小计",
)


T3_LOCATION = TableLocation(
    headings=("收到和处理政府信息公开申请情况", "收到和处理政府信息公开申请"),
    anchors=("本年新收",),  # the first data row, confirmed by the second
    confirm=("上年结转",),
    confirm_within=1500,
    anchor_is_row=True,
    heading_lookback=3000,
    fallback=("予以公开", "国家秘密", "不掌握"),  # rows that show table 3 when its first rows were lost
)


def _t3(rows: tuple[RowSpec, ...]) -> SectionSpec:
    return SectionSpec(
        key="t3",
        title="收到和处理政府信息公开申请情况",
        location=T3_LOCATION,
        rows=rows,
        header_words=_T3_WORDS,
        extra_rows=("小计", "合计其中", "其中"),
        extra_columns=("小计",),
        usual_column="natural",  # natural persons file most requests in every agency's reports
    )


T3_2019 = _t3(_T3_HEAD + _T3_OTHER_2019 + _T3_TAIL)
T3_2021 = _t3(_T3_HEAD + _T3_OTHER_2021 + _T3_TAIL)

# ---- table 4 -------------------------------------------------------------------------------

T4_COLUMNS = _cols("upheld:结果维持", "corrected:结果纠正", "other:其他结果", "pending:尚未审结", "total:总计")
T4 = SectionSpec(
    key="t4",
    title="政府信息公开行政复议、行政诉讼情况",
    location=TableLocation(
        headings=("行政复议、行政诉讼", "行政复议和行政诉讼", "行政复议,行政诉讼"),
        loose_headings=("行政复议",),
        ends=("存在的主要问题", "五、", "主要问题及改进", "其他需要报告的事项"),  # the next part of the report
        max_chars=6000,
    ),
    labelled=False,
    values_after=("维持", "审结"),
    header_words=(
        "政府信息公开行政复议",
        "行政诉讼情况",
        "行政复议",
        "行政诉讼",
        "未经复议直接起诉",
        "复议后起诉",
        "结果维持",
        "结果纠正",
        "其他结果",
        "尚未审结",
        "总计",
        "维持",
        "纠正",
        "结果",
        "其他",
        "尚未",
        "审结",
        "四",
        "注",
        "数量含上年度结转数量",
    ),
    rows=(
        RowSpec(key="review", label="行政复议", columns=T4_COLUMNS),
        RowSpec(key="suit_direct", label="行政诉讼·未经复议直接起诉", columns=T4_COLUMNS),
        RowSpec(key="suit_after_review", label="行政诉讼·复议后起诉", columns=T4_COLUMNS),
    ),
)

# ---- identities ----------------------------------------------------------------------------


def _t3_rules(t3: SectionSpec) -> tuple[SumRule, ...]:
    rules: list[SumRule] = []
    for row in t3.rows:
        rules.append(
            SumRule(
                name=f"t3.row.{row.key}",
                description=f"row {row.label}: 总计 = 自然人 + 法人或其他组织(5 columns)",
                left=(f"t3.{row.key}.total",),
                right=tuple(f"t3.{row.key}.{part}" for part in _T3_PARTS),
            )
        )
    heads = {"new_received", "carried_over", "total", "carried_forward"}
    outcome_rows = [r.key for r in t3.rows_used() if r.key not in heads]  # the mandated result rows
    forms = [("", outcome_rows)] + [
        (f".{merged.key}", [k for k in outcome_rows if k not in merged.replaces] + [merged.key])
        for merged in t3.rows
        if merged.replaces
    ]  # the mandated rows, and each printed variant that merges some of them into one row
    for col in T3_COLUMNS:
        for suffix, rows in forms:
            rules.append(
                SumRule(
                    name=f"t3.col.{col.key}{suffix}",
                    description=f"column {col.label}: (七)总计 = sum of the results (一)–(六)",
                    left=(f"t3.total.{col.key}",),
                    right=tuple(f"t3.{r}.{col.key}" for r in rows),
                )
            )
        rules.append(
            SumRule(
                name=f"t3.balance.{col.key}",
                description=f"column {col.label}: 一 + 二 = (七)总计 + 四 (第一项加第二项之和，等于第三项加第四项之和)",
                left=(f"t3.new_received.{col.key}", f"t3.carried_over.{col.key}"),
                right=(f"t3.total.{col.key}", f"t3.carried_forward.{col.key}"),
            )
        )
    return tuple(rules)


def _t4_rules() -> tuple[SumRule, ...]:
    return tuple(
        SumRule(
            name=f"t4.row.{row.key}",
            description=f"{row.label}: 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
            left=(f"t4.{row.key}.total",),
            right=tuple(f"t4.{row.key}.{c}" for c in ("upheld", "corrected", "other", "pending")),
        )
        for row in T4.rows
    )


TEMPLATE_2019 = TemplateSpec(
    version="2019",
    title="政府信息公开工作年度报告格式 (2019)",
    sections=(T2_2019, T3_2019, T4),
    constraints=_t3_rules(T3_2019) + _t4_rules(),
    markers=(
        "本年新制作数量",
        "本年新公开数量",
        "对外公开总数量",
        "上一年项目数量",
        "本年增减",
        "其他对外管理服务事项",
        "政府集中采购",
        "采购总金额",
        "采购项目数量",
    ),
    years=(2019, 2020),
    locate_order=("t3", "t4", "t2"),
)

TEMPLATE_2021 = TemplateSpec(
    version="2021",
    title="中华人民共和国政府信息公开工作年度报告格式 (国办公开办函〔2021〕30号)",
    sections=(T2_2021, T3_2021, T4),
    constraints=_t3_rules(T3_2021) + _t4_rules(),
    markers=(
        "本年制发件数",
        "本年废止件数",
        "现行有效件数",
        "本年处理决定数量",
        "收费金额",  # 本年收费金额 / 本年度收费金额: the 2019 form counts fee items, never an amount
        "逾期不补正",
        "逾期未按收费",
        "行政规范性文件",
    ),
    years=(2021, 2100),
    locate_order=("t3", "t4", "t2"),
)

DISCLOSURE_REPORT = ReportType(
    name="gov-disclosure-annual",
    title="政府信息公开工作年度报告",
    templates=(TEMPLATE_2019, TEMPLATE_2021),
    # any one of these in the text: a report of this kind (or a page of one); the tables decide the rest
    identifying_phrases=(
        "信息公开",
        "公开工作年度报告",
        "依申请公开",
        "主动公开",
        "本年新收",
        "上年结转",
    ),
)
