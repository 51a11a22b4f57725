"""Plain JSON for what passes between tasks: a document plan, a section's reading, usage totals.

Celery messages and results are JSON (no pickle): these turn the reader's dataclasses into
dicts and back without losing an int/float distinction, a span or a reason.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from extractor.model import FieldValue
from extractor.readers.layout import DocumentPlan, SectionReading

_FIELD_NAMES = tuple(f.name for f in fields(FieldValue))


def plan_to_json(plan: DocumentPlan) -> dict[str, Any]:
    return {
        "doc": plan.doc,
        "template": plan.template,
        "year": plan.year,
        "agency": plan.agency,
        "regions": {key: list(region) if region else None for key, region in plan.regions.items()},
        "notes": list(plan.notes),
    }


def plan_from_json(data: dict[str, Any]) -> DocumentPlan:
    regions: dict[str, tuple[int, int] | None] = {
        key: (int(region[0]), int(region[1])) if region else None for key, region in data["regions"].items()
    }
    return DocumentPlan(
        doc=data["doc"],
        template=data["template"],
        year=data["year"],
        agency=data["agency"],
        regions=regions,
        notes=tuple(data["notes"]),
    )


def field_to_json(value: FieldValue) -> dict[str, Any]:
    out = {name: getattr(value, name) for name in _FIELD_NAMES}
    out["span"] = list(value.span) if value.span else None
    out["reasons"] = list(value.reasons)
    return out


def field_from_json(data: dict[str, Any]) -> FieldValue:
    values = {name: data[name] for name in _FIELD_NAMES if name in data}
    span = values.get("span")
    values["span"] = (int(span[0]), int(span[1])) if span else None
    return FieldValue(**values)


def reading_to_json(reading: SectionReading, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "section": reading.section,
        "fields": [field_to_json(v) for v in reading.fields],
        "notes": list(reading.notes),
        "usage": usage or {},
        "error": None,
    }


def reading_from_json(data: dict[str, Any]) -> SectionReading:
    return SectionReading(
        section=data["section"],
        fields=[field_from_json(v) for v in data["fields"]],
        notes=list(data["notes"]),
    )
