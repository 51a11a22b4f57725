"""The review queue, the batch upload's progress and the dashboard, through the app on a fresh SQLite file.

Nothing is mocked but one reader failure: documents are uploaded through `POST /api/documents`
and read by the in-process worker with the rules reader (the bundled sample, a copy with a
planted inconsistency, and real reports from the shared benchmark when it is beside the
checkout); one file named `crash…` makes the reader raise, so a failed document exists. Expected
figures are computed here from each document's cells as `GET /api/documents/{id}` returns them,
not copied from the pages under test.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from evals.ocr_render import png_bytes
from extractor import pending
from extractor.api import ApiSettings, create_app
from extractor.api.ui import queue as queue_module
from extractor.confidence import FLAG_BELOW
from extractor.ingest import SourceDocument
from extractor.model import Extraction
from extractor.review import ReviewService
from tests.api_support import CELL, PASSWORD, PLANTED, SAMPLE, bearer, login, wait_done
from tests.helpers import SHARED_REAL

REAL = ["real-changchun-xinqu-2025-x.txt", "real-gaoling-xzsp-2021-x.txt", "real-donggang-2020-x.txt"]
EVIL_NAME = "<script>alert(1)</script>.html"
ROW = re.compile(r'<tr data-id="(\d+)" data-status="(\w+)" data-review="(\w+)">(.*?)</tr>', re.S)


class CrashingService(ReviewService):
    """The real service, except that the reader raises on a file whose name starts with `crash`."""

    def extract_and_store(self, doc: SourceDocument, *args: Any, **kwargs: Any) -> tuple[Extraction, int]:
        if doc.name.startswith("crash"):
            raise RuntimeError("the reader crashed on purpose")
        return super().extract_and_store(doc, *args, **kwargs)


@pytest.fixture
def service(tmp_path: Any) -> Iterator[ReviewService]:
    svc = CrashingService(f"sqlite:///{tmp_path / 'ui.db'}")
    yield svc
    svc.close()


@pytest.fixture
def token(service: ReviewService) -> str:
    return service.create_user("ann", "reviewer", PASSWORD)


@pytest.fixture
def client(service: ReviewService, token: str) -> Iterator[TestClient]:
    settings = ApiSettings(database_url=service.url, workers="thread")
    with TestClient(create_app(settings, service), base_url="http://testserver") as c:
        yield c


def _files() -> list[tuple[str, bytes]]:
    files = [("sample.html", SAMPLE), ("planted.html", PLANTED), (EVIL_NAME, SAMPLE + b"<!-- another copy -->")]
    files.append(("crash.html", SAMPLE + b"<!-- the reader fails on this one -->"))
    if SHARED_REAL.exists():
        files += [(name, (SHARED_REAL / name).read_bytes()) for name in REAL]
    return files


@pytest.fixture
def stored(client: TestClient, token: str) -> dict[int, dict[str, Any]]:
    """Every uploaded document, read, as the JSON API returns it (id → body)."""
    answer = client.post("/api/documents", files=[("files", f) for f in _files()], headers=bearer(token))
    assert answer.status_code == 201, answer.text
    ids = [d["id"] for d in answer.json()["documents"]]
    return {i: wait_done(client, token, i) for i in ids}


def flagged_cells(body: dict[str, Any]) -> list[dict[str, Any]]:
    if body["status"] != "done":
        return []
    cells = body["result"]["cells"].values()
    return [c for c in cells if c["confidence"] < FLAG_BELOW or c["status"] == "missing"]


def weight(body: dict[str, Any]) -> float:
    return sum(max(FLAG_BELOW - float(c["confidence"]), 0.0) for c in flagged_cells(body))


def rows(html: str) -> list[dict[str, Any]]:
    """The queue table's rows: id, status, review, and the cells' texts."""
    out = []
    for doc_id, status, review, inner in ROW.findall(html):
        cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", inner, re.S)]
        out.append({"id": int(doc_id), "status": status, "review": review, "cells": cells, "html": inner})
    return out


def queue(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/ui/", params=params)
    assert answer.status_code == 200, answer.text
    return rows(answer.text)


def mark_reviewed(client: TestClient, csrf: str, document_id: int) -> None:
    version = client.get(f"/api/documents/{document_id}").json()["review"]["version"]
    answer = client.post(
        f"/api/documents/{document_id}/review", json={"status": "reviewed", "expected_version": version},
        headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


def correct(client: TestClient, csrf: str, document_id: int, version: int, key: str, value: int) -> None:
    answer = client.post(
        f"/api/documents/{document_id}/corrections", json={"key": key, "value": value, "expected_version": version},
        headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


# ----------------------------------------------------------------------------------- access


@pytest.mark.parametrize("path", ["/ui/", "/ui/upload", "/ui/dashboard", "/ui/upload/progress?ids=1"])
def test_anonymous_is_sent_to_login(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"
    assert client.get("/ui/dashboard.json").status_code == 401


# ------------------------------------------------------------------------------------ the queue


def test_queue_ranks_by_weight_of_open_flags_and_puts_reviewed_last(
    client: TestClient, stored: dict[int, dict[str, Any]]
) -> None:
    csrf = login(client)
    listed = queue(client)
    assert sorted(r["id"] for r in listed) == sorted(stored)
    expected = {i: weight(body) for i, body in stored.items()}
    shown = [float(r["cells"][7]) for r in listed]
    assert shown == sorted(shown, reverse=True)
    for r in listed:
        assert float(r["cells"][7]) == pytest.approx(expected[r["id"]], abs=0.051)
        flags = len(flagged_cells(stored[r["id"]]))
        assert r["cells"][6] == f"{flags} / {flags}"
    heaviest = max(expected, key=lambda i: expected[i])
    assert listed[0]["id"] == heaviest
    # The planted inconsistency breaks sums: more (and weaker) flags than the clean sample.
    by_name = {body["name"]: i for i, body in stored.items()}
    order = [r["id"] for r in listed]
    assert order.index(by_name["planted.html"]) < order.index(by_name["sample.html"])
    assert {r["status"] for r in listed if r["id"] == by_name["crash.html"]} == {"failed"}

    mark_reviewed(client, csrf, heaviest)
    after = queue(client)
    assert after[-1]["id"] == heaviest and after[-1]["review"] == "reviewed"
    assert [r["id"] for r in after[:-1]] == [i for i in order if i != heaviest]


def test_corrections_close_flags_and_lower_the_weight(client: TestClient, stored: dict[int, dict[str, Any]]) -> None:
    csrf = login(client)
    planted = next(i for i, body in stored.items() if body["name"] == "planted.html")
    before = next(r for r in queue(client) if r["id"] == planted)
    cell = stored[planted]["result"]["cells"][CELL]
    assert cell["confidence"] < FLAG_BELOW, "the planted cell should be flagged"
    version = stored[planted]["review"]["version"]
    correct(client, csrf, planted, version, CELL, 821)
    after = next(r for r in queue(client) if r["id"] == planted)
    flags = len(flagged_cells(stored[planted]))
    assert after["cells"][6] == f"{flags - 1} / {flags}"
    assert float(after["cells"][7]) == pytest.approx(
        float(before["cells"][7]) - (FLAG_BELOW - cell["confidence"]), abs=0.051
    )
    assert after["cells"][8] == "1" and after["cells"][9] == "0"


def test_each_filter_narrows_to_exactly_the_matching_documents(
    client: TestClient, stored: dict[int, dict[str, Any]]
) -> None:
    csrf = login(client)
    done = {i: b for i, b in stored.items() if b["status"] == "done"}
    reviewed = next(iter(done))
    mark_reviewed(client, csrf, reviewed)

    def ids(**params: Any) -> set[int]:
        return {r["id"] for r in queue(client, **params)}

    assert ids(status="failed") == {i for i, b in stored.items() if b["status"] == "failed"} != set()
    assert ids(status="done") == set(done)
    assert ids(status="queued") == set() and ids(status="processing") == set()
    assert ids(review="reviewed") == {reviewed}
    assert ids(review="unreviewed") == set(stored) - {reviewed}
    agencies = {b["run"]["agency"] for b in done.values() if b["run"]["agency"]}
    for agency in agencies:
        part = agency[1:4]
        assert ids(agency=part) == {i for i, b in done.items() if part in (b["run"]["agency"] or "")}
    for field in ("year", "template"):
        values = {b["run"][field] for b in done.values()}
        for value in values:
            assert ids(**{field: value}) == {i for i, b in done.items() if b["run"][field] == value}
    for reason in ("cell not found", "table says", "结转", "no such reason at all"):
        expected = {i for i, b in done.items() if any(reason in r for c in flagged_cells(b) for r in c["reasons"])}
        assert ids(reason=reason) == expected
    assert ids(reason="table says") and ids(reason="no such reason at all") == set()  # a sum that fails
    # Filters combine; a blank field is no filter.
    assert ids(status="done", review="reviewed", agency="", year="") == {reviewed}
    assert client.get("/ui/", params={"year": "20x9"}).status_code == 422


def test_paging_covers_every_document_once_in_order(
    client: TestClient, stored: dict[int, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    login(client)
    whole = [r["id"] for r in queue(client)]
    monkeypatch.setattr(queue_module, "PAGE", 2)
    pages, offset = [], 0
    while True:
        answer = client.get("/ui/", params={"offset": offset})
        page = [r["id"] for r in rows(answer.text)]
        assert len(page) <= 2
        pages += page
        if 'rel="next"' not in answer.text:
            break
        assert f"offset={offset + 2}" in answer.text
        offset += 2
    assert pages == whole and len(whole) == len(stored)
    assert 'rel="prev"' in client.get("/ui/", params={"offset": 2}).text
    filtered = client.get("/ui/", params={"status": "done"}).text  # the pager keeps the filters
    assert re.search(r'<a rel="next" href="/ui/\?status=done&amp;offset=2">', filtered)


def test_names_are_escaped(client: TestClient, stored: dict[int, dict[str, Any]]) -> None:
    login(client)
    html = client.get("/ui/").text
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.html" in html
    assert "script-src 'self'" in client.get("/ui/").headers["content-security-policy"]


# ----------------------------------------------------------------------------------- upload


def test_upload_page_and_progress_counts(client: TestClient, stored: dict[int, dict[str, Any]]) -> None:
    csrf = login(client)
    page = client.get("/ui/upload")
    assert page.status_code == 200
    assert 'type="file"' in page.text and "multiple" in page.text and "/ui/static/upload.js" in page.text
    assert "<progress" in page.text and 'data-chunk="20"' in page.text
    assert client.get("/ui/static/upload.js").status_code == 200

    ids = sorted(stored)
    statuses = Counter(b["status"] for b in stored.values())
    got = client.get("/ui/upload/progress", params={"ids": ",".join(map(str, ids)) + ",999999"}).json()
    assert got["total"] == len(ids) and got["unknown"] == [999999] and got["finished"] is True
    assert (got["queued"], got["processing"], got["done"], got["failed"]) == (
        0,
        0,
        statuses["done"],
        statuses["failed"],
    )
    [failure] = got["failures"]
    assert stored[failure["id"]]["name"] == "crash.html" and "crashed on purpose" in failure["error"]
    assert got["statuses"][str(failure["id"])] == "failed"

    posted = client.post("/ui/upload/progress", json={"ids": ids}, headers={"X-CSRF-Token": csrf})
    assert posted.status_code == 200 and posted.json()["done"] == statuses["done"]
    assert client.post("/ui/upload/progress", json={"ids": ids}).status_code == 403  # no CSRF token
    assert client.get("/ui/upload/progress", params={"ids": "1,abc"}).status_code == 422
    assert client.post("/ui/upload/progress", json={"ids": [0]}, headers={"X-CSRF-Token": csrf}).status_code == 422


def test_progress_counts_queued_documents(service: ReviewService, token: str) -> None:
    """With no worker, an upload stays queued: the counts say so and the batch is not finished."""
    settings = ApiSettings(database_url=service.url, workers="none")
    with TestClient(create_app(settings, service), base_url="http://testserver") as client:
        answer = client.post("/api/documents", files=[("files", ("s.html", SAMPLE))], headers=bearer(token))
        [doc] = answer.json()["documents"]
        login(client)
        got = client.get("/ui/upload/progress", params={"ids": str(doc["id"])}).json()
        assert (got["queued"], got["done"], got["finished"]) == (1, 0, False)
        assert [r["status"] for r in queue(client)] == ["queued"]


# -------------------------------------------------------------------------------- dashboard


def test_dashboard_counts_and_corrections_per_field(
    client: TestClient, token: str, stored: dict[int, dict[str, Any]]
) -> None:
    csrf = login(client)
    planted = next(i for i, body in stored.items() if body["name"] == "planted.html")
    version = stored[planted]["review"]["version"]
    correct(client, csrf, planted, version, CELL, 821)
    mark_reviewed(client, csrf, planted)

    page = client.get("/ui/dashboard")
    assert page.status_code == 200
    html = page.text
    statuses = Counter(b["status"] for b in stored.values())
    assert f'data-status="done">{statuses["done"]}<' in html and f'data-status="failed">{statuses["failed"]}<' in html
    assert 'data-review="reviewed">1<' in html and f'data-review="unreviewed">{len(stored) - 1}<' in html
    flags = sum(len(flagged_cells(b)) for b in stored.values())
    assert f'id="flags-total">{flags}<' in html
    row = re.search(rf'<tr data-key="{re.escape(CELL)}">(.*?)</tr>', html, re.S)
    assert row is not None
    assert '<td class="num corrections">1</td>' in row.group(1) and "100.0%" in row.group(1)
    assert "<svg" in html and 'id="chart-causes"' in html and "style=" not in html

    data = client.get("/ui/dashboard.json").json()
    assert data["documents"]["done"] == statuses["done"] and data["flags_total"] == flags
    sections = Counter(c["key"].split(".")[0] for b in stored.values() for c in flagged_cells(b))
    assert {s["section"]: s["flags"] for s in data["flags_by_section"]} == dict(sections)
    assert sum(c["flags"] for c in data["flags_by_cause"]) >= flags  # a cell with two causes counts in both
    [fix] = [c for c in data["corrections"] if c["key"] == CELL]
    assert fix == {"key": CELL, "corrections": 1, "accepts": 0, "reviewed_documents": 1, "reviewed_with_field": 1,
                   "error_rate": 1.0}  # fmt: skip
    assert client.get("/ui/dashboard.json", headers=bearer(token)).json() == data  # scripts use their token


# ------------------------------------------------------------------------------ in a browser


@pytest.fixture
def live_server(service: ReviewService, token: str) -> Iterator[str]:
    """The app (in-process worker, the crashing reader) served by uvicorn on a free port, in a thread."""
    import socket
    import threading

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    app = create_app(ApiSettings(database_url=service.url, workers="thread"), service)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_batch_upload_in_a_browser_shows_progress_refusals_and_failures(live_server: str) -> None:
    """45 files through /ui/upload: sent 20 at a time, every one accounted for, names shown as text."""
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _playwright

    sync_playwright = _playwright()
    files = [{"name": f"report-{i}.html", "mimeType": "text/html", "buffer": SAMPLE + f"<!-- {i} -->".encode()}
             for i in range(42)]  # fmt: skip
    files.append({"name": "crash.html", "mimeType": "text/html", "buffer": SAMPLE + b"<!-- crash -->"})
    files.append({"name": "<img src=x onerror=alert(1)>.bin", "mimeType": "application/octet-stream",
                  "buffer": b"\x00\x01" * 200})  # fmt: skip
    files.append({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"a note, not a report"})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            # JS errors and CSP violations; failed loads by URL (but the browser's own favicon.ico probe)
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None,
            )
            page.on(
                "response",
                lambda r: (
                    problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
            posts: list[str] = []
            page.on(
                "request",
                lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/api/documents") else None,
            )
            csrf = page.request.get(f"{live_server}/login").json()["csrf_token"]
            login = page.request.post(
                f"{live_server}/login", form={"name": "ann", "password": PASSWORD, "csrf_token": csrf}
            )
            assert login.ok, login.text()
            page.goto(f"{live_server}/ui/upload")
            page.set_input_files("#files", files=files)
            page.click("#upload-button")
            message = page.locator("#upload-message")
            deadline = time.monotonic() + 90
            while not (message.text_content() or "").startswith("All read"):  # CSP: no wait_for_function
                assert time.monotonic() < deadline, message.text_content()
                time.sleep(0.2)
            assert len(posts) == 3  # 45 files, 20 per request
            counts = {
                k: page.text_content(f"#count-{k}") for k in ("queued", "processing", "done", "failed", "refused")
            }
            assert counts == {"queued": "0", "processing": "0", "done": "42", "failed": "1", "refused": "2"}
            assert page.text_content("#sent-text") == "45 / 45" and page.text_content("#read-text") == "43 / 43"
            read = page.locator("#read-bar")
            assert read.get_attribute("value") == read.get_attribute("max") == "43"
            refused = page.locator("#refused li strong").all_text_contents()
            assert sorted(refused) == ["<img src=x onerror=alert(1)>.bin", "notes.txt"]
            assert page.locator("#refused img").count() == 0  # a name is text, never markup
            links = page.locator("#documents a")
            assert links.count() == 43
            assert all(
                re.fullmatch(r"/ui/documents/\d+", h or "")
                for h in links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
            )
            failed = page.locator("#documents li.failed .state").all_text_contents()
            assert len(failed) == 1 and "crashed on purpose" in failed[0]
            assert not problems, problems
        finally:
            browser.close()


def test_scans_held_for_ocr_are_listed_above_the_queue_until_read(service: ReviewService, token: str) -> None:
    broken = png_bytes(Image.new("L", (120, 90), 255))[:60] + b"\x00" * 40
    settings = ApiSettings(database_url=service.url, workers="none")  # nobody reads: the scan waits
    with TestClient(create_app(settings, service), base_url="http://testserver") as client:
        answer = client.post("/api/documents", files=[("files", ("<b>scan</b>.png", broken))], headers=bearer(token))
        assert answer.status_code == 201, answer.text
        held = answer.json()["pending"][0]["id"]
        login(client)
        html = client.get("/ui/").text
        assert "Scans waiting for OCR (1)" in html and f'data-file="{held}"' in html
        assert "&lt;b&gt;scan&lt;/b&gt;.png" in html and "<b>scan</b>" not in html
        pending.read_file(service, held)  # what a worker does: the image is corrupt
        html = client.get("/ui/").text
        assert 'class="held-failed"' in html and "failed: cannot read the image" in html
