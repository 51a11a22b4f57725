"""Each table of a template as the official form prints it: header rows, then rows of field cells.

Why here and not in a page template: the review page, the Excel export and any other view that
should look like the form a publisher filled in need the same grid, and the grid follows from the
schema alone (`SectionSpec` rows and `ColumnSpec` labels, in order), so a new report type gets
its layout without new view code.

Two shapes come out of a section:

* a *labelled* section prints one row per `RowSpec`, its label in the first column; consecutive
  rows with the same columns share one header, so a section whose rows have different columns
  (table 2 of the 2021 form: documents, decisions, fees) becomes several stacked blocks;
* an *unlabelled* section (table 4) prints its rows side by side as column groups named only in
  the header, with every value on one line; a row label `A·B` nests group B under group A.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from schemas import ColumnSpec, RowSpec, SectionSpec, TemplateSpec

GROUP_SEPARATOR = "·"


@dataclass(frozen=True)
class Heading:
    """One header cell; spans as in HTML (`colspan` columns wide, `rowspan` header rows tall)."""

    label: str
    colspan: int = 1
    rowspan: int = 1


@dataclass(frozen=True)
class FormCell:
    """One field of the form: its key and the labels a reader sees around it."""

    key: str
    row: str
    column: str
    kind: str
    unit: str


@dataclass(frozen=True)
class FormRow:
    """One printed line of cells; `label` is empty for a section without row labels."""

    key: str
    label: str
    cells: tuple[FormCell, ...]


@dataclass(frozen=True)
class FormBlock:
    """One grid: `header` rows of headings over `rows` of the same width.

    With `row_labels` the first column holds each row's label (its header cell is empty and spans
    every header row); without, the rows carry only cells.
    """

    header: tuple[tuple[Heading, ...], ...]
    rows: tuple[FormRow, ...]
    row_labels: bool

    @property
    def width(self) -> int:
        return max((len(r.cells) for r in self.rows), default=0)


@dataclass(frozen=True)
class FormSection:
    key: str
    title: str
    blocks: tuple[FormBlock, ...]

    def field_keys(self) -> tuple[str, ...]:
        """The section's field keys in the order the form prints them (left to right, top to bottom)."""
        return tuple(cell.key for block in self.blocks for row in block.rows for cell in row.cells)


def _cell(section: SectionSpec, row: RowSpec, column: ColumnSpec) -> FormCell:
    return FormCell(row.field_key(section.key, column), row.label, column.label, column.kind, column.unit)


def _column_headings(columns: tuple[ColumnSpec, ...]) -> tuple[Heading, ...]:
    return tuple(Heading(c.label) for c in columns)


def _labelled(section: SectionSpec, rows_used: tuple[RowSpec, ...]) -> tuple[FormBlock, ...]:
    blocks: list[FormBlock] = []
    run: list[RowSpec] = []

    def close() -> None:
        if run:
            rows = tuple(FormRow(r.key, r.label, tuple(_cell(section, r, c) for c in r.columns)) for r in run)
            blocks.append(FormBlock(header=(_column_headings(run[0].columns),), rows=rows, row_labels=True))
            run.clear()

    for row in rows_used:
        if run and _signature(run[0]) != _signature(row):
            close()
        run.append(row)
    close()
    return tuple(blocks)


def _signature(row: RowSpec) -> tuple[tuple[str, str], ...]:
    return tuple((c.key, c.label) for c in row.columns)


def _across(section: SectionSpec) -> tuple[FormBlock, ...]:
    """Rows side by side: group headings from the row labels (split on `·`), then the column labels."""
    rows = section.rows
    if not rows:
        return ()
    paths = [tuple(part.strip() for part in row.label.split(GROUP_SEPARATOR)) for row in rows]
    depth = max(len(p) for p in paths)
    header: list[tuple[Heading, ...]] = []
    for level in range(depth):
        line: list[Heading] = []
        index = 0
        while index < len(rows):
            path = paths[index]
            if len(path) <= level:  # covered by a heading above that spans down
                index += 1
                continue
            width = len(rows[index].columns)
            end = index + 1
            ends_here = len(path) == level + 1
            while (
                end < len(rows)
                and paths[end][: level + 1] == path[: level + 1]
                and (len(paths[end]) == level + 1) == ends_here
            ):
                width += len(rows[end].columns)
                end += 1
            line.append(Heading(path[level], colspan=width, rowspan=depth - level if ends_here else 1))
            index = end
        header.append(tuple(line))
    header.append(tuple(h for row in rows for h in _column_headings(row.columns)))
    cells = tuple(_cell(section, row, column) for row in rows for column in row.columns)
    return (FormBlock(header=tuple(header), rows=(FormRow("", "", cells),), row_labels=False),)


def section_layout(section: SectionSpec, present: Collection[str] = ()) -> FormSection:
    """One section's grid as the form prints it (the form the report used, given its keys)."""
    blocks = _labelled(section, section.rows_used(present)) if section.labelled else _across(section)
    return FormSection(section.key, section.title, blocks)


_LAYOUTS: dict[tuple[int, tuple[str, ...]], tuple[TemplateSpec, tuple[FormSection, ...]]] = {}


def form_layout(template: TemplateSpec, present: Collection[str] = ()) -> tuple[FormSection, ...]:
    """Every section of `template` in order, in the form a report with keys `present` used (the
    mandated form by default); built once per template and form (a page asks on every view)."""
    used = tuple(row.key for section in template.sections for row in section.rows_used(present) if row.replaces)
    cached = _LAYOUTS.get((id(template), used))
    if cached is not None and cached[0] is template:
        return cached[1]
    layout = tuple(section_layout(section, present) for section in template.sections)
    _LAYOUTS[(id(template), used)] = (template, layout)
    return layout
