"""A paged format's text keeps, for every cell it wrote, the box the cell was printed in."""

from __future__ import annotations

from extractor.ingest.pages import Cell, TextBuilder, box_for


def test_a_row_keeps_each_cells_box_and_a_span_finds_it() -> None:
    out = TextBuilder()
    out.line("二、主动公开政府信息情况", (1, 10, 5, 200, 15))
    out.row([Cell("规章", (1, 10, 20, 60, 30)), Cell(""), Cell("1|2", (2, 100, 20, 120, 30))])
    flat = out.build()
    assert flat.text.splitlines()[1] == "| 规章 |  | 1 2 |"
    start = flat.text.index("1 2")
    found = box_for(flat.boxes, (start, start + 1))
    assert found is not None and (found.page, found.x0, found.x1) == (2, 100, 120)
    label = flat.text.index("规章")
    assert box_for(flat.boxes, (label, label + 2)).page == 1  # type: ignore[union-attr]
    assert box_for(flat.boxes, (0, 0)) is None  # an empty span is nowhere


def test_a_span_over_two_boxes_of_one_page_gets_their_union() -> None:
    out = TextBuilder()
    out.write("12", (1, 10, 10, 20, 20))
    out.write("34", (1, 30, 12, 40, 22))
    out.write("56", (2, 0, 0, 5, 5))
    found = box_for(out.build().boxes, (0, 6))
    assert found is not None and (found.page, found.x0, found.top, found.x1, found.bottom) == (1, 10, 10, 40, 22)


def test_a_pdf_tells_its_progress_page_by_page() -> None:
    from evals.messy import generate
    from extractor.ingest import load_bytes

    document = generate("pdf", seed=3, count=1)[0]
    told: list[tuple[int, int]] = []
    doc = load_bytes(
        document.body, f"{document.name}.{document.ext}", progress=lambda done, total: told.append((done, total))
    )
    assert len(doc.pages) >= 2 and told == [(n, len(doc.pages)) for n in range(1, len(doc.pages) + 1)]
