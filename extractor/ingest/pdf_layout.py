"""Pages of blocks (running-text lines and table grids) → one text, tables carried across pages.

Between two pages sit the page's furniture: page numbers (`- 4 -`, `第4页`) and running headers or
footers repeated on most pages. They are dropped, so that a table that ends one page and starts
the next with the same columns is one table: header rows it repeats are dropped, and a merged
label cell cut by the page break (`（四）无` above it, `法提供` below) becomes one cell again,
written once where it starts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from extractor.ingest.pages import Cell, TextBuilder
from extractor.ingest.pdf_grid import Grid, GridCell, starts_with_ordinal
from extractor.ingest.pdf_text import TextLine, is_page_number, join_lines

Block = TextLine | Grid

# Furniture lives in the top and bottom this share of a page.
_MARGIN = 0.1
# A margin line printed on at least this share of pages (and on 3 or more) is a running header/footer.
_REPEATED_SHARE = 0.5
# Two carried table parts must start their columns within this many points of each other.
_EDGE_TOLERANCE = 6.0
_DIGITS = re.compile(r"[0-9]+")


@dataclass
class PageBlocks:
    number: int
    height: float
    blocks: list[Block]


def drop_furniture(pages: Sequence[PageBlocks]) -> None:
    """Remove page numbers, and repeats of running headers/footers, from the pages' margins.

    A running line's first print stays: a report's title is often printed again atop every page.
    """
    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({_shape(b.text) for b in page.blocks if isinstance(b, TextLine) and _in_margin(b, page.height)})
    repeated = {
        text
        for text, count in seen.items()
        if count >= 3 and count >= _REPEATED_SHARE * len(pages) and sum(c.isalpha() for c in text) >= 2
    }  # a running header names something: a lone number or `0 |` at a page's top is content
    offset = _page_count_offset(pages)
    printed: set[str] = set()
    for page in pages:
        kept: list[Block] = []
        for block in page.blocks:
            if isinstance(block, TextLine) and _in_margin(block, page.height):
                shape = _shape(block.text)
                text = block.text.strip()
                counts_pages = text.isdigit() and offset is not None and int(text) - page.number == offset
                if is_page_number(text) or counts_pages or (shape in repeated and shape in printed):
                    continue
                printed.add(shape)
            kept.append(block)
        page.blocks = kept


def _page_count_offset(pages: Sequence[PageBlocks]) -> int | None:
    """How bare numbers in the margins run ahead of the page count, when they count the pages:
    the same offset on most pages that print one (on two pages at least, or the only page)."""
    offsets: Counter[int] = Counter()
    for page in pages:
        numbers = {
            int(b.text.strip())
            for b in page.blocks
            if isinstance(b, TextLine) and _in_margin(b, page.height) and b.text.strip().isdigit()
        }
        offsets.update({n - page.number for n in numbers if len(str(n)) <= 4})
    if not offsets:
        return None
    offset, count = offsets.most_common(1)[0]
    return offset if count >= min(2, len(pages)) else None


def _shape(text: str) -> str:
    return _DIGITS.sub("#", "".join(text.split()))


def _in_margin(line: TextLine, height: float) -> bool:
    return line.bottom <= _MARGIN * height or line.top >= (1 - _MARGIN) * height


def carry_tables(pages: Sequence[PageBlocks]) -> None:
    """A table that ends a page and one that starts the next with the same columns become one
    (over as many pages as it runs)."""
    open_grid: Grid | None = None  # the table the pages so far ended with
    for page in pages:
        first = page.blocks[0] if page.blocks else None
        if open_grid is not None and isinstance(first, Grid) and _same_columns(open_grid, first):
            _carry(open_grid, first)
            page.blocks.pop(0)
            if not page.blocks:
                continue  # the whole page was the table: it may run on to the next page
        last = page.blocks[-1] if page.blocks else None
        open_grid = last if isinstance(last, Grid) else None


def _same_columns(a: Grid, b: Grid) -> bool:
    if a.ruled != b.ruled:
        return False
    if not a.ruled:
        return len(a.bands) == len(b.bands) and all(
            min(x[1], y[1]) > max(x[0], y[0]) for x, y in zip(a.bands, b.bands, strict=True)
        )
    if a.width != b.width:
        return False
    pairs = [(x, y) for x, y in zip(a.column_edges(), b.column_edges(), strict=True) if x is not None and y is not None]
    return bool(pairs) and all(abs(x - y) <= _EDGE_TOLERANCE for x, y in pairs)


def _row_texts(row: Sequence[GridCell | None]) -> list[str]:
    return ["".join(c.text.split()) for c in row if c is not None]


def _carry(head: Grid, tail: Grid) -> None:
    rows = list(tail.rows)
    repeated = 0
    while repeated < min(len(rows), len(head.rows)) and _row_texts(rows[repeated]) == _row_texts(head.rows[repeated]):
        repeated += 1
    rows = rows[repeated:]
    if rows and head.rows:
        rows[0] = _mend_cut_labels(head, rows[0], min(head.label_columns(), tail.label_columns()))
    head.rows.extend(rows)


def _mend_cut_labels(head: Grid, row: list[GridCell | None], labels: int) -> list[GridCell | None]:
    """The first row after a page break: a group-label cell the break cut joins its upper part.

    An empty piece is only the rest of a merged cell (left out); a piece with text that opens no
    label of its own (no 一、 (三) 1.) is the end of the cut label above it. The innermost label
    column holds each row's own label, so it is never joined.
    """
    page = _last_page(head)
    bottom = max(c.rect[3] for r in head.rows for c in r if c is not None and c.page == page) - 0.5
    mended = list(row)
    for index in range(min(labels - 1, len(row))):
        cell = row[index]
        if cell is None:
            continue
        if not cell.text.strip():
            mended[index] = None
            continue
        if starts_with_ordinal(cell.text):
            continue
        upper = head.cell_at((cell.rect[0] + cell.rect[2]) / 2, bottom, page)
        if upper is not None and upper.text.strip():
            upper.text = join_lines([upper.text, cell.text])
            mended[index] = None
    return mended


def _last_page(grid: Grid) -> int:
    return max(c.page for r in grid.rows for c in r if c is not None)


def write(pages: Sequence[PageBlocks], builder: TextBuilder) -> None:
    """Lines as lines, grids as ` | ` rows (covered positions skipped, rows with no text left out)."""
    for page in pages:
        for block in page.blocks:
            if isinstance(block, TextLine):
                builder.line(block.text, (page.number, block.x0, block.top, block.x1, block.bottom))
                continue
            for row in block.rows:
                cells = [c for c in row if c is not None]
                if not any(c.text.strip() for c in cells):
                    continue
                builder.row([Cell(c.text, (c.page or block.page, *c.rect)) for c in cells])
