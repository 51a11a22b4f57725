"""A Word document's body → text in reading order: paragraphs as lines, tables as ` | ` grids.

The walk is over the XML (`w:p`, `w:tbl`, `w:tr`, `w:tc`), not python-docx's `row.cells`: that
list repeats a merged cell once per grid column (and per row) it covers, and a repeated number
would be read as a second value. Here a merged cell is written once, where it starts — a
horizontal merge (`w:gridSpan`, old `w:hMerge`) is one cell, a vertical one (`w:vMerge`)
appears in its first row only — exactly as the HTML reader writes `colspan`/`rowspan`, so the
table readers meet the same rows whichever format the report came in.

A table that holds tables is a layout frame (a border around the real table, a two-column
page): its cells are walked as running text and the inner tables become grids, again as HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from extractor.ingest.pages import Cell, TextBuilder
from extractor.ingest.word_numbering import Numbering

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
P, TBL, TR, TC = f"{_W}p", f"{_W}tbl", f"{_W}tr", f"{_W}tc"
_T, _TAB, _PTAB, _BR, _CR = f"{_W}t", f"{_W}tab", f"{_W}ptab", f"{_W}br", f"{_W}cr"
_NO_BREAK_HYPHEN, _TEXTBOX = f"{_W}noBreakHyphen", f"{_W}txbxContent"
_VAL = f"{_W}val"
_RUN, _VANISH = f"{_W}r", f"{_W}vanish"
# Containers that only wrap content (content controls, custom XML, a tracked move's target).
_WRAPPERS = {f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}smartTag", f"{_W}moveTo"}
# Text that is not shown: deleted or moved-away revisions, field codes, the copy of a drawing
# kept for old readers (mc:Fallback repeats the mc:Choice text box), properties.
_HIDDEN = {
    f"{_W}del",
    f"{_W}moveFrom",
    f"{_W}instrText",
    f"{_W}delText",
    f"{_W}pPr",
    f"{_W}rPr",
    f"{_W}tblPr",
    f"{_W}tcPr",
    f"{_W}trPr",
    _MC_FALLBACK,
}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")


class BodyWriter:
    """Writes one document body into a `TextBuilder`; `numbering` renders automatic list labels."""

    def __init__(self, out: TextBuilder, numbering: Numbering) -> None:
        self.out = out
        self.numbering = numbering

    def blocks(self, parent: etree._Element) -> None:
        """Paragraphs and tables under `parent`, in document order."""
        for child in _content(parent):
            if child.tag == P:
                self.paragraph(child)
            elif child.tag == TBL:
                self.table(child)

    def paragraph(self, p: etree._Element) -> None:
        pieces: list[str] = [self.numbering.label(p)]
        boxes: list[etree._Element] = []
        _inline_text(p, pieces, boxes)
        for line in "".join(pieces).split("\n"):
            line = _SPACES.sub(" ", line).strip()
            if line:
                self.out.line(line)
        for box in boxes:  # a text box's paragraphs come after the paragraph that anchors it
            self.blocks(box)

    def table(self, tbl: etree._Element) -> None:
        if any(True for _ in _descendants(tbl, TBL)):
            self._frame(tbl)
            return
        for tr in _content(tbl, TR):
            if tr.find(f"{_W}trPr/{_W}del") is not None:  # a row deleted with changes tracked
                continue
            cells = [Cell(self.cell_text(tc)) for tc in _content(tr, TC) if _starts_here(tc)]
            if cells:
                self.out.row(cells)

    def _frame(self, tbl: etree._Element) -> None:
        """A table holding tables: each cell's content as running text, inner tables as grids."""
        for tr in _content(tbl, TR):
            for tc in _content(tr, TC):
                if _starts_here(tc):
                    self.blocks(tc)

    def cell_text(self, tc: etree._Element) -> str:
        """A cell's paragraphs on one line: `本年新` + `制作数量` join as one word, as HTML joins them."""
        text = ""
        for p in _descendants(tc, P):
            pieces: list[str] = [self.numbering.label(p)]
            boxes: list[etree._Element] = []
            _inline_text(p, pieces, boxes)
            for line in "".join(pieces).split("\n"):  # a line break inside a cell joins as paragraphs do
                text = _join(text, _SPACES.sub(" ", line).strip())
            for box in boxes:
                text = _join(text, self.cell_text(box))
        return text


def _content(parent: etree._Element, tag: str | None = None) -> Iterator[etree._Element]:
    """Children of `parent` (of one tag, if given), looking through content controls and the like."""
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _WRAPPERS:
            yield from _content(child, tag)
        elif tag is None or child.tag == tag:
            yield child


def _descendants(parent: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Elements of `tag` under `parent` that are shown (not in a deleted revision or a fallback copy)."""
    for child in parent:
        if not isinstance(child.tag, str) or child.tag in _HIDDEN:
            continue
        if child.tag == tag:
            yield child  # not looked into: a paragraph's text boxes are read with the paragraph
        else:
            yield from _descendants(child, tag)


def _inline_text(element: etree._Element, pieces: list[str], boxes: list[etree._Element]) -> None:
    """The shown text of a paragraph ("\n" at line breaks); its text boxes go to `boxes`."""
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in _HIDDEN:
            continue
        if tag == _RUN and _hidden_run(child):
            continue
        if tag == _T:
            pieces.append(child.text or "")
        elif tag in (_TAB, _PTAB):
            pieces.append(" ")
        elif tag in (_BR, _CR):
            pieces.append("\n")
        elif tag == _NO_BREAK_HYPHEN:
            pieces.append("-")
        elif tag == _TEXTBOX:
            boxes.append(child)
        else:
            _inline_text(child, pieces, boxes)


def _hidden_run(run: etree._Element) -> bool:
    """A run formatted as hidden text (`w:vanish`): Word does not show or print it."""
    vanish = run.find(f"{_W}rPr/{_VANISH}")
    return vanish is not None and vanish.get(_VAL, "true") not in ("false", "0", "off")


def _starts_here(tc: etree._Element) -> bool:
    """False for a cell that continues a merge begun above (`w:vMerge`) or to the left (`w:hMerge`)."""
    properties = tc.find(f"{_W}tcPr")
    if properties is None:
        return True
    for merge in (properties.find(f"{_W}vMerge"), properties.find(f"{_W}hMerge")):
        if merge is not None and merge.get(_VAL, "continue") != "restart":
            return False
    return True


def _join(left: str, right: str) -> str:
    """Two pieces of one cell: no space between Chinese characters, one between words."""
    if not left or not right:
        return left or right
    if _wide(left[-1]) or _wide(right[0]):
        return left + right
    return f"{left} {right}"


def _wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80
