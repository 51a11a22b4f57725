"""The vocabulary used to describe a report type: templates made of sections, rows and columns.

A row or column is identified in a document by *aliases*: short, distinctive label fragments in
simplified characters with whitespace, punctuation and list numbering removed. Keeping them here,
beside the keys, means a new report type is a new data module, not new reader code.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.constraints import SumRule

ValueKind = Literal["int", "decimal"]


class ColumnSpec(BaseModel):
    """One column of a table row; `signed` allows negative values (year-on-year changes)."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    kind: ValueKind = "int"
    signed: bool = False
    unit: str = ""


class RowSpec(BaseModel):
    """One printed row; `aliases` match anywhere in a label, `exact` only the whole label.

    `replaces`: the keys of rows this one stands for when a report prints it instead of them
    (a 2021 report printing (六)其他处理 as one row, as the 2019 form does). Such a row is read only
    when printed with values; then the rows it replaces are absent, not missing, and vice versa.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    columns: tuple[ColumnSpec, ...]
    aliases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()

    def field_key(self, section: str, column: ColumnSpec) -> str:
        return f"{section}.{self.key}.{column.key}"


class TableLocation(BaseModel):
    """How a table is found in a report's text: the words printed around it, never a position.

    A table is *anchored* on its first data row (`anchors`, confirmed by a second row's label
    within `confirm_within` characters, and, when `anchor_is_row`, by a cell right after it),
    because reports name their tables in the introduction too; it then begins at the last
    `headings` phrase within `heading_lookback` characters before the anchor. A table with no
    anchor found begins at the first of its `fallback` labels (or its last heading before it);
    one with no anchor data begins at its first heading (`loose_headings` count only right after
    the previous table's anchor). A table ends where the next located table begins, at the first
    of its `ends` markers, or `max_chars` after it begins. `header_words`: a region without any of
    them is prose that names the table's words, not the table.
    """

    model_config = ConfigDict(frozen=True)

    headings: tuple[str, ...] = ()
    anchors: tuple[str, ...] = ()
    confirm: tuple[str, ...] = ()
    confirm_within: int = 1500
    anchor_is_row: bool = False
    heading_lookback: int = 0
    fallback: tuple[str, ...] = ()
    loose_headings: tuple[str, ...] = ()
    header_words: tuple[str, ...] = ()
    ends: tuple[str, ...] = ()
    max_chars: int | None = None


class SectionSpec(BaseModel):
    """One mandated table.

    `labelled` is False for tables whose rows carry no printed label (table 4 prints its three
    groups only in the header), so their cells are placed purely by order.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    rows: tuple[RowSpec, ...]
    location: TableLocation = TableLocation()
    labelled: bool = True
    values_after: tuple[str, ...] = Field(
        default=(), description="unlabelled tables: header words after which the values begin (结果维持)"
    )
    header_words: tuple[str, ...] = ()
    extra_rows: tuple[str, ...] = Field(default=(), description="labels of printed rows that are not fields (小计)")
    extra_columns: tuple[str, ...] = Field(
        default=(), description="header words of printed columns that are not fields (法人或其他组织 小计)"
    )
    usual_column: str = Field(
        default="",
        description="the column that holds most values (自然人 in table 3): where dropped cells leave columns "
        "open, a reading that leaves it empty in a row counting many requests is not plausible",
    )

    def field_keys(self) -> list[str]:
        return [row.field_key(self.key, col) for row in self.rows for col in row.columns]

    def rows_used(self, present: Collection[str] = ()) -> tuple[RowSpec, ...]:
        """The rows of the form a report used, given the keys it holds: a row that replaces others
        (六 printed as one row) where one of its cells is present, else the rows it replaces."""
        merged = [row for row in self.rows if row.replaces]
        if not merged:
            return self.rows
        used = {row.key for row in merged if any(row.field_key(self.key, c) in present for c in row.columns)}
        replaced = {key for row in merged if row.key in used for key in row.replaces}
        return tuple(row for row in self.rows if (row.key in used if row.replaces else row.key not in replaced))

    def row(self, key: str) -> RowSpec:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)


class TemplateSpec(BaseModel):
    """One version of the mandated layout, with the markers that tell it apart from the others."""

    model_config = ConfigDict(frozen=True)

    version: str
    title: str
    sections: tuple[SectionSpec, ...]
    constraints: tuple[SumRule, ...]
    markers: tuple[str, ...] = Field(default=(), description="label fragments only this version prints")
    years: tuple[int, int] = (0, 9999)
    locate_order: tuple[str, ...] = Field(
        default=(), description="section keys in the order they are located: the most distinctive table first"
    )

    def section(self, key: str) -> SectionSpec:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)

    def field_keys(self) -> list[str]:
        return list(self.keys)

    def used_keys(self, present: Collection[str] = ()) -> list[str]:
        """Every key of the form a report used (`SectionSpec.rows_used`), in printed order; with no
        keys given, the mandated form's."""
        return [
            row.field_key(section.key, col)
            for section in self.sections
            for row in section.rows_used(present)
            for col in row.columns
        ]

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """Every field key in printed order, built once: the readers ask for it on every document."""
        return tuple(key for section in self.sections for key in section.field_keys())

    def column_of(self, field_key: str) -> ColumnSpec:
        section_key, row_key, column_key = field_key.split(".")
        row = self.section(section_key).row(row_key)
        for column in row.columns:
            if column.key == column_key:
                return column
        raise KeyError(field_key)


class ReportType(BaseModel):
    """A family of reports sharing a purpose, e.g. the disclosure annual report."""

    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    templates: tuple[TemplateSpec, ...]
    identifying_phrases: tuple[str, ...] = Field(
        default=(), description="a text with none of these is not this kind of report (refused at ingest)"
    )

    def template(self, version: str) -> TemplateSpec:
        for template in self.templates:
            if template.version == version:
                return template
        raise KeyError(version)
