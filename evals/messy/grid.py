"""Place the cells of a table model on a rectangular grid, resolving row and column spans.

evals.synth's tables are lists of printed rows whose cells carry rowspan and
colspan, exactly as HTML writes them: a cell spanning rows occupies slots
in rows below that those rows' own cells skip.  Word and PDF need absolute
positions instead, so this module runs the HTML table-placement rule once
and both channels draw from its result.
"""

from __future__ import annotations

from dataclasses import dataclass

from evals.synth.layouts import Cell, Table


@dataclass(frozen=True)
class Placed:
    """One cell at its top-left grid slot, with the rows and columns it covers."""

    cell: Cell
    row: int
    col: int
    rows: int
    cols: int

    @property
    def last_row(self) -> int:
        """Index of the last grid row the cell covers."""
        return self.row + self.rows - 1


@dataclass(frozen=True)
class Grid:
    """A table as placed cells on ``n_rows`` x ``n_cols`` slots."""

    table: Table
    cells: list[Placed]
    n_rows: int
    n_cols: int

    def header_rows(self) -> int:
        """Rows of the leading header block (repeated when the table continues on a new page).

        A header cell spanning down (table 3's note, 自然人, 总计) extends the
        block to its last row.
        """
        end = 0
        for i, line in enumerate(self.table.lines):
            if line.kind != "header":
                break
            end = i + 1
        for p in self.cells:
            if p.row < end:
                end = max(end, p.last_row + 1)
        return end


def place(table: Table) -> Grid:
    """The HTML placement rule: each cell takes the first free slot of its row.

    Rows with fewer cells than the table is wide (table 2's data rows end
    with a colspan) are left as they are: every model row fills the width.
    """
    taken: set[tuple[int, int]] = set()
    cells: list[Placed] = []
    n_cols = 0
    for r, line in enumerate(table.lines):
        c = 0
        for cell in line.cells:
            while (r, c) in taken:
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            cells.append(Placed(cell, r, c, cell.rowspan, cell.colspan))
            c += cell.colspan
            n_cols = max(n_cols, c)
    n_rows = max((p.last_row + 1 for p in cells), default=0)
    return Grid(table, cells, max(n_rows, len(table.lines)), n_cols)
