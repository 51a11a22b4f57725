"""Run a reader over gold pairs and score it: accuracy, silent errors, invented values, speed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evals.gold import GoldCase
from evals.score import DocScore, Summary, score, summarize
from extractor.ingest import IngestError, load_path
from extractor.pipeline import extract

Reader = Callable[[GoldCase], dict[str, Any]]


def rules_reader(case: GoldCase) -> dict[str, Any]:
    """The default reader: ingest + deterministic reading + reconciliation, as the CLI runs it."""
    return extract(load_path(case.document)).flat()


@dataclass
class BenchmarkResult:
    scores: list[DocScore]
    summary: Summary
    outputs: dict[str, dict[str, Any]]


def run_benchmark(
    cases: list[GoldCase], reader: Reader = rules_reader, progress: Callable[[str], None] | None = None
) -> BenchmarkResult:
    scores: list[DocScore] = []
    outputs: dict[str, dict[str, Any]] = {}
    for case in cases:
        started = time.perf_counter()
        try:
            flat: dict[str, Any] | None = reader(case)
            error = ""
        except IngestError as exc:
            flat, error = None, str(exc)
        seconds = time.perf_counter() - started
        scores.append(score(case.name, flat, case.gold, seconds, error))
        if flat is not None:
            outputs[case.name] = flat
        if progress:
            progress(case.name)
    return BenchmarkResult(scores, summarize(scores), outputs)
