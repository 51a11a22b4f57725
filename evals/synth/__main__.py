"""CLI: ``python -m evals.synth --out evals/data/synth --seed 7 --count 52``.

A command line (rather than a test fixture) because the generated files are
committed as data: anyone can rebuild them bit for bit from the seed.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from evals.synth import generate, write


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, write, and print a one-line summary per layout."""
    parser = argparse.ArgumentParser(
        prog="python -m evals.synth", description="Generate synthetic messy annual reports with gold by construction."
    )
    parser.add_argument(
        "--out", type=Path, default=Path("evals/data/synth"), help="output directory (synth-* files there are replaced)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--count", type=int, default=52, help="number of documents")
    args = parser.parse_args(argv)
    docs = generate(args.seed, args.count)
    write(docs, args.out, args.seed, args.count)
    per_layout = Counter(d.layout for d in docs)
    for layout, n in per_layout.items():
        print(f"{layout:12s} {n}")
    mistakes = sum(1 for d in docs if d.mistake)
    print(f"wrote {len(docs)} documents ({mistakes} with an injected mistake) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
