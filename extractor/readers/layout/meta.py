"""Report year, agency and template version, read from the title, the byline and the tables' own words."""

from __future__ import annotations

import re

from extractor.readers.layout.labels import compact
from schemas import ReportType, TemplateSpec

_TITLE = re.compile(
    r"(?P<agency>[\u4e00-\u9fff()（）]{2,40}?)\s*[(（]?\s*(?P<year>20\d{2})\s*年度?\s*[)）]?\s*"
    r"(?:政府信息公开|政府资讯公开|政务公开|信息公开|资讯公开)[\s\S]{0,14}?(?:年度)?报告"
)
_YEAR_FIRST = re.compile(
    r"(?P<year>20\d{2})\s*年度?\s*(?P<agency>[\u4e00-\u9fff()（）]{2,40}?)\s*(?:政府信息公开|政府资讯公开|信息公开|资讯公开)[\s\S]{0,14}?(?:年度)?报告"
)
_PERIOD = re.compile(r"(20\d{2})\s*年\s*1\s*月\s*1\s*日")
_PUBLISHER = re.compile(r"(?:发布机构|发文机关|来源)[ \t]*[:：][ \t]*([\u4e00-\u9fff()（）]{2,40})")
_AGENCY_END = re.compile(r"(人民政府|办公厅|办公室|委员会|管委会|办事处|局|厅|委|院|署|中心|政府|区|县|市|镇|乡|街道)$")
_YEAR_ANY = re.compile(r"(20\d{2})\s*年")
# titles and metadata lines sit at the top; scanning further only finds prose
_HEAD = 1200


def read_year(text: str) -> int | None:
    head = text[:_HEAD]
    for pattern in (_TITLE, _YEAR_FIRST):
        match = pattern.search(head)
        if match:
            return int(match.group("year"))
    match = _PERIOD.search(text[:6000])
    if match:
        return int(match.group(1))
    years = [int(y) for y in _YEAR_ANY.findall(head)]
    plausible = [y for y in years if 2008 <= y <= 2100]
    return min(plausible) if plausible else None


_GENERIC = {"政府", "人民政府", "本机关", "我单位", "本单位", "时间", "年度"}


def _clean_agency(name: str) -> str | None:
    """The name without labels around it; a bare '政府' is no agency (it is the title's 政府信息公开)."""
    name = name.strip("()（） ")
    for junk in ("标题", "名称", "关于", "正文"):
        if name.startswith(junk):
            name = name[len(junk) :]
    return name if len(name) >= 3 and name not in _GENERIC else None


def read_agency(text: str, normalized: str | None = None) -> str | None:
    """The publishing agency from the metadata line, the title, or the signature at the end.

    Patterns run on the normalised text; the name is returned as the document prints it.
    """
    flat = normalized if normalized is not None else text
    head = flat[:_HEAD]
    for pattern in (_TITLE, _YEAR_FIRST):
        match = pattern.search(head)
        if match and _AGENCY_END.search(match.group("agency")):
            agency = _clean_agency(text[match.start("agency") : match.end("agency")])
            if agency:
                return agency
    match = _PUBLISHER.search(head)
    if match and _AGENCY_END.search(match.group(1)):
        return _clean_agency(text[match.start(1) : match.end(1)])
    tail_start = max(0, len(flat) - 600)
    offset = tail_start
    for line in flat[tail_start:].split("\n"):
        stripped = line.strip()
        if 2 <= len(stripped) <= 30 and _AGENCY_END.search(stripped) and not re.search(r"\d", stripped):
            start = offset + line.index(stripped)
            candidate = text[start : start + len(stripped)]
        else:
            candidate = None
        offset += len(line) + 1
        if candidate:
            signature = candidate
            break
    else:
        signature = None
    if signature:
        return signature
    return None


def _main_table_markers(template: TemplateSpec, flat: str) -> list[str]:
    """Markers printed in `flat` that are row words of the template's most distinctive table (table 3's
    (六) sub-rows in 2021): a report keeps that table's form even when table 2 mixes versions."""
    key = template.locate_order[0] if template.locate_order else template.sections[0].key
    words = [alias for row in template.section(key).rows for alias in row.aliases]
    return [m for m in template.markers if m in flat and any(m in alias or alias in m for alias in words)]


def detect_template(report: ReportType, text: str, year: int | None) -> tuple[TemplateSpec | None, str]:
    """The template whose distinctive labels the text prints most; the year breaks ties.

    A report that prints some labels of each version and neither form in full (a 2021 report that
    kept the 2019 columns in one block of table 2) is a hybrid: its year says which form it follows.
    """
    # table words count where tables are: lines that end no sentence (prose names rows too)
    tables = compact("\n".join(line for line in text.split("\n") if "。" not in line))
    scores = [(sum(1 for m in t.markers if m in tables), t) for t in report.templates]
    if not any(score for score, _ in scores):  # a page whose lines all run together: read it whole
        flat = compact(text)
        scores = [(sum(1 for m in t.markers if m in flat), t) for t in report.templates]
    main = [t for t in report.templates if _main_table_markers(t, tables)]
    if len(main) == 1 and sum(1 for score, _ in scores if score) > 1:
        return main[0], (
            f"the main table's rows are of the {main[0].version} form; another version's column words are printed too"
        )
    scores.sort(key=lambda pair: pair[0], reverse=True)
    best_score, best = scores[0]
    hybrid = len(scores) > 1 and scores[1][0] > 0 and best_score * 2 < len(best.markers)
    if hybrid and year is not None:
        for template in report.templates:
            if template.years[0] <= year <= template.years[1]:
                note = f"labels of more than one template version printed; template chosen by the report year {year}"
                return template, note
    if best_score == 0 or (len(scores) > 1 and scores[1][0] == best_score):
        if year is not None:
            for template in report.templates:
                if template.years[0] <= year <= template.years[1]:
                    return template, f"template chosen by the report year {year}"
        return (best if best_score else None), "template markers ambiguous"
    return best, ""
