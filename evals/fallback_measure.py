"""Rules alone vs `auto` (the LLM as the fallback) on gold documents, cell by cell.

What the LLM fallback is worth, and what it costs, on real layouts: each document is read with the
rules reader and with `auto` against one LLM server, and every cell of the template is put in one
class per side:

- `right` / `right_flagged`: the gold value, trusted / flagged for review;
- `wrong_flagged`: another value, flagged (a reviewer will look);
- `silent`: another value, not flagged: the error that must not happen;
- `missing`: no value where gold has one;
- `invented` / `invented_flagged`: a value where gold has none (the document does not show the cell).

From the two sides: `rescued` (flagged-wrong or missing under rules, right under auto, trusted or
flagged), `new_silent` (silent or unflagged-invented under auto, not under rules: must be 0),
`llm_invented` (values the LLM put where gold has none and the rules reader had none), and per
document the seconds, the LLM calls and tokens, and what was sent: each table, and whether it went
as its located region or as a fallback window (the text around a table the rules reader could not
place).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.gold import GoldCase, load_cases
from extractor.ingest import load_path
from extractor.model import Extraction
from extractor.pipeline import extract
from extractor.readers.llm import LLMSettings
from schemas import DISCLOSURE_REPORT

CLASSES = ("right", "right_flagged", "wrong_flagged", "silent", "missing", "invented", "invented_flagged")
FALLBACK_NOTE = "not placed by the rules reader"


def classify(gold: dict[str, float], values: dict[str, Any], flags: dict[str, Any], key: str) -> str | None:
    """The class of one cell (None: no value and none in gold, nothing to count)."""
    value, flagged, wanted = values.get(key), key in flags, gold.get(key)
    if wanted is None:
        if value is None:
            return None
        return "invented_flagged" if flagged else "invented"
    if value is None:
        return "missing"
    if float(value) == float(wanted):
        return "right_flagged" if flagged else "right"
    return "wrong_flagged" if flagged else "silent"


def cell_classes(case: GoldCase, result: Extraction) -> dict[str, str]:
    flat = result.flat()
    keys = DISCLOSURE_REPORT.template(result.template).keys if result.template else tuple(case.fields)
    out = {}
    for key in sorted(set(keys) | set(case.fields)):
        found = classify(case.fields, flat["fields"], flat["flags"], key)
        if found is not None:
            out[key] = found
    return out


@dataclass
class DocumentResult:
    doc: str
    rules: dict[str, str]
    auto: dict[str, str]
    seconds_rules: float
    seconds_auto: float
    sent: list[str]
    fallback: list[str]
    usage: dict[str, Any]
    llm_cells: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def rescued(self) -> list[str]:
        bad = ("wrong_flagged", "missing")
        return [k for k, c in self.rules.items() if c in bad and self.auto.get(k) in ("right", "right_flagged")]

    @property
    def new_silent(self) -> list[str]:
        worse = ("silent", "invented")
        return [k for k, c in self.auto.items() if c in worse and self.rules.get(k) not in worse]

    @property
    def lost(self) -> list[str]:
        """Cells right under rules that auto no longer has right (a flag added to a right value is not a loss)."""
        good = ("right", "right_flagged")
        return [k for k, c in self.rules.items() if c in good and self.auto.get(k) not in good]

    @property
    def llm_invented(self) -> list[str]:
        """Values the LLM put where gold has none and the rules reader had none (an LLM agreeing with
        a value the rules reader invented is counted under the rules: `invented` on both sides)."""
        invented = ("invented", "invented_flagged")
        return [k for k in self.llm_cells if self.auto.get(k) in invented and self.rules.get(k) not in invented]


def measure_document(case: GoldCase, settings: LLMSettings) -> DocumentResult:
    doc = load_path(case.document)
    started = time.perf_counter()
    rules = extract(doc, reader="rules")
    seconds_rules = time.perf_counter() - started
    started = time.perf_counter()
    auto = extract(doc, reader="auto", llm=settings)
    seconds_auto = time.perf_counter() - started
    usage = dict(auto.usage or {})
    fallback = [note.split(":", 1)[0] for note in auto.notes if FALLBACK_NOTE in note]
    llm_cells = [k for k, v in auto.fields.items() if v.value is not None and "llm" in (v.source or "")]
    notes = [n for n in auto.notes if "LLM" in n or "not placed" in n or "not sent" in n]
    return DocumentResult(
        case.name, cell_classes(case, rules), cell_classes(case, auto), seconds_rules, seconds_auto,
        list(usage.get("sections", [])), fallback, usage, llm_cells, notes,
    )  # fmt: skip


def measure(
    cases: Sequence[GoldCase], settings: LLMSettings, progress: Callable[[DocumentResult], None] | None = None
) -> list[DocumentResult]:
    out = []
    for case in cases:
        result = measure_document(case, settings)
        if progress is not None:
            progress(result)
        out.append(result)
    return out


def summary(results: Sequence[DocumentResult]) -> dict[str, Any]:
    rules, auto = Counter[str](), Counter[str]()
    for r in results:
        rules.update(r.rules.values())
        auto.update(r.auto.values())
    n = max(1, len(results))
    return {
        "documents": len(results),
        "rules": {c: rules[c] for c in CLASSES},
        "auto": {c: auto[c] for c in CLASSES},
        "rescued": sum(len(r.rescued) for r in results),
        "rescued_trusted": sum(1 for r in results for k in r.rescued if r.auto[k] == "right"),
        "new_silent": sum(len(r.new_silent) for r in results),
        "lost": sum(len(r.lost) for r in results),
        "llm_invented": sum(len(r.llm_invented) for r in results),
        "llm_invented_unflagged": sum(1 for r in results for k in r.llm_invented if r.auto[k] == "invented"),
        "tables_sent": sum(len(r.sent) for r in results),
        "tables_sent_as_fallback": sum(len(r.fallback) for r in results),
        "documents_sending": sum(1 for r in results if r.usage.get("calls", 0) or r.usage.get("cached", 0)),
        "llm_calls": sum(int(r.usage.get("calls", 0)) for r in results),
        "tokens_in": sum(int(r.usage.get("tokens_in", 0)) for r in results),
        "tokens_out": sum(int(r.usage.get("tokens_out", 0)) for r in results),
        "seconds_per_report_rules": round(sum(r.seconds_rules for r in results) / n, 3),
        "seconds_per_report_auto": round(sum(r.seconds_auto for r in results) / n, 2),
    }


def line(result: DocumentResult) -> str:
    """One document's outcome, for the progress log."""
    sent = ", ".join(f"{s}{' (fallback window)' if s in result.fallback else ''}" for s in result.sent) or "nothing"
    return (
        f"{result.doc}: sent {sent}; {result.usage.get('calls', 0)} calls, {result.usage.get('tokens_in', 0)}+"
        f"{result.usage.get('tokens_out', 0)} tokens, {result.seconds_auto:.1f}s; rescued {len(result.rescued)} "
        f"{result.rescued[:6]}; new silent {result.new_silent}; LLM invented {len(result.llm_invented)}; "
        f"lost {result.lost[:6]}"
    )


def report(results: Sequence[DocumentResult], model: str) -> dict[str, Any]:
    return {"model": model, "summary": summary(results), "documents": [_document(r) for r in results]}


def _document(r: DocumentResult) -> dict[str, Any]:
    return {
        "doc": r.doc, "sent": r.sent, "fallback": r.fallback, "usage": r.usage,
        "seconds_rules": round(r.seconds_rules, 3), "seconds_auto": round(r.seconds_auto, 2),
        "rescued": {k: r.auto[k] for k in r.rescued}, "new_silent": r.new_silent, "lost": r.lost,
        "llm_invented": {k: r.auto[k] for k in r.llm_invented}, "llm_notes": r.notes,
    }  # fmt: skip


def real_excerpts(folder: Path, pattern: str = "real-*-x.txt") -> list[GoldCase]:
    """The gold cases whose document matches `pattern` in `folder` (the shared real excerpts)."""
    wanted = {p.name for p in folder.glob(pattern)}
    return [case for case in load_cases(folder) if case.document.name in wanted]


def write(results: Sequence[DocumentResult], model: str, path: Path) -> None:
    path.write_text(json.dumps(report(results, model), ensure_ascii=False, indent=1), encoding="utf-8")
