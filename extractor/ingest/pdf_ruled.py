"""Tables drawn with ruling lines: pdfplumber finds the cells from the lines and rectangles.

The cells' boxes come from the drawing, so a merged cell (a row-group label spanning rows, printed
one character per line) is one box and its characters one text, wherever the content stream put
them. A "table" of one column is a framed paragraph (a bordered note or cover box): its glyphs are
left to be read as running text. A table whose cell holds two values side by side has rules
between its rows but not between all its columns: its glyphs are left to the alignment reader.
"""

from __future__ import annotations

from typing import Any

from extractor.ingest.pdf_grid import Grid, GridCell, Rect, is_value
from extractor.ingest.pdf_text import Glyph, cell_text, group_lines

# Beyond this many drawn segments a page is a drawing (a chart, a map), not a table: skip the search.
MAX_EDGES = 4000


def ruled_grids(page: Any, glyphs: list[Glyph], number: int) -> tuple[list[Grid], list[Glyph]]:
    """The page's ruled tables, and the glyphs that stand outside all of them."""
    if len(page.lines) + len(page.rects) + len(page.curves) > MAX_EDGES:
        return [], glyphs
    layouts: list[list[list[Rect | None]]] = []
    for table in page.find_tables():
        rows = [[_rect(cell) for cell in row.cells] for row in table.rows]
        if max((sum(cell is not None for cell in row) for row in rows), default=0) >= 2:
            layouts.append(rows)
    if not layouts:
        return [], glyphs
    inside: dict[tuple[int, int, int], list[Glyph]] = {}
    outside: list[Glyph] = []
    for glyph in glyphs:
        where = _locate(layouts, glyph.middle_x, glyph.middle_y)
        if where is None:
            outside.append(glyph)
        else:
            inside.setdefault(where, []).append(glyph)
    under_ruled = {t for (t, _, _), cell_glyphs in inside.items() if _holds_several_values(cell_glyphs)}
    for (t, _, _), cell_glyphs in inside.items():
        if t in under_ruled:
            outside.extend(cell_glyphs)
    grids = []
    for t, rows in enumerate(layouts):
        if t in under_ruled:
            continue
        grid_rows: list[list[GridCell | None]] = []
        for r, row in enumerate(rows):
            grid_rows.append(
                [
                    None if rect is None else GridCell(cell_text(inside.get((t, r, c), [])), rect)
                    for c, rect in enumerate(row)
                ]
            )
        grids.append(Grid(number, grid_rows, ruled=True))
    return grids, outside


def _holds_several_values(glyphs: list[Glyph]) -> bool:
    """A cell with two values side by side on one line: its table's columns are not all ruled
    (only rows, or only the frame), so it is read from alignment instead."""
    return any(sum(is_value(s.text) for s in line.segments()) >= 2 for line in group_lines(glyphs))


def _rect(cell: Any) -> Rect | None:
    if cell is None:
        return None
    x0, top, x1, bottom = cell
    return (float(x0), float(top), float(x1), float(bottom))


def _locate(layouts: list[list[list[Rect | None]]], x: float, y: float) -> tuple[int, int, int] | None:
    for t, rows in enumerate(layouts):
        for r, row in enumerate(rows):
            for c, rect in enumerate(row):
                if rect is not None and rect[0] <= x <= rect[2] and rect[1] <= y <= rect[3]:
                    return t, r, c
    return None
