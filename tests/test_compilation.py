"""A file that holds several reports (a 汇编) says so: the reader reads the first, and the run's
notes tell the user how many the file holds when it is read whole (the doors split it: extractor/split.py).

Counted by the tables, not by the file's name or title: synthetic reports joined into one text,
and every report of the dev set read alone (none of them may claim to be a compilation).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.synth import generate
from extractor.ingest import IngestError, load_bytes, load_path
from extractor.readers.layout.plan import plan_document
from tests.helpers import SHARED_REAL

ROOT = Path(__file__).resolve().parents[1]
NOTE = "seems to hold"


def _compilation_notes(data: bytes, name: str) -> list[str]:
    return [note for note in plan_document(load_bytes(data, name)).notes if NOTE in note]


def _texts(count: int, seed: int) -> list[str]:
    texts = []
    for doc in generate(seed, 4 * count):
        if doc.ext in ("txt", "md"):
            body = doc.body if isinstance(doc.body, str) else doc.body.decode(doc.encoding or "utf-8")
            texts.append(body)
    assert len(texts) >= count
    return texts[:count]


@pytest.mark.parametrize("count", [2, 20])
def test_reports_joined_in_one_file_are_counted(count: int) -> None:
    joined = "\n\n".join(_texts(count, seed=41)).encode("utf-8")
    (note,) = _compilation_notes(joined, "compilation.txt")
    assert f"seems to hold {count} reports" in note and "only the first was read" in note


def test_one_report_is_not_a_compilation() -> None:
    for text in _texts(10, seed=43):
        assert _compilation_notes(text.encode("utf-8"), "one.txt") == []


def test_no_report_of_the_dev_set_claims_to_be_a_compilation() -> None:
    folders = [SHARED_REAL, ROOT / "evals" / "data" / "real", ROOT / "evals" / "data" / "synth"]
    paths = [p for folder in folders if folder.exists() for p in sorted(folder.iterdir())
             if p.suffix in (".txt", ".md", ".html")]  # fmt: skip
    assert len(paths) > 50
    claimed = []
    for path in paths:
        try:
            doc = load_path(path)
        except IngestError:
            continue
        if any(NOTE in note for note in plan_document(doc).notes):
            claimed.append(path.name)
    assert claimed == []


def test_the_command_line_splits_the_file(tmp_path: Path) -> None:
    """`gongkai extract` cuts the file (extractor/split.py): each report is read, none with the note."""
    from typer.testing import CliRunner

    from extractor.cli import app
    from extractor.settings import SAMPLE_REPORT

    twice = tmp_path / "twice.html"
    twice.write_bytes(SAMPLE_REPORT.read_bytes() * 2)
    result = CliRunner().invoke(app, ["extract", str(twice), "--no-store"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "twice.html: 2 reports → 2 documents" in output and NOTE not in output
