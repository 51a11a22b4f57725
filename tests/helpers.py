"""Shared test helpers: where the shared benchmark lives, and a small text-report builder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from evals.shared import shared_real
from extractor.model import Extraction
from schemas import TEMPLATE_2021

ROOT = Path(__file__).resolve().parents[1]
SHARED_REAL = shared_real()
DEV_DATA = ROOT / "evals" / "data"

T3_LABELS_2021 = [
    "一、本年新收政府信息公开申请数量",
    "二、上年结转政府信息公开申请数量",
    "(一)予以公开",
    "(二)部分公开(区分处理的,只计这一情形,不计其他情形)",
    "1.属于国家秘密",
    "2.其他法律行政法规禁止公开",
    "3.危及“三安全一稳定”",
    "4.保护第三方合法权益",
    "5.属于三类内部事务信息",
    "6.属于四类过程性信息",
    "7.属于行政执法案卷",
    "8.属于行政查询事项",
    "1.本机关不掌握相关政府信息",
    "2.没有现成信息需要另行制作",
    "3.补正后申请内容仍不明确",
    "1.信访举报投诉类申请",
    "2.重复申请",
    "3.要求提供公开出版物",
    "4.无正当理由大量反复申请",
    "5.要求行政机关确认或重新出具已获取信息",
    "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "3.其他",
    "(七)总计",
    "四、结转下年度继续办理",
]
T3_KEYS_2021 = [row.key for row in TEMPLATE_2021.section("t3").rows_used()]  # the mandated form
T3_COLS = ["natural", "commercial", "research", "social", "legal", "other_org", "total"]
T4_KEYS = [
    f"t4.{g}.{c}"
    for g in ("review", "suit_direct", "suit_after_review")
    for c in ("upheld", "corrected", "other", "pending", "total")
]


def sample_t3(new: int = 5, carried: int = 1) -> dict[str, list[int]]:
    """A consistent 2021 table 3: natural persons only, `new` granted, `carried` carried forward."""
    rows = {key: [0] * 7 for key in T3_KEYS_2021}
    rows["new_received"] = [new, 0, 0, 0, 0, 0, new]
    rows["carried_over"] = [carried, 0, 0, 0, 0, 0, carried]
    rows["granted"] = [new - 1, 0, 0, 0, 0, 0, new - 1]
    rows["unable_not_held"] = [1, 0, 0, 0, 0, 0, 1]
    rows["total"] = [new, 0, 0, 0, 0, 0, new]
    rows["carried_forward"] = [carried, 0, 0, 0, 0, 0, carried]
    return rows


def report_2021(table3_lines: list[str], table2: str | None = None, table4: str | None = None) -> str:
    """A minimal 2021 report around the given table-3 lines."""
    t2 = table2 or (
        "第二十条第(一)项\n信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数\n规章 | 0 | 0 | 0\n"
        "行政规范性文件 | 3 | 1 | 20\n第二十条第(五)项\n信息内容 | 本年处理决定数量\n行政许可 | 120\n"
        "第二十条第(六)项\n信息内容 | 本年处理决定数量\n行政处罚 | 7\n行政强制 | 0\n第二十条第(八)项\n"
        "信息内容 | 本年收费金额(单位:万元)\n行政事业性收费 | 0\n"
    )
    t4 = table4 or (
        "行政复议 | 行政诉讼\n结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 未经复议直接起诉 | 复议后起诉\n"
        "1 | 0 | 0 | 0 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0\n"
    )
    return (
        "某县人民政府2022年政府信息公开工作年度报告\n一、总体情况\n本年度政府信息公开工作有序推进。\n"
        "二、主动公开政府信息情况\n"
        + t2
        + "三、收到和处理政府信息公开申请情况\n(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)\n"
        "申请人情况 | 自然人 | 法人或其他组织 | 总计\n商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他\n"
        + "\n".join(table3_lines)
        + "\n四、政府信息公开行政复议、行政诉讼情况\n"
        + t4
        + "五、存在的主要问题及改进情况\n无。\n六、其他需要报告的事项\n无。\n"
    )


def pipe_rows(rows: Mapping[str, Sequence[int | str]]) -> list[str]:
    """Table 3 of the 2021 form as `label | cells |` lines, one per mandated row."""
    return [
        f"{label} | " + " | ".join(str(v) for v in rows[key]) + " |"
        for key, label in zip(T3_KEYS_2021, T3_LABELS_2021, strict=True)
    ]


def read_page(text: str) -> Extraction:
    """Read a page of text the way a user's upload is read."""
    from extractor.ingest import load_bytes
    from extractor.pipeline import extract

    return extract(load_bytes(text.encode("utf-8"), "page.txt"))
