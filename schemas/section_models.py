"""Pydantic models for each section, generated from the section data so there is one definition.

Every cell is required but nullable: a reader (human or LLM) must say for each cell whether the
document shows it, instead of silently leaving it out.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from schemas.report_type import RowSpec, SectionSpec


def _row_model(section: SectionSpec, row: RowSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for col in row.columns:
        annotation: Any = (float | int | None) if col.kind == "decimal" else (int | None)
        ge = None if col.signed or col.kind == "decimal" else 0
        fields[col.key] = (annotation, Field(..., ge=ge, description=col.label))
    name = f"{section.key.upper()}_{row.key}"
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


@cache
def section_model(section: SectionSpec) -> type[BaseModel]:
    """The model of a whole section: one nullable sub-model per printed row."""
    fields: dict[str, Any] = {
        row.key: (_row_model(section, row) | None, Field(..., description=row.label)) for row in section.rows
    }
    return create_model(f"Section_{section.key}", __config__=ConfigDict(extra="forbid"), **fields)


def block_name(section: SectionSpec, rows: tuple[RowSpec, ...]) -> str:
    """A stable name for a few rows of a section, usable as a tool/function name."""
    return f"{section.key}_{rows[0].key}_to_{rows[-1].key}"[:64]


def _strip_titles(schema: dict[str, Any]) -> None:
    """Titles repeat the property names: dropping them keeps each call's schema short."""
    for node in schema.get("properties", {}).values():
        if isinstance(node, dict):
            node.pop("title", None)


_BLOCKS: dict[tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]], type[BaseModel]] = {}


def block_model(section: SectionSpec, rows: tuple[RowSpec, ...]) -> type[BaseModel]:
    """A few consecutive rows of a section: the unit an LLM transcribes in one call.

    Each row is a fixed-length list of its cells in column order, as the row is printed: short
    to send and to answer, and it matches how a table reads. Every row is required and every
    cell required but nullable (null = not shown in the text), so the model has to answer for
    each cell instead of skipping the awkward ones.
    """
    key = (section.key, tuple(r.key for r in rows), tuple(tuple(c.key for c in r.columns) for r in rows))
    if key not in _BLOCKS:
        fields: dict[str, Any] = {}
        for row in rows:
            width = len(row.columns)
            cell: Any = (float | int | None) if any(col.kind == "decimal" for col in row.columns) else (int | None)
            fields[row.key] = (list[cell], Field(..., min_length=width, max_length=width))
        config = ConfigDict(extra="forbid", json_schema_extra=_strip_titles)
        _BLOCKS[key] = create_model(block_name(section, rows), __config__=config, **fields)
    return _BLOCKS[key]


def row_cells(row: RowSpec, answer: Any) -> list[Any]:
    """The cells of one row of a block answer, in column order (None where absent)."""
    cells = list(answer) if isinstance(answer, list | tuple) else []
    return (cells + [None] * len(row.columns))[: len(row.columns)]
