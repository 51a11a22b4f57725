"""Score the reader on synthetic reports generated afresh with other seeds than the dev set's.

A reader tuned to the committed files would pass the dev set and fail here.

    python -m evals.fresh_synth --seeds 100 120 --count 38
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from evals.benchmark import run_benchmark
from evals.gold import load_cases
from evals.synth import generate, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fresh_synth", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=(100, 120), metavar=("FIRST", "END"))
    parser.add_argument("--count", type=int, default=38, help="documents per seed (38 = every layout twice)")
    args = parser.parse_args(argv)
    documents = fields = correct = silent = invented = 0
    escaped: list[str] = []
    for seed in range(*args.seeds):
        with tempfile.TemporaryDirectory() as folder:
            write(generate(seed, args.count), Path(folder), seed, args.count)
            result = run_benchmark(load_cases(Path(folder)))
        documents += result.summary.documents
        fields += result.summary.fields
        correct += result.summary.correct
        silent += result.summary.silent_errors
        invented += result.summary.invented
        escaped += [f"seed {seed} {s.doc}: {', '.join(s.silent_keys[:4])}" for s in result.scores if s.silent_errors]
    summary = {
        "seeds": list(args.seeds), "documents": documents, "fields": fields,
        "accuracy": round(correct / fields, 5) if fields else 0.0, "silent_errors": silent, "invented": invented,
    }  # fmt: skip
    print(json.dumps(summary, indent=1))
    for line in escaped[:20]:
        print("SILENT", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
