"""Run a reader over gold pairs and score it: accuracy, silent errors, invented values, speed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evals.gold import GoldCase
from evals.score import DocScore, Summary, score, summarize
from extractor.ingest import IngestError, load_path
from extractor.model import Extraction
from extractor.pipeline import Reader as ReaderMode
from extractor.pipeline import extract
from extractor.readers.llm import LLMSettings, LLMUsage

Reader = Callable[[GoldCase], Extraction]


def make_reader(mode: ReaderMode = "rules", llm: LLMSettings | None = None) -> Reader:
    """A reader as the CLI runs it: ingest, read (rules, llm, both or auto), reconcile."""

    def read(case: GoldCase) -> Extraction:
        return extract(load_path(case.document), reader=mode, llm=llm)

    return read


rules_reader = make_reader("rules")


@dataclass
class LLMTotals:
    """Usage over the whole benchmark; figures from a scripted server measure the safety net only."""

    usage: LLMUsage = field(default_factory=LLMUsage)
    sections_sent: int = 0
    sections_total: int = 0

    def add(self, extraction: Extraction) -> None:
        self.sections_total += 3 if extraction.template else 0
        if extraction.usage:
            self.usage.merge(extraction.usage)
            self.sections_sent += len(extraction.usage.get("sections", []))


@dataclass
class BenchmarkResult:
    scores: list[DocScore]
    summary: Summary
    outputs: dict[str, dict[str, Any]]
    llm: LLMTotals = field(default_factory=LLMTotals)


def run_benchmark(
    cases: list[GoldCase], reader: Reader = rules_reader, progress: Callable[[str], None] | None = None
) -> BenchmarkResult:
    scores: list[DocScore] = []
    outputs: dict[str, dict[str, Any]] = {}
    totals = LLMTotals()
    for case in cases:
        started = time.perf_counter()
        flat: dict[str, Any] | None = None
        confidence: dict[str, float] = {}
        error = ""
        try:
            extraction = reader(case)
            flat = extraction.flat()
            confidence = {key: cell.confidence for key, cell in extraction.fields.items()}
            totals.add(extraction)
        except IngestError as exc:
            error = str(exc)
        seconds = time.perf_counter() - started
        scores.append(score(case.name, flat, case.gold, seconds, error, confidence))
        if flat is not None:
            outputs[case.name] = flat
        if progress:
            progress(case.name)
    return BenchmarkResult(scores, summarize(scores), outputs, totals)
