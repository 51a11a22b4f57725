"""Find where each mandated table sits in the text, skipping prose that repeats its words.

Reports name their tables in the introduction too ('报告全文包括…主动公开政府信息情况…'), so a
table is anchored on its first data row and its heading is the last one printed before it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

_GAPS = re.compile(r"[\s|]+")


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


def _first(text: Searchable, phrases: tuple[str, ...], start: int = 0, end: int | None = None) -> int | None:
    found = [p for phrase in phrases for p in find_all(text, phrase, start, end)]
    return min(found) if found else None


def _last(text: Searchable, phrases: tuple[str, ...], start: int, end: int) -> int | None:
    found = [p for phrase in phrases for p in find_all(text, phrase, start, end)]
    return max(found) if found else None


@dataclass(frozen=True)
class Regions:
    t2: tuple[int, int] | None  # None: not found
    t3: tuple[int, int] | None
    t4: tuple[int, int] | None


_T3_FIRST = ("本年新收",)
_T3_SECOND = ("上年结转",)
_T3_HEADING = ("收到和处理政府信息公开申请情况", "收到和处理政府信息公开申请")
_T2_HEADING = ("主动公开政府信息情况",)
_T2_BLOCK = ("第二十条",)
_T4_HEADING = ("行政复议、行政诉讼", "行政复议和行政诉讼", "行政复议,行政诉讼")
_T2_HEADER = (
    "信息内容",
    "第二十条",
    "本年制发件数",
    "现行有效件数",
    "处理决定数量",
    "本年新制作数量",
    "上一年项目数量",
)
_TABLE_CELL = re.compile(r"[|｜]|\d(?![\d.,]*\s*[件条个次项%])")


def _row_follows(plain: str, position: int) -> bool:
    """A table row, not a sentence: a cell or a number that is not a count of 件/条 follows soon."""
    window = re.split(r"[。;；]", plain[position : position + 60], maxsplit=1)[0]
    return bool(_TABLE_CELL.search(window))


_AFTER_T4 = ("存在的主要问题", "五、", "主要问题及改进", "其他需要报告的事项")


def locate(plain: str) -> Regions:
    """Character ranges of tables 2, 3 and 4 in the normalised text (None where absent)."""
    size = len(plain)
    text = Searchable(plain)
    t3_start = None
    for pos in find_all(text, _T3_FIRST[0]):
        if _first(text, _T3_SECOND, pos, min(size, pos + 1500)) is not None and _row_follows(plain, pos):
            t3_start = pos
            break
    t4_from = t3_start if t3_start is not None else 0
    t4_start = _first(text, _T4_HEADING, t4_from)
    if t4_start is None:
        t4_start = _first(text, ("行政复议",), t4_from) if t3_start is not None else None
    t3_region = None
    t3_head = None
    if t3_start is not None:
        t3_head = _last(text, _T3_HEADING, max(0, t3_start - 3000), t3_start)
        begin = t3_head if t3_head is not None else t3_start
        t3_region = (begin, t4_start if t4_start is not None else size)
    elif (any_t3 := _first(text, ("予以公开", "国家秘密", "不掌握"))) is not None:
        heading = _last(text, _T3_HEADING, 0, any_t3)
        t3_head = heading if heading is not None else any_t3
        t3_region = (t3_head, t4_start if t4_start is not None and t4_start > t3_head else size)
    t2_end = t3_head if t3_head is not None else (t4_start if t4_start is not None else size)
    blocks = [p for p in find_all(text, _T2_BLOCK[0], 0, t2_end) if find_all(text, "信息内容", p, min(t2_end, p + 200))]
    t2_begin = blocks[0] if blocks else _last(text, _T2_HEADING, 0, t2_end)
    if t2_begin is None:
        t2_begin = _first(text, _T2_BLOCK, 0, t2_end)
    t2_region: tuple[int, int] | None = (t2_begin if t2_begin is not None else 0, t2_end)
    if t2_region is not None and _first(text, _T2_HEADER, t2_region[0], t2_region[1]) is None:
        t2_region = None  # no table header in sight: prose that names 行政许可 is not table 2
    t4_region = None
    if t4_start is not None:
        t4_end = _first(text, _AFTER_T4, t4_start + 4) or size
        t4_region = (t4_start, min(t4_end, t4_start + 6000))
    return Regions(t2_region, t3_region, t4_region)
