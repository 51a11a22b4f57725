"""What an extraction produces: one value per field with its provenance, confidence and reasons.

Readers fill it, the reconciler adds reasons and inferred values, storage persists it and the
flat export (shared/benchmark/FIELDS.md) is a view of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from extractor.confidence import CERTAIN, FLAG_BELOW

Number = int | float
Status = Literal["read", "blank", "inferred", "missing"]


def format_number(value: Number | None) -> str:
    """As a reviewer should read it: no float noise, no exponent, no rounding of money."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


@dataclass(slots=True)
class FieldValue:
    """One table cell.

    `status`: read (a number the document shows), blank (shown as blank/—//: counted 0, raw kept),
    inferred (not shown; the constraints determine it; always flagged), missing (expected but not
    found: no value, always flagged).
    """

    key: str
    value: Number | None
    raw: str = ""
    span: tuple[int, int] | None = None
    status: Status = "read"
    confidence: float = CERTAIN  # every doubt lowers it; a flagged field is < FLAG_BELOW
    reasons: list[str] = field(default_factory=list)
    source: str = "rules"
    hard: bool = False  # a doubt about the value itself, not only about where the layout put it
    sums_settle: bool = True  # every doubt so far is one that sums holding around the cell settle

    def doubt(self, reason: str, confidence: float, layout: bool = True, sums_settle: bool = False) -> None:
        """Record a reason for a reviewer; confidence only ever goes down.

        `layout` doubts (which column, which row, where a run of digits splits) can be settled by
        a second, independent reading that agrees; other doubts cannot. `sums_settle` doubts are
        those a wrong choice would show in the arithmetic: a row placed by its position between
        labelled rows, digits re-cut to fit the row sum. The reconciler lifts them when every sum
        the cell is in holds, one of them beyond the cell's own row.
        """
        if reason not in self.reasons:
            self.reasons.append(reason)
        self.confidence = min(self.confidence, confidence)
        self.hard = self.hard or not layout
        self.sums_settle = self.sums_settle and sums_settle

    @property
    def flagged(self) -> bool:
        return bool(self.reasons) or self.confidence < FLAG_BELOW or self.status in ("inferred", "missing")

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "raw": self.raw,
            "span": list(self.span) if self.span else None,
            "status": self.status,
            "confidence": round(self.confidence, 3),
            "reasons": list(self.reasons),
            "source": self.source,
        }


@dataclass
class Extraction:
    """Everything one reader run learned about one document."""

    doc: str
    template: str | None
    year: int | None
    agency: str | None
    fields: dict[str, FieldValue] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reader: str = "rules"
    reader_version: str = ""
    seconds: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)  # LLM calls, tokens (retries included), cost

    def values(self) -> dict[str, Number]:
        return {k: f.value for k, f in self.fields.items() if f.value is not None}

    def flat(self) -> dict[str, Any]:
        """The FIELDS.md interchange object: fields the document gave (or inferred, flagged) + flags."""
        return {
            "doc": self.doc,
            "template": self.template,
            "year": self.year,
            "agency": self.agency,
            "fields": self.values(),
            "flags": {k: (f.reasons or ["low confidence"]) for k, f in self.fields.items() if f.flagged},
        }

    def detailed(self) -> dict[str, Any]:
        out = self.flat()
        out["cells"] = {k: f.as_dict() for k, f in self.fields.items()}
        out["notes"] = list(self.notes)
        out["reader"] = self.reader
        out["reader_version"] = self.reader_version
        if self.usage:
            out["usage"] = dict(self.usage)
        return out
