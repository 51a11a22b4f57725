"""CLI: ``python -m evals.messy --channel pdf --seed 1 --count 10 --out DIR``.

Writes ``messy-<channel>-<n>.<ext>`` beside ``messy-<channel>-<n>.gold.json``,
the pairs that ``gongkai eval DIR`` and evals.gold.load_cases score.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.messy import CHANNELS, generate, write
from evals.messy.content import BLANKS
from evals.messy.scan import IMAGE_FORMATS


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate one channel's documents, write them with their gold."""
    parser = argparse.ArgumentParser(
        prog="python -m evals.messy",
        description="Generate annual reports as Word, PDF or scanned files, with gold by construction.",
    )
    parser.add_argument("--channel", choices=CHANNELS, required=True, help="file kind to produce")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed: same reports in every channel)")
    parser.add_argument("--count", type=int, default=10, help="number of documents")
    parser.add_argument("--dpi", type=int, default=200, help="scan resolution, 150-300 (scan channel only)")
    parser.add_argument(
        "--image-format",
        choices=IMAGE_FORMATS,
        default="pdf",
        help="scan file: image-only PDF, TIFF, or one tall PNG/JPEG",
    )
    parser.add_argument(
        "--blanks",
        choices=BLANKS,
        default=None,
        help="zeros printed as empty cells: none, table 3's legal-person columns (org), or all "
        "(default: Word files take turns, PDFs and scans print every zero)",
    )
    args = parser.parse_args(argv)
    if not 150 <= args.dpi <= 300:
        parser.error("--dpi must be between 150 and 300")
    if args.count < 1:
        parser.error("--count must be at least 1")
    docs = generate(args.channel, args.seed, args.count, args.dpi, args.image_format, args.blanks)
    write(docs, args.out)
    mistakes = sum(1 for d in docs if d.mistake)
    for d in docs:
        print(f"{d.name}.{d.ext:5s} template {d.template}  {len(d.fields)} cells  {d.mistake or ''}")
    print(f"wrote {len(docs)} {args.channel} documents ({mistakes} with an injected mistake) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
