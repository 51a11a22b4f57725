"""One document through the engine: plan → read → assemble → combine → reconcile → version.

This is the only place that turns readings into a run. Every door goes through it: the CLI and
the service call `extract`; a worker that reads the sections of one document apart calls
`plan`, `read_rules` / `read_llm` per section and `finish` on the join, so a document stored
through the queue carries exactly the fields, flags and version it would from the CLI.

Readers: `rules` (default, no key), `llm`, `both` (both read everything, compared cell by cell)
and `auto` (the LLM reads only the sections where a second reading can settle something,
`combine.sections_to_check`, and, as the fallback, the tables the rules reader could not place,
`combine.sections_unplaced`, in the text around the tables it did read, `readers.llm.windows`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from extractor.combine import combine, sections_to_check, sections_unplaced
from extractor.damage import flag_damaged
from extractor.ingest import SourceDocument
from extractor.model import Extraction
from extractor.readers.layout import DocumentPlan, SectionReading, assemble, plan_document
from extractor.readers.llm import LLM_READER_VERSION, Budget, LLMSettings, LLMUsage, read_sections_llm
from extractor.readers.llm.client import BlockClient
from extractor.readers.llm.windows import DEFAULT_LIMIT, fallback_window, gaps
from extractor.readers.rules import READER_VERSION, read_sections
from extractor.reconcile import reconcile
from schemas import DISCLOSURE_REPORT, ReportType

Reader = Literal["rules", "llm", "both", "auto"]
READERS: tuple[Reader, ...] = ("rules", "llm", "both", "auto")


@dataclass
class Readings:
    """What the readers gave for one document, before anything is judged.

    `sent` are the sections the LLM was asked to read (all of them for `llm` and `both`);
    `windows` the text windows of those among them the rules reader could not place (`auto`).
    """

    plan: DocumentPlan
    rules: list[SectionReading] = field(default_factory=list)
    llm: list[SectionReading] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    usage: LLMUsage | None = None
    windows: dict[str, tuple[int, int]] = field(default_factory=dict)


def reader_version(reader: Reader, llm: LLMSettings | None = None) -> str:
    """The version a run is stored under: a run is redone only when this changes."""
    if reader == "rules":
        return READER_VERSION
    settings = llm or LLMSettings()
    return f"{READER_VERSION}+{LLM_READER_VERSION}:{settings.model}+{settings.prompt_version}"


def llm_settings(reader: Reader, llm: LLMSettings | None = None) -> LLMSettings | None:
    """The LLM settings a reader needs (None for rules); stops early when no LLM is configured."""
    if reader == "rules":
        return None
    settings = llm or LLMSettings()
    settings.require()
    return settings


def plan(doc: SourceDocument, report: ReportType = DISCLOSURE_REPORT) -> DocumentPlan:
    return plan_document(doc, report)


def read_rules(
    doc: SourceDocument, plan: DocumentPlan, sections: Sequence[str] | None = None,
    report: ReportType = DISCLOSURE_REPORT,
) -> list[SectionReading]:  # fmt: skip
    return read_sections(doc, plan, list(plan.regions) if sections is None else sections, report)


def read_llm(
    doc: SourceDocument, plan: DocumentPlan, sections: Sequence[str], settings: LLMSettings,
    client: BlockClient | None = None, report: ReportType = DISCLOSURE_REPORT, budget: Budget | None = None,
    windows: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[list[SectionReading], LLMUsage]:  # fmt: skip
    return read_sections_llm(doc, plan, sections, settings, client, report, budget, windows)


def sections_for_llm(reader: Reader, readings: Readings, report: ReportType = DISCLOSURE_REPORT) -> list[str]:
    """Which tables the LLM reads: every located one for `llm`/`both`; for `auto` those where a
    second reading can settle something and those the rules reader could not place (judged on the
    rules reading)."""
    plan = readings.plan
    if reader == "rules" or plan.template is None:
        return []
    if reader in ("llm", "both"):
        return list(plan.regions)
    template = report.template(plan.template)
    draft = assemble(plan, readings.rules, reader, "", report)
    unplaced = set(sections_unplaced(template, draft.fields, plan.regions))
    found = [key for key, region in plan.regions.items() if region is not None]
    checked = set(sections_to_check(template, draft.fields, found))
    return [key for key in plan.regions if key in checked or key in unplaced]


def fallback_windows(
    reader: Reader, readings: Readings, text: str, report: ReportType = DISCLOSURE_REPORT,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, tuple[int, int]]:  # fmt: skip
    """For `auto`, the text window of each table the rules reader could not place: between the last
    cell read of the table before it and the start of the table read after it (`readers.llm.windows`).
    A table with nothing around it (the document ends after the last table read) gets none."""
    plan = readings.plan
    if reader != "auto" or plan.template is None:
        return {}
    template = report.template(plan.template)
    draft = assemble(plan, readings.rules, reader, "", report)
    unplaced = sections_unplaced(template, draft.fields, plan.regions)
    extents: dict[str, tuple[int, int]] = {}
    for key, region in plan.regions.items():
        spans = [v.span for k, v in draft.fields.items() if k.startswith(f"{key}.") and v.span is not None]
        if region is not None and key not in unplaced and spans:
            extents[key] = (region[0], max(end for _, end in spans))
    order = [section.key for section in template.sections]
    windows = {}
    for key, (gap, bounded_before) in gaps(order, unplaced, extents, len(text)).items():
        window = fallback_window(template.section(key), text, gap, limit, bounded_before)
        if window is not None:
            windows[key] = window
    return windows


def finish(
    doc: SourceDocument, readings: Readings, reader: Reader, llm: LLMSettings | None = None,
    report: ReportType = DISCLOSURE_REPORT,
) -> Extraction:  # fmt: skip
    """Assemble the readings, let two readers settle each other, check the sums, stamp the version."""
    plan = readings.plan
    version = reader_version(reader, llm)
    if reader == "llm":
        result = assemble(plan, readings.llm, reader, version, report)
    else:
        result = assemble(plan, readings.rules, reader, version, report)
        if plan.template is not None and readings.sent:
            llm_fields = {v.key: v for reading in readings.llm for v in reading.fields}
            merged = combine(report.template(plan.template), result.fields, llm_fields, readings.sent)
            result.fields = merged.fields
            result.notes.extend(merged.notes)
            result.notes.append(
                f"rules and LLM: {merged.agreed} cells agree, {merged.settled} settled by the sums, "
                f"{merged.disputed} disputed"
            )
        for reading in readings.llm:
            result.notes.extend(reading.notes)
    if readings.usage is not None:
        readings.usage.sections = list(readings.sent)
        result.usage = readings.usage.as_dict()
    if result.template is not None:
        # an LLM value that no sum confirms is flagged: the model may have copied a plausible number
        verify = ("llm",) if reader != "rules" else ()
        reconcile(report.template(result.template), result.fields, verify, result.notes)
    flag_damaged(result, doc)
    return result


def extract(
    doc: SourceDocument, report: ReportType = DISCLOSURE_REPORT, reader: Reader = "rules",
    llm: LLMSettings | None = None, client: BlockClient | None = None, budget: Budget | None = None,
) -> Extraction:  # fmt: skip
    """Read one document in this process. The token budget is the document's (`budget`, or a fresh
    one from the settings), shared by every LLM call made for it."""
    started = time.perf_counter()
    settings = llm_settings(reader, llm)
    readings = Readings(plan(doc, report))
    if reader != "llm":
        readings.rules = read_rules(doc, readings.plan, report=report)
    if settings is not None:
        readings.windows = fallback_windows(reader, readings, doc.normalized, report, settings.fallback_window)
        wanted = sections_for_llm(reader, readings, report)
        # a table neither located nor with text around it to read is not sent (nothing to ask about)
        readings.sent = [k for k in wanted if k in readings.windows or readings.plan.regions.get(k) is not None]
        readings.llm, readings.usage = read_llm(
            doc, readings.plan, readings.sent, settings, client, report, budget, readings.windows
        )
        if reader == "auto":  # what was sent: a fallback window with no row printed in it is not
            readings.sent = [k for k in readings.sent if k in readings.usage.sections]
    result = finish(doc, readings, reader, settings, report)
    result.seconds = time.perf_counter() - started
    return result
