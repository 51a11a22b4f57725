"""The PDF channel: a complete report printed as a paged PDF with a text layer.

Most reports reach readers as PDF exports of the Word draft.  What makes them
hard is the page, not the words: tables drawn as ruled grids (or, in some
exports, as aligned columns with no rules at all), table 3's row-group labels
printed vertically one character per line inside a merged cell, a table
running over a page break with its header rows printed again, a page number
in the footer, and in some files a font whose text layer reads labels as
Kangxi radicals (:mod:`evals.messy.kangxi`).

Printing uses reportlab's built-in STSong-Light CID font (no font file;
pdfplumber reads it back as text; pdfium renders it for the scan channel).
Layout is done here by hand — a small engine for paragraphs and spanned
table grids — because platypus tables cannot write a merged cell's text
vertically nor split a merged cell across pages.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from evals.messy.content import Heading, Paragraph, Report
from evals.messy.grid import Grid, Placed, place
from evals.messy.kangxi import BASE_FONT, KANGXI_FONT, register_fonts

PAGE_W, PAGE_H = float(A4[0]), float(A4[1])
MARGIN_X = 56.0
MARGIN_TOP = 64.0
MARGIN_BOTTOM = 70.0
TEXT_W = PAGE_W - 2 * MARGIN_X
PAD = 3.0

# Column width shares per (table, grid width); other widths share equally.
_SHARES: dict[tuple[str, int], tuple[float, ...]] = {
    ("t2", 4): (0.28, 0.24, 0.24, 0.24),
    ("t3", 10): (0.045, 0.105, 0.29, 0.08, 0.08, 0.08, 0.08, 0.08, 0.08, 0.08),
}
_NO_BREAK_BEFORE = "，。、；：）)”％%"  # punctuation a line must not start with


@dataclass(frozen=True)
class Style:
    """How one document is printed.

    ``ruled``: grid lines or aligned columns only; ``kangxi``: table labels
    in the font whose text layer reads Kangxi radicals; ``vertical_subgroups``:
    (三)…(六) written vertically like 三、本年度办理结果 (always vertical);
    ``valign``: cell text at the top (Word's default) or centred;
    ``footer``: ``- 3 -`` or ``第 3 页 共 7 页``; ``body_size``: the prose's
    point size (公文 print 16 pt, web exports 10.5 pt), which moves the tables
    up and down the pages and so decides where they break; ``table_size``:
    the tables' point size (小五 9 pt, 五号 10.5 pt; table 4's fifteen
    columns get 1.5 pt less); ``min_row``: Word's "row height at least"
    (0.8 cm = 22.7 pt is common), which makes table 3 longer than a page.
    """

    ruled: bool = True
    kangxi: bool = False
    vertical_subgroups: bool = False
    valign: Literal["top", "middle"] = "middle"
    footer: Literal["dash", "of"] = "dash"
    body_size: float = 10.5
    table_size: float = 9.0
    min_row: float = 0.0


@dataclass
class Printed:
    """The PDF bytes plus where things landed (the scan channel puts its stamp on a table corner)."""

    body: bytes
    pages: int
    table_corners: list[tuple[int, float, float]] = field(default_factory=list)  # (page, x, y) top-right, PDF pt
    split_tables: list[str] = field(default_factory=list)  # tables continued on a later page


def wrap(text: str, font: str, size: float, width: float, indent: float = 0.0) -> list[str]:
    """Break ``text`` into lines that fit ``width`` (the first ``indent`` narrower): any character
    may end a line (CJK), except that closing punctuation stays with the character before it and
    digit runs are not split."""
    lines: list[str] = []
    for part in text.split("\n"):
        line = ""
        i = 0
        while i < len(part):
            j = i + 1
            while j < len(part) and (part[j].isascii() and part[j].isalnum() and part[i].isascii()):
                j += 1  # keep a Latin word or a number whole
            token = part[i:j]
            room = width - (indent if not lines else 0.0)
            if line and stringWidth(line + token, font, size) > room and token[0] not in _NO_BREAK_BEFORE:
                lines.append(line)
                line = token
            else:
                line += token
            i = j
        lines.append(line)
    return lines


class _Pager:
    """A canvas with a cursor; starts new pages and prints their footers at the end."""

    def __init__(self, style: Style) -> None:
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, pageCompression=1)
        self.canvas.setTitle("")
        self.style = style
        self.page = 0
        self.y = PAGE_H - MARGIN_TOP

    def room(self) -> float:
        return self.y - MARGIN_BOTTOM

    def new_page(self) -> None:
        self.canvas.showPage()
        self.page += 1
        self.y = PAGE_H - MARGIN_TOP

    def text(self, x: float, y: float, s: str, font: str, size: float) -> None:
        self.canvas.setFont(font, size)
        self.canvas.drawString(x, y, s)

    def finish(self) -> bytes:
        """Close the last page and hand back the file."""
        self.canvas.save()
        return self.buffer.getvalue()


def _footer(pager: _Pager, total: int) -> None:
    n = pager.page + 1
    label = f"- {n} -" if pager.style.footer == "dash" else f"第 {n} 页 共 {total} 页"
    width = stringWidth(label, BASE_FONT, 9)
    pager.text((PAGE_W - width) / 2, 36, label, BASE_FONT, 9)


@dataclass
class _TableLayout:
    """Column x positions and row heights of one table, and which cells print vertically."""

    grid: Grid
    xs: list[float]
    heights: list[float]
    size: float
    vertical: set[int]  # ids of Placed cells printed one char per line

    @property
    def leading(self) -> float:
        return self.size * 1.3

    def width(self, p: Placed) -> float:
        return self.xs[p.col + p.cols] - self.xs[p.col]


def _label_font(p: Placed, style: Style) -> str:
    return KANGXI_FONT if style.kangxi and p.cell.role != "value" else BASE_FONT


def _layout_table(grid: Grid, style: Style) -> _TableLayout:
    """Row heights from the wrapped cell texts; a spanned cell too tall for its rows grows the last one."""
    shares = _SHARES.get((grid.table.name, grid.n_cols), (1 / max(1, grid.n_cols),) * grid.n_cols)
    xs = [MARGIN_X]
    for share in shares:
        xs.append(xs[-1] + share * TEXT_W)
    size = style.table_size - (1.5 if grid.table.name == "t4" else 0.0)
    vertical = {
        id(p) for p in grid.cells if p.cell.role == "group" or (p.cell.role == "subgroup" and style.vertical_subgroups)
    }
    lay = _TableLayout(grid, xs, [0.0] * grid.n_rows, size, vertical)
    minimum = max(lay.leading + 2 * PAD, style.min_row)
    for r in range(grid.n_rows):
        lay.heights[r] = minimum
    for p in sorted(grid.cells, key=lambda q: q.rows):
        need = _needed_height(lay, p, style)
        have = sum(lay.heights[p.row : p.last_row + 1])
        if need > have:
            lay.heights[p.last_row] += need - have
    return lay


def _needed_height(lay: _TableLayout, p: Placed, style: Style) -> float:
    if id(p) in lay.vertical:
        return len(p.cell.text) * lay.leading + 2 * PAD
    lines = wrap(p.cell.text, _label_font(p, style), lay.size, lay.width(p) - 2 * PAD)
    return len(lines) * lay.leading + 2 * PAD


def _segments(lay: _TableLayout, first_room: float, full_room: float) -> Iterator[tuple[int, int]]:
    """Row ranges [a, b) printed on successive pages; pages after the first repeat the header rows."""
    n_header = lay.grid.header_rows()
    header_h = sum(lay.heights[:n_header])
    start = 0
    room = first_room
    while start < lay.grid.n_rows:
        used = header_h if start > 0 else 0.0
        end = start
        while end < lay.grid.n_rows and used + lay.heights[end] <= room:
            used += lay.heights[end]
            end += 1
        minimum = max(n_header + 1, 1) if start == 0 else start + 1
        if end < minimum:
            if room < full_room:  # not even the header and one row fit: the whole table moves on
                yield (start, start)
                room = full_room
                continue
            end = minimum  # taller than a page: print it anyway
        yield (start, end)
        start = end
        room = full_room


def _draw_segment(pager: _Pager, lay: _TableLayout, rows: list[int], style: Style, top: float) -> None:
    """Print the given grid rows (header repeat + a contiguous run) from ``top`` downwards."""
    ys: dict[int, float] = {}
    y = top
    for r in rows:
        ys[r] = y
        y -= lay.heights[r]
    shown = set(rows)
    canvas = pager.canvas
    canvas.setLineWidth(0.6)
    for p in lay.grid.cells:
        covered = [r for r in range(p.row, p.last_row + 1) if r in shown]
        if not covered:
            continue
        # the header repeat and the data run are each contiguous; a cell lies in one of them
        y_top = ys[covered[0]]
        y_bottom = ys[covered[-1]] - lay.heights[covered[-1]]
        x0, x1 = lay.xs[p.col], lay.xs[p.col + p.cols]
        if style.ruled:
            canvas.rect(x0, y_bottom, x1 - x0, y_top - y_bottom, stroke=1, fill=0)
        _cell_text(pager, lay, p, style, (x0, y_bottom, x1, y_top), covered[0] == p.row)
    pager.y = y


def _cell_text(
    pager: _Pager, lay: _TableLayout, p: Placed, style: Style, box: tuple[float, float, float, float], first: bool
) -> None:
    """Write a cell's text into its (possibly page-clipped) box.

    A vertical label prints as many characters as its box holds; the rest
    continue in the box's part on the next page.  A horizontal cell split by
    a page prints on its first part only, as Word does.
    """
    x0, y0, x1, y1 = box
    font = _label_font(p, style)
    size, leading = lay.size, lay.leading
    if id(p) in lay.vertical:
        chars = _vertical_chars(lay, p, y1 - y0, first)
        block = len(chars) * leading
        y = y1 - PAD - size if style.valign == "top" else y1 - (y1 - y0 - block) / 2 - size
        for ch in chars:
            pager.text((x0 + x1) / 2 - stringWidth(ch, font, size) / 2, y, ch, font, size)
            y -= leading
        return
    if not first:
        return
    lines = wrap(p.cell.text, font, size, x1 - x0 - 2 * PAD)
    block = len(lines) * leading
    y = y1 - PAD - size if style.valign == "top" else y1 - (y1 - y0 - block) / 2 - size * 0.95
    for line in lines:
        width = stringWidth(line, font, size)
        x = x0 + PAD if p.cell.role == "label" else (x0 + x1 - width) / 2
        pager.text(x, y, line, font, size)
        y -= leading


# Characters of a vertical label already printed on earlier pages (keyed by cell id, per document).
_PRINTED_SO_FAR: dict[int, int] = {}


def _vertical_chars(lay: _TableLayout, p: Placed, height: float, first: bool) -> str:
    done = 0 if first else _PRINTED_SO_FAR.get(id(p), 0)
    fits = max(0, int((height - 2 * PAD) // lay.leading))
    chars = p.cell.text[done : done + fits]
    _PRINTED_SO_FAR[id(p)] = done + len(chars)
    return chars


def _prose_size(block: Heading | Paragraph, style: Style) -> float:
    """Title a little larger than headings, headings a little larger than the body."""
    if isinstance(block, Paragraph):
        return style.body_size
    return style.body_size + (5.5 if block.level == 0 else 1.5)


def _print(report: Report, style: Style, total_pages: int) -> Printed:
    """One layout pass; footers use ``total_pages`` (known from a previous pass)."""
    register_fonts()
    _PRINTED_SO_FAR.clear()
    pager = _Pager(style)
    printed = Printed(b"", 0)

    def new_page() -> None:
        _footer(pager, total_pages)
        pager.new_page()

    for block in report.blocks:
        if isinstance(block, Heading | Paragraph):
            size = _prose_size(block, style)
            leading = size * 1.6
            indent = 2 * size if isinstance(block, Paragraph) else 0.0
            lines = wrap(block.text, BASE_FONT, size, TEXT_W, indent)
            for i, line in enumerate(lines):
                if pager.room() < leading:
                    new_page()
                pager.y -= leading
                if isinstance(block, Heading) and block.level == 0:
                    x = (PAGE_W - stringWidth(line, BASE_FONT, size)) / 2
                else:
                    x = MARGIN_X + (indent if i == 0 else 0.0)
                pager.text(x, pager.y + leading - size * 1.2, line, BASE_FONT, size)
            pager.y -= 4
            continue
        lay = _layout_table(place(block), style)
        full_room = PAGE_H - MARGIN_TOP - MARGIN_BOTTOM
        n_header = lay.grid.header_rows()
        pieces = 0
        for a, b in _segments(lay, pager.room() - 6, full_room):
            if a == b:
                new_page()
                continue
            if pieces:
                new_page()
            pager.y -= 6 if not pieces else 0
            rows = ([*range(n_header)] if a > 0 else []) + list(range(a, b))
            top = pager.y
            _draw_segment(pager, lay, rows, style, top)
            if not pieces:
                printed.table_corners.append((pager.page, lay.xs[-1], top))
            pieces += 1
        if pieces > 1:
            printed.split_tables.append(block.name)
        pager.y -= 10
    _footer(pager, total_pages)
    printed.pages = pager.page + 1
    printed.body = pager.finish()
    return printed


def print_pdf(report: Report, style: Style) -> Printed:
    """The report as PDF bytes; two passes so that ``第 n 页 共 N 页`` footers know N."""
    first = _print(report, style, 0)
    if style.footer == "dash":
        return first
    return _print(report, style, first.pages)
