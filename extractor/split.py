"""A file that holds several reports (a 汇编 of every department's report) → one document per report.

Each report of a compilation prints the mandated tables again, so `printed_copies` finds one
copy per report (the most distinctive table's anchor). A report begins before its tables: its
title line (agency and year, which `meta` reads from a document's first lines), the 一、总体情况
prose, then its first table's heading. So the cut before copy k is found from that copy back:

1. the first heading (else anchor) of a table printed before the counted one (table 2's
   主动公开政府信息情况 / 第二十条), searched after copy k-1's anchor: copy k's first table;
2. the earliest title line (a short line naming a 年度报告) between the end of copy k-1's
   tables and that heading, with the publisher/date lines printed right above it; else the
   总体情况 line; else the heading's own line.

Parts are slices of the file's text (and of its same-length normalised text), so every span a
reader gives points into the part, and `Origin` says where the part sits in the file. A file with
one report (or none found) is returned unchanged, as the only element.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from itertools import pairwise
from typing import Any

from extractor.ingest import Origin, SourceDocument
from extractor.readers.layout.locate import Searchable, first_found, printed_copies
from extractor.readers.layout.meta import detect_template, read_year
from schemas import DISCLOSURE_REPORT, ReportType, TemplateSpec

# A report's title line: short, names a (年度)报告, and is no sentence.
_TITLE_WORDS = re.compile(r"(?:公开|公開)[^\n]{0,12}(?:年度)?(?:报告|報告)")
_TITLE_MAX = 80
_OVERVIEW = ("总体情况", "總體情況", "总体情況")
# Lines a portal or a PDF prints just above a title: who published it and when.
_META_LINE = re.compile(r"^\s*(?:发布机构|发文机关|来源|索引号|发布日期|成文日期|发布时间|主题分类|文号)\s*[:：]")
_META_LINES_MAX = 6


def split(doc: SourceDocument, report: ReportType = DISCLOSURE_REPORT) -> list[SourceDocument]:
    """One document per report the file prints; `[doc]` itself when it prints one (or none)."""
    if doc.origin is not None:
        return [doc]
    starts = report_starts(doc.normalized, report)
    if len(starts) < 2:
        return [doc]
    bounds = pairwise([*starts, len(doc.text)])
    return [_part(doc, index, len(starts), start, end) for index, (start, end) in enumerate(bounds, 1)]


def report_starts(text: str, report: ReportType = DISCLOSURE_REPORT) -> list[int]:
    """Where each report of the (normalised) text begins; the first always at 0. `[0]` for one report."""
    template, _note = detect_template(report, text, read_year(text))
    if template is None:
        return [0]
    searchable = Searchable(text)
    copies = printed_copies(template, searchable)
    starts = [0]
    for previous, here in pairwise(copies):
        cut = _cut(template, searchable, previous, here)
        if cut is None or cut <= starts[-1]:
            return [0]  # a boundary not found: reading the file whole (with its note) beats a wrong cut
        starts.append(cut)
    return starts


def _first_table_phrases(template: TemplateSpec, counted: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Headings and anchors of the tables printed before the counted one (table 2's, in a disclosure report)."""
    earlier = template.sections[:counted]
    headings = tuple(h for s in earlier for h in s.location.headings)
    anchors = tuple(a for s in earlier for a in s.location.anchors)
    return headings, anchors


def _counted_index(template: TemplateSpec) -> int:
    """Index (in printed order) of the table `printed_copies` counts on: the first of `locate_order` with anchors."""
    keys = [s.key for s in template.sections]
    for key in template.locate_order:
        if template.section(key).location.anchors:
            return keys.index(key)
    return 0


def _cut(template: TemplateSpec, text: Searchable, previous: int, here: int) -> int | None:
    """Where the report whose counted table is anchored at `here` begins (the one before is at `previous`)."""
    counted = _counted_index(template)
    headings, anchors = _first_table_phrases(template, counted)
    first_table = first_found(text, headings, previous, here)
    if first_table is None:
        first_table = first_found(text, anchors, previous, here)
    if first_table is None:
        return None
    # The previous report's own tables end no earlier than its later tables' headings.
    later = tuple(
        h for s in template.sections[counted + 1 :] for h in (*s.location.headings, *s.location.loose_headings)
    )
    floor = first_found(text, later, previous, first_table) if later else None
    floor = previous if floor is None else floor
    plain = text.text
    title = _title_line(plain, floor, first_table)
    if title is not None:
        return _with_meta_lines(plain, title)
    overview = first_found(text, _OVERVIEW, floor, first_table)
    return _line_start(plain, overview if overview is not None else first_table)


def _line_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def _title_line(text: str, start: int, end: int) -> int | None:
    """The start of the first title-like line wholly inside [start, end)."""
    pos = _line_start(text, start)
    if pos < start:
        pos = text.find("\n", start, end) + 1 or end
    while pos < end:
        stop = text.find("\n", pos, end)
        stop = end if stop < 0 else stop
        line = text[pos:stop].strip()
        if line and len(line) <= _TITLE_MAX and not line.endswith(("。", "；", ";")) and _TITLE_WORDS.search(line):
            return pos
        pos = stop + 1
    return None


def _with_meta_lines(text: str, title: int) -> int:
    """The title's start moved up over the publisher and date lines printed right above it."""
    start = title
    for _ in range(_META_LINES_MAX):
        if start == 0:
            break
        above = _line_start(text, start - 1)
        line = text[above : start - 1]
        if not line.strip():
            break
        if not _META_LINE.match(line):
            break
        start = above
    return start


def _part(doc: SourceDocument, index: int, count: int, start: int, end: int) -> SourceDocument:
    text = doc.text[start:end]
    identity = f"{doc.sha256}#{index}/{count}\n{text}".encode()
    return replace(
        doc,
        name=f"{doc.name}#{index}",
        sha256=hashlib.sha256(identity).hexdigest(),
        size=len(text.encode("utf-8")),
        text=text,
        normalized=doc.normalized[start:end],
        replaced=tuple((max(a, start) - start, min(b, end) - start) for a, b in doc.replaced if a < end and b > start),
        truncated=doc.truncated and end == len(doc.text),
        origin=Origin(doc.name, doc.sha256, index, count, start, end),
        **_part_geometry(doc, start, end),
    )


def _part_geometry(doc: SourceDocument, start: int, end: int) -> dict[str, Any]:
    """A paged file's boxes that fall in the part, moved to point into the part's text, and only the
    pages they stand on (numbered as in the file): a part stores its own pages, not the whole file's."""
    boxes = tuple(
        replace(box, start=max(box.start, start) - start, end=min(box.end, end) - start)
        for box in doc.boxes
        if box.start < end and box.end > start
    )
    numbers = {box.page for box in boxes}
    return {"boxes": boxes, "pages": tuple(page for page in doc.pages if page.number in numbers)}


def describe(name: str, parts: list[SourceDocument]) -> str:
    """One line for a door to print: `汇编.txt: 20 reports → 20 documents`."""
    return f"{name}: {len(parts)} reports → {len(parts)} documents"
