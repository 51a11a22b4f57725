"""One document through the engine: ingest → read → reconcile. The doors (CLI, API, workers) call this.

Readers: `rules` (default, no key), `llm`, `both` (both read everything, compared cell by cell)
and `auto` (the LLM reads only the sections the rules reader could not read cleanly).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from extractor.combine import combine
from extractor.ingest import SourceDocument, load_path
from extractor.model import Extraction
from extractor.readers.llm import LLMSettings, read_sections_llm
from extractor.readers.llm.client import BlockClient
from extractor.readers.rules import assemble, plan_document, read_document
from extractor.reconcile import reconcile
from schemas import DISCLOSURE_REPORT, ReportType

Reader = Literal["rules", "llm", "both", "auto"]
READERS: tuple[Reader, ...] = ("rules", "llm", "both", "auto")


def reconcile_extraction(
    extraction: Extraction, report: ReportType = DISCLOSURE_REPORT, verify: tuple[str, ...] = ()
) -> Extraction:
    """Run the constraint engine over an assembled extraction (e.g. one joined from section tasks)."""
    if extraction.template is not None:
        reconcile(report.template(extraction.template), extraction.fields, verify)
    return extraction


def unclean_sections(extraction: Extraction, order: list[str] | None = None) -> list[str]:
    """Sections the rules reader did not read cleanly: where a second reader can help.

    That is a cell the reader itself doubted (layout: placement, position, a split), or a cell
    not found in a table that the document goes on past. Sums that break on cleanly read cells
    are the publisher's own mistake and a table cut off by the end of the document is simply
    absent: another reading changes neither, so they do not send a table to the LLM.
    """
    order = order or sorted({key.split(".", 1)[0] for key in extraction.fields})
    with_values = {key.split(".", 1)[0] for key, value in extraction.fields.items() if value.value is not None}
    unclean = set()
    for key, value in extraction.fields.items():
        section = key.split(".", 1)[0]
        if value.status == "missing":
            later = order[order.index(section) + 1 :] if section in order else []
            if section in with_values and any(s in with_values for s in later):
                unclean.add(section)
        elif value.reasons:
            unclean.add(section)
    return sorted(unclean)


def extract(
    doc: SourceDocument, report: ReportType = DISCLOSURE_REPORT, reader: Reader = "rules",
    llm: LLMSettings | None = None, client: BlockClient | None = None,
) -> Extraction:  # fmt: skip
    started = time.perf_counter()
    if reader == "rules":
        result = reconcile_extraction(read_document(doc, report), report)
    else:
        settings = llm or LLMSettings()
        settings.require()
        result = _with_llm(doc, report, reader, settings, client)
    result.seconds = time.perf_counter() - started
    return result


def _with_llm(
    doc: SourceDocument, report: ReportType, reader: Reader, settings: LLMSettings, client: BlockClient | None
) -> Extraction:
    plan = plan_document(doc, report)
    if reader == "llm":
        readings, usage = read_sections_llm(doc, plan, list(plan.regions), settings, client, report)
        result = assemble(plan, readings, report)
        result.reader = "llm"
    else:
        rules = read_document(doc, report)
        if reader == "both":
            sections = list(plan.regions)
        else:
            sections = [s for s in unclean_sections(rules, list(plan.regions)) if plan.regions.get(s) is not None]
        readings, usage = read_sections_llm(doc, plan, sections, settings, client, report)
        llm_fields = {v.key: v for reading in readings for v in reading.fields}
        result = rules
        result.reader = reader
        if plan.template is not None and sections:
            merged = combine(report.template(plan.template), rules.fields, llm_fields, sections)
            result.fields = merged.fields
            result.notes.extend(merged.notes)
            usage_note = f"rules and LLM: {merged.agreed} cells agree, {merged.settled} settled by the sums, "
            result.notes.append(usage_note + f"{merged.disputed} disputed")
        for reading in readings:
            result.notes.extend(reading.notes)
    result.reader_version = f"{result.reader_version}+llm:{settings.model}+{settings.prompt_version}"
    result.usage = usage.as_dict()
    return reconcile_extraction(result, report, verify=("llm",))


def extract_path(path: Path, report: ReportType = DISCLOSURE_REPORT) -> tuple[SourceDocument, Extraction]:
    doc = load_path(path)
    return doc, extract(doc, report)
