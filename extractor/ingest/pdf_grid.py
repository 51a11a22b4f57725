"""A table found on a PDF page, as the grid a reader sees: rows of cells, each with its box.

A cell that spans rows or columns is held once, in the row and column where it starts; the
positions it covers are None, so that writing a row skips them exactly as the HTML reader skips a
`rowspan`/`colspan` (one `| a | b |` line per row, a spanning cell written once where it starts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Rect = tuple[float, float, float, float]  # x0, top, x1, bottom in points, origin top-left

_NUMBER = re.compile(r"^[\s(（]*[-+−增减]?\s*[0-9][0-9,，.．]*\s*(?:%|万元|元|件|个|次|条)?[)）\s]*$")
# How a label that starts a row (or a group of rows) begins: 一、 (三) 1. 2、 (1)
_ORDINAL = re.compile(
    r"^\s*(?:[（(]\s*[一二三四五六七八九十0-9]+\s*[)）]|[一二三四五六七八九十]+\s*[、.．]|[0-9]+\s*[、.．])"
)


# What a table prints in a value cell that holds nothing (0 by the report's own convention).
_BLANK_MARKS = frozenset({"—", "——", "-", "--", "/", "－", "–", "无", "\\", "∕"})


def is_number(text: str) -> bool:
    return bool(_NUMBER.match(text))


def is_value(text: str) -> bool:
    """A number, or a mark standing for an empty value cell (— / 无)."""
    return is_number(text) or text.strip() in _BLANK_MARKS


def starts_with_ordinal(text: str) -> bool:
    return bool(_ORDINAL.match(text))


@dataclass
class GridCell:
    """A cell's text and box; `page` is set when the cell is placed (a carried-on table spans pages)."""

    text: str
    rect: Rect
    page: int = 0


@dataclass
class Grid:
    """One table on one page; `ruled` says its cells came from printed lines (else from alignment)."""

    page: int
    rows: list[list[GridCell | None]]
    ruled: bool = True
    # an unruled table's columns of numbers (x0, x1): how a part on the next page is recognised
    bands: list[tuple[float, float]] = field(default_factory=list)
    # an unruled table's header lines (pdf_text.TextLine): the next page's part is read under them
    header: list[Any] = field(default_factory=list)
    size: float = 0.0  # an unruled table's rows' type size

    @property
    def width(self) -> int:
        return max((len(row) for row in self.rows), default=0)

    @property
    def rect(self) -> Rect:
        cells = [c.rect for row in self.rows for c in row if c is not None]
        return (
            min(r[0] for r in cells),
            min(r[1] for r in cells),
            max(r[2] for r in cells),
            max(r[3] for r in cells),
        )

    @property
    def top(self) -> float:
        return self.rect[1]

    def column_edges(self) -> list[float | None]:
        """Each column's left edge (where a cell starts in it), None for a column no cell starts in."""
        edges: list[float | None] = [None] * self.width
        for row in self.rows:
            for index, cell in enumerate(row):
                if cell is not None and edges[index] is None:
                    edges[index] = cell.rect[0]
        return edges

    def label_columns(self) -> int:
        """How many columns on the left hold no number: the row labels (a row group's label among them).

        An unruled table's columns of values are its bands, numbers or not (a column of blank zeros)."""
        if not self.ruled and self.bands:
            return max(0, self.width - len(self.bands))
        for index in range(self.width):
            cells = [row[index] for row in self.rows if index < len(row)]
            if any(cell is not None and cell.text.strip() and is_value(cell.text) for cell in cells):
                return index
        return self.width

    def cell_at(self, x: float, y: float, page: int) -> GridCell | None:
        """The cell whose box holds the point (x, y) on `page` (a carried table spans pages)."""
        for row in self.rows:
            for cell in row:
                if cell is None or cell.page != page:
                    continue
                if cell.rect[0] <= x <= cell.rect[2] and cell.rect[1] <= y <= cell.rect[3]:
                    return cell
        return None
