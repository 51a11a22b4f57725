"""Scans are OCR'd by the workers, not in the upload request: held raw, read by a worker, followed by the API.

The scan is two pages of a real report's tables drawn as images (the gold of evals/data/real, as in
tests/test_scan.py), so what the worker reads is checked against hand-checked values. OCR costs
about 3 s a page: each test that OCRs reads those two pages once.
"""

from __future__ import annotations

import io
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from extractor import pending
from extractor.api import ApiSettings, create_app
from extractor.api.worker import InProcessWorker
from extractor.ingest import needs_ocr
from extractor.review import ReviewService
from extractor.storage import repository
from tests.api_support import PASSWORD, SAMPLE, api_client, bearer, upload, wait_done, wait_file
from tests.services import require_service
from tests.test_workers import Workers, celery_app, drained, pg_url, queue, workers  # noqa: F401 - fixtures by name
from workers.bench import stop_workers

GOLD = Path(__file__).resolve().parent.parent / "evals" / "data" / "real" / "real-pingtan-2025.gold.json"
BROKEN_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
# pingtan-2025's table 3 total of new requests, printed on page 2 of the scan
TOTAL_KEY = "t3.new_received.total"


@pytest.fixture(scope="module")
def scan() -> bytes:
    """Two pages of pingtan-2025's tables as an image-only PDF at 200 dpi (no text layer)."""
    from evals.ocr_render import font_available, report_pages, scanned_pdf

    if not font_available():
        require_service("the Noto Sans CJK font is missing (apt install fonts-noto-cjk): scan pages cannot be drawn")
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    return bytes(scanned_pdf(report_pages(gold, dpi=200)))


@pytest.fixture(autouse=True)
def _patient_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_PAGE_SECONDS", "600")  # a loaded test machine is no reason to skip a page


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ReviewService]:
    svc = ReviewService(f"sqlite:///{tmp_path / 'scanq.db'}")
    yield svc
    svc.close()


@pytest.fixture
def token(service: ReviewService) -> str:
    return service.create_user("ann", "reviewer", PASSWORD)


def _gold_total() -> int:
    return int(json.loads(GOLD.read_text(encoding="utf-8"))["fields"][TOTAL_KEY])


def _wait_state(service: ReviewService, file_id: int, statuses: tuple[str, ...], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = pending.state(service, file_id)
        if state.status in statuses:
            return state
        time.sleep(0.05)
    raise AssertionError(f"file {file_id} not {statuses} within {timeout} s")


def test_the_predicate_tells_scans_from_text_without_ocr(scan: bytes) -> None:
    from evals.messy import generate

    started = time.perf_counter()
    assert needs_ocr(scan) and needs_ocr(BROKEN_PNG)
    assert not needs_ocr(generate("pdf", seed=3, count=1)[0].body)  # a PDF with a text layer is read in the request
    assert not needs_ocr(SAMPLE) and not needs_ocr(b"%PDF-1.4 not really a pdf")  # refused in the request, as before
    assert time.perf_counter() - started < 5


def test_a_500_page_scan_is_recognised_in_well_under_a_second(scan: bytes) -> None:
    import pypdfium2 as pdfium

    source, big = pdfium.PdfDocument(scan), pdfium.PdfDocument.new()
    for _ in range(250):
        big.import_pages(source)
    buffer = io.BytesIO()
    big.save(buffer)
    assert len(pdfium.PdfDocument(buffer.getvalue())) == 500
    started = time.perf_counter()
    assert needs_ocr(buffer.getvalue())
    assert time.perf_counter() - started < 1.0


def test_an_upload_of_a_scan_answers_at_once_and_holds_it_queued(service: ReviewService, token: str,
                                                                  scan: bytes) -> None:  # fmt: skip
    with api_client(service, workers="none") as client:
        started = time.perf_counter()
        answer = upload(client, token, ("scan.pdf", scan))
        seconds = time.perf_counter() - started
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["documents"] == [] and body["refused"] == [] and body["files"] == []
        [held] = body["pending"]
        assert held["name"] == "scan.pdf" and held["status"] == "queued" and not held["duplicate"]
        assert seconds < 3, f"the upload took {seconds:.1f} s: was the scan OCR'd in the request?"
        state = client.get(f"/api/files/{held['id']}", headers=bearer(token)).json()
        assert state["status"] == "queued" and state["pages_done"] == state["pages_total"] == 0
        assert state["documents"] == [] and state["size"] == len(scan)
        with service.session() as session:
            assert repository.file_data(session, held["id"]) == scan  # the raw bytes are kept for the worker
        # the same bytes again are the same held file
        again = upload(client, token, ("copy.pdf", scan)).json()["pending"]
        assert [(h["id"], h["duplicate"]) for h in again] == [(held["id"], True)]
        listed = client.get("/api/files", params={"status": "queued"}, headers=bearer(token)).json()
        assert listed["total"] == 1 and listed["files"][0]["id"] == held["id"]
        assert client.get("/api/files", params={"status": "done"}, headers=bearer(token)).json()["total"] == 0
        assert client.get(f"/api/files/{held['id']}").status_code == 401
        assert client.get("/api/files/999", headers=bearer(token)).status_code == 404
        assert client.get("/api/documents", headers=bearer(token)).json()["total"] == 0  # nothing read yet


def test_the_in_process_worker_reads_a_held_scan_and_a_broken_image_fails_alone(
    service: ReviewService, token: str, scan: bytes
) -> None:
    with api_client(service) as client:
        answer = upload(client, token, ("scan.pdf", scan), ("broken.png", BROKEN_PNG), ("s.html", SAMPLE))
        assert answer.status_code == 201, answer.text
        body = answer.json()
        [html] = body["documents"]  # a text file is read in the request, as before
        by_name = {h["name"]: h for h in body["pending"]}
        assert set(by_name) == {"scan.pdf", "broken.png"}

        broken = wait_file(client, token, by_name["broken.png"]["id"])
        assert broken["status"] == "failed" and broken["code"] == "corrupt"
        assert broken["error"] and "\n" not in broken["error"] and broken["documents"] == []
        with service.session() as session:  # nothing lost: the bytes stay for a look or a retry
            assert repository.file_data(session, broken["id"]) == BROKEN_PNG

        done = wait_file(client, token, by_name["scan.pdf"]["id"])
        assert done["status"] == "done", done
        assert done["pages_total"] == 2 and done["pages_done"] == 2 and done["error"] is None
        [document_id] = done["documents"]
        read = wait_done(client, token, document_id, timeout=60)
        assert read["status"] == "done" and read["kind"] == "pdf" and len(read["runs"]) == 1
        assert [p["number"] for p in read["pages"]] == [1, 2] and all(p["image"] for p in read["pages"])
        cell = read["result"]["cells"][TOTAL_KEY]
        assert cell["value"] == _gold_total()
        assert cell["box"]["page"] == 2 and cell["box"]["x1"] > cell["box"]["x0"]  # as printed on the scan
        assert wait_done(client, token, html["id"])["status"] == "done"

        # uploaded again, the scan is its stored document: nothing to hold, nothing to OCR
        again = upload(client, token, ("scan.pdf", scan)).json()
        assert again["pending"] == [] and [(d["id"], d["duplicate"]) for d in again["documents"]] == [
            (document_id, True)
        ]


def test_a_worker_stopped_mid_ocr_leaves_the_file_reading_and_the_next_start_finishes_it(
    service: ReviewService, scan: bytes
) -> None:
    [answer] = service.upload([("scan.pdf", scan)])
    assert answer.held is not None and answer.id is None
    file_id = answer.held.id
    assert pending.to_read(service) == [file_id]

    first = InProcessWorker(service)
    first.start()  # queues the held file on start, as a server coming back does
    _wait_state(service, file_id, ("reading",))
    first.stop(timeout=60)  # stops at the next page: the file is not half-stored
    stopped = pending.state(service, file_id)
    assert stopped.status == "reading" and stopped.documents == ()
    assert service.list_documents()[0] == 0
    assert pending.to_read(service) == [file_id]

    second = InProcessWorker(service)
    second.start()
    try:
        done = _wait_state(service, file_id, ("done", "failed"))
        assert done.status == "done" and done.pages_total == 2
        [document_id] = done.documents
        deadline = time.monotonic() + 60
        while service.unread_documents([document_id]):
            assert time.monotonic() < deadline, "the scan's document was not read after its OCR"
            time.sleep(0.1)
        assert service.document(document_id)["status"] == "done"
        assert pending.to_read(service) == []
    finally:
        second.stop()


def test_a_pdf_with_no_text_and_no_image_fails_on_its_file_row(service: ReviewService, token: str) -> None:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)
    buffer = io.BytesIO()
    document.save(buffer)
    with api_client(service) as client:
        answer = upload(client, token, ("blank.pdf", buffer.getvalue()))
        assert answer.status_code == 201, answer.text
        [held] = answer.json()["pending"]
        failed = wait_file(client, token, held["id"])
        assert failed["status"] == "failed" and failed["code"] == "no_text_layer"
        assert "no text layer and no page images" in failed["error"]
        # the worker is still there: a report uploaded next is read
        [doc] = upload(client, token, ("s.html", SAMPLE)).json()["documents"]
        assert wait_done(client, token, doc["id"])["status"] == "done"
        # uploading a failed file again queues it again (the user asking once more)
        [again] = upload(client, token, ("blank.pdf", buffer.getvalue())).json()["pending"]
        assert again["id"] == held["id"] and again["duplicate"] and again["status"] == "queued"
        assert wait_file(client, token, held["id"])["code"] == "no_text_layer"


# --------------------------------------------------------------------------- the Celery door


@pytest.mark.postgres
def test_celery_workers_ocr_a_held_scan_and_a_killed_worker_is_made_good(
    workers: Workers,  # noqa: F811
    celery_app: Any,  # noqa: F811
    pg_url: str,  # noqa: F811
    queue: str,  # noqa: F811
    scan: bytes,
) -> None:
    """`--workers celery`: the API holds the scan, a `gongkai worker` OCRs it (`gongkai.ingest_file`) and reads
    its document. A worker SIGKILLed mid-OCR leaves the file `reading`; its message goes to the next worker."""
    doomed = workers(count=1)  # GONGKAI_PAGE_SECONDS=600 comes with the environment
    svc = ReviewService(pg_url)
    token = svc.create_user("ann", "reviewer", PASSWORD)
    settings = ApiSettings(database_url=pg_url, workers="celery", queue=queue)
    try:
        with TestClient(create_app(settings, svc)) as client:
            answer = upload(client, token, ("broken.png", BROKEN_PNG), ("scan.pdf", scan))  # one worker: in order
            assert answer.status_code == 201, answer.text
            by_name = {h["name"]: h for h in answer.json()["pending"]}
            file_id = by_name["scan.pdf"]["id"]
            assert wait_file(client, token, by_name["broken.png"]["id"], timeout=60)["code"] == "corrupt"

            _wait_state(svc, file_id, ("reading",), timeout=60)
            stop_workers(doomed, signal.SIGKILL)  # a machine lost mid-OCR: main process and pool child
            assert pending.state(svc, file_id).status == "reading"
            workers(count=1)  # the message comes back (acks_late) to the new worker

            done = wait_file(client, token, file_id, timeout=180)
            assert done["status"] == "done" and done["pages_total"] == 2, done
            [document_id] = done["documents"]
            read = wait_done(client, token, document_id, timeout=60)
            assert read["status"] == "done" and read["run"]["reader"] == "rules"
            cell = read["result"]["cells"][TOTAL_KEY]
            assert cell["value"] == _gold_total() and cell["box"]["page"] == 2

            # a second delivery of a done file changes nothing: no second document, no second run
            from workers.sweep import enqueue_files

            assert enqueue_files([file_id], "rules", queue) == 1
            drained(celery_app, queue, timeout=60)
            assert pending.state(svc, file_id).documents == (document_id,)
            assert len(client.get(f"/api/documents/{document_id}", headers=bearer(token)).json()["runs"]) == 1
    finally:
        svc.close()


def test_the_sweep_finds_held_files_whose_messages_were_lost(service: ReviewService) -> None:
    """`queued` since before the cutoff, or `reading` with no page told since: re-queued; fresh ones and
    finished ones are not."""
    from datetime import UTC, datetime, timedelta

    from workers.app import app
    from workers.config import WorkerSettings
    from workers.sweep import Sweeper

    ids = [pending.hold(service, f"{n}.png", b"\x89PNG\r\n\x1a\n" + bytes([n]) * 64).id for n in range(4)]
    with service.session() as session:
        repository.set_file_status(session, ids[1], "reading")
        repository.set_file_status(session, ids[2], "done")
        repository.set_file_status(session, ids[3], "failed", code="corrupt", error="broken")
    sweeper = Sweeper(app, "unused", service.url, WorkerSettings(sweep_age=60))
    try:
        assert sweeper.stale_files() == []  # all of them were told about just now
        later = datetime.now(UTC) + timedelta(seconds=120)
        assert sweeper.stale_files(now=later) == ids[:2]
    finally:
        sweeper.stop()
