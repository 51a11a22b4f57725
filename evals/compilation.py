"""A compilation (汇编) of generated reports, as text and as PDF: is every report found, and read as well
as when it is read alone?

Each report is drawn by the synthetic generator (`evals.synth`, gold known by construction) and
taken as ingest reads it (HTML and GB18030/Big5 files become their text). The text compilation
joins those texts; the PDF one prints each report from a new page with a page number at the foot
(reportlab's built-in STSong-Light CID font: no font file, and pdfplumber reads it back as text).
Each report is also written alone in the same form, and both are read by the rules reader:

    python -m evals.compilation --count 20 [--seed 7] [--kind text|pdf|both]

prints, per kind, the documents found and each part's accuracy (cells equal to gold / gold
cells) alone and in the compilation, whether its agency and year are its own, and whether its
cells are exactly the ones read alone. Exit status 1 when a count or a part differs.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evals.score import score
from evals.synth import generate
from extractor.ingest import SourceDocument, load_bytes
from extractor.pipeline import extract
from extractor.split import split

KINDS = ("text", "pdf")
_WRAP = 70  # characters per printed PDF line: prose wraps, most table rows fit
_LINES_PER_PAGE = 64
_FONT = "STSong-Light"


@dataclass(frozen=True)
class Report:
    name: str
    text: str
    gold: dict[str, Any]


@dataclass
class PartResult:
    name: str
    gold_fields: int
    alone_correct: int
    part_correct: int | None  # None: no part for this report
    agency_ok: bool = False  # the part's agency and year are the ones read alone
    year_ok: bool = False
    gold_agency: tuple[bool, bool] = (False, False)  # (alone, in the file) agency equal to gold
    same_cells: bool = False  # the part's flat cells are exactly the cells read alone


@dataclass
class KindResult:
    kind: str
    reports: int
    documents: int
    parts: list[PartResult] = field(default_factory=list)

    @property
    def alone_accuracy(self) -> float:
        return _ratio(sum(p.alone_correct for p in self.parts), sum(p.gold_fields for p in self.parts))

    @property
    def part_accuracy(self) -> float:
        return _ratio(sum(p.part_correct or 0 for p in self.parts), sum(p.gold_fields for p in self.parts))

    @property
    def ok(self) -> bool:
        return self.documents == self.reports and all(
            p.same_cells and p.agency_ok and p.year_ok and p.part_correct == p.alone_correct for p in self.parts
        )


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def reports(seed: int, count: int) -> list[Report]:
    """`count` generated reports as ingest reads them, with their gold."""
    out = []
    for doc in generate(seed, count):
        text = load_bytes(doc.body, f"{doc.name}.{doc.ext}").text
        out.append(Report(doc.name, text, doc.gold))
    return out


def text_file(texts: Sequence[str]) -> bytes:
    return "\n".join(t.rstrip("\n") for t in texts).encode("utf-8") + b"\n"


def _wrapped(text: str) -> list[str]:
    lines = []
    for line in text.split("\n"):
        while len(line) > _WRAP:
            lines.append(line[:_WRAP])
            line = line[_WRAP:]
        lines.append(line)
    return lines


def pdf_file(texts: Sequence[str]) -> bytes:
    """A PDF with a text layer printing each text from a new page, page numbers at the foot."""
    try:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen import canvas
    except ImportError as exc:  # a dev dependency (pyproject's dev extra)
        raise SystemExit("the PDF compilation needs reportlab: pip install reportlab") from exc
    pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=True)
    width, height = A4
    number = 0

    def new_page() -> None:
        nonlocal number
        number += 1
        page.setFont(_FONT, 8)
        page.drawCentredString(width / 2, 24, f"- {number} -")

    for index, text in enumerate(texts):
        if index:
            page.showPage()
        new_page()
        y = height - 40
        for line in _wrapped(text.rstrip("\n")):
            if y < 48:
                page.showPage()
                new_page()
                y = height - 40
            page.setFont(_FONT, 7)
            page.drawString(30, y, line)
            y -= 11.5
    page.save()
    return out.getvalue()


def make(kind: str, texts: Sequence[str]) -> bytes:
    return text_file(texts) if kind == "text" else pdf_file(texts)


def _read(doc: SourceDocument) -> dict[str, Any]:
    return extract(doc).flat()


def measure(kind: str, items: Sequence[Report]) -> KindResult:
    """Read each report alone and in one compilation file of `kind`; compare part k with report k."""
    suffix = "txt" if kind == "text" else "pdf"
    compilation = load_bytes(make(kind, [r.text for r in items]), f"汇编.{suffix}")
    parts = split(compilation)
    result = KindResult(kind, len(items), len(parts))
    for index, report in enumerate(items):
        alone = _read(load_bytes(make(kind, [report.text]), f"{report.name}.{suffix}"))
        alone_score = score(report.name, alone, report.gold)
        part = PartResult(report.name, alone_score.gold_fields, alone_score.correct, None)
        if index < len(parts):
            flat = _read(parts[index])
            part.part_correct = score(report.name, flat, report.gold).correct
            part.agency_ok = flat.get("agency") == alone.get("agency")
            part.year_ok = flat.get("year") == alone.get("year") == report.gold["year"]
            agency = report.gold["agency"]
            part.gold_agency = (alone.get("agency") == agency, flat.get("agency") == agency)
            part.same_cells = flat.get("fields") == alone.get("fields")
        result.parts.append(part)
    return result


def _print(result: KindResult) -> None:
    print(f"{result.kind}: {result.reports} reports in one file → {result.documents} documents")
    print(f"  {'report':<24} {'alone':>11} {'in the file':>11}  agency year same-cells  (agency, year: as alone)")
    for p in result.parts:
        inside = "—" if p.part_correct is None else f"{p.part_correct}/{p.gold_fields}"
        alone = f"{p.alone_correct}/{p.gold_fields}"
        agency, year, same = "ok" if p.agency_ok else "NO", "ok" if p.year_ok else "NO", "yes" if p.same_cells else "NO"
        print(f"  {p.name:<24} {alone:>11} {inside:>11}  {agency:>6} {year:>4} {same:>10}")
    print(f"  accuracy alone {result.alone_accuracy:.2%}, in the compilation {result.part_accuracy:.2%}; agency as "
          f"gold alone {sum(p.gold_agency[0] for p in result.parts)}/{result.reports}, in the compilation "
          f"{sum(p.gold_agency[1] for p in result.parts)}/{result.reports}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=20, help="reports in the compilation")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kind", choices=(*KINDS, "both"), default="both")
    args = parser.parse_args(argv)
    items = reports(args.seed, args.count)
    ok = True
    for kind in KINDS if args.kind == "both" else (args.kind,):
        result = measure(kind, items)
        _print(result)
        ok = ok and result.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
