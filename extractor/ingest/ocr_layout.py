"""An OCR'd page written as text: running lines, and tables as the ` | ` rows the HTML reader writes.

Ruled tables take their cells from `ocr_grid` (a merged cell written once, in the row where it
starts; an empty cell kept empty). Text outside them is grouped into lines; a run of lines that
print two or more numbers each is an unruled table: its numbers are placed in columns clustered
from their positions, so a missing number still leaves its empty cell. Digits the recogniser
reads as letters (`o` for 0, `l` or `|` for 1) are mended in cells that are otherwise numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from extractor.ingest.ocr_engine import TextBox
from extractor.ingest.ocr_grid import GridCell, Table
from extractor.ingest.ocr_lexicon import mend_wording
from extractor.ingest.pages import Cell, TextBuilder

Reread = Callable[[list[tuple[int, int, int, int]]], list[TextBox]]
LOW_SCORE = 0.5  # a cell read below this (after its second reading) is listed for the reconciler to judge
_NUMBERISH = re.compile(r"[+\-－]?[0-9oO〇○lI|]+(?:[.,，][0-9oO〇○lI|]+)*%?")
_DIGIT_FIXES = str.maketrans({"o": "0", "O": "0", "〇": "0", "○": "0", "l": "1", "I": "1", "|": "1"})
_LONE_DIGITS = {
    "o": "0",
    "O": "0",
    "〇": "0",
    "○": "0",
    "。": "0",
    "D": "0",
    "I": "1",
    "l": "1",
    "|": "1",
    "Ⅰ": "1",
    "丨": "1",
    "√": "1",  # a serif 1 of a soft scan; the mandated tables print no check marks
    "II": "11",  # Ⅱ after NFKC
    "ll": "11",
}  # a blurred digit alone in its cell (compared after NFKC: Ⅰ is I)
_NUMBER = re.compile(r"[+\-－]?\d+(?:[.,，]\d+)*%?")


@dataclass(frozen=True)
class LowScore:
    """A piece of the text read with little confidence: its span, page and the recogniser's score."""

    start: int
    end: int
    page: int
    score: float
    text: str


def mend_digits(text: str) -> str:
    """`o`/`O` → 0 and `l`/`I`/`|` → 1 (and full-width digits → ASCII) in a cell that is a number once
    they are mended, a speck read as a trailing `.`/`,` dropped (`0.` → 0); any other text unchanged."""
    compact = unicodedata.normalize("NFKC", text).replace(" ", "")
    if len(compact) > 1 and compact[-1] in ".,，。、" and compact[-2].isdigit():
        compact = compact[:-1]
    if compact in _LONE_DIGITS:
        return _LONE_DIGITS[compact]
    if compact and _NUMBERISH.fullmatch(compact) and any(c.isdigit() for c in compact):
        return compact.translate(_DIGIT_FIXES)
    return text


def _is_number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(mend_digits(text).replace(" ", "")))


def _joined(lines: Sequence[Sequence[TextBox]]) -> str:
    """A cell's lines of boxes as one text. A label wrapped over lines joins without a space; a
    space goes between two Latin/digit ends, and between boxes a wide gap apart on one line (two
    numbers in a cell whose column rulings were not printed stay two numbers)."""
    text = ""
    for line in lines:
        for i, box in enumerate(line):
            latin = (
                text and text[-1].isascii() and text[-1].isalnum() and box.text[0].isascii() and box.text[0].isalnum()
            )
            gap = i > 0 and box.x0 - line[i - 1].x1 > 0.8 * min(box.height, line[i - 1].height)
            if text and (latin or gap):
                text += " "
            text += box.text
    return text


def _lines(boxes: Sequence[TextBox]) -> list[list[TextBox]]:
    """Boxes grouped into printed lines (vertical centres within half a box height), left to right."""
    lines: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: b.center[1]):
        if lines:
            last = lines[-1]
            centre = sum(b.center[1] for b in last) / len(last)
            if abs(box.center[1] - centre) <= 0.5 * min(box.height, min(b.height for b in last)):
                last.append(box)
                continue
        lines.append([box])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


class CountingBuilder(TextBuilder):
    """A TextBuilder that says how long its text is so far (where the next span starts)."""

    def __init__(self) -> None:
        super().__init__()
        self.length = 0

    def write(self, text: str, box: tuple[int, float, float, float, float] | None = None) -> None:
        super().write(text, box)
        self.length += len(text)


class PageWriter:
    """Writes one page's boxes into the document's builder and remembers the spans read with a low score."""

    def __init__(self, builder: CountingBuilder, page: int, reread: Reread | None = None) -> None:
        self.builder = builder
        self.page = page
        self.reread = reread  # recognition of given rectangles: an unruled table's empty slots
        self.low: list[LowScore] = []
        self.mended: list[tuple[str, str]] = []  # (as read, as the form words it)

    def _wording(self, text: str) -> str:
        mended, pairs = mend_wording(text)
        self.mended.extend(pairs)
        return mended

    def _at(self) -> int:
        return self.builder.length

    def _cell(self, boxes: Sequence[TextBox], frame: tuple[float, float, float, float] | None = None) -> Cell:
        text = mend_digits(_joined(_lines(boxes)))
        if not _is_number(text):
            text = self._wording(text)
        if frame is None and boxes:
            frame = (
                min(b.x0 for b in boxes),
                min(b.top for b in boxes),
                max(b.x1 for b in boxes),
                max(b.bottom for b in boxes),
            )
        box = None if frame is None else (self.page, *frame)
        return Cell(text, box)

    def _row(self, cells: Sequence[Cell], scores: Sequence[float | None]) -> None:
        start = self._at() + 2  # after "| "
        spans: list[tuple[int, int, str, float | None]] = []
        for i, (cell, score) in enumerate(zip(cells, scores, strict=True)):
            text = " ".join(cell.text.replace("|", " ").split())
            if i:
                start += 3  # " | "
            spans.append((start, start + len(text), text, score))
            start += len(text)
        self.builder.row(cells)
        for begin, end, text, score in spans:
            if score is not None and score < LOW_SCORE and text:
                self.low.append(LowScore(begin, end, self.page, score, text))

    def _line(self, boxes: Sequence[TextBox]) -> None:
        for i, box in enumerate(boxes):
            if i:
                self.builder.write(" ")  # boxes apart on one line: a gap the reader may take for a column
            start = self._at()
            text = self._wording(box.text)
            self.builder.write(text, (self.page, box.x0, box.top, box.x1, box.bottom))
            if box.score < LOW_SCORE:
                self.low.append(LowScore(start, start + len(text), self.page, box.score, text))
        self.builder.write("\n")

    def write(self, boxes: Sequence[TextBox], tables: Sequence[Table]) -> None:
        """The page top to bottom: each table where it stands among the lines around it. A ruled
        table of one column (rules between rows only) is no grid: its lines are read as unruled."""
        tables = [t for t in tables if max(c.col + c.cols for c in t.cells) > 1]
        outside = [b for b in boxes if not any(t.contains(*b.center) for t in tables)]
        blocks: list[tuple[float, object]] = [(t.top, t) for t in tables]
        blocks += [(min(b.top for b in line), line) for line in _lines(outside)]
        pending: list[list[TextBox]] = []
        for _, block in sorted(blocks, key=lambda item: item[0]):
            if isinstance(block, Table):
                self._unruled(pending)
                pending = []
                self._ruled(block, [b for b in boxes if block.contains(*b.center)])
            else:
                pending.append(block)  # type: ignore[arg-type]
        self._unruled(pending)

    def _ruled(self, table: Table, boxes: Sequence[TextBox]) -> None:
        owned: dict[GridCell, list[TextBox]] = {cell: [] for cell in table.cells}
        for box in boxes:
            owned[_owner(table.cells, box)].append(box)
        for row in range(table.row_count):
            starting = [c for c in table.cells if c.row == row]
            if not starting:
                continue
            cells = [self._cell(owned[c], (c.x0, c.top, c.x1, c.bottom)) for c in starting]
            scores = [min((b.score for b in owned[c]), default=None) for c in starting]
            self._row(cells, scores)

    def _unruled(self, lines: list[list[TextBox]]) -> None:
        """Lines as text; runs of lines with two or more numbers as rows of an unruled table."""
        run: list[list[TextBox]] = []
        for line in [*lines, []]:
            if sum(1 for b in line if _is_number(b.text)) >= 2:
                run.append(line)
                continue
            if run:
                self._columns(run)
                run = []
            if line:
                self._line(line)

    def _columns(self, run: list[list[TextBox]]) -> None:
        numbers = [b for line in run for b in line if _is_number(b.text)]
        tolerance = 1.5 * sorted(b.height for b in numbers)[len(numbers) // 2]
        anchors = _anchor_columns([b.center[0] for b in numbers], tolerance)
        for line in run:
            first = min((b.x0 for b in line if _is_number(b.text)), default=float("inf"))
            label = [b for b in line if b.x1 <= first]
            slots: list[list[TextBox]] = [[] for _ in anchors]
            for box in line:
                if box in label:
                    continue
                slots[min(range(len(anchors)), key=lambda k: abs(anchors[k] - box.center[0]))].append(box)
            self._fill_gaps(line, anchors, slots)
            cells = [self._cell(label)] + [self._cell(slot) for slot in slots]
            scores = [min((b.score for b in group), default=None) for group in [label, *slots]]
            self._row(cells, scores)

    def _fill_gaps(self, line: list[TextBox], anchors: list[float], slots: list[list[TextBox]]) -> None:
        """Read again where a column of an unruled row came out empty: a blank there would count as
        0, so a lone digit the detector missed must not be lost silently."""
        if self.reread is None or all(slots):
            return
        top, bottom = min(b.top for b in line), max(b.bottom for b in line)
        height = bottom - top
        regions: list[tuple[int, int, int, int]] = []
        wanted: list[int] = []
        for k, slot in enumerate(slots):
            if slot:
                continue
            left = anchors[k - 1] if k else anchors[k] - 3 * height
            right = anchors[k + 1] if k + 1 < len(anchors) else anchors[k] + 3 * height
            half = min(anchors[k] - left, right - anchors[k], 3 * height) / 2
            regions.append(
                (
                    round(anchors[k] - half),
                    round(top - height / 3),
                    round(anchors[k] + half),
                    round(bottom + height / 3),
                )
            )
            wanted.append(k)
        for box in self.reread(regions):
            k = min(wanted, key=lambda j: abs(anchors[j] - box.center[0]))
            slots[k].append(box)


def _anchor_columns(centres: list[float], tolerance: float) -> list[float]:
    groups: list[list[float]] = []
    for value in sorted(centres):
        if groups and value - groups[-1][-1] <= tolerance:
            groups[-1].append(value)
        else:
            groups.append([value])
    return [sum(g) / len(g) for g in groups]


def _owner(cells: Sequence[GridCell], box: TextBox) -> GridCell:
    """The cell holding the box's centre, or the one it overlaps most (a box on a ruling)."""
    x, y = box.center
    for cell in cells:
        if cell.contains(x, y):
            return cell

    def overlap(cell: GridCell) -> float:
        w = min(cell.x1, box.x1) - max(cell.x0, box.x0)
        h = min(cell.bottom, box.bottom) - max(cell.top, box.top)
        return max(w, 0.0) * max(h, 0.0) - 1e-6 * (
            abs((cell.x0 + cell.x1) / 2 - x) + abs((cell.top + cell.bottom) / 2 - y)
        )

    return max(cells, key=overlap)
