"""Score the reader on synthetic reports generated afresh with other seeds than the dev set's.

A reader tuned to the committed files would pass the dev set and fail here.

    python -m evals.fresh_synth --seeds 100 120 --count 52
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from evals.benchmark import run_benchmark
from evals.gold import load_cases
from evals.synth import LAYOUTS, generate, write

SHOWN = 20  # example lines printed per kind (silent, false flag, invented)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fresh_synth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=(100, 120), metavar=("FIRST", "END"))
    parser.add_argument(
        "--count",
        type=int,
        default=2 * len(LAYOUTS),
        help=f"documents per seed ({2 * len(LAYOUTS)} = every layout twice)",
    )
    args = parser.parse_args(argv)
    documents = fields = correct = silent = invented = false_flags = 0
    lines: dict[str, list[str]] = {"SILENT": [], "FALSE FLAG": [], "INVENTED": []}
    for seed in range(*args.seeds):
        with tempfile.TemporaryDirectory() as folder:
            write(generate(seed, args.count), Path(folder), seed, args.count)
            result = run_benchmark(load_cases(Path(folder)))
        documents += result.summary.documents
        fields += result.summary.fields
        correct += result.summary.correct
        silent += result.summary.silent_errors
        invented += result.summary.invented
        false_flags += result.summary.false_flags
        for s in result.scores:
            for kind, keys in (
                ("SILENT", s.silent_keys),
                ("FALSE FLAG", s.false_flag_keys),
                ("INVENTED", s.invented_keys),
            ):
                if keys:
                    lines[kind].append(f"seed {seed} {s.doc}: {len(keys)} — {', '.join(keys[:4])}")
    summary = {
        "seeds": list(args.seeds), "documents": documents, "fields": fields,
        "accuracy": round(correct / fields, 5) if fields else 0.0, "silent_errors": silent,
        "false_flags": false_flags, "invented": invented,
    }  # fmt: skip
    print(json.dumps(summary, indent=1))
    for kind, found in lines.items():
        for line in found[:SHOWN]:
            print(kind, line)
        if len(found) > SHOWN:
            print(kind, f"… and {len(found) - SHOWN} more documents")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
