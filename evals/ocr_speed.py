"""OCR speed, and accuracy on scanned pages whose values are known.

    python -m evals.ocr_speed [--pages N] [--dpi 200]
        seconds per page for OCR of synthetic report pages (tables drawn in Noto Sans CJK)
    python -m evals.ocr_speed --gold G.gold.json ... [--dpi 150] [--angle 1.5] [--blur 0.8]
        each gold report's tables drawn as a two-page scanned PDF, read through `load_bytes` and
        the rules reader, scored as `gongkai eval` scores (FIELDS.md): accuracy, wrong values
        (silent / flagged), seconds per page
    python -m evals.ocr_speed --gold G.gold.json --from-pdf
        the same, but a report's own PDF beside its gold (G.pdf) is printed to page images and
        "scanned" instead: the agency's real layout, every page of it

Seconds are wall time and the process's CPU time: the machine is shared, so wall time varies
with the other jobs; CPU time / cores is what the OCR itself costs.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from PIL import Image

from evals.ocr_render import degrade, font_available, png_bytes, report_pages, scanned_pdf
from evals.score import score
from evals.synth.values import random_values
from extractor.ingest import IngestError, load_bytes
from extractor.ingest.ocr_engine import engine_ready
from extractor.ingest.scan import image_document
from extractor.pipeline import extract


def _synthetic_gold(seed: int) -> dict[str, Any]:
    values = random_values(random.Random(seed), "2021")
    return {"template": values.template, "year": values.year, "agency": values.agency.name, "fields": values.fields}


def speed(pages: int, dpi: int, angle: float, blur: float) -> None:
    images: list[bytes] = []
    seed = 0
    while len(images) < pages:
        for image in report_pages(_synthetic_gold(seed), dpi=dpi, seed=seed):
            images.append(png_bytes(degrade(image, angle, blur, seed)))
        seed += 1
    images = images[:pages]
    engine_ready()
    walls: list[float] = []
    cpus: list[float] = []
    for data in images:
        wall, cpu = time.perf_counter(), time.process_time()
        image_document(data)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    for i, (w, c) in enumerate(zip(walls, cpus, strict=True), start=1):
        print(f"page {i}: {w:.2f} s wall, {c:.2f} s CPU")
    print(
        f"OCR seconds per page ({dpi} dpi, {len(walls)} pages): {sum(walls) / len(walls):.2f} wall, "
        f"{sum(cpus) / len(cpus):.2f} CPU (max {max(walls):.2f} wall)"
    )


def _printed(pdf: Path, dpi: int) -> list[Image.Image]:
    """A PDF's pages as a printer would put them on paper, at `dpi`."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf.read_bytes())
    return [document[i].render(scale=dpi / 72.0, grayscale=True).to_pil().convert("L") for i in range(len(document))]


def accuracy(
    golds: list[Path],
    dpi: int,
    angle: float,
    blur: float,
    jpeg: int = 0,
    rules: str = "grid",
    from_pdf: bool = False,
) -> None:
    engine_ready()
    totals = {
        "fields": 0,
        "correct": 0,
        "silent": 0,
        "flagged": 0,
        "invented": 0,
        "pages": 0,
        "seconds": 0.0,
        "cpu": 0.0,
    }
    for path in golds:
        gold = json.loads(path.read_text(encoding="utf-8"))
        own = path.with_name(path.name.replace(".gold.json", ".pdf"))
        drawn = _printed(own, dpi) if from_pdf and own.exists() else report_pages(gold, dpi=dpi, rules=rules)
        images = [degrade(image, angle, blur, i, jpeg) for i, image in enumerate(drawn)]
        data = scanned_pdf(images, dpi)
        started, cpu = time.perf_counter(), time.process_time()
        try:
            result = extract(load_bytes(data, path.name.replace(".gold.json", ".pdf")))
            flat: dict[str, Any] | None = result.flat()
            error = ""
        except IngestError as exc:
            flat, error = None, str(exc)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        doc = score(str(gold.get("doc", path.name)), flat, gold, seconds, error)
        wrong = [(k, (flat or {}).get("fields", {}).get(k), gold["fields"][k]) for k in doc.silent_keys]
        print(
            f"{doc.doc}: {doc.correct}/{doc.gold_fields} correct, {doc.silent_errors} silent, "
            f"{doc.flagged_errors} flagged wrong, {doc.invented} invented, "
            f"{seconds / len(images):.2f} s/page wall, {cpu / len(images):.2f} CPU"
            + (f" ERROR {error}" if error else "")
        )
        for key, got, expected in wrong:
            print(f"    silent {key}: read {got}, gold {expected}")
        totals["fields"] += doc.gold_fields
        totals["correct"] += doc.correct
        totals["silent"] += doc.silent_errors
        totals["flagged"] += doc.flagged_errors
        totals["invented"] += doc.invented
        totals["pages"] += len(images)
        totals["seconds"] += seconds
        totals["cpu"] += cpu
    fields = totals["fields"] or 1
    pages = max(1, int(totals["pages"]))
    print(
        f"total ({dpi} dpi, angle {angle:g}°, blur {blur:g}, jpeg {jpeg or '-'}, rules {rules}): "
        f"accuracy {totals['correct'] / fields:.1%} "
        f"({totals['correct']}/{totals['fields']}), silent {totals['silent']}, flagged wrong {totals['flagged']}, "
        f"invented {totals['invented']}, per page end to end {totals['seconds'] / pages:.2f} s wall, "
        f"{totals['cpu'] / pages:.2f} s CPU"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.ocr_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=4, help="synthetic pages to time (default 4)")
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--angle", type=float, default=0.0, help="rotate each page by this many degrees")
    parser.add_argument("--blur", type=float, default=0.0, help="Gaussian blur radius in pixels (and light noise)")
    parser.add_argument("--jpeg", type=int, default=0, help="save each page as JPEG at this quality first")
    parser.add_argument("--from-pdf", action="store_true", help="scan the report's own PDF (G.pdf) where there is one")
    parser.add_argument("--rules", choices=("grid", "rows", "none"), default="grid", help="table rulings drawn")
    parser.add_argument(
        "--gold", type=Path, nargs="*", default=[], help="score these gold reports' drawn tables instead"
    )
    args = parser.parse_args(argv)
    if not font_available():
        print("the Noto Sans CJK font is missing (apt install fonts-noto-cjk)", file=sys.stderr)
        return 2
    if args.gold:
        accuracy(args.gold, args.dpi, args.angle, args.blur, args.jpeg, args.rules, args.from_pdf)
    else:
        speed(args.pages, args.dpi, args.angle, args.blur)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
