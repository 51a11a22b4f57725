"""A compilation (汇编) of 20 generated reports, as text and as PDF, is cut into 20 documents, each read
exactly as the same report read alone (evals/compilation.py measures it; this pins it)."""

from __future__ import annotations

import pytest

from evals.compilation import Report, measure, reports
from extractor.ingest import load_bytes
from extractor.split import split

COUNT = 20


@pytest.fixture(scope="module")
def items() -> list[Report]:
    return reports(seed=7, count=COUNT)


@pytest.mark.parametrize("kind", ["text", "pdf"])
def test_twenty_reports_in_one_file_are_twenty_documents_read_as_alone(kind: str, items: list[Report]) -> None:
    result = measure(kind, items)
    assert result.documents == COUNT
    for part in result.parts:
        assert part.part_correct == part.alone_correct, part.name
        assert part.same_cells and part.agency_ok and part.year_ok, part.name
    assert result.part_accuracy == result.alone_accuracy > 0.95


def test_parts_are_slices_of_the_file_with_their_provenance(items: list[Report]) -> None:
    from evals.compilation import text_file

    data = text_file([r.text for r in items[:3]])
    whole = load_bytes(data, "汇编.txt")
    parts = split(whole)
    assert [p.name for p in parts] == ["汇编.txt#1", "汇编.txt#2", "汇编.txt#3"]
    assert "".join(p.text for p in parts) == whole.text
    assert len({p.sha256 for p in parts} | {whole.sha256}) == 4
    for index, (part, report) in enumerate(zip(parts, items[:3], strict=True), 1):
        origin = part.origin
        assert origin is not None
        assert (origin.parent_name, origin.parent_sha256, origin.index, origin.count) == (
            "汇编.txt", whole.sha256, index, 3,
        )  # fmt: skip
        assert whole.text[origin.start : origin.end] == part.text
        assert part.normalized == whole.normalized[origin.start : origin.end]
        assert part.text.strip() == report.text.strip()  # each report's title stays with its tables


def test_one_report_is_itself() -> None:
    from evals.synth import generate

    doc = generate(11, 1)[0]
    one = load_bytes(doc.body, f"{doc.name}.{doc.ext}")
    assert split(one) == [one]


def test_a_cover_a_table_of_contents_and_publisher_lines_stay_with_their_reports(items: list[Report]) -> None:
    """A 汇编 opens with its own title and a table of contents naming every report; portals print
    who published each report above its title. The cover stays with the first report (its first
    title is that report's), and each publisher line goes with the report it names."""
    from extractor.pipeline import extract

    chosen = items[:6]
    contents = "\n".join(f"{r.text.split(chr(10), 1)[0]} ……{3 * i + 1}" for i, r in enumerate(chosen))
    body = "某市政府信息公开工作年度报告汇编\n目录\n" + contents + "\n"
    body += "".join(f"发布机构：{r.gold['agency']}\n发布日期：2021-01-15\n{r.text}" for r in chosen)
    parts = split(load_bytes(body.encode("utf-8"), "汇编.txt"))
    assert len(parts) == len(chosen)
    assert parts[0].text.startswith("某市政府信息公开工作年度报告汇编")
    for part, report in zip(parts, chosen, strict=True):
        if part is not parts[0]:
            assert part.text.startswith(f"发布机构：{report.gold['agency']}\n")
        reading = extract(part)
        assert (reading.agency, reading.year) == (report.gold["agency"], report.gold["year"])
