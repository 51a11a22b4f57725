"""Word copies of real reports, and how well they read next to the same report as text/HTML.

No real DOCX report sits in the benchmark, so Word copies are made of the real ones:

- a real HTML report (`*.html`) becomes a DOCX with the same paragraphs and the same tables,
  its `rowspan`/`colspan` turned into Word's vertical and horizontal merges;
- a real text report (`*.txt`, `*.md`) keeps its own prose, and its three tables are rebuilt
  from its gold values as Word tables in the standard layout, merged group labels included
  (the synthetic layout model `evals.synth.layouts`, so the table shape is the usual one).

Each copy is read by the rules pipeline and scored against the report's gold, beside the
original file: accuracy and cells flagged although right. Run:

    PYTHONPATH=$PWD python -m evals.word_bench [NAME ...]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import lxml.html
from docx.document import Document as DocxDocument
from lxml import etree

from evals.gold import GoldCase, load_cases
from evals.score import DocScore, score
from evals.shared import shared_real
from evals.synth.layouts import HEADINGS, Options, build_tables, plain
from evals.synth.values import Agency, ReportValues
from extractor.ingest import IngestError, load_bytes, load_path
from extractor.ingest.html import html_to_text
from extractor.pipeline import extract

SHARED_REAL = shared_real()
DEV_REAL = Path(__file__).resolve().parent / "data" / "real"
# Real reports whose gold covers every cell of their template (a rebuilt table shows every cell).
COMPLETE = (
    "real-shanghai-office-2019",
    "real-shuyang-fgj-2023",
    "real-pingtan-2024",
    "real-shuyang-county-2025",
    "real-shanghai-kewei-2024",
    "real-shanghai-office-2025",
    "seed-dongtonghua-2020",
    "real-pingtan-2019",
    "real-pingtan-2021",
    "real-pingtan-2023",
)


@dataclass(frozen=True)
class SpanCell:
    """A table cell as HTML gives it: text, and how many grid rows and columns it covers."""

    text: str
    rowspan: int = 1
    colspan: int = 1


def add_span_table(document: DocxDocument, rows: Sequence[Sequence[SpanCell]]) -> None:
    """Append a Word table laid out as a browser lays out `rows` (merged cells merged in Word).

    A row shorter than the grid has its last cell widened to the grid's edge: Word has no
    ragged rows, and a widened cell is still written once.
    """
    placed: list[tuple[int, int, SpanCell]] = []
    taken: set[tuple[int, int]] = set()
    width = 0
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            rowspan = max(1, min(cell.rowspan, len(rows) - r))
            for dr in range(rowspan):
                for dc in range(max(1, cell.colspan)):
                    taken.add((r + dr, c + dc))
            placed.append((r, c, SpanCell(cell.text, rowspan, max(1, cell.colspan))))
            c += max(1, cell.colspan)
        width = max(width, c)
    ends = {r: i for i, (r, _, _) in enumerate(placed)}  # the last cell of each row
    widened = []
    for i, (r, c, cell) in enumerate(placed):
        if (
            ends.get(r) == i
            and c + cell.colspan < width
            and all((r, x) not in taken for x in range(c + cell.colspan, width))
        ):
            cell = SpanCell(cell.text, cell.rowspan, width - c)
        widened.append((r, c, cell))
    table = document.add_table(rows=len(rows), cols=max(width, 1))
    table.style = "Table Grid"
    for r, c, cell in widened:
        target = table.cell(r, c)
        if cell.rowspan > 1 or cell.colspan > 1:
            target = target.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
        lines = cell.text.split("\n")
        target.paragraphs[0].text = lines[0]
        for line in lines[1:]:  # a cell typed on two lines: two paragraphs, as Word users do
            target.add_paragraph(line)


def _docx_bytes(document: DocxDocument) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- real HTML report → DOCX -------------------------------------------------------------------

_BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "tr", "blockquote"}
_SKIP = {"script", "style", "noscript", "template", "head", "title", "meta", "link"}


def html_docx(html: str) -> bytes:
    """The HTML page as Word would get it pasted: paragraphs, and its tables with their merges."""
    root = lxml.html.document_fromstring(html)
    document = docx.Document()
    pending: list[str] = []

    def flush() -> None:
        text = " ".join("".join(pending).split())
        if text:
            document.add_paragraph(text)
        pending.clear()

    def walk(element: etree._Element) -> None:
        if not isinstance(element.tag, str) or element.tag in _SKIP:
            pending.append(element.tail or "")
            return
        if element.tag == "table":
            flush()
            add_span_table(document, _html_rows(element))
            pending.append(element.tail or "")
            return
        if element.tag in _BLOCKS:
            flush()
        pending.append(element.text or "")
        for child in element:
            walk(child)
        if element.tag in _BLOCKS:
            flush()
        pending.append(element.tail or "")

    walk(root)
    flush()
    return _docx_bytes(document)


def _html_rows(table: etree._Element) -> list[list[SpanCell]]:
    rows: list[list[SpanCell]] = []
    for tr in table.iter("tr"):
        cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
        if cells:
            rows.append([SpanCell(_html_cell_text(c), _span(c, "rowspan"), _span(c, "colspan")) for c in cells])
    return rows


def _html_cell_text(cell: etree._Element) -> str:
    return " ".join("".join(str(piece) for piece in cell.itertext()).split())


def _span(cell: etree._Element, attribute: str) -> int:
    value = (cell.get(attribute) or "1").strip()
    return int(value) if value.isdigit() and 0 < int(value) < 100 else 1


# --- real text report + its gold → DOCX ---------------------------------------------------------


# What a messier Word table does: headers cut or split over two lines, (一) written 一, subtotal
# rows and a 法人或其他组织 subtotal column the publisher added (`--messy`).
MESSY = Options(cut_headers=True, strip_brackets="number", t3_subtotal_rows=True, t3_org_subtotal_col=True)


def gold_docx(text: str, gold: dict[str, Any], options: Options | None = None) -> bytes:
    """The report's own prose around its three tables rebuilt from gold as Word tables.

    The prose is cut by characters, not lines: a crawled page may hold the whole report on one
    line. Before: up to table 2's heading (the last 主动公开政府信息情况 before its first header
    word); after: from the 存在的主要问题 heading behind the tables to the end.
    """
    header = min((i for i in (text.find("第二十条"), text.find("信息内容")) if i >= 0), default=len(text))
    start = text.rfind("主动公开政府信息情况", 0, header)
    start = header if start < 0 else start - (2 if text[max(start - 2, 0) : start] == "二、" else 0)
    end = text.find("存在的主要问题", header)
    end = len(text) if end < 0 else end - (2 if text[max(end - 2, 0) : end] == "五、" else 0)
    before = [line.strip() for line in text[:start].splitlines() if line.strip()]
    after = [line.strip() for line in text[end:].splitlines() if line.strip()]
    fields = dict(gold["fields"])
    merged_other = gold["template"] == "2021" and any(key.startswith("t3.other.") for key in fields)
    values = ReportValues(
        gold["template"], int(gold.get("year") or 0), Agency(str(gold.get("agency") or ""), "bureau"),
        fields, merged_other=merged_other,
    )  # fmt: skip
    document = docx.Document()
    for line in before:
        document.add_paragraph(line)
    for table in build_tables(values, plain, options or Options(), random.Random(0)):
        document.add_paragraph(HEADINGS[table.name])
        rows = [[SpanCell(c.text, c.rowspan, c.colspan) for c in line.cells] for line in table.lines]
        add_span_table(document, rows)
    for line in after:
        document.add_paragraph(line)
    return _docx_bytes(document)


def word_copy(case: GoldCase, options: Options | None = None) -> bytes:
    """The Word copy of one real report (HTML rebuilt as it is, text around gold-built tables)."""
    text = case.document.read_text(encoding="utf-8", errors="replace")
    if case.document.suffix.lower() in (".html", ".htm") and options is None:
        return html_docx(text)
    return gold_docx(
        html_to_text(text) if case.document.suffix.lower() in (".html", ".htm") else text, case.gold, options
    )


# --- measure ------------------------------------------------------------------------------------


def score_document(case: GoldCase, data: bytes | None = None) -> DocScore:
    """The rules pipeline's reading of the original file (or of `data`, a DOCX copy) against gold."""
    try:
        doc = load_path(case.document) if data is None else load_bytes(data, f"{case.name}.docx")
        extraction = extract(doc)
    except IngestError as exc:
        return score(case.name, None, case.gold, error=str(exc))
    confidence = {key: cell.confidence for key, cell in extraction.fields.items()}
    return score(case.name, extraction.flat(), case.gold, confidence=confidence)


def _line(label: str, s: DocScore) -> str:
    return (
        f"{label:5} {s.correct:4}/{s.gold_fields:<4} right {s.correct / max(s.gold_fields, 1):7.1%}  "
        f"flagged-wrong {s.flagged_errors:3}  silent {s.silent_errors:3}  flagged-while-right {s.false_flags:3}"
        + (f"  error: {s.error}" if s.error else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("names", nargs="*", default=list(COMPLETE), help="gold names (default: the complete ones)")
    parser.add_argument("--messy", action="store_true", help="rebuild every table in a messier layout (MESSY)")
    args = parser.parse_args(argv)
    options = MESSY if args.messy else None
    cases = {case.name: case for case in load_cases(SHARED_REAL, DEV_REAL)}
    totals = {"orig": [0, 0, 0, 0], "docx": [0, 0, 0, 0]}
    for name in args.names:
        case = cases.get(name)
        if case is None:
            print(f"{name}: no such gold pair", file=sys.stderr)
            continue
        print(f"{name} ({case.document.suffix[1:]})")
        for label, result in (("orig", score_document(case)), ("docx", score_document(case, word_copy(case, options)))):
            print("  " + _line(label, result))
            for i, figure in enumerate((result.gold_fields, result.correct, result.silent_errors, result.false_flags)):
                totals[label][i] += figure
    for label, (fields, correct, silent, false_flags) in totals.items():
        print(
            f"ALL {label}: {correct}/{fields} right ({correct / max(fields, 1):.1%}), {silent} silent, "
            f"{false_flags} flagged while right"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
