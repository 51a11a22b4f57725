"""Renderers that print a :class:`~evals.synth.values.ReportValues` in messy layouts.

Each layout is one small ``render_*`` function reproducing a way real
annual reports reach us (crawler text, PDF text layers, portal HTML, OCR'd
markdown …).  All of them go through a structured table model (``Table`` /
``Line`` / ``Cell``) built from the values, so the set of cells a document
shows is known from the model — the gold never comes from parsing the text
that a renderer produced.

The layouts here are registered in :data:`BASE_LAYOUTS` in a fixed order
(the real-world patterns of :mod:`evals.synth.patterns` come after them in
``evals.synth.LAYOUTS``); the CLI cycles through them so that every layout is
produced at least twice.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Literal

from evals.synth.values import (
    APPLICANT_COLS,
    DECIMAL_KEYS,
    T3_COLS,
    T4_COLS,
    T4_GROUPS,
    Number,
    ReportValues,
    Template,
    random_values,
    result_rows,
    t3_rows,
)

Formatter = Callable[[str, Number], str]
Role = Literal["title", "header", "group", "subgroup", "label", "value"]
TableName = Literal["t2", "t3", "t4"]

# ---------------------------------------------------------------------------
# Table model
# ---------------------------------------------------------------------------


@dataclass
class Cell:
    """One printed cell; ``key`` is set only for cells that are gold fields."""

    text: str
    role: Role
    key: str | None = None
    rowspan: int = 1
    colspan: int = 1


@dataclass
class Line:
    """One printed table row.  ``partial`` marks the row a cut-off document stops in."""

    cells: list[Cell]
    kind: Literal["title", "header", "data"]
    row: str | None = None
    partial: bool = False


@dataclass
class Table:
    """One of the three mandated tables, with the section heading above it."""

    name: TableName
    heading: str
    lines: list[Line]
    before: str = ""  # prose printed between the heading and the table

    @property
    def page(self) -> int:
        """Page number a page-break marker inside this table shows (at most one)."""
        return {"t2": 3, "t3": 4, "t4": 5}[self.name]

    @property
    def width(self) -> int:
        """Cells in the widest row; renderers pad shorter rows towards it."""
        return max((len(line.cells) for line in self.lines), default=0)

    def field_keys(self) -> list[str]:
        """Gold keys of the cells this table prints, in reading order."""
        return [c.key for line in self.lines for c in line.cells if c.key]


@dataclass
class Options:
    """Per-document choices of the table builder (quirks that change the model)."""

    ascii_parens: bool = False
    cut_headers: bool = False
    strip_brackets: Literal["none", "number", "all"] = "none"
    t2_extra_row: bool = False
    t3_subtotal_rows: bool = False
    t3_org_subtotal_col: bool = False
    unlabelled_rows: tuple[str, ...] = ()


@dataclass
class Rendered:
    """What a layout hands back: the file bytes plus what gold needs to know.

    ``shown`` lists the keys the document prints (taken from the table model,
    before any text exists); ``None`` means every key of the template.
    """

    body: bytes
    ext: str
    notes: list[str] = field(default_factory=list)
    shown: tuple[str, ...] | None = None
    encoding: str = "utf-8"


def plain(key: str, value: Number) -> str:
    """The default printed form of a value: ``12``, ``4068.208``."""
    del key
    return repr(value) if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------

HEADINGS: dict[TableName, str] = {
    "t2": "二、主动公开政府信息情况",
    "t3": "三、收到和处理政府信息公开申请情况",
    "t4": "四、政府信息公开行政复议、行政诉讼情况",
}

T2Block = tuple[str, tuple[str, ...], tuple[tuple[str, str, tuple[str, ...]], ...]]
T2_BLOCKS: dict[Template, tuple[T2Block, ...]] = {
    "2021": (
        (
            "第二十条第（一）项",
            ("信息内容", "本年制发件数", "本年废止件数", "现行有效件数"),
            (
                ("规章", "rules", ("issued", "repealed", "in_force")),
                ("行政规范性文件", "normative", ("issued", "repealed", "in_force")),
            ),
        ),
        ("第二十条第（五）项", ("信息内容", "本年处理决定数量"), (("行政许可", "licensing", ("decisions",)),)),
        (
            "第二十条第（六）项",
            ("信息内容", "本年处理决定数量"),
            (("行政处罚", "penalty", ("decisions",)), ("行政强制", "coercion", ("decisions",))),
        ),
        ("第二十条第（八）项", ("信息内容", "本年收费金额（单位：万元）"), (("行政事业性收费", "fees", ("amount",)),)),
    ),
    "2019": (
        (
            "第二十条第（一）项",
            ("信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"),
            (
                ("规章", "rules", ("made", "published", "total")),
                ("规范性文件", "normative", ("made", "published", "total")),
            ),
        ),
        (
            "第二十条第（五）项",
            ("信息内容", "上一年项目数量", "本年增/减", "处理决定数量"),
            (
                ("行政许可", "licensing", ("prev_items", "change", "decisions")),
                ("其他对外管理服务事项", "other_services", ("prev_items", "change", "decisions")),
            ),
        ),
        (
            "第二十条第（六）项",
            ("信息内容", "上一年项目数量", "本年增/减", "处理决定数量"),
            (
                ("行政处罚", "penalty", ("prev_items", "change", "decisions")),
                ("行政强制", "coercion", ("prev_items", "change", "decisions")),
            ),
        ),
        (
            "第二十条第（八）项",
            ("信息内容", "上一年项目数量", "本年增/减"),
            (("行政事业性收费", "fees", ("prev_items", "change")),),
        ),
        (
            "第二十条第（九）项",
            ("信息内容", "采购项目数量", "采购总金额"),
            (("政府集中采购", "procurement", ("items", "amount")),),
        ),
    ),
}

T3_LABELS: dict[str, str] = {
    "new_received": "一、本年新收政府信息公开申请数量",
    "carried_over": "二、上年结转政府信息公开申请数量",
    "granted": "（一）予以公开",
    "partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "denied_state_secret": "1.属于国家秘密",
    "denied_law_forbidden": "2.其他法律行政法规禁止公开",
    "denied_three_safety": "3.危及“三安全一稳定”",
    "denied_third_party": "4.保护第三方合法权益",
    "denied_internal": "5.属于三类内部事务信息",
    "denied_process": "6.属于四类过程性信息",
    "denied_enforcement": "7.属于行政执法案卷",
    "denied_query": "8.属于行政查询事项",
    "unable_not_held": "1.本机关不掌握相关政府信息",
    "unable_need_creation": "2.没有现成信息需要另行制作",
    "unable_unclear": "3.补正后申请内容仍不明确",
    "rejected_complaint": "1.信访举报投诉类申请",
    "rejected_duplicate": "2.重复申请",
    "rejected_publication": "3.要求提供公开出版物",
    "rejected_excessive": "4.无正当理由大量反复申请",
    "rejected_confirm": "5.要求行政机关确认或重新出具已获取信息",
    "other": "（六）其他处理",
    "other_overdue_correction": "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other_overdue_fee": "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "other_misc": "3.其他",
    "total": "（七）总计",
    "carried_forward": "四、结转下年度继续办理",
}
T3_GROUP = "三、本年度办理结果"
T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
SUBGROUPS: dict[str, str] = {
    "denied": "（三）不予公开",
    "unable": "（四）无法提供",
    "rejected": "（五）不予处理",
    "other": "（六）其他处理",
}
ORG_COLS = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
T4_TOP = ("行政复议", "行政诉讼")
T4_SUITS = ("未经复议直接起诉", "复议后起诉")
T4_COL_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")

_ORDINAL = re.compile(r"[（(]([一二三四五六七八九十]+)[）)]")


def _subgroup_of(row: str, template: Template) -> str | None:
    """The (三)/(四)/(五)/(六) group a result row belongs to, if any.

    ``other`` alone is the one-row (六)其他处理 (template 2019, or a 2021
    report printing it merged): no group, it is its own labelled row.
    """
    prefix = row.split("_")[0]
    if prefix == "other" and (template == "2019" or row == "other"):
        return None
    return prefix if prefix in SUBGROUPS else None


def _label(text: str, opt: Options) -> str:
    """Apply the document's bracket style and bracket damage to a label."""
    if opt.strip_brackets == "number":
        text = _ORDINAL.sub(r"\1", text)
    elif opt.strip_brackets == "all":
        text = "第二十条第" if text.startswith("第二十条") else _ORDINAL.sub("", text)
    if opt.ascii_parens:
        text = text.replace("（", "(").replace("）", ")")
    return text


def _cut(text: str, rng: random.Random) -> list[str]:
    """Damage a header the way PDF/HTML extraction does: cut short or split.

    Returns one or two cell texts (``本年新``, ``商业 企业``, ``本年新 | 制作数量``).
    """
    if len(text) < 4:
        return [text]
    k = rng.randint(2, len(text) - 2)
    mode = rng.random()
    if text.startswith("本年新") and mode < 0.5:
        return ["本年新"]  # 本年新制作数量 / 本年新公开数量 both become 本年新
    if mode < 0.4:
        return [text[:k] + " " + text[k:]]
    if mode < 0.7:
        return [text[:k], text[k:]]
    if mode < 0.85:
        return [text[:k]]
    return [text[:k] + "\n" + text[k:]]


def _headers(texts: Iterable[str], opt: Options, rng: random.Random) -> list[Cell]:
    out: list[Cell] = []
    for t in texts:
        parts = _cut(t, rng) if opt.cut_headers and t != "信息内容" else [t]
        out.extend(Cell(_label(p, opt), "header") for p in parts)
    return out


# ---------------------------------------------------------------------------
# Builders: values -> table model
# ---------------------------------------------------------------------------


def build_t2(v: ReportValues, fmt: Formatter, opt: Options, rng: random.Random) -> Table:
    """Table 2 as blocks of 第二十条 items (title row, header row, data rows)."""
    lines: list[Line] = []
    width = 4
    for title, header, rows in T2_BLOCKS[v.template]:
        lines.append(Line([Cell(_label(title, opt), "title", colspan=width)], "title"))
        hdr = _headers(header, opt, rng)
        if not opt.cut_headers:
            hdr[-1].colspan = width - len(hdr) + 1
        lines.append(Line(hdr, "header"))
        for label, item, cols in rows:
            cells = [Cell(label, "label")]
            for c in cols:
                key = f"t2.{item}.{c}"
                cells.append(Cell(fmt(key, v.fields[key]), "value", key))
            cells[-1].colspan = width - len(cells) + 1
            lines.append(Line(cells, "data", row=item))
            if opt.t2_extra_row and item == "normative":
                extra = [rng.randint(0, 40), 0, rng.randint(40, 900)]
                lines.append(Line([Cell("其他主动公开文件", "label")] + [Cell(str(x), "value") for x in extra], "data"))
    return Table("t2", HEADINGS["t2"], lines)


def build_t3(v: ReportValues, fmt: Formatter, opt: Options, rng: random.Random) -> Table:
    """Table 3 with the standard three header rows and grouped result rows.

    Group labels (三、本年度办理结果, (三)不予公开 …) are cells of the first row
    of their group, as when an HTML table with rowspans is flattened to text.
    """
    tpl = v.template
    org_sub = opt.t3_org_subtotal_col
    ncols = 8 if org_sub else 7
    lines = [
        Line(
            [Cell(_label(T3_NOTE, opt), "header", rowspan=3, colspan=3), Cell("申请人情况", "header", colspan=ncols)],
            "header",
        ),
        Line(
            [
                Cell("自然人", "header", rowspan=2),
                *_headers(["法人或其他组织"], opt, rng),
                Cell("总计", "header", rowspan=2),
            ],
            "header",
        ),
        Line(_headers((["小计"] if org_sub else []) + list(ORG_COLS), opt, rng), "header"),
    ]
    lines[1].cells[1].colspan = ncols - 2

    def values(row: str, cols: dict[str, Number], keyed: bool) -> list[Cell]:
        cells: list[Cell] = []
        for col in T3_COLS:
            key = f"t3.{row}.{col}"
            cells.append(Cell(fmt(key, cols[col]), "value", key if keyed else None))
            if col == "natural" and org_sub:
                sub = sum(cols[c] for c in APPLICANT_COLS[1:])
                cells.append(Cell(fmt("", sub), "value"))
        return cells

    results = list(result_rows(tpl, v.merged_other))
    sub_rows: dict[str, list[str]] = {}
    for row in results:
        g = _subgroup_of(row, tpl)
        if g:
            sub_rows.setdefault(g, []).append(row)
    group_len = len(results) + 1 + (3 if opt.t3_subtotal_rows else 0)
    for row in t3_rows(tpl, v.merged_other):
        cols = {c: v.fields[f"t3.{row}.{c}"] for c in T3_COLS}
        label_cells: list[Cell] = []
        g = _subgroup_of(row, tpl) if row in results else None
        if row == "granted":
            label_cells.append(Cell(_label(T3_GROUP, opt), "group", rowspan=group_len))
        if g and sub_rows[g][0] == row:
            extra = 1 if opt.t3_subtotal_rows and g != "other" else 0
            label_cells.append(Cell(_label(SUBGROUPS[g], opt), "subgroup", rowspan=len(sub_rows[g]) + extra))
        if row not in opt.unlabelled_rows:
            span = 3 if row in ("new_received", "carried_over", "carried_forward") else (1 if g else 2)
            label_cells.append(Cell(_label(T3_LABELS[row], opt), "label", colspan=span))
        lines.append(Line(label_cells + values(row, cols, True), "data", row=row))
        if opt.t3_subtotal_rows and g and g != "other" and sub_rows[g][-1] == row:
            sums = {c: sum(v.fields[f"t3.{r}.{c}"] for r in sub_rows[g]) for c in T3_COLS}
            lines.append(Line([Cell("小计", "label"), *values("", sums, False)], "data"))
    return Table("t3", HEADINGS["t3"], lines)


def build_t4(v: ReportValues, fmt: Formatter, opt: Options, rng: random.Random) -> Table:
    """Table 4: a two-level header and the 15 cells printed as one row."""
    lines = [
        Line([Cell(T4_TOP[0], "header", colspan=5), Cell(T4_TOP[1], "header", colspan=10)], "header"),
        Line(
            [
                *(Cell(h, "header", rowspan=2) for h in _heads(T4_COL_LABELS, opt, rng)),
                Cell(T4_SUITS[0], "header", colspan=5),
                Cell(T4_SUITS[1], "header", colspan=5),
            ],
            "header",
        ),
        Line([Cell(h, "header") for h in _heads(T4_COL_LABELS * 2, opt, rng)], "header"),
        Line(
            [
                Cell(fmt(f"t4.{g}.{c}", v.fields[f"t4.{g}.{c}"]), "value", f"t4.{g}.{c}")
                for g in T4_GROUPS
                for c in T4_COLS
            ],
            "data",
            row="t4",
        ),
    ]
    return Table("t4", HEADINGS["t4"], lines)


def _heads(texts: Iterable[str], opt: Options, rng: random.Random) -> list[str]:
    return [c.text for c in _headers(texts, opt, rng)]


def build_tables(v: ReportValues, fmt: Formatter, opt: Options, rng: random.Random) -> list[Table]:
    """All three tables of a report, in document order."""
    return [build_t2(v, fmt, opt, rng), build_t3(v, fmt, opt, rng), build_t4(v, fmt, opt, rng)]


def shown_keys(tables: Iterable[Table]) -> tuple[str, ...]:
    """Gold keys the tables print, read from the model (not the text)."""
    return tuple(k for t in tables for k in t.field_keys())


def drop_empty(tables: list[Table]) -> list[Table]:
    """Remove value cells whose printed text is empty (zeros left blank, then lost)."""
    out = []
    for t in tables:
        lines = [
            replace(line, cells=[c for c in line.cells if not (c.role == "value" and c.text == "")]) for line in t.lines
        ]
        out.append(replace(t, lines=lines))
    return out


# ---------------------------------------------------------------------------
# Prose
# ---------------------------------------------------------------------------


def _unit(v: ReportValues) -> str:
    return {"street": "街道", "township": "镇", "county": "县", "district": "区", "city": "市", "bureau": "局"}[
        v.agency.kind
    ]


def title(v: ReportValues) -> str:
    """The report title as portals print it."""
    return f"{v.agency.name}{v.year}年政府信息公开工作年度报告"


def intro(v: ReportValues, rng: random.Random) -> list[str]:
    """总体情况 paragraphs, full of numbers that are not table cells."""
    y = v.year
    ref = "2019〕60号" if v.template == "2019" else "2021〕30号"
    n_apps = v.fields["t3.new_received.total"] if rng.random() < 0.5 else rng.randint(3, 900)
    paras = [
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人民共和国"
        f"政府信息公开工作年度报告格式》（国办公开办函〔{ref}）要求编制。本报告所列数据统计"
        f"期限为{y}年1月1日至{y}年12月31日。如对本报告有疑问，请与{v.agency.name}办公室联系"
        f"（电话：0{rng.randint(310, 999)}-{rng.randint(2000000, 8999999)}）。",
        "一、总体情况",
        f"{y}年，{v.agency.name}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实"
        f"《条例》和上级政务公开工作要点，持续推进决策、执行、管理、服务、结果公开。",
    ]
    options = [
        f"（一）主动公开。全年通过政府门户网站主动公开政府信息{rng.randint(40, 12000)}条，"
        f"其中政策文件{rng.randint(1, 80)}件，政策解读{rng.randint(1, 120)}篇，"
        f"同比增长{rng.randint(1, 40)}.{rng.randint(1, 9)}%。",
        f"（二）依申请公开。全年共收到政府信息公开申请{n_apps}件，较上年"
        f"{rng.choice(['增长', '下降'])}{rng.randint(1, 60)}%，均在法定期限内答复。",
        f"（三）政府信息管理。对现行有效的{rng.randint(10, 300)}件规范性文件进行清理，"
        f"保留{rng.randint(5, 200)}件，宣布失效{rng.randint(0, 30)}件；全年开展保密审查"
        f"{rng.randint(2, 60)}次。",
        f"（四）平台建设。{y}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日完成网站集约化改版，"
        f"全年访问量{rng.randint(3, 900)}万人次，政务新媒体发布信息{rng.randint(50, 5000)}条，"
        f"办结率{rng.randint(95, 100)}%。",
        f"（五）监督保障。召开专题会议{rng.randint(1, 12)}次，组织业务培训{rng.randint(1, 9)}场、"
        f"培训{rng.randint(20, 600)}人次，政务公开在绩效考核中占比{rng.randint(2, 8)}%。",
    ]
    paras.extend(o for o in options if rng.random() < 0.75)
    return paras


def outro(v: ReportValues, rng: random.Random) -> list[str]:
    """Sections 五 and 六, again with dates, 条, 件 and percentages."""
    y, u = v.year, _unit(v)
    fee = rng.choice(
        [
            "未收取信息处理费",
            "共收取信息处理费0元",
            f"依据《政府信息公开信息处理费管理办法》收取信息处理费{rng.randint(100, 3000)}元"
            f"（涉及申请{rng.randint(1, 9)}件）",
        ]
    )
    return [
        "五、存在的主要问题及改进情况",
        f"{y}年，我{u}政府信息公开工作取得一定成效，但仍存在一些不足：一是政策解读形式较为"
        f"单一；二是基层政务公开标准化规范化水平有待提升；三是依申请公开答复质量需进一步提高。"
        f"{y + 1}年，我们将重点做好以下工作：一是开展业务培训{rng.randint(2, 10)}次以上；"
        f"二是在{y + 1}年{rng.randint(3, 11)}月底前完成第{rng.randint(2, 5)}批主动公开目录更新；"
        f"三是按时答复率保持在{rng.choice(['100', '99.5', '98'])}%。",
        "六、其他需要报告的事项",
        f"本年度{fee}。办理人大代表建议{rng.randint(0, 60)}件、政协提案{rng.randint(0, 60)}件，"
        f"办复率100%。《{y}年政务公开工作要点》确定的{rng.randint(8, 40)}项任务已全部完成。",
    ]


def between(t: Table, v: ReportValues, rng: random.Random) -> str:
    """A sentence printed between a section heading and its table."""
    f = v.fields
    if t.name == "t2":
        return (
            f"{v.year}年，共主动公开政策解读{rng.randint(2, 90)}篇、政府信息"
            f"{rng.randint(30, 9000)}条（其中第{rng.randint(1, 4)}季度最多），具体情况如下："
        )
    if t.name == "t3":
        return (
            f"本年度新收申请{f['t3.new_received.total']}件，上年结转"
            f"{f['t3.carried_over.total']}件，办理情况见下表（数据截至{v.year}年12月31日）："
        )
    suits = f["t4.suit_direct.total"] + f["t4.suit_after_review.total"]
    return (
        f"全年发生政府信息公开行政复议{f['t4.review.total']}起、行政诉讼{suits}起，"
        f"占申请总量的{rng.randint(0, 9)}.{rng.randint(0, 9)}%，具体如下："
    )


# ---------------------------------------------------------------------------
# Emitters: table model -> text
# ---------------------------------------------------------------------------

Emitter = Callable[[Table, random.Random], str]


def _texts(line: Line) -> list[str]:
    return [c.text for c in line.cells]


def emit_pipes(t: Table, rng: random.Random) -> str:
    """Layout 1: every row on one line, `` | `` between cells, ``||`` padding."""
    out = []
    for line in t.lines:
        s = " | ".join(_texts(line))
        if not line.partial:
            pad = t.width - len(line.cells)
            s += " " + "|" * (1 + (pad if pad > 0 and rng.random() < 0.8 else 0))
        out.append(s)
    return "\n".join(out)


def emit_cellpipe(t: Table, rng: random.Random) -> str:
    """Layout 2: one cell per line ending `` |``; short rows followed by a ``|||`` line."""
    out: list[str] = []
    for line in t.lines:
        out.extend(f"{x} |" for x in _texts(line))
        pad = t.width + 1 - len(line.cells)
        if pad > 1 and not line.partial:
            out.append("|" * pad)
    return "\n".join(out)


def emit_barline(t: Table, rng: random.Random) -> str:
    """Layout 3: each cell followed by a line holding only ``|``."""
    out = []
    for line in t.lines:
        for x in _texts(line):
            out.extend([x, "|"])
        if rng.random() < 0.3 and not line.partial:
            out.append("")
    return "\n".join(out)


def emit_paragraphs(t: Table, rng: random.Random) -> str:
    """Layout 4: one cell per paragraph, blank lines between."""
    return "\n\n".join(x for line in t.lines for x in _texts(line))


def emit_markdown(t: Table, rng: random.Random) -> str:
    """Layout 5: leading-pipe markdown; a new table (with ``|---|`` rule) after each title."""
    out: list[str] = []
    start = True
    for line in t.lines:
        texts = [x.replace("\n", " ") for x in _texts(line)]
        if line.kind == "title":
            out.extend(["", texts[0], ""])
            start = True
            continue
        row = "| " + " | ".join(texts) + ("" if line.partial else " |")
        out.append(row)
        if start or rng.random() < 0.08:
            out.append("|" + "---|" * len(texts))
            start = False
    return "\n".join(out)


def emit_flipbook(t: Table, rng: random.Random) -> str:
    """Layout 16: label then space-separated numbers; page markers now and then."""
    out = []
    marked = False
    for line in t.lines:
        out.append(" ".join(_texts(line)))
        if not marked and rng.random() < 0.06 and not line.partial:
            out.append(f"- {t.page} -")
            marked = True
    return "\n".join(out)


def emit_runtogether(t: Table, rng: random.Random) -> str:
    """Layout 6: all cells concatenated with no separator at all."""
    return "".join("".join(_texts(line)) for line in t.lines)


BASE_EMITTERS: dict[str, Emitter] = {
    "pipes": emit_pipes,
    "cellpipe": emit_cellpipe,
    "barline": emit_barline,
    "paragraphs": emit_paragraphs,
    "markdown": emit_markdown,
    "flipbook": emit_flipbook,
}
ROW_EMITTERS = ("pipes", "markdown", "flipbook")  # one printed line per table row


def assemble(
    v: ReportValues,
    tables: list[Table],
    emit: Emitter,
    rng: random.Random,
    *,
    heading_on_first_row: bool = False,
    with_outro: bool = True,
    sep: str = "\n",
) -> str:
    """Title, intro prose, the three sections with their tables, closing prose."""
    parts = [title(v), *intro(v, rng)]
    for t in tables:
        body = emit(t, rng)
        if t.before:
            parts.extend([t.heading, t.before, body])
        elif heading_on_first_row:
            parts.append(t.heading + " " + body)
        else:
            parts.extend([t.heading, body])
    if with_outro:
        parts.extend(outro(v, rng))
    return sep.join(parts) + "\n"


# ---------------------------------------------------------------------------
# Text transforms
# ---------------------------------------------------------------------------

_S2T_PAIRS = (
    "开開 报報 会會 务務 关關 门門 规規 范範 议議 诉訴 讼訟 复復 处處 决決 数數 "
    "许許 罚罰 强強 费費 采採 购購 项項 动動 态態 属屬 国國 密密 险險 维維 "
    "纠糾 审審 结結 转轉 总總 计計 请請 机機 构構 业業 组組 织織 诺諾 营營 质質 "
    "单單 轮輪 应應 没沒 现現 制制 另另 补補 仍仍 确確 访訪 举舉 类類 复復 "
    "获獲 确確 认認 书書 读讀 图圖 条條 网網 统統 计計 间間 问問 题題 进進 "
    "级級 导導 划劃 织織 论論 议議 发發 实實 贯貫 习習 时時 义義 论論 "
    "领領 记記 调調 监監 督督 检檢 查查 评評 试試 训訓 场場 稳穩 定定 "
    "全全 财財 产產 权權 益益 内內 部部 过過 执執 卷卷 询詢 掌掌 握握 "
    "没沒 另另 仍仍 补補 确確 访訪 举舉 诉訴 复復 类類 出出 版版 物物 "
    "无無 当當 由由 量量 反反 获獲 费費 缴繳 逾逾 通通 知知 要要 求求 "
    "县縣 区區 市市 镇鎮 乡鄉 街街 道道 办辦 处處 员員 厅廳 卫衛 健健 "
    "护護 环環 境境 场場 监監 运運 输輸 资資 源源 农農 华華 东東 长長 "
    "临臨 宝寶 兴興 丰豐 泽澤 阳陽 泉泉 湖湖 台臺 州州 乐樂 两兩 "
    "传傳 声聲 际際 设設 统統 标標 准準 规規 础礎 层層 压壓 实實 "
    "众眾 级級 质質 员員 热熱 点點 线線 电電 话話 邮郵 联聯 "
    "后後 于於 余餘 里裡 干幹 征徵 据據 并並 准準 历歷 汇匯 "
    "们們 这這 为為 将將 对對 从從 与與 专專 项項 报報 经經 济濟 "
    "积積 极極 绩績 效效 考考 核核 占佔 比比 达達 确確 际際 况況 "
    "务務 质質 优優 观觀 众眾 满滿 谈談 调調 际際 门門 户戶 网網 "
    "站站 页頁 览覽 让讓 访訪 问問 万萬 条條 篇篇 场場 诉訴 权權 "
    "际際 阶階 续續 强強 时時 协協 调調 联聯 动動 结結 构構 亿億 "
    "执執 纪紀 录錄 录錄 录錄 库庫 现現 办辦 复覆 议議 "
    "计計 划劃 销銷 项項 实實 践踐 财財 政政 预預 决決 算算 "
    "学學 贯貫 彻徹 落落 认認 识識 护護 简簡 证證 职職 责責 "
    "问問 题題 较較 单單 一一 层層 标標 准準 规規 范範 "
    "试試 点點 验驗 荐薦 严嚴 谨謹 栏欄 目目 录錄 闻聞 "
    "杂雜 产產 围圍 侧側 难難 点點 热熱 虑慮 须須 "
    "样樣 态態 势勢 员員 体體 系係 统統 "
    "减減 号號 坚堅 废廢 称稱 约約 纳納 继繼 编編 见見 额額 云雲 "
)
S2T: dict[str, str] = {}
for _pair in _S2T_PAIRS.split():
    S2T.setdefault(_pair[0], _pair[1])
S2T["复"] = "復"

PINYIN: dict[str, str] = {
    "項": "xiàng",
    "數": "shù",
    "量": "liàng",
    "申": "shēn",
    "請": "qǐng",
    "開": "kāi",
    "政": "zhèng",
    "府": "fǔ",
    "資": "zī",
    "訊": "xùn",
    "處": "chǔ",
    "理": "lǐ",
    "總": "zǒng",
    "計": "jì",
    "年": "nián",
    "結": "jié",
    "轉": "zhuǎn",
    "議": "yì",
    "訴": "sù",
    "訟": "sòng",
    "維": "wéi",
    "持": "chí",
    "糾": "jiū",
    "審": "shěn",
    "規": "guī",
    "章": "zhāng",
    "件": "jiàn",
    "費": "fèi",
    "許": "xǔ",
    "罰": "fá",
    "強": "qiáng",
    "機": "jī",
    "關": "guān",
    "務": "wù",
    "構": "gòu",
    "業": "yè",
    "織": "zhī",
    "復": "fù",
    "辦": "bàn",
    "報": "bào",
    "告": "gào",
    "況": "kuàng",
    "情": "qíng",
    "予": "yǔ",
    "公": "gōng",
    "信": "xìn",
    "息": "xī",
    "決": "jué",
    "定": "dìng",
    "行": "xíng",
    "收": "shōu",
    "新": "xīn",
    "其": "qí",
    "他": "tā",
}


def to_traditional(
    text: str, rng: random.Random, *, zixun: bool, gloss: float, glosses: dict[str, str] | None = None
) -> str:
    """Convert to traditional characters (政府資訊公開 style), optionally glossed.

    ``zixun`` also uses the Taiwanese term 資訊 for 信息; ``gloss`` is the
    chance that a glossable character is followed by its pinyin, ``項(xiàng)``;
    ``glosses`` replaces the default :data:`PINYIN` table.
    """
    table = PINYIN if glosses is None else glosses
    if zixun:
        text = text.replace("信息", "資訊")
    out = []
    for ch in text:
        tc = S2T.get(ch, ch)
        out.append(tc)
        if gloss and tc in table and rng.random() < gloss:
            out.append(f"({table[tc]})")
    return "".join(out)


_FULLWIDTH = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789+-/%"}
_FULLWIDTH.update({ord("."): "．", ord("("): "（", ord(")"): "）", ord(":"): "："})


def to_fullwidth(text: str, rng: random.Random) -> str:
    """Full-width digits and punctuation; spaces become NBSP or ideographic spaces."""
    out = []
    for line in text.split("\n"):
        if re.fullmatch(r"\|(-+\|)+", line):
            out.append(line)  # keep markdown rules intact
            continue
        line = line.translate(_FULLWIDTH)
        out.append(
            "".join(rng.choice(["\u00a0", "\u00a0", "\u3000", "\u00a0\u00a0"]) if ch == " " else ch for ch in line)
        )
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Run-together ambiguity (layout 6)
# ---------------------------------------------------------------------------

_TOKEN = re.compile(r"-?(0|[1-9]\d*)")
_DECIMAL_TOKEN = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


def count_splits(s: str, n: int, decimal_last: bool = False) -> int:
    """Ways to read the digit run ``s`` as ``n`` numbers (no leading zeros)."""

    @cache
    def go(pos: int, left: int) -> int:
        if left == 0:
            return 1 if pos == len(s) else 0
        total = 0
        for end in range(pos + 1, len(s) + 1):
            pat = _DECIMAL_TOKEN if (decimal_last and left == 1) else _TOKEN
            if pat.fullmatch(s[pos:end]):
                total += go(end, left - 1)
        return total

    return go(0, n)


def count_sum_splits(s: str, groups: int, parts: int) -> int:
    """Ways to read ``s`` as ``groups`` runs of ``parts`` numbers plus their sum.

    This is what a reader can use to split ``21710000218`` into
    217/1/0/0/0/0/218: the last number of each run must equal the sum of the
    others (a table-3 row, or one table-4 group).
    """

    @cache
    def go(pos: int, group: int, k: int, acc: int) -> int:
        if group == groups:
            return 1 if pos == len(s) else 0
        if k == parts:
            tot = str(acc)
            return go(pos + len(tot), group + 1, 0, 0) if s.startswith(tot, pos) else 0
        count = 0
        for end in range(pos + 1, len(s) + 1):
            tok = s[pos:end]
            if not _TOKEN.fullmatch(tok) or tok.startswith("-"):
                if tok.startswith("-") or not tok.isdigit():
                    break
                continue
            count += go(end, group, k + 1, acc + int(tok))
        return count

    return go(0, 0, 0, 0)


def runtogether_ambiguities(v: ReportValues) -> tuple[list[str], list[str]]:
    """Rows whose run-together digits admit more than one reading.

    Returns (table-3/4 rows ambiguous even with the sum identities, table-2
    rows ambiguous because table 2 has no identity to help).
    """
    sums: list[str] = []
    for row in t3_rows(v.template):
        digits = "".join(plain("", v.fields[f"t3.{row}.{c}"]) for c in T3_COLS)
        if count_sum_splits(digits, 1, 6) != 1:
            sums.append(f"t3.{row} '{digits}'")
    t4digits = "".join(plain("", v.fields[f"t4.{g}.{c}"]) for g in T4_GROUPS for c in T4_COLS)
    if count_sum_splits(t4digits, 3, 4) != 1:
        sums.append(f"t4 '{t4digits}'")
    t2: list[str] = []
    for _title, _hdr, rows in T2_BLOCKS[v.template]:
        for label, item, cols in rows:
            keys = [f"t2.{item}.{c}" for c in cols]
            digits = "".join(plain(k, v.fields[k]) for k in keys)
            if count_splits(digits, len(keys), keys[-1] in DECIMAL_KEYS) != 1:
                t2.append(f"{label} '{digits}'")
    return sums, t2


# ---------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------


def _ext(base: str) -> str:
    """File extension for a base style: markdown output is saved as ``.md``."""
    return "md" if base == "markdown" else "txt"


def _utf8(
    text: str, ext: str = "txt", notes: list[str] | None = None, shown: tuple[str, ...] | None = None
) -> Rendered:
    return Rendered(text.encode("utf-8"), ext, notes or [], shown)


def _std(v: ReportValues, rng: random.Random, opt: Options | None = None, fmt: Formatter = plain) -> list[Table]:
    opt = opt or Options(ascii_parens=rng.random() < 0.3)
    return build_tables(v, fmt, opt, rng)


def render_pipes(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Cells separated by `` | `` on one line per row, ``||``/``|||`` padding runs."""
    return _utf8(assemble(v, _std(v, rng), emit_pipes, rng))


def render_cellpipe(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """One cell per line ending in `` |`` (like seed-dongtonghua-2020.txt)."""
    return _utf8(assemble(v, _std(v, rng), emit_cellpipe, rng))


def render_barline(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Each cell followed by a line holding only ``|``."""
    return _utf8(assemble(v, _std(v, rng), emit_barline, rng))


def render_paragraphs(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """One cell per paragraph, blank lines between (a Word document saved as text)."""
    text = assemble(v, _std(v, rng), emit_paragraphs, rng, sep="\n\n")
    return _utf8(text)


def render_markdown(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Leading-pipe markdown tables with ``|---|`` rules (PDF→markdown converters)."""
    return _utf8(assemble(v, _std(v, rng), emit_markdown, rng), "md")


def tweak_runtogether(v: ReportValues, rng: random.Random, k: int = 0) -> None:
    """Redraw table 3/4 a few times to keep run-together rows uniquely splittable.

    The brief allows ambiguous rows if the notes say so; we try up to 30
    draws of the same agency/year and keep the one with fewest ambiguous
    table-3/4 rows (preferring a table that is not all zero), so the dev set
    mostly tests splitting, not guessing.
    """

    def score(x: ReportValues) -> tuple[int, bool]:
        return len(runtogether_ambiguities(x)[0]), x.fields["t3.total.total"] == 0

    best, best_score = dict(v.fields), score(v)
    for _ in range(30):
        if best_score == (0, False):
            break
        cand = random_values(rng, v.template, v.year, v.agency)
        if score(cand) < best_score:
            best, best_score = dict(cand.fields), score(cand)
    v.fields.clear()
    v.fields.update(best)


def render_runtogether(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Crawler text where table cells run together with no separator (平潭 style)."""
    opt = Options()
    tables = build_tables(v, plain, opt, rng)
    for t in tables:
        for line in t.lines:
            for c in line.cells:
                if c.role == "header" and len(c.text) >= 4 and rng.random() < 0.3:
                    c.text = c.text[:2] + " " + c.text[2:] + " "
    meta = (
        f"标题: {title(v)}\n发布时间: {v.year + 1}-0{rng.randint(1, 3)}-{rng.randint(10, 28)} "
        f"{rng.randint(8, 17)}:{rng.randint(10, 59)}\n发布机构: {v.agency.name}\n"
        "栏目: 政府信息公开年报\n" + "=" * 20 + " 正文 " + "=" * 20 + "\n"
    )
    body = assemble(v, tables, emit_runtogether, rng, sep="")
    sums, t2 = runtogether_ambiguities(v)
    notes = []
    if sums:
        notes.append("ambiguous run-together rows even with the sum identities: " + "; ".join(sums))
    else:
        notes.append("every table-3 row and the table-4 row split uniquely given the sum identities")
    if t2:
        notes.append("table-2 rows whose digits cannot be split from the text alone (no identity): " + "; ".join(t2))
    return _utf8(meta + body, notes=notes)


def render_dropped(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Zeros printed as empty cells which the extraction then dropped."""

    def fmt(key: str, value: Number) -> str:
        return "" if value == 0 else plain(key, value)

    base = rng.choice(["flipbook", "pipes"])
    tables = drop_empty(_std(v, rng, fmt=fmt))
    notes = [
        f"base style {base}; every zero cell is missing from its row (gold 0): "
        "a row shows only its non-zero numbers, so their columns must be inferred "
        "(identities, natural persons dominating); the placement is not always unique"
    ]
    return _utf8(assemble(v, tables, BASE_EMITTERS[base], rng), _ext(base), notes=notes)


def render_cutheaders(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Column headers cut short or split (``本年新``, ``商业 企业``, ``本年新 | 制作数量``)."""
    base = rng.choice(list(BASE_EMITTERS))
    tables = _std(v, rng, Options(cut_headers=True, ascii_parens=rng.random() < 0.5))
    return _utf8(assemble(v, tables, BASE_EMITTERS[base], rng), _ext(base), notes=[f"base style {base}"])


def render_labels(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Damaged labels: brackets stripped, rows without labels, prose before tables."""
    strip: Literal["number", "all"] = "number" if k % 2 == 0 else "all"
    candidates = [
        r
        for r in result_rows(v.template)
        if r not in ("granted",) and not r.endswith(("secret", "held", "complaint")) and r != "other_overdue_correction"
    ]
    unlabelled = tuple(sorted(rng.sample(candidates, rng.randint(1, 3)), key=list(t3_rows(v.template)).index))
    opt = Options(strip_brackets=strip, unlabelled_rows=unlabelled)
    tables = build_tables(v, plain, opt, rng)
    for t in tables:
        if rng.random() < 0.7:
            t.before = between(t, v, rng)
    base = rng.choice(ROW_EMITTERS)
    text = assemble(v, tables, BASE_EMITTERS[base], rng, heading_on_first_row=True)
    notes = [
        f"base style {base}; brackets stripped ({strip}: "
        + (
            "（一）→一, 第二十条第（一）项→第二十条第一项"
            if strip == "number"
            else "（一）予以公开→予以公开, 第二十条第（N）项→第二十条第"
        )
        + "); "
        "group labels share a line with their first row; a heading shares a line with "
        "the first line of its table unless prose sits between them; rows printed "
        "without a label: " + ", ".join(f"t3.{r}" for r in unlabelled)
    ]
    return _utf8(text, _ext(base), notes=notes)


def render_extrarows(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Non-standard rows/columns (其他主动公开文件, 小计 rows, 法人或其他组织 小计)."""
    opt = Options(t2_extra_row=True, t3_subtotal_rows=True, t3_org_subtotal_col=True, ascii_parens=rng.random() < 0.3)
    base = rng.choice(["pipes", "cellpipe", "markdown", "flipbook"])
    tables = build_tables(v, plain, opt, rng)
    notes = [
        f"base style {base}; extra row 其他主动公开文件 in table 2, 小计 rows after "
        "(三)/(四)/(五) in table 3 and a 法人或其他组织 小计 column after 自然人: "
        "none of these are keys and none are in gold"
    ]
    return _utf8(assemble(v, tables, BASE_EMITTERS[base], rng), _ext(base), notes=notes)


def render_traditional(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Traditional characters (政府資訊公開), pinyin glosses after some characters."""
    base = rng.choice(["pipes", "cellpipe", "flipbook", "markdown"])
    text = assemble(v, _std(v, rng), BASE_EMITTERS[base], rng)
    zixun = rng.random() < 0.6
    text = to_traditional(text, rng, zixun=zixun, gloss=0.12)
    notes = [
        f"base style {base}; traditional characters"
        + ("; 信息 written 資訊" if zixun else "")
        + "; pinyin glosses like 項(xiàng) inserted after some characters"
    ]
    return _utf8(text, _ext(base), notes=notes)


def render_fullwidth(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Full-width digits/punctuation and non-breaking spaces."""
    base = rng.choice(["pipes", "flipbook", "markdown", "cellpipe"])
    text = to_fullwidth(assemble(v, _std(v, rng), BASE_EMITTERS[base], rng), rng)
    return _utf8(
        text,
        _ext(base),
        notes=[f"base style {base}; full-width digits (０-９), full-width punctuation, NBSP/ideographic spaces"],
    )


def tweak_numformats(v: ReportValues, rng: random.Random, k: int = 0) -> None:
    """Make sure the cells that carry special number formats are non-zero."""
    f = v.fields
    if v.template == "2019":
        f["t2.licensing.prev_items"] = max(int(f["t2.licensing.prev_items"]), 300)
        f["t2.licensing.change"] = -rng.randint(20, 280)
        f["t2.penalty.prev_items"] = max(int(f["t2.penalty.prev_items"]), 40)
        f["t2.penalty.change"] = rng.randint(1, 30)
        f["t2.other_services.prev_items"] = max(int(f["t2.other_services.prev_items"]), 20)
        f["t2.other_services.change"] = rng.randint(1, 15)
        f["t2.procurement.items"] = max(int(f["t2.procurement.items"]), 3)
        f["t2.procurement.amount"] = rng.choice([rng.randint(20000, 900000), round(rng.uniform(10, 900), 4)])
        f["t2.licensing.decisions"] = max(int(f["t2.licensing.decisions"]), 1000) + rng.randint(0, 9000)
    else:
        f["t2.licensing.decisions"] = max(int(f["t2.licensing.decisions"]), 1000) + rng.randint(0, 90000)
        f["t2.fees.amount"] = rng.choice([round(rng.uniform(1, 9000), rng.randint(1, 4)), rng.randint(5000, 90000)])


def render_numformats(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Numbers as ``+22``, ``--253``, ``增10``, ``1,234``, ``103.3879万元``, ``80618元``."""
    special: list[str] = []

    def fmt(key: str, value: Number) -> str:
        s = plain(key, value)
        if key.endswith(".change") and value > 0:
            s = rng.choice([f"+{s}", f"增{s}"])
        elif key.endswith(".change") and value < 0:
            s = rng.choice([s.replace("-", "--"), s])
        elif key in DECIMAL_KEYS and value:
            s = f"{s}元" if isinstance(value, int) else f"{s}万元"
        elif isinstance(value, int) and value >= 1000 and rng.random() < 0.8:
            s = f"{value:,}"
        elif key.startswith("t2.") and isinstance(value, int) and value and rng.random() < 0.3:
            s = f"{s}{rng.choice(['件', '项'])}"
        if s != plain(key, value) and key:
            special.append(f"{key} printed '{s}' (gold {plain(key, value)})")
        return s

    base = rng.choice(["pipes", "cellpipe", "flipbook"])
    tables = _std(v, rng, fmt=fmt)
    notes = [f"base style {base}; number formats: " + "; ".join(special)]
    if v.template == "2021" and isinstance(v.fields["t2.fees.amount"], int):
        notes.append(
            "t2.fees.amount is printed in 元 under a 万元 column: gold keeps the "
            "printed number, a reader should flag the unit"
        )
    return _utf8(assemble(v, tables, BASE_EMITTERS[base], rng), notes=notes)


def render_blanks(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Zeros written ``—``, ``-``, ``/``, ``无`` (or left blank between pipes)."""
    base = rng.choice(["pipes", "cellpipe", "flipbook", "markdown"])
    pool = ["—", "-", "/", "无"] + (["", " "] if base in ("pipes", "markdown") else [])
    # A publisher sticks to one or two blank markers; keep the real zero sometimes.
    marks = rng.sample(pool, rng.randint(1, 2))
    used: set[str] = set()

    def fmt(key: str, value: Number) -> str:
        if value == 0 and rng.random() < 0.9:
            m = rng.choice(marks)
            used.add(m)
            return m
        return plain(key, value)

    tables = _std(v, rng, fmt=fmt)
    shown = ", ".join(repr(m) for m in sorted(used))
    return _utf8(
        assemble(v, tables, BASE_EMITTERS[base], rng),
        _ext(base),
        notes=[f"base style {base}; zero cells printed as {shown} (gold 0), a few zeros still printed as 0"],
    )


def emit_pdf(t: Table, rng: random.Random) -> str:
    """Layout 15: PDF text layer — wrapped labels, group labels one character per line."""
    out: list[str] = []
    if t.name == "t3":
        out.extend(
            [
                "（本列数据的勾稽关系为：第一项加第二项之和，",
                "等于第三项加第四项之和）",
                "申请人情况",
                "自然人",
                "法人或其他组织",
            ]
        )
        heads = list(ORG_COLS)
        chunks = [" ".join(h) if rng.random() < 0.3 else h for h in heads]
        first = chunks[0]
        out.append("总计" + first[:3])
        out.append(first[3:])
        for h in chunks[1:]:
            cut = rng.randint(2, max(2, len(h) - 1))
            out.extend([h[:cut], h[cut:]] if cut < len(h) else [h])
    pending: list[str] = []
    marked = False
    interleave = rng.random() < 0.5
    tail = ""
    for line in t.lines:
        if t.name == "t3" and line.kind == "header":
            continue
        if line.kind != "data":
            texts = _texts(line)
            out.append(" ".join(texts) if rng.random() < 0.5 else "\n".join(texts))
            continue
        prefix = ""
        labels: list[str] = []
        for c in line.cells:
            if c.role == "group":
                chars = [c.text[:2], *list(c.text[2:])]
                if interleave:
                    out.append(chars[0])
                    pending = chars[1:]
                else:
                    out.extend(chars)
            elif c.role == "subgroup":
                cut = rng.randint(3, len(c.text) - 2)
                mode = rng.random()
                if mode < 0.4:
                    prefix = c.text[:cut] + " "
                    tail = c.text[cut:]
                elif mode < 0.7:
                    out.extend([c.text[:cut], c.text[cut:]])
                else:
                    out.extend([c.text[:3], *c.text[3:]])
            elif c.role == "label":
                labels.append(c.text)
        if pending and line.row not in ("granted",):
            out.append(pending.pop(0))
        label = prefix + " ".join(labels)
        nums = " ".join(c.text for c in line.cells if c.role == "value")
        width = 18
        while len(label) > width + 4:
            out.append(label[:width])
            label = label[width:]
        out.append((label + " " + nums).strip())
        if tail:
            out.append(tail)
            tail = ""
        if line.row in ("total", "carried_forward") or line.row is None:
            out.extend(pending)
            pending = []
        if not marked and rng.random() < 0.05:
            out.append(f"— {t.page} —")
            marked = True
    out.extend(pending)
    return "\n".join(out)


def render_pdfwrap(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """PDF-like text: wrapped long labels, vertical group labels between rows (淮安 style)."""
    tables = _std(v, rng)
    text = assemble(v, tables, emit_pdf, rng)
    text = re.sub(r"(。)", lambda m: m.group(1) + ("\n" if rng.random() < 0.1 else ""), text)
    return _utf8(
        text,
        notes=[
            "PDF text layer: long labels wrap, 三、本年度办理结果 is printed "
            "one character per line (block or interleaved between rows), "
            "(三)/(四)/(五)/(六) labels split over two lines"
        ],
    )


def render_flipbook(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Flip-book page text: label, then the row's numbers separated by spaces."""
    return _utf8(assemble(v, _std(v, rng), emit_flipbook, rng))


def render_cutoff(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """A document that stops mid-table: cells not shown are absent from gold."""
    base = rng.choice(["pipes", "cellpipe", "flipbook", "markdown"])
    tables = _std(v, rng)
    which = rng.choices([0, 1, 2], [0.2, 0.6, 0.2])[0]
    t = tables[which]
    data_idx = [i for i, line in enumerate(t.lines) if line.kind == "data"]
    i = data_idx[0] if which == 2 else rng.choice(data_idx[1:-1])
    line = t.lines[i]
    nvals = sum(1 for c in line.cells if c.role == "value")
    keep_vals = rng.randint(1, nvals - 1) if nvals > 1 and rng.random() < 0.7 else nvals
    cells: list[Cell] = []
    seen = 0
    for c in line.cells:
        if c.role == "value":
            if seen == keep_vals:
                break
            seen += 1
        cells.append(c)
    t.lines = [*t.lines[:i], replace(line, cells=cells, partial=keep_vals < nvals)]
    kept = tables[: which + 1]
    shown = shown_keys(kept)
    text = assemble(v, kept, BASE_EMITTERS[base], rng, with_outro=False)
    where = f"{t.name} row {line.row}, after {keep_vals} of {nvals} numbers"
    return _utf8(
        text,
        _ext(base),
        shown=shown,
        notes=[
            f"base style {base}; the text is cut off in {where}; the {len(shown)} cells "
            "printed before the cut are in gold, the rest are absent (not 0)"
        ],
    )


HtmlBlanks = Literal["none", "org", "all"]
_ORG_SUFFIXES = tuple(f".{c}" for c in APPLICANT_COLS[1:])


def _td(c: Cell, blanks: HtmlBlanks, empty: str) -> str:
    attrs = ""
    if c.rowspan > 1:
        attrs += f' rowspan="{c.rowspan}"'
    if c.colspan > 1:
        attrs += f' colspan="{c.colspan}"'
    text = html.escape(c.text).replace("\n", "<br />")
    if (
        c.role == "value"
        and c.text == "0"
        and c.key
        and (blanks == "all" or (blanks == "org" and c.key.endswith(_ORG_SUFFIXES)))
    ):
        text = empty
    return f"<td{attrs}>{text}</td>"


def emit_html(t: Table, blanks: HtmlBlanks, empty: str) -> str:
    """Layout 18: a real <table> with rowspan/colspan; zeros optionally left empty.

    ``blanks`` says which zeros the publisher left as empty cells: none, those
    of the legal-person columns in table 3 (as in real-shanghai-office-2019),
    or all of them.
    """
    rows = "".join("<tr>" + "".join(_td(c, blanks, empty) for c in line.cells) + "</tr>" for line in t.lines)
    return f'<table border="1" cellspacing="0"><tbody>{rows}</tbody></table>'


def render_html(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """Portal HTML: <table> markup with rowspan/colspan, empty cells meaning 0."""
    tables = _std(v, rng)
    blanks: HtmlBlanks = ("org", "all", "none")[k % 3]
    empty = rng.choice(["", "&nbsp;"])
    parts = [
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title(v)}</title></head><body>',
        f"<h1>{title(v)}</h1>",
    ]
    parts.extend(f"<p>{html.escape(p)}</p>" for p in intro(v, rng))
    for t in tables:
        parts.append(f"<p>{t.heading}</p>")
        parts.append(emit_html(t, blanks, empty))
    parts.extend(f"<p>{html.escape(p)}</p>" for p in outro(v, rng))
    parts.append("</body></html>")
    which = {"org": "zero cells of the legal-person columns of table 3", "all": "every zero cell", "none": "no cell"}[
        blanks
    ]
    return _utf8(
        "\n".join(parts),
        "html",
        notes=[
            "HTML tables with rowspan/colspan like real-shanghai-office-2019.html; "
            f"{which} printed as {empty or 'an empty'} <td> (gold 0)"
        ],
    )


def render_encoding(v: ReportValues, rng: random.Random, k: int) -> Rendered:
    """The same text written as GB18030 (simplified) or Big5 (traditional) bytes."""
    base = rng.choice(["pipes", "cellpipe", "flipbook", "markdown"])
    text = assemble(v, _std(v, rng), BASE_EMITTERS[base], rng)
    if k % 2 == 0:
        enc = "gb18030"
    else:
        enc = "big5"
        text = to_traditional(text, rng, zixun=False, gloss=0)
    body = text.encode(enc)  # strict: a character the codec lacks is a generator bug
    return Rendered(
        body,
        _ext(base),
        [f"base style {base}; file encoded in {enc}" + (" (traditional characters)" if enc == "big5" else "")],
        None,
        enc,
    )


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """A named layout: its renderer, an optional value tweak, and mistake policy.

    ``mistakes`` is False where an injected publisher's mistake would make the
    document unreadable rather than merely inconsistent (run-together digits
    and dropped zeros are split with the identities; a cut-off document might
    hide the wrong cell).  ``nonzero`` asks for a table 3 that is not all zero,
    where an all-zero table would make the layout's difficulty moot (a missing
    label or a dropped cell is trivially 0 there).  ``templates`` restricts a
    layout to the template(s) its pattern exists in.  The tweak gets the
    layout's document number ``k`` so a variant can be pinned to it.
    """

    name: str
    render: Callable[[ReportValues, random.Random, int], Rendered]
    tweak: Callable[[ReportValues, random.Random, int], None] | None = None
    mistakes: bool = True
    nonzero: bool = False
    templates: tuple[Template, ...] | None = None  # None: both, alternating

    @property
    def description(self) -> str:
        """First line of the renderer's docstring."""
        return (self.render.__doc__ or "").strip().splitlines()[0]


BASE_LAYOUTS: tuple[Layout, ...] = (
    Layout("pipes", render_pipes),
    Layout("cellpipe", render_cellpipe),
    Layout("barline", render_barline),
    Layout("paragraphs", render_paragraphs),
    Layout("markdown", render_markdown),
    Layout("runtogether", render_runtogether, tweak_runtogether, mistakes=False, nonzero=True),
    Layout("dropped", render_dropped, mistakes=False, nonzero=True),
    Layout("cutheaders", render_cutheaders),
    Layout("labels", render_labels, nonzero=True),
    Layout("extrarows", render_extrarows, nonzero=True),
    Layout("traditional", render_traditional),
    Layout("fullwidth", render_fullwidth),
    Layout("numformats", render_numformats, tweak_numformats),
    Layout("blanks", render_blanks),
    Layout("pdfwrap", render_pdfwrap, nonzero=True),
    Layout("flipbook", render_flipbook),
    Layout("cutoff", render_cutoff, mistakes=False, nonzero=True),
    Layout("html", render_html),
    Layout("encoding", render_encoding),
)
