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
