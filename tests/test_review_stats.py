"""The queue's ranking and filters, upload progress and the dashboard's figures, on SQLite and PostgreSQL.

Runs are stored through the repository with cells whose confidences and reasons are chosen here,
so every expected weight, count and share is worked out by hand from the data. PostgreSQL comes
from tests/test_storage.py's server (GONGKAI_TEST_POSTGRES_URL): skipped when it is not
reachable, a failure under CI=true.
"""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from extractor import review_stats
from extractor.confidence import CERTAIN, FLAG_BELOW
from extractor.flag_groups import NO_REASON
from extractor.ingest import SourceDocument
from extractor.model import Extraction, FieldValue
from extractor.review import ReviewService
from extractor.review_stats import QueueFilters, cause
from extractor.storage import repository
from extractor.storage.models import DocumentRow
from tests.test_storage import db_url, pg_admin  # noqa: F401  (fixtures, found by name)

Cell = tuple[float, str, list[str]]  # confidence, status, reasons


@pytest.fixture
def svc(service: ReviewService) -> ReviewService:
    """tests/api_support's review service, on test_storage's SQLite-or-PostgreSQL `db_url`."""
    return service


def source(name: str) -> SourceDocument:
    text = f"{name} 政府信息公开工作年度报告"
    sha = hashlib.sha256(text.encode()).hexdigest()
    return SourceDocument(name=name, sha256=sha, kind="text", encoding="utf-8", size=len(text.encode()), text=text,
                          normalized=text)  # fmt: skip


def store(
    svc: ReviewService, name: str, cells: dict[str, Cell], *, agency: str = "某市人民政府", year: int = 2023,
    template: str = "2021", version: str = "rules-test-1",
) -> tuple[int, int]:  # fmt: skip
    """(document id, run id) of a done run with these cells."""
    fields = {
        key: FieldValue(key, None if status == "missing" else 1, status=status, confidence=conf, reasons=reasons)  # type: ignore[arg-type]
        for key, (conf, status, reasons) in cells.items()
    }
    extraction = Extraction(doc=name, template=template, year=year, agency=agency, fields=fields, reader="rules",
                            reader_version=version)  # fmt: skip
    with svc.session() as session:
        run = repository.save_result(session, source(name), extraction)
        return run.document_id, run.id


def queued(svc: ReviewService, name: str) -> int:
    with svc.session() as session:
        return int(repository.save_source(session, source(name)).id)


def failed(svc: ReviewService, name: str) -> int:
    with svc.session() as session:
        doc = repository.save_source(session, source(name))
        repository.save_failed_run(session, doc, reader="rules", reader_version="rules-test-1", error="Boom: <b>")
        return int(doc.id)


def set_reviewed(svc: ReviewService, document_id: int) -> None:
    with svc.session() as session:
        assert repository.bump_review(session, document_id, None, "reviewed")


def page(svc: ReviewService, **filters: object) -> review_stats.QueuePage:
    processing = filters.pop("processing", frozenset())
    with svc.session() as session:
        return review_stats.queue(session, QueueFilters(**filters), processing=processing)  # type: ignore[arg-type]


def ids(svc: ReviewService, **filters: object) -> list[int]:
    return [item.id for item in page(svc, **filters).items]


OK: Cell = (CERTAIN, "read", [])
BROKEN = "in a broken sum: row (一)予以公开: 258+12+0 = 272, table says 0"


@pytest.fixture
def docs(svc: ReviewService) -> dict[str, int]:
    """few-strong: 3 cells at 0.3 (weight 1.8); many-weak: 5 at 0.85 (0.25); clean: none;
    reviewed: the heaviest of all but marked reviewed; a queued and a failed document."""
    few_strong, _ = store(svc, "few-strong", {
        "t3.a": (0.3, "read", [BROKEN]), "t3.b": (0.3, "read", ["cell not found in the document"]),
        "t4.c": (0.0, "missing", ["cell not found in the document"]), "t4.d": OK,
    }, agency="甲区财政局", year=2022, template="2021")  # fmt: skip
    many_weak, _ = store(svc, "many-weak", {f"t2.k{i}": (0.85, "read", ["placed by position"]) for i in range(5)},
                         agency="乙县人民政府", year=2023, template="2019")  # fmt: skip
    clean, _ = store(svc, "clean", {"t2.a": OK, "t2.b": (0.95, "read", ["settled 50% by sums"])})
    reviewed, _ = store(svc, "reviewed", {f"t3.r{i}": (0.0, "missing", []) for i in range(10)})
    set_reviewed(svc, reviewed)
    return {"few_strong": few_strong, "many_weak": many_weak, "clean": clean, "reviewed": reviewed,
            "queued": queued(svc, "queued"), "failed": failed(svc, "failed")}  # fmt: skip


def test_ranking_weighs_low_confidence_and_puts_reviewed_last(svc: ReviewService, docs: dict[str, int]) -> None:
    result = page(svc)
    assert result.total == 6
    # Weight first (1.8 before 0.25, though 3 flags < 5); no flags: newest first; reviewed last.
    order = [item.id for item in result.items]
    names = ("few_strong", "many_weak", "failed", "queued", "clean", "reviewed")
    assert order == [docs[name] for name in names]
    by_id = {item.id: item for item in result.items}
    strong, weak = by_id[docs["few_strong"]], by_id[docs["many_weak"]]
    assert (strong.flags, strong.open_flags) == (3, 3) and strong.weight == pytest.approx(0.6 + 0.6 + 0.9)
    assert (weak.flags, weak.open_flags) == (5, 5) and weak.weight == pytest.approx(5 * (FLAG_BELOW - 0.85))
    assert by_id[docs["clean"]].flags == 0  # 0.95 with a reason is not flagged: the flag line decides
    assert by_id[docs["reviewed"]].flags == 10 and by_id[docs["reviewed"]].review == "reviewed"
    assert by_id[docs["queued"]].status == "queued" and by_id[docs["queued"]].flags == 0
    assert by_id[docs["failed"]].status == "failed" and by_id[docs["failed"]].error == "Boom: <b>"
    assert (strong.agency, strong.year, strong.template) == ("甲区财政局", 2022, "2021")


def test_corrected_and_accepted_cells_are_no_longer_open(svc: ReviewService, docs: dict[str, int]) -> None:
    with svc.session() as session:
        run = repository.latest_run(session, source("few-strong").sha256)
        assert run is not None
        repository.add_correction(session, run.id, "t4.c", 5, "ann")
        repository.add_correction(session, run.id, "t4.c", 6, "ann")  # the same cell twice: one closed flag
        repository.add_accept(session, run.id, "t3.a", "ann")
        repository.add_correction(session, run.id, "t4.d", 2, "ann")  # a cell that was not flagged
    item = next(i for i in page(svc).items if i.id == docs["few_strong"])
    assert (item.flags, item.open_flags, item.corrections, item.accepts) == (3, 1, 3, 1)
    assert item.weight == pytest.approx(0.6)
    assert ids(svc)[0] == docs["few_strong"]  # 0.6 open still outweighs many-weak's 0.25
    with svc.session() as session:
        repository.add_accept(session, run.id, "t3.b", "ann")
    item = next(i for i in page(svc).items if i.id == docs["few_strong"])
    assert (item.open_flags, item.weight) == (0, 0)
    assert ids(svc)[:2] == [docs["many_weak"], docs["few_strong"]]  # nothing open: behind what still is


def test_the_newest_finished_run_is_what_needs_review(svc: ReviewService) -> None:
    old = {f"t3.x{i}": (0.3, "read", ["old doubt"]) for i in range(4)}
    doc, _ = store(svc, "rerun", old, version="rules-test-1")
    store(svc, "rerun", {"t3.x0": (0.7, "read", ["new doubt"])}, version="rules-test-2")
    [item] = page(svc).items
    assert item.id == doc and item.flags == 1 and item.weight == pytest.approx(0.2)
    assert ids(svc, reason="old doubt") == [] and ids(svc, reason="new doubt") == [doc]
    with svc.session() as session:  # a newer run that failed hides nothing: the queue shows the run the page does
        row = session.get(DocumentRow, doc)
        assert row is not None
        repository.save_failed_run(session, row, reader="rules", reader_version="rules-test-3", error="crash")
    [item] = page(svc).items
    assert item.status == "done" and item.flags == 1


def test_filters(svc: ReviewService, docs: dict[str, int]) -> None:
    assert set(ids(svc, agency="财政")) == {docs["few_strong"]}
    assert set(ids(svc, agency="%")) == set()  # LIKE wildcards are text here
    assert set(ids(svc, year=2023)) == {docs["many_weak"], docs["clean"], docs["reviewed"]}
    assert set(ids(svc, template="2019")) == {docs["many_weak"]}
    assert set(ids(svc, status="done")) == {docs[k] for k in ("few_strong", "many_weak", "clean", "reviewed")}
    assert set(ids(svc, status="failed")) == {docs["failed"]}
    assert set(ids(svc, status="queued")) == {docs["queued"]}
    assert ids(svc, status="queued", processing=frozenset({docs["queued"]})) == []
    assert ids(svc, status="processing", processing=frozenset({docs["queued"], docs["clean"]})) == [docs["queued"]]
    statuses = {i.id: i.status for i in page(svc, processing=frozenset({docs["queued"], docs["clean"]})).items}
    assert statuses[docs["queued"]] == "processing" and statuses[docs["clean"]] == "done"
    assert set(ids(svc, review="reviewed")) == {docs["reviewed"]}
    assert docs["reviewed"] not in ids(svc, review="unreviewed") and len(ids(svc, review="unreviewed")) == 5
    # Reasons: only flagged cells count; Chinese, case and LIKE's wildcards behave on both databases.
    assert set(ids(svc, reason="cell not found")) == {docs["few_strong"]}
    assert set(ids(svc, reason="予以公开")) == {docs["few_strong"]}
    assert set(ids(svc, reason="BROKEN SUM")) == {docs["few_strong"]}
    assert set(ids(svc, reason="by position")) == {docs["many_weak"]}
    assert ids(svc, reason="settled") == [] and ids(svc, reason="50%") == [] and ids(svc, reason="_") == []
    assert set(ids(svc, reason="not found", year=2022, status="done")) == {docs["few_strong"]}


def test_paging(svc: ReviewService, docs: dict[str, int]) -> None:
    whole = ids(svc)
    with svc.session() as session:
        pages = [review_stats.queue(session, limit=4, offset=o) for o in (0, 4, 8)]
    assert [p.total for p in pages] == [6, 6, 6]
    assert [i.id for p in pages for i in p.items] == whole
    with pytest.raises(ValueError), svc.session() as session:
        review_stats.queue(session, limit=0)


def test_queue_takes_a_fixed_number_of_queries_and_sums_each_run_once(svc: ReviewService, docs: dict[str, int]) -> None:
    statements: list[tuple[str, object]] = []
    assert svc.engine is not None

    def record(conn: object, cursor: object, statement: str, parameters: object, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    def flag_sums() -> list[tuple[str, object]]:
        return [(s, p) for s, p in statements if "FROM fields" in s and "corrections" not in s]

    sa.event.listen(svc.engine, "before_cursor_execute", record)
    try:
        first = page(svc)
        assert len(statements) == 4 and len(flag_sums()) == 1  # documents, new runs' flags, closed flags, corrections
        statements.clear()
        assert page(svc) == first
        assert len(statements) == 3 and flag_sums() == []  # every run's flags already summed
        statements.clear()
        doc, _ = store(svc, "new", {"t3.n": (0.5, "read", ["new"])})
        assert ids(svc)[0] == docs["few_strong"] and doc in ids(svc)
        assert len(flag_sums()) == 1  # only the new run was summed, once
        statements.clear()
        assert ids(svc, reason="BROKEN") == [docs["few_strong"]]
        assert len(flag_sums()) == 1  # the runs' reasons, read once...
        statements.clear()
        assert ids(svc, reason="position") == [docs["many_weak"]]
        assert flag_sums() == []  # ...and searched in memory after
    finally:
        sa.event.remove(svc.engine, "before_cursor_execute", record)


def test_progress(svc: ReviewService, docs: dict[str, int]) -> None:
    wanted = [*docs.values(), 99_999]
    with svc.session() as session:
        got = review_stats.progress(session, wanted, processing={docs["queued"]})
    assert got.counts == {"queued": 0, "processing": 1, "done": 4, "failed": 1}
    assert got.unknown == [99_999]
    assert got.failures == [{"id": docs["failed"], "name": "failed", "error": "Boom: <b>"}]
    assert got.statuses[docs["clean"]] == "done"
    with svc.session() as session:  # more ids than one IN list holds
        many = review_stats.progress(session, list(range(1, 2500)))
    assert sum(many.counts.values()) == 6 and len(many.unknown) == 2499 - 6


def test_dashboard(svc: ReviewService, docs: dict[str, int]) -> None:
    both, only_2019, only_2021 = "t3.new_received.natural", "t2.fees.change", "t2.fees.amount"
    with svc.session() as session:
        strong = repository.latest_run(session, source("few-strong").sha256)  # template 2021
        weak = repository.latest_run(session, source("many-weak").sha256)  # template 2019
        assert strong is not None and weak is not None
        repository.add_correction(session, strong.id, both, 5, "ann")
        repository.add_correction(session, strong.id, both, 6, "bob")  # twice in one document
        repository.add_correction(session, weak.id, both, 1, "ann")
        repository.add_correction(session, weak.id, only_2019, 1, "ann")
        repository.add_correction(session, strong.id, only_2021, 1, "ann")
        repository.add_accept(session, weak.id, "t2.k0", "ann")
    set_reviewed(svc, docs["few_strong"])
    set_reviewed(svc, docs["many_weak"])  # reviewed: "reviewed" and few-strong (2021), many-weak (2019)
    with svc.session() as session:
        figures = review_stats.dashboard(session, processing={docs["queued"]})
    assert figures.documents == {"queued": 0, "processing": 1, "done": 4, "failed": 1}
    assert figures.review == {"unreviewed": 3, "reviewed": 3}
    assert figures.flags_total == 3 + 5 + 10 and figures.flagged_documents == 3
    assert figures.flags_by_section == [("t2", 5), ("t3", 12), ("t4", 1)]
    causes = dict(figures.flags_by_cause)
    assert causes == {"cell not found in the document": 2, "in a broken sum: row …: N+… = N, table says N": 1,
                      "placed by position": 5, NO_REASON: 10}  # fmt: skip
    by_key = {c["key"]: (c["corrections"], c["accepts"], c["reviewed_documents"], c["reviewed_with_field"],
                         c["error_rate"]) for c in figures.corrections}  # fmt: skip
    # (corrections, accepts, reviewed documents corrected, reviewed documents whose template has it, rate)
    assert by_key == {
        both: (3, 0, 2, 3, round(2 / 3, 4)),
        only_2019: (1, 0, 1, 1, 1.0),
        only_2021: (1, 0, 1, 2, 0.5),
        "t2.k0": (0, 1, 0, 0, None),  # in no template: no rate
    }
    assert figures.corrections[0]["key"] == both
    assert figures.as_dict()["flags_by_section"][0] == {"section": "t2", "flags": 5}


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("cell not found in the document", "cell not found in the document"),
        (BROKEN, "in a broken sum: row …: N+… = N, table says N"),
        ("in a broken sum: row 四、结转下年度继续办理: 0+0+0 = 0, table says 3",
         "in a broken sum: row …: N+… = N, table says N"),
        ("row (三)1.属于国家秘密: only 1 of 7 cells shown (empty cells dropped); placement uncertain",
         "row …: only N of N cells shown (empty cells dropped); placement uncertain"),
        ("row 二、上年结转政府信息公开申请数量: only 2 of 7 cells shown (empty cells dropped); placement uncertain",
         "row …: only N of N cells shown (empty cells dropped); placement uncertain"),
        ("printed with a unit ('592万元') where the template's column names none: check the scale",
         "printed with a unit ('…') where the template's column names none: check the scale"),
        ("not shown in the document; inferred from column 自然人 = 66",
         "not shown in the document; inferred from column … = N"),
        ("row 规范性文件 is printed more than once, with different numbers: 0 0 0 / 87 0 0",
         "row … is printed more than once, with different numbers: N N N / N N N"),
        ("", NO_REASON),
    ],
)  # fmt: skip
def test_cause_groups_reasons_that_differ_only_in_particulars(reason: str, expected: str) -> None:
    assert cause(reason) == expected


def test_parse_ids() -> None:
    assert review_stats.parse_ids(["1,2, 3", 4, ""], 10) == [1, 2, 3, 4]
    for bad in (["0"], ["-1"], ["x"], [str(2**31)]):
        with pytest.raises(ValueError):
            review_stats.parse_ids(bad, 10)
    with pytest.raises(ValueError):
        review_stats.parse_ids([",".join(["1"] * 11)], 10)
