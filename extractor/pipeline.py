"""One document through the engine: ingest → read → reconcile. The doors (CLI, API, workers) call this."""

from __future__ import annotations

import time
from pathlib import Path

from extractor.ingest import SourceDocument, load_path
from extractor.model import Extraction
from extractor.readers.rules import read_document
from extractor.reconcile import reconcile
from schemas import DISCLOSURE_REPORT, ReportType


def extract(doc: SourceDocument, report: ReportType = DISCLOSURE_REPORT) -> Extraction:
    started = time.perf_counter()
    result = reconcile_extraction(read_document(doc, report), report)
    result.seconds = time.perf_counter() - started
    return result


def extract_path(path: Path, report: ReportType = DISCLOSURE_REPORT) -> tuple[SourceDocument, Extraction]:
    doc = load_path(path)
    return doc, extract(doc, report)


def reconcile_extraction(extraction: Extraction, report: ReportType = DISCLOSURE_REPORT) -> Extraction:
    """Run the constraint engine over an assembled extraction (e.g. one joined from section tasks)."""
    if extraction.template is not None:
        reconcile(report.template(extraction.template), extraction.fields)
    return extraction
