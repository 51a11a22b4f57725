"""How well the safety net catches wrong LLM answers: run a reader against the scripted server
with failures switched on, then check every injected wrong value in the final output.

Figures from the scripted server measure the safety net (grounding, the sums, the second
reader), not any model's accuracy.

    python -m evals.llm_safety --server http://127.0.0.1:8011 --reader llm --failure-rate 0.2

Attribution: some documents print the same text as another (the huaian excerpt and the huaian
PDF, pingtan's 2019 and 2020 table 4), so a slice alone does not say which document a request is
about, and an injection judged against the wrong document's output proves nothing. Documents are
read one at a time, and before each one the server is told which (`POST /_focus`): it looks the
slice up in that document only. The reader sends nothing extra; every request, and so every
injection, belongs to exactly one (document, section, block). The run stops if any request
matched no document or was attributed to another one.

Verdicts per injected wrong value: corrected (the final value is gold), flagged (the cell carries
a flag, or the document was refused with an error the user sees), or escaped. A document that
produced no output without an error is no catch: its injections escape.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from evals.benchmark import Reader, make_reader, run_benchmark
from evals.gold import GoldCase, load_cases
from evals.score import _equal
from extractor.readers.llm import LLMSettings


@dataclass
class SafetyResult:
    injected: int = 0
    corrected: int = 0
    flagged: int = 0
    escaped: list[dict[str, Any]] = field(default_factory=list)

    @property
    def caught_rate(self) -> float:
        return (self.corrected + self.flagged) / self.injected if self.injected else 1.0


def judge(
    injections: list[dict[str, Any]], outputs: dict[str, dict[str, Any]], errors: Mapping[str, str] | None = None
) -> SafetyResult:
    """Each injected wrong value: corrected (final value = gold), flagged, or escaped (silent).

    `errors`: the documents the user was told could not be read (name → message). A document
    with no output counts as caught only there; without output or error its injections escape.
    """
    result = SafetyResult()
    for injection in injections:
        doc = str(injection.get("doc"))
        flat = outputs.get(doc)
        for change in injection.get("changes", []):
            result.injected += 1
            key = change["key"]
            if flat is None:
                if errors and errors.get(doc):
                    result.flagged += 1  # the document failed loudly: the user sees an error for it
                else:
                    result.escaped.append({"doc": doc, "mode": injection.get("mode"), "why": "no output", **change})
                continue
            final = flat["fields"].get(key)
            if _equal(final, change["gold"]):
                result.corrected += 1
            elif key in flat["flags"]:
                result.flagged += 1
            else:
                result.escaped.append({"doc": doc, "mode": injection.get("mode"), **change})
    return result


@dataclass
class CleanCells:
    """Gold cells no injection touched (every answer that carried them was exact gold)."""

    cells: int = 0
    correct: int = 0
    false_flags: int = 0  # correct and flagged
    flagged_errors: int = 0
    silent_errors: int = 0
    silent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.cells if self.cells else 1.0


def clean_cells(
    cases: list[GoldCase], injections: list[dict[str, Any]], outputs: dict[str, dict[str, Any]]
) -> CleanCells:
    """Accuracy and flags on the cells of each read document that no injected failure touched.

    A cell is touched when any injection lists it: a wrong value, or a block whose answer was
    broken, truncated, refused, late or an HTTP error (those list every key of the block).
    """
    touched = {(str(i.get("doc")), key) for i in injections for key in i.get("keys", [])}
    out = CleanCells()
    for case in cases:
        flat = outputs.get(case.name)
        if flat is None:
            continue
        for key, gold in case.fields.items():
            if (case.name, key) in touched:
                continue
            out.cells += 1
            right = _equal(flat["fields"].get(key), gold)
            flagged = key in flat["flags"]
            out.correct += right
            out.false_flags += right and flagged
            out.flagged_errors += not right and flagged
            if not right and not flagged:
                out.silent_errors += 1
                out.silent.append({"doc": case.name, "key": key, "value": flat["fields"].get(key), "gold": gold})
    return out


def focused(reader: Reader, control: httpx.Client) -> Reader:
    """The reader, with the server told before each document which one it is reading."""

    def read(case: GoldCase) -> Any:
        control.post("/_focus", json={"doc": case.name}).raise_for_status()
        return reader(case)

    return read


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.llm_safety", description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="http://127.0.0.1:8011", help="the scripted server (evals.llm_server)")
    parser.add_argument("--reader", default="llm", choices=["llm", "both", "auto"])
    parser.add_argument("--failure-rate", type=float, default=0.2, help="share of requests given a failure")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gold", action="append", type=Path, help="gold folders (default: shared + evals/data)")
    parser.add_argument("--mode", default="TOOLS", help="instructor mode")
    parser.add_argument("--escaped", type=int, default=20, help="how many escaped values to list")
    args = parser.parse_args(argv)
    folders = args.gold or [Path("../shared/benchmark/real"), Path("evals/data")]
    cases = load_cases(*folders, suffixes=(".txt", ".md", ".html"))
    with httpx.Client(base_url=args.server, timeout=30) as control:
        control.post("/_config", json={"failures": {"failure_rate": args.failure_rate}, "seed": args.seed})
        control.post("/_reset")
        settings = LLMSettings(base_url=f"{args.server}/v1", model="scripted", mode=args.mode, cache_dir=None,
                               timeout=3.0, transport_retries=2)  # fmt: skip
        try:
            bench = run_benchmark(cases, focused(make_reader(args.reader, settings), control))
        finally:
            control.post("/_focus", json={"doc": None})
        injected = control.get("/_injected").json()
        stats = control.get("/_stats").json()
    injections = injected.get("injections", [])
    names = {case.name for case in cases}
    stray = [i for i in injections if i.get("doc") not in names]
    if stray:
        raise SystemExit(f"{len(stray)} injections attributed to documents not read: {stray[0].get('doc')}")
    errors = {s.doc: s.error for s in bench.scores if s.error}
    safety = judge(injections, bench.outputs, errors)
    clean = clean_cells(cases, injections, bench.outputs)
    summary = {
        "reader": args.reader, "failure_rate": args.failure_rate, "seed": args.seed,
        "documents": bench.summary.documents, "fields": bench.summary.fields,
        "accuracy": round(bench.summary.accuracy, 5), "silent_errors": bench.summary.silent_errors,
        "silent_rate": round(bench.summary.silent_rate, 5), "invented": bench.summary.invented,
        "false_flags": bench.summary.false_flags, "failed_documents": len(errors),
        "requests": stats["requests"], "ambiguous_requests": stats["ambiguous"],
        "unmatched_requests": len(stats["unmatched"]),
        "injected_wrong_values": safety.injected, "corrected": safety.corrected, "flagged": safety.flagged,
        "escaped": len(safety.escaped), "caught_rate": round(safety.caught_rate, 5),
        "clean_cells": clean.cells, "clean_accuracy": round(clean.accuracy, 5),
        "clean_false_flags": clean.false_flags, "clean_flagged_errors": clean.flagged_errors,
        "clean_silent_errors": clean.silent_errors,
        "by_mode": injected.get("by_mode"), "llm_calls": bench.llm.usage.calls,
        "llm_attempts": bench.llm.usage.attempts,
        "note": "scripted server: these figures measure the safety net, not a model's accuracy; each request "
                "attributed to the one document being read (POST /_focus)",
    }  # fmt: skip
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    for escaped in safety.escaped[: args.escaped]:
        print("ESCAPED", json.dumps(escaped, ensure_ascii=False))
    for silent in clean.silent[: args.escaped]:
        print("SILENT ON A CLEAN CELL", json.dumps(silent, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
