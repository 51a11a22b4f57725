"""One document through the engine: ingest → read → reconcile. The doors (CLI, API, workers) call this.

Readers: `rules` (default, no key), `llm`, `both` (both read everything, compared cell by cell)
and `auto` (the LLM reads only the sections where a second reading can settle something,
`combine.sections_to_check`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from extractor.combine import combine, sections_to_check
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
            template = report.template(plan.template) if plan.template is not None else None
            found = [s for s in plan.regions if plan.regions.get(s) is not None]
            sections = sections_to_check(template, rules.fields, found) if template is not None else []
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
