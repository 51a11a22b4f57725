"""Scoring one flat extraction against its gold, as shared/benchmark/FIELDS.md defines it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DocScore:
    doc: str
    gold_fields: int = 0
    correct: int = 0
    flagged_errors: int = 0
    silent_errors: int = 0
    invented: int = 0
    false_flags: int = 0
    template_ok: bool = True
    error: str = ""
    seconds: float = 0.0
    errors_by_section: Counter[str] = field(default_factory=Counter)
    silent_by_section: Counter[str] = field(default_factory=Counter)
    silent_keys: list[str] = field(default_factory=list)
    false_flag_keys: list[str] = field(default_factory=list)
    invented_keys: list[str] = field(default_factory=list)
    # (key, confidence, wrong) for every gold key the extraction flagged: what calibration bins
    flagged_cells: list[tuple[str, float, bool]] = field(default_factory=list)


def _equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    try:
        return abs(float(a) - float(b)) < 1e-9
    except (TypeError, ValueError):
        return False


def score(
    doc: str,
    flat: dict[str, Any] | None,
    gold: dict[str, Any],
    seconds: float = 0.0,
    error: str = "",
    confidence: Mapping[str, float] | None = None,
) -> DocScore:
    """Per gold key: correct, wrong and flagged, or silent; plus invented values outside gold.

    ``confidence`` (the extraction's per-cell confidence) lets a flagged gold
    cell be recorded with whether it was wrong, for :func:`calibration`; a
    flagged key without a confidence (no value at all) counts as 0.
    """
    gold_fields: dict[str, Any] = gold.get("fields", {})
    result = DocScore(doc=doc, gold_fields=len(gold_fields), seconds=seconds, error=error)
    fields: dict[str, Any] = (flat or {}).get("fields", {})
    flags: dict[str, Any] = (flat or {}).get("flags", {})
    result.template_ok = flat is not None and str(flat.get("template")) == str(gold.get("template"))
    if flat is None:
        # an unreadable document is reported loudly (an error per file), so its cells are not silent
        result.flagged_errors = len(gold_fields)
        for key in gold_fields:
            result.errors_by_section[key.split(".", 1)[0]] += 1
        return result
    for key, expected in gold_fields.items():
        section = key.split(".", 1)[0]
        if key in flags:
            wrong = not _equal(fields.get(key), expected)
            result.flagged_cells.append((key, float((confidence or {}).get(key, 0.0)), wrong))
        if _equal(fields.get(key), expected):
            result.correct += 1
            if key in flags:
                result.false_flags += 1
                result.false_flag_keys.append(key)
        elif key in flags:
            result.flagged_errors += 1
            result.errors_by_section[section] += 1
        else:
            result.silent_errors += 1
            result.errors_by_section[section] += 1
            result.silent_by_section[section] += 1
            result.silent_keys.append(key)
    result.invented_keys = [key for key in fields if key not in gold_fields and key not in flags]
    result.invented = len(result.invented_keys)
    return result


@dataclass
class Summary:
    documents: int
    fields: int
    correct: int
    flagged_errors: int
    silent_errors: int
    invented: int
    false_flags: int
    templates_wrong: int
    failed_documents: int
    seconds: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.fields if self.fields else 0.0

    @property
    def silent_rate(self) -> float:
        return self.silent_errors / self.fields if self.fields else 0.0

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0


def summarize(scores: list[DocScore]) -> Summary:
    return Summary(
        documents=len(scores),
        fields=sum(s.gold_fields for s in scores),
        correct=sum(s.correct for s in scores),
        flagged_errors=sum(s.flagged_errors for s in scores),
        silent_errors=sum(s.silent_errors for s in scores),
        invented=sum(s.invented for s in scores),
        false_flags=sum(s.false_flags for s in scores),
        templates_wrong=sum(1 for s in scores if not s.template_ok),
        failed_documents=sum(1 for s in scores if s.error),
        seconds=sum(s.seconds for s in scores),
    )


# Confidence bins of the calibration table: [0, 0.1), [0.1, 0.2) … [0.9, 1.0].
CALIBRATION_EDGES: tuple[float, ...] = tuple(round(i / 10, 1) for i in range(11))


@dataclass(frozen=True)
class CalibrationBin:
    """Flagged gold cells whose confidence falls in [low, high): how many, and how many were wrong."""

    low: float
    high: float
    flagged: int
    wrong: int

    @property
    def wrong_rate(self) -> float | None:
        """Share of the bin's flagged cells that were wrong; None for an empty bin."""
        return self.wrong / self.flagged if self.flagged else None

    @property
    def label(self) -> str:
        return f"{self.low:.1f}–{self.high:.1f}"


def calibration(scores: list[DocScore], edges: tuple[float, ...] = CALIBRATION_EDGES) -> list[CalibrationBin]:
    """How often a flagged cell is wrong, per confidence bin.

    A reviewer works through flags; if the reader's confidence means
    anything, low bins are mostly wrong and high bins mostly false alarms.
    The last bin is closed (a confidence of exactly the top edge falls in it).
    """
    counts = [[0, 0] for _ in edges[:-1]]
    for s in scores:
        for _key, conf, wrong in s.flagged_cells:
            i = next((j for j in range(len(edges) - 1) if conf < edges[j + 1]), len(edges) - 2)
            counts[i][0] += 1
            counts[i][1] += int(wrong)
    return [CalibrationBin(edges[i], edges[i + 1], n, w) for i, (n, w) in enumerate(counts)]
