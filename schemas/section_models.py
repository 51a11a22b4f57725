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


def block_model(section: SectionSpec, rows: tuple[RowSpec, ...]) -> type[BaseModel]:
    """A few consecutive rows of a section: the unit an LLM transcribes in one call.

    Every row is required and every cell required but nullable (null = not shown in the text),
    so the model has to answer for each cell instead of skipping the awkward ones.
    """
    fields: dict[str, Any] = {row.key: (_row_model(section, row), Field(..., description=row.label)) for row in rows}
    return create_model(block_name(section, rows), __config__=ConfigDict(extra="forbid"), **fields)
