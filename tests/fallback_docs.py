"""Synthetic reports whose tables the rules reader cannot place, with their gold: the LLM fallback's cases.

Table 2 lost its header rows (the 第二十条 block titles and the column titles, printed as an image
on some pages): its row labels and cells are printed one a line under its heading, a note closes
it, and with no header word in sight the locator takes the region for prose. Table 3 is printed on one line with
the sentence that introduces it, as a page copied from a web site prints it: a row label on a line
that ends a sentence is prose to the locator, so table 3 is placed only by its first row confirmed
by the second, and `cut=1` ends the document after the first row, as an excerpt does (the rows
after the cut are not in gold, and a value for them is invented). The model, shown the text with
the sentences left out, still finds every row by its printed label. A narrative paragraph carries
numbers that are no cells (`PROSE_NUMBERS`).
"""

from __future__ import annotations

import json
from pathlib import Path

T2 = {
    "t2.rules.issued": 0, "t2.rules.repealed": 0, "t2.rules.in_force": 3,
    "t2.normative.issued": 4, "t2.normative.repealed": 2, "t2.normative.in_force": 17,
    "t2.licensing.decisions": 2981, "t2.penalty.decisions": 56, "t2.coercion.decisions": 7,
    "t2.fees.amount": 12.5,
}  # fmt: skip

# (row key, printed label, natural, commercial, research, social, legal, other_org, total): the sums hold
T3_ROWS = [
    ("new_received", "一、本年新收政府信息公开申请数量", 10, 2, 0, 0, 0, 1, 13),
    ("carried_over", "二、上年结转政府信息公开申请数量", 1, 0, 0, 0, 0, 0, 1),
    ("granted", "(一)予以公开", 6, 1, 0, 0, 0, 0, 7),
    ("partial", "(二)部分公开(区分处理的,只计这一情形,不计其他情形)", 2, 0, 0, 0, 0, 1, 3),
    ("denied_state_secret", "1.属于国家秘密", 0, 0, 0, 0, 0, 0, 0),
    ("denied_law_forbidden", "2.其他法律行政法规禁止公开", 0, 0, 0, 0, 0, 0, 0),
    ("denied_three_safety", "3.危及“三安全一稳定”", 0, 0, 0, 0, 0, 0, 0),
    ("denied_third_party", "4.保护第三方合法权益", 0, 0, 0, 0, 0, 0, 0),
    ("denied_internal", "5.属于三类内部事务信息", 0, 0, 0, 0, 0, 0, 0),
    ("denied_process", "6.属于四类过程性信息", 1, 0, 0, 0, 0, 0, 1),
    ("denied_enforcement", "7.属于行政执法案卷", 0, 0, 0, 0, 0, 0, 0),
    ("denied_query", "8.属于行政查询事项", 0, 0, 0, 0, 0, 0, 0),
    ("unable_not_held", "1.本机关不掌握相关政府信息", 1, 1, 0, 0, 0, 0, 2),
    ("unable_need_creation", "2.没有现成信息需要另行制作", 0, 0, 0, 0, 0, 0, 0),
    ("unable_unclear", "3.补正后申请内容仍不明确", 0, 0, 0, 0, 0, 0, 0),
    ("rejected_complaint", "1.信访举报投诉类申请", 0, 0, 0, 0, 0, 0, 0),
    ("rejected_duplicate", "2.重复申请", 0, 0, 0, 0, 0, 0, 0),
    ("rejected_publication", "3.要求提供公开出版物", 0, 0, 0, 0, 0, 0, 0),
    ("rejected_excessive", "4.无正当理由大量反复申请", 0, 0, 0, 0, 0, 0, 0),
    ("rejected_confirm", "5.要求行政机关确认或重新出具已获取信息", 0, 0, 0, 0, 0, 0, 0),
    ("other_overdue_correction", "1.申请人无正当理由逾期不补正", 0, 0, 0, 0, 0, 0, 0),
    ("other_overdue_fee", "2.申请人逾期未按收费通知要求缴纳费用", 0, 0, 0, 0, 0, 0, 0),
    ("other_misc", "3.其他", 0, 0, 0, 0, 0, 0, 0),
    ("total", "(七)总计", 10, 2, 0, 0, 0, 1, 13),
    ("carried_forward", "四、结转下年度继续办理", 1, 0, 0, 0, 0, 0, 1),
]  # fmt: skip
COLUMNS = ("natural", "commercial", "research", "social", "legal", "other_org", "total")
# headings printed before some rows of table 3
GROUPS = {
    "granted": "三、本年度办理结果", "denied_state_secret": "(三)不予公开", "unable_not_held": "(四)无法提供",
    "rejected_complaint": "(五)不予处理", "other_overdue_correction": "(六)其他处理",
}  # fmt: skip

#: Numbers printed only in the narrative paragraph: never a cell's value.
PROSE_NUMBERS = (423, 1280, 15, 36)

INTRO = """2025年度示范区管理委员会政府信息公开工作年度报告
发布日期:2026-01-20
按照《中华人民共和国政府信息公开条例》有关规定,特向社会公布本年度报告。报告由总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议、行政诉讼情况、存在的主要问题及改进情况组成。
一、总体情况
2025年,本单位全年处理申请数量423件,主动公开政府信息1280条,行政许可办理量同比增加15件,组织培训36次,信息公开工作质效显著提升。
"""


def _t2_text() -> str:
    """Table 2 one cell a line, its header rows lost: no 第二十条 block title, no column title."""
    v = T2
    lines = ["二、主动公开政府信息情况"]
    lines += ["规章", str(v["t2.rules.issued"]), str(v["t2.rules.repealed"]), str(v["t2.rules.in_force"])]
    lines += ["行政规范性文件", str(v["t2.normative.issued"]), str(v["t2.normative.repealed"])]
    lines += [str(v["t2.normative.in_force"])]
    lines += ["行政许可", str(v["t2.licensing.decisions"])]
    lines += ["行政处罚", str(v["t2.penalty.decisions"]), "行政强制", str(v["t2.coercion.decisions"])]
    lines += ["行政事业性收费", str(v["t2.fees.amount"])]
    lines += ["注:以上为本单位主动公开政府信息的情况。"]  # a sentence under the rows: they do not run into table 3
    return "\n".join(lines) + "\n"


def _t3_text(rows: list[tuple[str, str, int, int, int, int, int, int, int]]) -> str:
    """Table 3 on one line with the sentence that introduces it, as a page copied from a web site prints it."""
    parts = [
        "三、收到和处理政府信息公开申请情况 本年度收到和处理政府信息公开申请的具体情况如下表。",
        "(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)",
        "申请人情况 自然人 法人或其他组织 总计 商业企业 科研机构 社会公益组织 法律服务机构 其他",
    ]
    for key, label, *cells in rows:
        if key in GROUPS:
            parts.append(GROUPS[key])
        parts.append(f"{label} {' '.join(str(c) for c in cells)}")
    return " ".join(parts) + "\n"


def build(cut: int | None = None) -> tuple[str, dict[str, float]]:
    """The document's text and its gold fields; `cut`: how many rows of table 3 are printed."""
    rows = T3_ROWS if cut is None else T3_ROWS[:cut]
    text = INTRO + _t2_text() + _t3_text(rows)
    if cut is None:
        text += "五、存在的主要问题及改进情况\n本年度工作仍有不足,下一步将继续加强。\n"
    gold: dict[str, float] = dict(T2)
    for key, _label, *cells in rows:
        gold.update({f"t3.{key}.{col}": value for col, value in zip(COLUMNS, cells, strict=True)})
    return text, gold


def write(folder: Path, name: str, cut: int | None = None) -> Path:
    """Write NAME.txt and NAME.gold.json (FIELDS.md) into `folder`; returns the document's path."""
    text, gold = build(cut)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    record = {"doc": name, "template": "2021", "year": 2025, "agency": "示范区管理委员会", "fields": gold}
    (folder / f"{name}.gold.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return path
