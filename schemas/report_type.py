"""The vocabulary used to describe a report type: templates made of sections, rows and columns.

A row or column is identified in a document by *aliases*: short, distinctive label fragments in
simplified characters with whitespace, punctuation and list numbering removed. Keeping them here,
beside the keys, means a new report type is a new data module, not new reader code.
"""

from __future__ import annotations

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
    """One printed row; `aliases` match anywhere in a label, `exact` only the whole label."""

    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    columns: tuple[ColumnSpec, ...]
    aliases: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()

    def field_key(self, section: str, column: ColumnSpec) -> str:
        return f"{section}.{self.key}.{column.key}"


class SectionSpec(BaseModel):
    """One mandated table.

    `labelled` is False for tables whose rows carry no printed label (table 4 prints its three
    groups only in the header), so their cells are placed purely by order.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    rows: tuple[RowSpec, ...]
    headings: tuple[str, ...] = ()
    labelled: bool = True
    header_words: tuple[str, ...] = ()
    extra_rows: tuple[str, ...] = Field(default=(), description="labels of printed rows that are not fields (小计)")
    extra_columns: tuple[str, ...] = Field(
        default=(), description="header words of printed columns that are not fields (法人或其他组织 小计)"
    )

    def field_keys(self) -> list[str]:
        return [row.field_key(self.key, col) for row in self.rows for col in row.columns]

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

    def section(self, key: str) -> SectionSpec:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)

    def field_keys(self) -> list[str]:
        return [key for section in self.sections for key in section.field_keys()]

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
    identifying_phrases: tuple[str, ...] = ()

    def template(self, version: str) -> TemplateSpec:
        for template in self.templates:
            if template.version == version:
                return template
        raise KeyError(version)
