"""Damaged text is read, not refused: the cells the damage may have changed are flagged, the rest kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.damage import DEFAULT_DIRS, SUFFIXES, damage_benchmark, failed
from evals.gold import load_cases
from extractor.confidence import DOUBTFUL
from extractor.damage import flag_damaged
from extractor.ingest import SourceDocument, load_bytes
from extractor.ingest.normalize import normalize
from extractor.model import Extraction, FieldValue
from extractor.pipeline import extract
from tests.helpers import DEV_DATA, SHARED_REAL

SEED = SHARED_REAL / "seed-dongtonghua-2020.txt"
needs_shared = pytest.mark.skipif(not SEED.exists(), reason="shared benchmark not beside the checkout")


def _gold(path: Path) -> dict[str, float]:
    return dict(json.loads(path.with_name(path.stem + ".gold.json").read_text(encoding="utf-8"))["fields"])


def _read(data: bytes, name: str) -> tuple[SourceDocument, Extraction]:
    doc = load_bytes(data, name)
    return doc, extract(doc, reader="rules")


def _right(extraction: Extraction, gold: dict[str, float]) -> int:
    values = extraction.values()
    return sum(1 for key, expected in gold.items() if values.get(key) == expected)


@needs_shared
@pytest.mark.parametrize("new_byte", [0xFF, 0x00, 0xC0, ord("|")])  # each is damage in UTF-8 here
def test_seed_with_one_byte_changed_at_offset_500_reads_198_of_198(new_byte: int) -> None:
    data = bytearray(SEED.read_bytes())
    data[500] = new_byte if new_byte != data[500] else new_byte ^ 1
    doc, extraction = _read(bytes(data), SEED.name)
    assert _right(extraction, _gold(SEED)) == 198
    assert doc.replaced, "the damage is recorded"
    # offset 500 is in the prose of section 一: no cell touches it, and the note says so
    assert extraction.flat()["flags"] == {}
    (note,) = [n for n in extraction.notes if n.startswith("damaged source")]
    assert "no cell touches them" in note and "replaced" in note


@needs_shared
def test_seed_with_its_last_byte_cut_reads_198_of_198() -> None:
    doc, extraction = _read(SEED.read_bytes()[:-1], SEED.name)
    assert doc.truncated and doc.encoding == "utf-8"
    assert _right(extraction, _gold(SEED)) == 198
    assert extraction.flat()["flags"] == {}  # the cut is in the closing sentence, after every table
    (note,) = [n for n in extraction.notes if n.startswith("damaged source")]
    assert "middle of a character" in note and "no cell touches them" in note


@needs_shared
@pytest.mark.parametrize("key", ["t2.rules.made", "t3.granted.natural", "t4.review.total"])
@pytest.mark.parametrize("where", ["on the digit", "right after it"])
def test_a_damaged_byte_at_a_cell_flags_that_cell(key: str, where: str) -> None:
    data = SEED.read_bytes()
    clean_doc, clean = _read(data, SEED.name)
    span = clean.fields[key].span
    assert span is not None
    char = span[0] if where == "on the digit" else span[1]
    at = len(clean_doc.text[:char].encode())
    doc, extraction = _read(data[:at] + b"\xff" + data[at + 1 :], SEED.name)
    assert doc.replaced == ((char, char + 1),)
    cell = extraction.fields[key]
    assert cell.flagged, "the damaged cell is never kept as confident"
    if where == "right after it":  # the digit is read, and it touches the damage
        assert cell.confidence <= DOUBTFUL
        assert any(f"1 byte(s) replaced by � at character {char}" in reason for reason in cell.reasons)
    gold = _gold(SEED)
    wrong = [k for k, expected in gold.items() if extraction.values().get(k) != expected]
    assert all(k in extraction.flat()["flags"] for k in wrong), "no wrong value is kept unflagged"
    assert len(extraction.flat()["flags"]) <= 15, "only the damaged row is in doubt (t4 is one row of 15)"


def _doc(text: str, replaced: tuple[tuple[int, int], ...] = (), damage: str = "") -> SourceDocument:
    return SourceDocument(
        name="d.txt", sha256="0", kind="text", encoding="utf-8", size=len(text), text=text,
        normalized=normalize(text), replaced=replaced, damage=damage,
    )  # fmt: skip


def test_flag_damaged_flags_touching_cells_only() -> None:
    text = "政府信息公开 | 12\ufffd | 5 | 7 |"
    at = text.index("\ufffd")
    doc = _doc(text, ((at, at + 1),), "1 byte(s) could not be read as utf-8: each was replaced by �")
    extraction = Extraction("d", None, None, None)
    extraction.fields = {
        "a": FieldValue("a", 12, "12", (at - 2, at)),  # ends right before the damage
        "b": FieldValue("b", 5, "5", (text.index("5"), text.index("5") + 1)),
        "c": FieldValue("c", None, status="missing"),
    }
    flag_damaged(extraction, doc)
    assert extraction.fields["a"].flagged and extraction.fields["a"].confidence == DOUBTFUL
    assert f"1 byte(s) replaced by � at character {at}" in extraction.fields["a"].reasons[0]
    assert not extraction.fields["b"].flagged
    assert any(f"at character {at}" in note and "1 cell(s) touch them" in note for note in extraction.notes)


def test_a_document_rebuilt_from_storage_still_has_its_damage_found() -> None:
    """A worker rebuilds the document from the stored text (no `replaced`): U+FFFD runs are found again."""
    text = "政府信息公开 | 3\ufffd\ufffd |"
    doc = _doc(text)
    extraction = Extraction("d", None, None, None)
    at = text.index("3")
    extraction.fields = {"a": FieldValue("a", 3, "3", (at, at + 1))}
    flag_damaged(extraction, doc)
    assert extraction.fields["a"].flagged and "2 byte(s) replaced" in extraction.fields["a"].reasons[0]


def test_a_clean_document_is_left_alone() -> None:
    doc = _doc("政府信息公开 | 3 |")
    extraction = Extraction("d", None, None, None)
    extraction.fields = {"a": FieldValue("a", 3, "3", (9, 10))}
    flag_damaged(extraction, doc)
    assert not extraction.fields["a"].flagged and extraction.notes == []


def test_a_flip_that_makes_a_stray_pipe_flags_the_cells_it_moves() -> None:
    """Regression (evals.damage seed 1, copy 949): a flip turned the lead byte of 不 into '|' in a
    report printed without pipes; the rules reader then read earlier rows of table 3 as blank.
    Read again with the damage and its neighbours blanked they read 9 and 2, so they are flagged."""
    path = DEV_DATA / "real" / "real-pingtan-zrz-2020.txt"
    data = path.read_bytes()
    at = data.index("（五）不予处理".encode()) + len("（五）".encode())
    doc, extraction = _read(data[:at] + b"|" + data[at + 1 :], path.name)
    gold = _gold(path)
    assert doc.replaced
    wrong = [key for key, expected in gold.items() if extraction.values().get(key) != expected]
    assert wrong and all(extraction.fields[key].flagged for key in wrong if key in extraction.fields)
    assert all(key in extraction.flat()["flags"] for key in wrong)


@needs_shared
def test_a_file_cut_inside_a_table_flags_the_table() -> None:
    """Regression (evals.damage seed 1, copy 81): cut in table 3, the rows left were placed by position."""
    path = SHARED_REAL / "real-shanghai-kewei-2024.md"
    doc, extraction = _read(path.read_bytes()[:7535], path.name)
    assert doc.truncated
    gold = _gold(path)
    flat = extraction.flat()
    silent = [k for k, v in gold.items() if flat["fields"].get(k) != v and k not in flat["flags"]]
    assert silent == []
    assert any("cut off" in note for note in extraction.notes)


def test_damage_benchmark_smoke() -> None:
    cases = load_cases(*[d for d in DEFAULT_DIRS if d.exists()], suffixes=SUFFIXES)[:6]
    run = damage_benchmark(cases, copies=25, seed=7)
    assert sum(t.copies for t in run.by_kind.values()) == 25
    assert not failed(run), [f.what for f in run.findings]


def test_a_cell_with_only_white_space_between_it_and_the_damage_touches_it() -> None:
    """Regression (evals.damage seed 4, copy 145): a flip broke the row label 行政强制 into 行政强��
    and a tab; the number after it was read into the row before. Beside damage, across white space."""
    text = "政府信息公开 行政处罚 2648 行政强\ufffd\ufffd\t1262629 | 7"
    start = text.index("\ufffd")
    doc = _doc(text, ((start, start + 2),))
    number = text.index("1262629")
    extraction = Extraction("d", None, None, None)
    extraction.fields = {
        "after": FieldValue("after", 1262629, "1262629", (number, number + 7)),
        "far": FieldValue("far", 7, "7", (len(text) - 1, len(text))),
        "before": FieldValue("before", 2648, "2648", (text.index("2648"), text.index("2648") + 4)),
    }
    flag_damaged(extraction, doc)
    assert extraction.fields["after"].flagged
    assert not extraction.fields["far"].flagged and not extraction.fields["before"].flagged
