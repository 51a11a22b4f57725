"""Recognise row labels in text pieces, however they were split, wrapped or bracketed.

Labels are compared in a compact form: only CJK characters and letters, so `（三）不\\n予公开`,
`本年新 制作数量` and `第二十条第` all reduce to the characters an alias lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from schemas import RowSpec, SectionSpec

_DROP = re.compile(r"[^\u4e00-\u9fffA-Za-z]+")


@lru_cache(maxsize=8192)
def compact(text: str) -> str:
    return _DROP.sub("", text)


@dataclass(frozen=True)
class LabelHit:
    row: RowSpec
    end: int  # position in the compact text where the alias ends: the last hit labels the next cells


def find_labels(section: SectionSpec, text: str) -> list[LabelHit]:
    """Every row alias found in `text` (already compact), ordered by where it ends.

    Label pieces repeat across reports (they are the mandated wording), so results are cached.
    """
    key = (section.key, len(section.rows), text)
    cached = _HITS.get(key)
    if cached is None:
        cached = _find_labels(section, text)
        if len(_HITS) > 20000:
            _HITS.clear()
        _HITS[key] = cached
    return cached


# keyed by value, not id(): a section built on the fly must never inherit another's answers
_HITS: dict[tuple[str, int, str], list[LabelHit]] = {}


def _find_labels(section: SectionSpec, text: str) -> list[LabelHit]:
    hits: list[LabelHit] = []
    for row in section.rows:
        best = -1
        for alias in row.aliases:
            pos = text.rfind(alias)
            if pos >= 0:
                best = max(best, pos + len(alias))
        if best >= 0:
            hits.append(LabelHit(row, best))
    hits.sort(key=lambda hit: hit.end)
    return hits


def exact_label(section: SectionSpec, text: str, expected: RowSpec | None) -> RowSpec | None:
    """Bare labels like '其他' or '总计' count only as a whole piece, or as its tail where that row is due."""
    for row in section.rows:
        for alias in row.exact:
            if text == alias or (row is expected and text.endswith(alias)):
                return row
    return None


def residue(section: SectionSpec, text: str) -> str:
    """What is left of a piece once header words and group labels are removed: real prose or a stray label."""
    for word in sorted(section.header_words, key=len, reverse=True):
        if word in text:
            text = text.replace(word, "")
    return text
