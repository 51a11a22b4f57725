"""Re-extraction never throws review work away: carried reviews, listed conflicts, on SQLite and PostgreSQL.

The first run is the real rules reader on the sample report (with a planted error); the second
is that extraction stored under another reader version with some cells read differently, which
is exactly what a new reader version storing through `Service.store_run` does. Nothing is mocked.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from extractor import exports
from extractor.flag_groups import group_flags
from extractor.ingest import SourceDocument, load_bytes
from extractor.model import Extraction, FieldValue, Number
from extractor.review import ReviewService
from extractor.settings import SAMPLE_REPORT
from extractor.storage import repository
from extractor.storage.carry import Conflict, flag_conflict
from extractor.storage.models import CorrectionRow, ReviewRow

# db_url and pg_admin: test_storage's SQLite-or-PostgreSQL database, under tests/api_support's `service` fixture
from tests.test_storage import db_url, pg_admin  # noqa: F401

PLANTED = SAMPLE_REPORT.read_bytes().replace(b">821<", b">822<", 1)
CORRECTED = "t3.new_received.natural"  # planted 822, corrected to 821; the new run reads 822 again
ACCEPTED = "t3.new_received.commercial"  # 35, accepted; the new run reads 35 again
CONFLICT = "t3.new_received.legal"  # 2, corrected to 3; the new run reads 4
AGREED = "t3.carried_over.natural"  # 18, corrected to 19; the new run reads 19
CHANGED_UNREVIEWED = "t3.new_received.other_org"  # 1, never reviewed; the new run reads 5


def reread(extraction: Extraction, version: str, changes: dict[str, Number | None]) -> Extraction:
    """`extraction` as another reader version would store it, with `changes` read differently."""
    fields = {key: replace(value, reasons=list(value.reasons)) for key, value in extraction.fields.items()}
    for key, number in changes.items():
        fields[key] = replace(fields[key], value=number, raw=str(number), reasons=[])
    return replace(extraction, fields=fields, reader_version=version, notes=list(extraction.notes))


def version(svc: ReviewService, document_id: int) -> int:
    return int(svc.flat(document_id)["version"])


def trail(svc: ReviewService, run_id: int) -> list[tuple[Any, ...]]:
    with svc.session() as session:
        return [(c.id, c.key, c.action, c.old, c.new, c.reviewer, c.carried_from, c.created_at)
                for c in repository.list_corrections(session, run_id)]  # fmt: skip


def count(svc: ReviewService, model: type[Any]) -> int:
    with svc.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture
def reviewed(service: ReviewService) -> tuple[SourceDocument, Extraction, int, int]:
    """The sample read by the rules reader, with one cell corrected, one accepted, two more corrected."""
    doc = load_bytes(PLANTED, "sample.html")
    first, run1 = service.extract_and_store(doc, "rules")
    assert first.fields[CORRECTED].value == 822 and first.fields[CONFLICT].value == 2
    document_id = service.store_document(doc)
    v = version(service, document_id)
    service.review(document_id, CORRECTED, v, "ann", value=821, comment="the total says 821")
    service.review(document_id, ACCEPTED, v + 1, "ann", accept=True)
    service.review(document_id, CONFLICT, v + 2, "bob", value=3)
    service.review(document_id, AGREED, v + 3, "bob", value=19)
    return doc, first, document_id, run1


def test_reextraction_carries_unchanged_cells_and_lists_conflicts(
    service: ReviewService, reviewed: tuple[SourceDocument, Extraction, int, int]
) -> None:
    doc, first, document_id, run1 = reviewed
    before = trail(service, run1)
    assert [row[1] for row in before] == [CORRECTED, ACCEPTED, CONFLICT, AGREED]
    service.set_review_status(document_id, "reviewed", version(service, document_id))
    version_before = version(service, document_id)

    second = reread(first, "rules-next", {CONFLICT: 4, AGREED: 19, CHANGED_UNREVIEWED: 5})
    run2 = service.store_run(doc, second)
    assert run2 != run1

    # The audit trail of the first run is exactly what it was: nothing overwritten or moved.
    assert trail(service, run1) == before
    # Carrying changed what reviewers see: whoever holds the old version must reload.
    assert version(service, document_id) == version_before + 1
    assert service.flat(document_id)["review_status"] == "unreviewed"  # a conflict wants a reviewer again

    view = service.document(document_id)
    assert view["run"]["id"] == run2
    assert view["carried"] == sorted([CORRECTED, ACCEPTED, AGREED])
    assert view["conflicts"] == [{
        "key": CONFLICT, "action": "correct", "reviewer": "bob", "reviewer_value": 3, "previous_read": 2,
        "new_read": 4, "from_run": run1, "to_run": run2, "correction_id": before[2][0],
    }]  # fmt: skip

    # Carried rows: same action, value, reviewer and time as the original, linked to it.
    originals = {row[1]: row for row in before}
    carried = {row[1]: row for row in trail(service, run2)}
    assert set(carried) == {CORRECTED, ACCEPTED, AGREED}
    for key, row in carried.items():
        original = originals[key]
        assert row[2] == original[2] and row[4] == original[4] and row[5] == original[5]
        assert row[6] == original[0]  # carried_from
        assert row[7] == original[7]  # the reviewer's own time
    assert carried[AGREED][3] == 19  # on the new run the cell read 19 before the carry
    history = {item["key"]: item for item in view["history"]}
    assert history[CORRECTED]["carried_from"] == {"correction": originals[CORRECTED][0], "run": run1}

    # Reviewers' values where carried; the new reading (flagged, not overridden) where in conflict.
    flat = service.flat(document_id)
    assert flat["fields"][CORRECTED] == 821
    assert flat["fields"][ACCEPTED] == 35
    assert flat["fields"][AGREED] == 19
    assert flat["fields"][CONFLICT] == 4
    assert flat["fields"][CHANGED_UNREVIEWED] == 5
    assert flat["conflicts"] == [CONFLICT]
    assert any("re-extraction conflict" in reason and "bob" in reason for reason in flat["flags"][CONFLICT])
    cell = view["result"]["cells"][CONFLICT]
    assert cell["value"] == 4 and cell["confidence"] < 0.9
    assert CHANGED_UNREVIEWED not in flat["conflicts"]

    with service.session() as session:
        report = {row.document_id: row for row in exports.iter_reports(session)}[document_id]
    assert report.run_id == run2
    assert (report.cells[CORRECTED].value, report.cells[CORRECTED].status) == (821, "corrected")
    assert (report.cells[ACCEPTED].value, report.cells[ACCEPTED].status) == (35, "accepted")
    assert (report.cells[AGREED].value, report.cells[AGREED].status) == (19, "corrected")
    assert (report.cells[CONFLICT].value, report.cells[CONFLICT].status) == (4, "flagged")

    # Saving the same run again (a redelivered task, the CLI run twice) adds nothing.
    corrections, version_now = count(service, CorrectionRow), version(service, document_id)
    assert service.store_run(doc, second) == run2
    assert count(service, CorrectionRow) == corrections
    assert version(service, document_id) == version_now

    # A reviewer settles the conflict on the new run: it leaves the list, the old trail stays.
    service.review(document_id, CONFLICT, version_now, "ann", value=4)
    assert service.document(document_id)["conflicts"] == []
    assert service.flat(document_id)["conflicts"] == []
    assert trail(service, run1) == before


def test_carry_follows_a_chain_of_versions_and_survives_a_failed_rerun(
    service: ReviewService, reviewed: tuple[SourceDocument, Extraction, int, int]
) -> None:
    doc, first, document_id, _run1 = reviewed
    second = reread(first, "rules-next", {CONFLICT: 4})
    run2 = service.store_run(doc, second)
    service.review(document_id, CONFLICT, version(service, document_id), "ann", accept=True)
    service.set_review_status(document_id, "reviewed", version(service, document_id))
    # A third version reads like the second: every review (carried or made on run 2) comes along.
    run3 = service.store_run(doc, reread(second, "rules-third", {}))
    view = service.document(document_id)
    assert view["run"]["id"] == run3
    assert view["carried"] == sorted([CORRECTED, ACCEPTED, AGREED, CONFLICT])
    assert view["conflicts"] == []
    assert view["review"]["status"] == "reviewed"  # everything carried: the review still stands
    sources = {item["key"]: item["carried_from"]["run"] for item in view["history"]}
    assert sources[CONFLICT] == run2 and sources[CORRECTED] == run2  # carried through run 2
    assert service.flat(document_id)["fields"][CORRECTED] == 821

    # A reader that then crashes leaves a failed run: it must not hide the reviewed one.
    with service.session() as session:
        row = repository.save_source(session, doc)
        failed = repository.save_failed_run(session, row, reader="llm", reader_version="llm-x", error="boom").id
    assert failed > run3
    view = service.document(document_id)
    assert view["status"] == "done" and view["run"]["id"] == run3
    runs = [(r["id"], r["status"], r["error"]) for r in view["runs"]]
    assert runs[:2] == [(failed, "failed", "boom"), (run3, "done", None)]
    assert service.flat(document_id)["fields"][CORRECTED] == 821
    _total, listed = service.list_documents()
    assert [(d["status"], d["run"]["id"]) for d in listed if d["id"] == document_id] == [("done", run3)]


def test_a_first_run_and_an_unreviewed_document_change_nothing(service: ReviewService) -> None:
    doc = load_bytes(PLANTED, "sample.html")
    first, _run1 = service.extract_and_store(doc, "rules")
    document_id = service.store_document(doc)
    assert version(service, document_id) == 0
    service.store_run(doc, reread(first, "rules-next", {CONFLICT: 4}))
    view = service.document(document_id)
    assert view["carried"] == [] and view["conflicts"] == []
    assert version(service, document_id) == 0  # no review work, nothing for a reviewer to reload
    assert count(service, CorrectionRow) == 0 and count(service, ReviewRow) == 1


def test_another_template_carries_nothing(
    service: ReviewService, reviewed: tuple[SourceDocument, Extraction, int, int]
) -> None:
    """A reader that finds another form is not reading the same table: nothing is carried, and each
    reviewed cell it does not read as the reviewer did is a conflict."""
    doc, first, document_id, _run1 = reviewed
    other = replace(first, template="2008", reader_version="rules-other",
                    fields={ACCEPTED: FieldValue(ACCEPTED, 35, raw="35")})  # fmt: skip
    service.store_run(doc, other)
    view = service.document(document_id)
    assert view["carried"] == []
    assert [c["key"] for c in view["conflicts"]] == sorted([CORRECTED, CONFLICT, AGREED])


def test_a_correction_being_committed_while_a_run_is_saved_is_carried(
    service: ReviewService, reviewed: tuple[SourceDocument, Extraction, int, int]
) -> None:
    """A reviewer's transaction is open on the old run when a new run is being stored: the save waits
    for it (the document's review row is locked before the old reviews are read) and carries it.
    Without that lock, PostgreSQL's save would read the reviews before the commit and leave it behind."""
    doc, first, document_id, run1 = reviewed
    second = reread(first, "rules-next", {})
    v = version(service, document_id)
    started = threading.Event()
    saved: dict[str, int] = {}

    def save() -> None:
        started.wait(10)
        saved["run"] = service.store_run(doc, second)

    thread = threading.Thread(target=save)
    thread.start()
    with service.session() as session:
        assert repository.bump_review(session, document_id, v)
        repository.add_correction(session, run1, CHANGED_UNREVIEWED, 7, "cat")
        started.set()
        time.sleep(1.0)  # the save is now waiting for this transaction
    thread.join(60)
    view = service.document(document_id)
    assert view["run"]["id"] == saved["run"]
    assert CHANGED_UNREVIEWED in view["carried"] and view["conflicts"] == []
    assert service.flat(document_id)["fields"][CHANGED_UNREVIEWED] == 7
    assert version(service, document_id) == v + 2  # the reviewer's change, then the carry


def test_conflict_reasons_group_as_one_cause_whoever_reviewed_what() -> None:
    """The document page groups flags by cause: every re-extraction conflict of a table is one group."""
    conflicts = [
        Conflict("t3.a", "correct", "ann", 3, 2, 4, 1, 2, 10),
        Conflict("t3.b", "accept", "王芳", 18.5, 18.5, None, 7, 9, 11),
    ]
    reasons = {c.key: flag_conflict(FieldValue(c.key, c.new_read), c).reasons for c in conflicts}
    assert all(value.startswith("re-extraction conflict") for reason in reasons.values() for value in reason)
    groups = group_flags(reasons)
    assert [(g.section, g.keys) for g in groups] == [("t3", ("t3.a", "t3.b"))]
