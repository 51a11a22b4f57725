"""A PDF page's characters as positioned glyphs, printed lines and cell texts.

Geometry, not the content stream's order, decides what belongs together: a stream lists a table's
cells in whatever order the producer wrote them (a row's numbers before its label, a vertical
label one character between each row), but every glyph still stands where it was printed.

CJK fonts often map ideographs to Kangxi-radical or compatibility code points (`⾏` U+2F8F for 行,
`⼀` U+2F00 for 一): such a glyph is folded here with NFKC into the ideograph it prints, so labels
read as words. Other characters (full-width punctuation, digits) are kept as printed; the matching
layer (`extractor.ingest.normalize`) folds those for itself without moving any character.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

# A gap wider than this many font sizes between two glyphs on a line separates two cells.
CELL_GAP_EMS = 1.0
# Two copies of a character no further apart than this (points) are one character printed twice.
_SAME_SPOT = 1.0
# A gap wider than this (and no wider than a cell gap) is a word space the PDF did not print.
WORD_GAP_EMS = 0.4


@cache
def fold(char: str) -> str:
    """The ideograph a radical or compatibility code point prints; any other character unchanged."""
    if char.isascii():
        return char
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) == 1 and folded != char and is_cjk(folded):
        return folded
    return char


def is_cjk(char: str) -> bool:
    """A CJK ideograph or CJK punctuation/full-width form: text joined to its neighbours without spaces."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFE30 <= code <= 0xFE4F
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x2FA1F
    )


@dataclass(frozen=True)
class Glyph:
    """One printed character (folded), its box in points from the page's top-left, and its font size."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    space_before: bool = False  # the PDF printed a blank character just before this one

    @property
    def middle_x(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def middle_y(self) -> float:
        return (self.top + self.bottom) / 2


def glyphs_of(chars: Iterable[dict[str, Any]]) -> list[Glyph]:
    """pdfplumber's chars as glyphs; a blank character is kept only as the next glyph's `space_before`
    (it is a gap, not a cell: two cells are told apart by how wide the gap between them is).

    A character printed twice on the same spot (fake bold) is kept once."""
    out: list[Glyph] = []
    seen: dict[tuple[str, int], list[tuple[float, float]]] = {}  # (text, row) → spots printed
    space = False
    for char in chars:
        text = "".join(fold(c) for c in str(char.get("text", "")))
        if not text.strip():
            space = True
            continue
        x0, top, bottom = float(char["x0"]), float(char["top"]), float(char["bottom"])
        row = round(top)
        near = (spot for r in (row - 1, row, row + 1) for spot in seen.get((text, r), ()))
        if any(abs(x0 - x) <= _SAME_SPOT and abs(top - y) <= _SAME_SPOT for x, y in near):
            continue
        seen.setdefault((text, row), []).append((x0, top))
        size = float(char.get("size") or 0) or (bottom - top) or 1.0
        out.append(Glyph(text, x0, top, float(char["x1"]), bottom, size, space))
        space = False
    return out


@dataclass(frozen=True)
class Segment:
    """A run of glyphs on one line with no cell-wide gap inside: a cell's text on that line."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float


@dataclass
class TextLine:
    """Glyphs printed on one baseline band, left to right."""

    glyphs: list[Glyph]
    _segments: list[Segment] | None = field(default=None, repr=False)

    @property
    def top(self) -> float:
        return min(g.top for g in self.glyphs)

    @property
    def bottom(self) -> float:
        return max(g.bottom for g in self.glyphs)

    @property
    def x0(self) -> float:
        return min(g.x0 for g in self.glyphs)

    @property
    def x1(self) -> float:
        return max(g.x1 for g in self.glyphs)

    @property
    def size(self) -> float:
        return statistics.median(g.size for g in self.glyphs)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments())

    def segments(self, gap_ems: float = CELL_GAP_EMS) -> list[Segment]:
        """The line cut at every gap wider than `gap_ems` font sizes (the same objects on every call)."""
        if gap_ems == CELL_GAP_EMS and self._segments is not None:
            return self._segments
        runs: list[list[Glyph]] = []
        for glyph in self.glyphs:
            if runs and glyph.x0 - runs[-1][-1].x1 <= gap_ems * max(glyph.size, runs[-1][-1].size):
                runs[-1].append(glyph)
            else:
                runs.append([glyph])
        segments = [_segment(run) for run in runs]
        if gap_ems == CELL_GAP_EMS:
            self._segments = segments
        return segments


def _segment(run: Sequence[Glyph]) -> Segment:
    parts: list[str] = []
    for before, glyph in zip((None, *run), run, strict=False):
        wide = before is not None and glyph.x0 - before.x1 > WORD_GAP_EMS * max(glyph.size, before.size)
        if before is not None and (glyph.space_before or wide):
            parts.append(" ")
        parts.append(glyph.text)
    return Segment(
        "".join(parts),
        min(g.x0 for g in run),
        min(g.top for g in run),
        max(g.x1 for g in run),
        max(g.bottom for g in run),
        statistics.median(g.size for g in run),
    )


def group_lines(glyphs: Iterable[Glyph]) -> list[TextLine]:
    """Glyphs in lines, top to bottom: a glyph joins a line whose first glyph it overlaps by half a height."""
    lines: list[TextLine] = []
    bands: list[tuple[float, float]] = []
    for glyph in sorted(glyphs, key=lambda g: (g.top, g.x0)):
        height = max(glyph.bottom - glyph.top, 0.1)
        placed = False
        for index in range(len(lines) - 1, max(-1, len(lines) - 4), -1):
            top, bottom = bands[index]
            overlap = min(bottom, glyph.bottom) - max(top, glyph.top)
            if overlap >= 0.5 * min(height, bottom - top):
                lines[index].glyphs.append(glyph)
                lines[index]._segments = None
                placed = True  # the band stays the first glyph's: lines must not grow into each other
                break
        if not placed:
            lines.append(TextLine([glyph]))
            bands.append((glyph.top, glyph.bottom))
    for line in lines:
        line.glyphs.sort(key=lambda g: g.x0)
    lines.sort(key=lambda line: line.top)
    return lines


def join_lines(texts: Iterable[str]) -> str:
    """A cell's lines as one text: CJK lines run on (a vertical label is one word), others get a space."""
    out = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if out and not (is_cjk(out[-1]) or is_cjk(text[0])):
            out += " "
        out += text
    return out


def cell_text(glyphs: Iterable[Glyph]) -> str:
    """The text of the glyphs inside one table cell, line by line."""
    return join_lines(line.text for line in group_lines(glyphs))


_PAGE_NUMBER = re.compile(
    r"^\s*[\-—–_·•]+\s*[0-9]+\s*[\-—–_·•]+\s*$"
    r"|^\s*第\s*[0-9]+\s*页\s*$|^\s*[0-9]+\s*[/／]\s*(?:共\s*)?[0-9]+\s*页?\s*$"
    r"|^\s*(?:第\s*[0-9]+\s*页\s*[,，]?\s*共\s*[0-9]+\s*页|共\s*[0-9]+\s*页\s*[,，]?\s*第\s*[0-9]+\s*页)\s*$"
    r"|^\s*(?:page|p\.)\s*[0-9]+(?:\s*(?:of|/)\s*[0-9]+)?\s*$",
    re.IGNORECASE,
)


def is_page_number(text: str) -> bool:
    """`- 3 -`, `第3页`, `3/6`, `Page 3 of 6`: a page's number, not its content. A bare `3` may be
    either: `extractor.ingest.pdf_layout` decides by whether it counts the pages."""
    return bool(_PAGE_NUMBER.match(text.strip()))
