"""Exports from a real SQLite database: CSV (wide, long), Excel, JSON, and reviewed documents as gold.

Two copies of the seed report are extracted and stored (different bytes, so two documents);
a reviewer corrects two cells of the second. Every export must show the corrected values with
their status, reviewer and time, keep the extracted value beside them, and `gongkai eval` on
the exported gold must turn each correction into a difference the reader still makes.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from extractor import exports
from extractor.cli import app
from extractor.service import Service
from schemas import DISCLOSURE_REPORT
from tests.helpers import SHARED_REAL

runner = CliRunner()
SEED = SHARED_REAL / "seed-dongtonghua-2020.txt"
COUNT_KEY = "t3.new_received.natural"
AMOUNT_KEY = "t2.procurement.amount"
AMOUNT = 18651.06  # 万元: must come out as printed, not 18651.059999…

pytestmark = pytest.mark.skipif(not SHARED_REAL.exists(), reason="shared benchmark not beside the checkout")


@dataclass(frozen=True)
class Stored:
    url: str
    plain_id: int  # document nobody corrected
    corrected_id: int  # document with two corrections by 张审


@pytest.fixture
def stored(tmp_path: Path) -> Stored:
    url = f"sqlite:///{tmp_path}/g.db"
    plain = tmp_path / "seed-a.txt"
    plain.write_bytes(SEED.read_bytes())
    other = tmp_path / "东通化 街道.2020.txt"  # Chinese, a space and a dot: the gold name must be safe
    other.write_bytes(SEED.read_bytes() + "\n附:本报告另有纸质版。\n".encode())
    with Service(url) as service:
        _, plain_run = service.extract_and_store(service.ingest(plain))
        _, other_run = service.extract_and_store(service.ingest(other))
        service.correct(other_run, COUNT_KEY, 7, reviewer="张审")
        service.correct(other_run, AMOUNT_KEY, AMOUNT, reviewer="张审", comment="采购总金额")
        runs = {run.run_id: run for run in service.list_runs()}
        with service.session() as session:
            ids = {r.run_id: r for r in exports.load_reports(session)}
        assert set(ids) == set(runs)
    return Stored(url, ids[plain_run].document_id, ids[other_run].document_id)


def _export(stored: Stored, fmt: exports.Format, **options: object) -> bytes:
    with Service(stored.url) as service, service.session() as session:
        return exports.export_bytes(session, fmt, **options)  # type: ignore[arg-type]


def _csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM, so Excel reads Chinese"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_wide_csv_has_a_row_per_report_and_a_column_per_field(stored: Stored) -> None:
    rows = _csv(_export(stored, "csv", kind="wide"))
    assert [int(r["document_id"]) for r in rows] == [stored.plain_id, stored.corrected_id]
    header = list(rows[0])
    keys = exports.field_columns()
    assert header == [*exports.REPORT_COLUMNS, *keys]
    every = {k for t in DISCLOSURE_REPORT.templates for k in t.field_keys()}
    assert set(keys) == every and len(keys) == len(every)
    assert keys.index("t3.other.total") < keys.index("t3.total.natural")  # both templates' rows interleave
    assert keys.index("t3.other_misc.total") < keys.index("t3.total.natural")
    plain, corrected = rows
    assert plain["agency"] == "" and plain["review_status"] == "unreviewed" and plain["corrected"] == "0"
    assert corrected["name"] == "东通化 街道.2020.txt" and corrected["corrected"] == "2"
    assert plain[COUNT_KEY] == "0" and corrected[COUNT_KEY] == "7"
    assert corrected[AMOUNT_KEY] == "18651.06" and plain[AMOUNT_KEY] == "0"
    assert plain["t2.rules.issued"] == ""  # a 2021-only key is empty for a 2019 report
    assert plain["flagged"] == "0" and plain["template"] == "2019" and plain["year"] == "2020"


def test_long_csv_keeps_the_extracted_value_beside_the_correction(stored: Stored) -> None:
    rows = _csv(_export(stored, "csv", kind="long"))
    assert list(rows[0]) == list(exports.LONG_COLUMNS)
    cells = {(int(r["document_id"]), r["field"]): r for r in rows}
    count = cells[(stored.corrected_id, COUNT_KEY)]
    assert (count["value"], count["status"], count["reviewer"], count["extracted"]) == ("7", "corrected", "张审", "0")
    assert count["time"].startswith("20") and count["time"].endswith("+00:00")
    amount = cells[(stored.corrected_id, AMOUNT_KEY)]
    assert (amount["value"], amount["status"], amount["extracted"]) == ("18651.06", "corrected", "0")
    untouched = cells[(stored.plain_id, COUNT_KEY)]
    assert (untouched["value"], untouched["status"], untouched["reviewer"], untouched["time"]) == ("0", "read", "", "")
    per_doc = [r for r in rows if int(r["document_id"]) == stored.plain_id]
    assert [r["field"] for r in per_doc] == DISCLOSURE_REPORT.template("2019").field_keys()  # printed order


def test_xlsx_has_both_sheets_with_the_csv_values(stored: Stored) -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_export(stored, "xlsx")))
    assert book.sheetnames == ["wide", "long"]
    for name, kind in (("wide", "wide"), ("long", "long")):
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        sheet_rows = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
        csv_rows = list(csv.reader(io.StringIO(_export(stored, "csv", kind=kind).decode("utf-8-sig"))))
        assert [[exports._text(v) for v in row] for row in sheet_rows] == csv_rows
    wide = list(book["wide"].iter_rows(values_only=True))
    column = wide[0].index(AMOUNT_KEY)
    assert wide[2][column] == AMOUNT and isinstance(wide[2][wide[0].index(COUNT_KEY)], int)  # numbers, not text


def test_json_is_a_list_of_fields_md_objects_with_corrected_values(stored: Stored) -> None:
    objects = json.loads(_export(stored, "json").decode("utf-8"))
    gold = json.loads((SHARED_REAL / "seed-dongtonghua-2020.gold.json").read_text(encoding="utf-8"))
    plain, corrected = objects
    for obj in objects:
        assert {"doc", "template", "year", "agency", "fields", "flags"} <= set(obj)
        assert (obj["template"], obj["year"], obj["agency"]) == ("2019", 2020, None)
        assert obj["review"]["status"] == "unreviewed"
    assert plain["fields"] == gold["fields"] and plain["flags"] == {} and plain["document_id"] == stored.plain_id
    assert corrected["fields"] == {**gold["fields"], COUNT_KEY: 7, AMOUNT_KEY: AMOUNT}
    assert corrected["review"]["corrected"] == 2
    assert '"t2.procurement.amount": 18651.06' in _export(stored, "json").decode("utf-8")
    assert "东通化 街道.2020.txt" in _export(stored, "json").decode("utf-8")  # not \\u escapes


def test_reviewed_only_keeps_the_documents_a_lookup_says_are_reviewed(stored: Stored) -> None:
    assert json.loads(_export(stored, "json", reviewed_only=True)) == []  # nothing marked reviewed yet

    def reviews(_session: object, ids: object) -> dict[int, tuple[str, int | None]]:
        return {stored.corrected_id: ("reviewed", 3)}

    objects = json.loads(_export(stored, "json", reviewed_only=True, reviews=reviews))
    assert [o["document_id"] for o in objects] == [stored.corrected_id]
    assert objects[0]["review"] == {"status": "reviewed", "version": 3, "corrected": 2}
    assert json.loads(_export(stored, "json", reader="llm")) == []  # the reader filter


def test_a_correction_is_corrected_an_accept_is_accepted() -> None:
    assert exports.classify_correction(SimpleNamespace(action="accept")) == "accepted"
    assert exports.classify_correction(SimpleNamespace(action="correct")) == "corrected"
    assert exports.classify_correction(SimpleNamespace()) == "corrected"  # before storage had an action


def test_an_empty_database_exports_headers_only(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    with Service(f"sqlite:///{tmp_path}/empty.db") as service, service.session() as session:
        wide = exports.export_bytes(session, "csv", kind="wide")
        long = exports.export_bytes(session, "csv", kind="long")
        book = load_workbook(io.BytesIO(exports.export_bytes(session, "xlsx")))
        assert json.loads(exports.export_bytes(session, "json")) == []
        assert exports.write_gold(session, tmp_path / "gold", reviewed_only=False) == []
    assert list(csv.reader(io.StringIO(wide.decode("utf-8-sig")))) == [exports.wide_header()]
    assert list(csv.reader(io.StringIO(long.decode("utf-8-sig")))) == [list(exports.LONG_COLUMNS)]
    assert [len(list(book[name].iter_rows())) for name in ("wide", "long")] == [1, 1]


def test_the_export_command_writes_each_format(stored: Stored, tmp_path: Path) -> None:
    for fmt, kind in (("csv", "wide"), ("csv", "long"), ("xlsx", "wide"), ("json", "wide")):
        out = tmp_path / f"out-{kind}.{fmt}"
        result = runner.invoke(app, ["export", "--format", fmt, "--kind", kind, "--db", stored.url, "--out", str(out)])
        assert result.exit_code == 0, result.output
        if fmt == "xlsx":  # a zip carries its write time: compare the sheets
            assert _sheets(out.read_bytes()) == _sheets(_export(stored, "xlsx"))
        else:
            assert out.read_bytes() == _export(stored, fmt, kind=kind)  # type: ignore[arg-type]


def _sheets(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def test_exported_gold_turns_every_correction_into_a_regression_case(stored: Stored, tmp_path: Path) -> None:
    from evals.benchmark import run_benchmark
    from evals.gold import load_cases

    folder = tmp_path / "gold"
    result = runner.invoke(app, ["export-gold", str(folder), "--db", stored.url])
    assert result.exit_code == 0 and not list(folder.iterdir())  # nothing reviewed: nothing written
    result = runner.invoke(app, ["export-gold", str(folder), "--all", "--db", stored.url])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["seed-a.gold.json", "seed-a.txt", "东通化-街道-2020.gold.json", "东通化-街道-2020.txt"]
    gold = json.loads((folder / "东通化-街道-2020.gold.json").read_text(encoding="utf-8"))
    assert set(gold) == {"doc", "template", "year", "agency", "fields", "source", "notes"}
    assert gold["doc"] == "东通化-街道-2020" and gold["fields"][AMOUNT_KEY] == AMOUNT

    evaluated = runner.invoke(app, ["eval", str(folder), "--report", str(tmp_path / "report")])
    assert evaluated.exit_code == 0, evaluated.output
    scores = {s.doc: s for s in run_benchmark(load_cases(folder)).scores}
    plain, corrected = scores["seed-a"], scores["东通化-街道-2020"]
    assert plain.correct == plain.gold_fields == 198 and plain.template_ok
    assert corrected.correct == corrected.gold_fields - 2  # the reader still reads the printed 0s
    assert sorted(corrected.silent_keys) == sorted([AMOUNT_KEY, COUNT_KEY])


def test_stored_reviews_and_accepts_show_in_the_exports(stored: Stored, tmp_path: Path) -> None:
    from extractor.storage import repository

    with Service(stored.url) as service:
        with service.session() as session:
            runs = {r.document_id: r.run_id for r in exports.load_reports(session)}
            repository.add_accept(session, runs[stored.plain_id], COUNT_KEY, reviewer="李审")
            seen = repository.get_review(session, stored.corrected_id).version  # 2: the fixture's corrections
            assert repository.bump_review(session, stored.corrected_id, seen, status="reviewed")
        with service.session() as session:
            reports = {r.document_id: r for r in exports.load_reports(session)}
            reviewed = exports.load_reports(session, reviewed_only=True)
            written = exports.write_gold(session, tmp_path / "gold")
    accepted = reports[stored.plain_id].cells[COUNT_KEY]
    assert (accepted.status, accepted.value, accepted.reviewer) == ("accepted", 0, "李审")
    assert [r.document_id for r in reviewed] == [stored.corrected_id]
    assert (reviewed[0].review_status, reviewed[0].review_version) == ("reviewed", seen + 1) == ("reviewed", 3)
    assert [g.name for g in written] == ["东通化-街道-2020"] and written[0].corrected == 2
