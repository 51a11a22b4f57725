"""How well the safety net catches wrong LLM answers: run a reader against the scripted server
with failures switched on, then check every injected wrong value in the final output.

Figures from the scripted server measure the safety net (grounding, the sums, the second
reader), not any model's accuracy.

    python -m evals.llm_safety --server http://127.0.0.1:8011 --reader llm --failure-rate 0.2
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from evals.benchmark import make_reader, run_benchmark
from evals.gold import load_cases
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


def judge(injections: list[dict[str, Any]], outputs: dict[str, dict[str, Any]]) -> SafetyResult:
    """Each injected wrong value: corrected (final value = gold), flagged, or escaped (silent)."""
    result = SafetyResult()
    for injection in injections:
        flat = outputs.get(str(injection.get("doc")))
        for change in injection.get("changes", []):
            result.injected += 1
            key = change["key"]
            if flat is None:
                result.flagged += 1  # the document failed loudly
                continue
            final = flat["fields"].get(key)
            if final is not None and change["gold"] is not None and float(final) == float(change["gold"]):
                result.corrected += 1
            elif key in flat["flags"]:
                result.flagged += 1
            else:
                result.escaped.append({"doc": injection.get("doc"), "mode": injection.get("mode"), **change})
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.llm_safety", description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="http://127.0.0.1:8011", help="the scripted server (evals.llm_server)")
    parser.add_argument("--reader", default="llm", choices=["llm", "both", "auto"])
    parser.add_argument("--failure-rate", type=float, default=0.2, help="share of requests given a failure")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gold", action="append", type=Path, help="gold folders (default: shared + evals/data)")
    parser.add_argument("--mode", default="TOOLS", help="instructor mode")
    args = parser.parse_args(argv)
    folders = args.gold or [Path("../shared/benchmark/real"), Path("evals/data")]
    cases = load_cases(*folders, suffixes=(".txt", ".md", ".html"))
    with httpx.Client(base_url=args.server, timeout=30) as control:
        control.post("/_config", json={"failures": {"failure_rate": args.failure_rate}, "seed": args.seed})
        control.post("/_reset")
        settings = LLMSettings(base_url=f"{args.server}/v1", model="scripted", mode=args.mode, cache_dir=None,
                               timeout=3.0, transport_retries=2)  # fmt: skip
        bench = run_benchmark(cases, make_reader(args.reader, settings))
        injected = control.get("/_injected").json()
    safety = judge(injected.get("injections", []), bench.outputs)
    summary = {
        "reader": args.reader, "failure_rate": args.failure_rate, "documents": bench.summary.documents,
        "fields": bench.summary.fields, "accuracy": round(bench.summary.accuracy, 5),
        "silent_errors": bench.summary.silent_errors, "silent_rate": round(bench.summary.silent_rate, 5),
        "invented": bench.summary.invented, "injected_wrong_values": safety.injected,
        "corrected": safety.corrected, "flagged": safety.flagged, "escaped": len(safety.escaped),
        "caught_rate": round(safety.caught_rate, 5), "by_mode": injected.get("by_mode"),
        "llm_calls": bench.llm.usage.calls, "llm_attempts": bench.llm.usage.attempts,
        "note": "scripted server: these figures measure the safety net, not a model's accuracy",
    }  # fmt: skip
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    for escaped in safety.escaped[:20]:
        print("ESCAPED", json.dumps(escaped, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
