"""Find where each mandated table sits in the text, skipping prose that repeats its words.

Reports name their tables in the introduction too ('报告全文包括…主动公开政府信息情况…'), so a
table is anchored on its first data row and its heading is the last one printed before it. What
to look for is the template's data (`schemas.TableLocation`); this module only knows how to look.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from extractor.readers.layout.labels import compact, find_labels
from schemas import SectionSpec, TemplateSpec

_GAPS = re.compile(r"[\s|]+")
# a line of cells only: numbers, blanks and separators ('0 0 3 | 0 |', '- / 0')
_CELLS_ONLY = re.compile(r"[\s|｜/\-—–+.,0-9]*")
_GROUP_CHARS = 8  # a group label printed on a row's line: '无法提供', '第二十条第八项'
_BRACKETED = re.compile(r"[(（][^()（）]*[)）]")


class Searchable:
    """A text that can be searched for phrases split by spaces, line breaks or table pipes.

    Most phrases are printed whole and found by str.find. Only when that fails is a compact
    copy (no whitespace, no pipes) searched; the map back to text offsets is built only when
    the compact copy does hold the phrase, which keeps the common case fast.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._flat: str | None = None
        self._removed: list[tuple[int, int]] | None = None  # (flat offset, chars removed before it)

    @property
    def flat(self) -> str:
        if self._flat is None:
            self._flat = _GAPS.sub("", self.text)
        return self._flat

    def _map(self) -> list[tuple[int, int]]:
        if self._removed is None:
            removed, total = [(0, 0)], 0
            for gap in _GAPS.finditer(self.text):
                total += gap.end() - gap.start()
                removed.append((gap.end() - total, total))
            self._removed = removed
        return self._removed

    def _to_text(self, flat_pos: int) -> int:
        table = self._map()
        index = bisect_right(table, (flat_pos, float("inf"))) - 1
        return flat_pos + table[index][1]

    def _to_flat(self, text_pos: int) -> int:
        table = self._map()
        best = 0
        for flat_pos, removed in table:
            if flat_pos + removed > text_pos:
                break
            best = flat_pos + (text_pos - flat_pos - removed)
        return max(0, min(best, len(self.flat)))

    def find_all(self, phrase: str, start: int = 0, end: int | None = None) -> list[int]:
        end = len(self.text) if end is None else end
        found = []
        pos = self.text.find(phrase, start, end)
        while pos >= 0:
            found.append(pos)
            pos = self.text.find(phrase, pos + 1, end)
        if found or phrase not in self.flat:
            return found
        flat_start, flat_end = self._to_flat(start), self._to_flat(end)
        pos = self.flat.find(phrase, flat_start, flat_end)
        while pos >= 0:
            found.append(self._to_text(pos))
            pos = self.flat.find(phrase, pos + 1, flat_end)
        return found


def find_all(text: str | Searchable, phrase: str, start: int = 0, end: int | None = None) -> list[int]:
    """Positions of a phrase in the text, even where spaces, line breaks or pipes split it."""
    searchable = text if isinstance(text, Searchable) else Searchable(text)
    return searchable.find_all(phrase, start, end)


def first_found(text: Searchable, phrases: tuple[str, ...], start: int = 0, end: int | None = None) -> int | None:
    """Where the first of `phrases` is printed in [start, end), if any (split.py cuts compilations with it)."""
    found = [p for phrase in phrases for p in find_all(text, phrase, start, end)]
    return min(found) if found else None


def _all(text: Searchable, phrases: tuple[str, ...], start: int, end: int) -> list[int]:
    return sorted(p for phrase in phrases for p in find_all(text, phrase, start, end))


def _in_sentence(plain: str, position: int) -> bool:
    """A row word inside a sentence of prose ('无“予以公开”案例,…0件。'): the line it is on ends a
    sentence. A table's rows are cells, never sentences, however the page lost its layout."""
    line_end = plain.find("\n", position)
    line = plain[plain.rfind("\n", 0, position) + 1 : line_end if line_end >= 0 else len(plain)]
    return "。" in line


def _lone_row(plain: str, position: int) -> bool:
    return _row_follows(plain, position) and not _in_sentence(plain, position)


def _last(text: Searchable, phrases: tuple[str, ...], start: int, end: int) -> int | None:
    found = [p for phrase in phrases for p in find_all(text, phrase, start, end)]
    return max(found) if found else None


_TABLE_CELL = re.compile(r"[|｜]|\d(?![\d.,]*\s*[件条个次项%])")


def _row_follows(plain: str, position: int) -> bool:
    """A table row, not a sentence: a cell or a number that is not a count of 件/条 follows soon."""
    window = re.split(r"[。;；]", plain[position : position + 60], maxsplit=1)[0]
    return bool(_TABLE_CELL.search(window))


@dataclass(frozen=True)
class _Found:
    begin: int
    anchor: int | None  # the first data row, when the table was anchored on it


def _anchor(text: Searchable, section: SectionSpec, start: int, end: int) -> int | None:
    where = section.location
    for pos in sorted(p for phrase in where.anchors for p in find_all(text, phrase, start, end)):
        confirmed = not where.confirm or first_found(text, where.confirm, pos, min(end, pos + where.confirm_within))
        if confirmed is not None and (not where.anchor_is_row or _row_follows(text.text, pos)):
            return pos
    return None


def printed_copies(template: TemplateSpec, plain: str | Searchable) -> list[int]:
    """Where each report the text prints has its most distinctive table: more than one position
    means a compilation (a 汇编) or a report printed twice (`extractor.split` cuts it in parts).

    Counted on the most distinctive anchored table (the first of `locate_order` with anchors): a
    copy is a confirmed anchor past the previous copy's confirming row, with a heading or anchor of
    a table printed before it (table 2's, in a disclosure report) in between, since each report of
    a compilation prints its own earlier tables again while one report's summary table does not.
    Returns each copy's anchor offset, in printed order (empty when the template has no anchors).
    """
    keys = [s.key for s in template.sections]
    section = next((s for key in template.locate_order if (s := template.section(key)).location.anchors), None)
    if section is None:
        return []
    earlier = tuple(
        phrase
        for s in template.sections[: keys.index(section.key)]
        for phrase in (*s.location.headings, *s.location.anchors)
    )
    text = plain if isinstance(plain, Searchable) else Searchable(plain)
    where, size = section.location, len(text.text)
    start, copies = 0, list[int]()
    while (pos := _anchor(text, section, start, size)) is not None:
        if not copies or not earlier or first_found(text, earlier, copies[-1], pos) is not None:
            copies.append(pos)
        confirmed = first_found(text, where.confirm, pos, pos + where.confirm_within) if where.confirm else None
        start = (confirmed if confirmed is not None else pos) + 1
    return copies


def _header_before(text: Searchable, section: SectionSpec, start: int, anchor: int) -> int | None:
    """A column header of the table printed just before its first anchor, no heading above it: a page
    that starts inside the table (one page of a flip-book), whose first rows belong to it too."""
    confirm = section.location.confirm
    return next((p for p in _all(text, confirm, start, anchor) if not _in_sentence(text.text, p)), None)


def _rows_before(plain: str, section: SectionSpec, start: int, label: int) -> int:
    """Where the table's rows begin, up from the row it was found by (no heading above it): a page
    that starts inside the table (one page of a flip-book) prints earlier rows before that one.
    Lines of this table's row labels or of cells only are taken; prose or anything else ends it."""
    line_of_label = max(start, plain.rfind("\n", start, label) + 1)
    begin = line_of_label
    while begin > start:
        line_start = max(start, plain.rfind("\n", start, begin - 1) + 1)
        line = plain[line_start : begin - 1]
        if not (_row_line(section, line) or _CELLS_ONLY.fullmatch(line)):
            break
        begin = line_start
    return label if begin == line_of_label else begin  # no row above: the table starts where it was found


def _row_line(section: SectionSpec, line: str) -> bool:
    """A line that is a row's label (with its cells, or a group label before it), not prose naming a row:
    no sentence end, and no longer than the row's own label and a group label ('(四)无法提供')."""
    if "。" in line:
        return False
    words = compact(_BRACKETED.sub("", line))  # numbering '(四)' and instructions '(区分处理的,…)' aside
    return any(len(words) <= len(compact(hit.row.label)) + _GROUP_CHARS for hit in find_labels(section, words))


def _find(text: Searchable, section: SectionSpec, start: int, end: int, after_anchor: bool) -> _Found | None:
    """Where one table begins within [start, end); `after_anchor`: the previous table was anchored."""
    where = section.location
    anchor = _anchor(text, section, start, end) if where.anchors else None
    if anchor is not None:
        heading = _last(text, where.headings, max(0, anchor - where.heading_lookback), anchor)
        if heading is None and not where.anchor_is_row:  # maybe a page that starts inside the table
            header = _header_before(text, section, max(start, anchor - where.confirm_within), anchor)
            heading = _rows_before(text.text, section, start, header if header is not None else anchor)
        return _Found(heading if heading is not None else anchor, anchor)
    if where.fallback:
        label = next((p for p in _all(text, where.fallback, start, end) if not _in_sentence(text.text, p)), None)
        if label is None:
            # its first row printed as a row, the page cut (or lost) before the confirming one
            label = next((p for p in _all(text, where.anchors, start, end) if _lone_row(text.text, p)), None)
        if label is None:
            return None
        heading = _last(text, where.headings, start, label)
        return _Found(heading if heading is not None else _rows_before(text.text, section, start, label), None)
    if where.anchors:  # a header anchor not confirmed: the last heading, else the bare anchor phrase
        begin = _last(text, where.headings, start, end)
        begin = begin if begin is not None else first_found(text, where.anchors, start, end)
        return _Found(begin if begin is not None else start, None)
    # a table known only by its heading: the heading printed as one, not named in a sentence
    begin = next((p for p in _all(text, where.headings, start, end) if not _in_sentence(text.text, p)), None)
    if begin is None and after_anchor:
        begin = first_found(text, where.loose_headings, start, end)
    return _Found(begin, None) if begin is not None else None


def locate(template: TemplateSpec, plain: str | Searchable) -> dict[str, tuple[int, int] | None]:
    """Character range of each of the template's tables in the normalised text (None where absent).

    Tables are located in the template's `locate_order`, the most distinctive first; each one is
    searched between the tables already found around it (in printed order), so a later table's
    words in an earlier table's prose do not move it.
    """
    text = plain if isinstance(plain, Searchable) else Searchable(plain)
    size = len(text.text)
    order = [s.key for s in template.sections]
    found: dict[str, _Found | None] = {}
    for key in template.locate_order or order:
        index = order.index(key)
        before = [f for k in reversed(order[:index]) if (f := found.get(k)) is not None]
        after = [f for k in order[index + 1 :] if (f := found.get(k)) is not None]
        anchored = before[0].anchor if before else None
        start = anchored if anchored is not None else 0
        end = after[0].begin if after else size
        found[key] = _find(text, template.section(key), start, end, anchored is not None)
    regions: dict[str, tuple[int, int] | None] = {}
    for index, key in enumerate(order):
        here = found.get(key)
        if here is None:
            regions[key] = None
            continue
        where = template.section(key).location
        later = [f.begin for k in order[index + 1 :] if (f := found.get(k)) is not None and f.begin > here.begin]
        end = later[0] if later else size
        if where.ends:  # the next part of the report begins (past the table's own first characters)
            marker = first_found(text, where.ends, here.begin + 4)
            end = min(end, marker) if marker is not None else end
        if where.max_chars is not None:
            end = min(end, here.begin + where.max_chars)
        if where.header_words and first_found(text, where.header_words, here.begin, end) is None:
            # no table header in sight: prose that names the table's rows is not the table, but its last
            # rows printed as rows right above the next table are (a page that starts inside it)
            rows = _rows_before(text.text, template.section(key), here.begin, end)
            regions[key] = (rows, end) if find_labels(template.section(key), compact(text.text[rows:end])) else None
            continue
        regions[key] = (here.begin, end)
    return regions
