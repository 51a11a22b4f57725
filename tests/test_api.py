"""The HTTP API through FastAPI's TestClient on a fresh SQLite file: auth, CSRF, uploads, review.

Nothing is mocked: the in-process worker reads uploads with the rules reader, the corrections go
to the database. `test_serve_*` starts `gongkai serve` as a real process on a free port.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from extractor.review import ReviewService
from extractor.uploads import clean_name
from tests.api_support import (
    CELL,
    PASSWORD,
    PLANTED,
    SAMPLE,
    api_client,
    bearer,
    login,
    running_serve,
    upload,
    wait_done,
    wait_file,
)

ROOT = Path(__file__).resolve().parents[1]


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------- auth and CSRF

WRITES = [
    ("post", "/api/documents"),
    ("post", "/api/documents/1/corrections"),
    ("post", "/api/documents/1/review"),
    ("post", "/logout"),
]
READS = ["/api/documents", "/api/documents/1", "/api/documents/1/flat", "/api/me", "/openapi.json", "/docs"]


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_every_write_refuses_anonymous(client: TestClient, method: str, path: str) -> None:
    answer = client.request(method, path, files=[("files", ("a.txt", b"x"))])
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"


@pytest.mark.parametrize("path", READS)
def test_anonymous_may_only_log_in(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/login").status_code == 200


def test_bad_bearer_token_is_401(client: TestClient) -> None:
    for header in ("Bearer nope", "Basic YW5uOnB3", "Bearer", "Bearer " + "x" * 5000):
        assert client.get("/api/documents", headers={"Authorization": header}).status_code == 401


def test_login_needs_right_password_and_csrf(client: TestClient) -> None:
    csrf = client.get("/login").json()["csrf_token"]
    assert client.post("/login", data={"name": "ann", "password": "wrong", "csrf_token": csrf}).status_code == 401
    assert client.post("/login", data={"name": "bob", "password": PASSWORD, "csrf_token": csrf}).status_code == 401
    assert client.post("/login", data={"name": "ann", "password": PASSWORD}).status_code == 403  # no token
    assert client.get("/api/documents").status_code == 401
    login(client)
    assert client.get("/api/documents").status_code == 200


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_cookie_writes_without_csrf_token_are_403(client: TestClient, method: str, path: str) -> None:
    csrf = login(client)
    answer = client.request(method, path, files=[("files", ("a.txt", b"x"))])  # a cross-site form post
    assert answer.status_code == 403, answer.text
    wrong = client.request(method, path, files=[("files", ("a.txt", b"x"))], headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    other_site = client.request(method, path, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"})
    assert other_site.status_code == 403
    assert client.get("/api/me").json()["name"] == "ann"  # still logged in: nothing was done


def test_cookie_write_with_csrf_token_works(client: TestClient) -> None:
    csrf = login(client)
    header = client.post("/api/documents", files=[("files", ("s.html", SAMPLE))], headers={"X-CSRF-Token": csrf})
    assert header.status_code == 201, header.text
    form = client.post("/api/documents", files=[("files", ("s.html", SAMPLE))], data={"csrf_token": csrf})
    assert form.status_code == 201 and form.json()["documents"][0]["duplicate"]
    assert client.post("/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get("/api/documents").status_code == 401


def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    csrf = client.get("/login").json()["csrf_token"]
    answer = client.post("/login", data={"name": "ann", "password": PASSWORD, "csrf_token": csrf})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


# ------------------------------------------------------------------------------------------ uploads


def test_upload_reads_in_process_and_same_file_twice_is_one_document(client: TestClient, token: str) -> None:
    first = upload(client, token, ("sample.html", SAMPLE))
    assert first.status_code == 201, first.text
    [doc] = first.json()["documents"]
    again = upload(client, token, ("renamed.html", SAMPLE), ("copy.html", SAMPLE))
    assert [d["id"] for d in again.json()["documents"]] == [doc["id"], doc["id"]]
    assert all(d["duplicate"] for d in again.json()["documents"])
    body = wait_done(client, token, doc["id"])
    assert body["status"] == "done"
    cell = body["result"]["cells"][CELL]
    assert cell["value"] == 821 and cell["status"] == "read" and cell["span"] is not None
    assert {"confidence", "reasons", "source", "raw"} <= set(cell)
    start, end = cell["span"]
    assert body["text"][start:end] == "821"
    listing = client.get("/api/documents", headers=bearer(token)).json()
    assert listing["total"] == 1


def test_upload_over_the_limit_is_413(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("GONGKAI_MAX_FILE_MB", "0.05")  # 52 KB
    svc = ReviewService(db_url)
    token = svc.create_user("ann", "reviewer", PASSWORD)
    try:
        with api_client(svc, "none") as client:
            answer = upload(client, token, ("big.txt", "年度报告\n".encode() * 5000))
            assert answer.status_code == 413
            assert "GONGKAI_MAX_FILE_MB" in answer.json()["reason"]
            # A zip bomb: 20 MB of zeros in a few KB; refused from the declared size, nothing inflated.
            bomb = _zip({"bomb.txt": b"0" * 20_000_000})
            assert len(bomb) < 30_000
            refused = upload(client, token, ("bomb.zip", bomb))
            assert refused.status_code == 413 and refused.json()["code"] == "too_large"
            many = _zip({f"r{i}.txt": b"x" for i in range(1001)}, zipfile.ZIP_STORED)
            monkeypatch.setenv("GONGKAI_MAX_FILE_MB", "1")
        svc2 = ReviewService(db_url)
        with api_client(svc2, "none") as client:
            assert upload(client, token, ("many.zip", many)).status_code == 413
        svc2.close()
    finally:
        svc.close()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("program.bin", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8),
        ("book.xlsx", _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})),
    ],
)
def test_upload_of_a_wrong_type_is_415(client: TestClient, token: str, name: str, data: bytes) -> None:
    answer = upload(client, token, (name, data))
    assert answer.status_code == 415, answer.text
    assert answer.json()["error"] == "upload refused"


def test_upload_of_a_broken_image_is_held_then_fails_as_corrupt(client: TestClient, token: str) -> None:
    # images are read by OCR in the worker (extractor/pending.py): a PNG signature over garbage is a broken
    # file, not a wrong type; the upload answers at once and the file ends failed with the reason
    answer = upload(client, token, ("image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8))
    assert answer.status_code == 201, answer.text
    [held] = answer.json()["pending"]
    failed = wait_file(client, token, held["id"])
    assert failed["status"] == "failed" and failed["code"] == "corrupt" and "\n" not in failed["error"]


@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "..\\x.txt"])
def test_zip_with_escaping_member_is_refused(client: TestClient, token: str, member: str) -> None:
    answer = upload(client, token, ("batch.zip", _zip({"ok.html": SAMPLE, member: SAMPLE})))
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "unsafe_zip"
    assert client.get("/api/documents", headers=bearer(token)).json()["total"] == 0  # nothing stored


def test_a_word_file_is_uploaded_as_one_document(client: TestClient, token: str) -> None:
    from evals.word_bench import html_docx

    answer = upload(client, token, ("report.docx", html_docx(SAMPLE.decode("utf-8"))))
    assert answer.status_code == 201, answer.text
    assert [d["name"] for d in answer.json()["documents"]] == ["report.docx"]


def test_zip_of_reports_is_one_document_each(client: TestClient, token: str) -> None:
    answer = upload(client, token, ("batch.zip", _zip({"a/one.html": SAMPLE, "two.html": PLANTED, "dir/": b""})))
    assert answer.status_code == 201, answer.text
    names = [d["name"] for d in answer.json()["documents"]]
    assert names == ["batch.zip/a/one.html", "batch.zip/two.html"]


def test_partly_readable_batch_stores_the_readable_and_lists_the_refused(client: TestClient, token: str) -> None:
    answer = upload(client, token, ("s.html", SAMPLE), ("empty.txt", b""), ("x.png", b"\x89PNG\r\n\x1a\n\x00\x00"))
    assert answer.status_code == 201
    assert [r["code"] for r in answer.json()["refused"]] == ["empty"]
    [held] = answer.json()["pending"]  # an image is OCR'd by the worker: a PNG cut off after its signature fails there
    assert wait_file(client, token, held["id"])["code"] == "corrupt"


def test_report_text_with_script_comes_back_as_escaped_json(client: TestClient, token: str) -> None:
    hostile = SAMPLE + b"<p>&lt;script&gt;alert(1)&lt;/script&gt;</p><script>alert(2)</script>"
    name = "<img src=x onerror=alert(1)>.html"
    [doc] = upload(client, token, (name, hostile)).json()["documents"]
    wait_done(client, token, doc["id"])
    answer = client.get(f"/api/documents/{doc['id']}", headers=bearer(token))
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert b"<script>" not in answer.content and b"<img" not in answer.content  # \u003c in the bytes
    body = answer.json()
    assert "<script>alert(1)</script>" in body["text"] and body["name"] == name  # the same string, as data


# ------------------------------------------------------------------------------------------- review


def _stored(client: TestClient, token: str, data: bytes = PLANTED) -> int:
    [doc] = upload(client, token, ("planted.html", data)).json()["documents"]
    assert wait_done(client, token, doc["id"])["status"] == "done"
    return int(doc["id"])


def test_correction_answers_with_the_rechecked_sums(client: TestClient, token: str) -> None:
    document_id = _stored(client, token)
    flat = client.get(f"/api/documents/{document_id}/flat", headers=bearer(token)).json()
    assert flat["version"] == 0 and flat["fields"][CELL] == 822 and CELL in flat["flags"]
    answer = client.post(f"/api/documents/{document_id}/corrections", headers=bearer(token),
                         json={"key": CELL, "value": 821, "expected_version": 0})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == 1 and body["value"] == 821 and body["action"] == "correct"
    holding = {s["rule"] for s in body["sums"]["holding"]}
    assert any("new_received" in rule for rule in holding), holding
    assert not any("new_received" in s["rule"] for s in body["sums"]["broken"])
    flat = client.get(f"/api/documents/{document_id}/flat", headers=bearer(token)).json()
    assert flat["version"] == 1 and flat["fields"][CELL] == 821
    history = client.get(f"/api/documents/{document_id}", headers=bearer(token)).json()["history"]
    assert [(h["key"], h["action"], h["from"], h["to"], h["reviewer"]) for h in history] == [
        (CELL, "correct", 822, 821, "ann")
    ]


def test_accept_records_the_value_as_confirmed(client: TestClient, token: str) -> None:
    document_id = _stored(client, token, SAMPLE)
    answer = client.post(f"/api/documents/{document_id}/corrections", headers=bearer(token),
                         json={"key": CELL, "accept": True, "expected_version": 0})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["action"] == "accept" and answer.json()["value"] == 821
    history = client.get(f"/api/documents/{document_id}", headers=bearer(token)).json()["history"]
    assert [(h["action"], h["from"], h["to"]) for h in history] == [("accept", 821, 821)]


def test_concurrent_corrections_of_one_cell_one_wins_the_other_gets_409(service: ReviewService, token: str) -> None:
    bob = service.create_user("bob", "reviewer", PASSWORD)
    with api_client(service) as first, api_client(service, "none") as second:
        document_id = _stored(first, token)
        barrier = threading.Barrier(2)
        answers: dict[str, httpx.Response] = {}

        def send(name: str, client: TestClient, user_token: str, value: int) -> None:
            barrier.wait()
            answers[name] = client.post(f"/api/documents/{document_id}/corrections", headers=bearer(user_token),
                                        json={"key": CELL, "value": value, "expected_version": 0})  # fmt: skip

        threads = [threading.Thread(target=send, args=("ann", first, token, 821)),
                   threading.Thread(target=send, args=("bob", second, bob, 820))]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(a.status_code for a in answers.values())
        assert codes == [200, 409], {k: a.text for k, a in answers.items()}
        winner = next(name for name, a in answers.items() if a.status_code == 200)
        loser = answers["bob" if winner == "ann" else "ann"].json()
        won_value = 821 if winner == "ann" else 820
        assert loser["error"] == "conflict"
        assert loser["current_value"] == won_value and loser["current_version"] == 1 and loser["key"] == CELL
        history = first.get(f"/api/documents/{document_id}", headers=bearer(token)).json()["history"]
        assert [(h["reviewer"], h["from"], h["to"]) for h in history] == [(winner, 822, won_value)]
        # The loser, having seen version 1, can now make their change on purpose.
        retry = second.post(f"/api/documents/{document_id}/corrections", headers=bearer(token),
                            json={"key": CELL, "value": 821, "expected_version": 1})  # fmt: skip
        assert retry.status_code == 200 and retry.json()["version"] == 2


def test_flat_of_a_document_not_read_yet_is_409(service: ReviewService, token: str) -> None:
    with api_client(service, "none") as client:
        [doc] = upload(client, token, ("s.html", SAMPLE)).json()["documents"]
        assert client.get(f"/api/documents/{doc['id']}", headers=bearer(token)).json()["status"] == "queued"
        answer = client.get(f"/api/documents/{doc['id']}/flat", headers=bearer(token))
        assert answer.status_code == 409 and answer.json()["error"] == "not ready"
        listing = client.get("/api/documents?status=queued", headers=bearer(token)).json()
        assert [d["id"] for d in listing["documents"]] == [doc["id"]]


def test_listing_filters_and_pages(client: TestClient, token: str) -> None:
    a = _stored(client, token, SAMPLE)
    b = _stored(client, token, PLANTED)
    get = lambda query: client.get(f"/api/documents?{query}", headers=bearer(token)).json()  # noqa: E731
    assert [d["id"] for d in get("")["documents"]] == [b, a]
    page = get("limit=1&offset=1")
    assert page["total"] == 2 and [d["id"] for d in page["documents"]] == [a]
    assert get("year=2019&template=2019&reader=rules&status=done&review=unreviewed")["total"] == 2
    assert get("agency=上海市")["total"] == 2 and get("agency=%25")["total"] == 0
    assert get("year=2020")["total"] == 0 and get("status=failed")["total"] == 0


# ------------------------------------------------------------------------------------ odd inputs

ODD_CORRECTIONS: list[tuple[Any, int]] = [
    ('{"key": ', 422),  # broken JSON
    ("[]", 422),
    ("NaN", 422),
    ('{"key": "t3.new_received.natural", "value": NaN, "expected_version": 0}', 422),
    ('{"key": "t3.new_received.natural", "value": Infinity, "expected_version": 0}', 422),
    ({"key": CELL, "value": "821", "expected_version": 0}, 422),
    ({"key": CELL, "value": True, "expected_version": 0}, 422),
    ({"key": CELL, "value": 10**20, "expected_version": 0}, 422),
    ({"key": CELL, "value": 1e300, "expected_version": 0}, 422),
    ({"key": CELL, "value": 10**400, "expected_version": 0}, 422),
    ({"key": CELL, "value": 1, "expected_version": "0"}, 422),
    ({"key": CELL, "value": 1, "expected_version": -1}, 422),
    ({"key": CELL, "value": 1, "expected_version": 10**30}, 422),
    ({"key": CELL, "value": 1}, 422),
    ({"key": CELL, "expected_version": 0}, 422),
    ({"key": CELL, "value": 1, "accept": True, "expected_version": 0}, 422),
    ({"key": CELL, "value": 1, "expected_version": 0, "extra": 1}, 422),
    ({"key": "no.such.cell", "value": 1, "expected_version": 0}, 422),
    ({"key": "", "value": 1, "expected_version": 0}, 422),
    ({"key": "k" * 10_000, "value": 1, "expected_version": 0}, 422),
    ({"key": ["a"], "value": 1, "expected_version": 0}, 422),
    ({"key": CELL, "value": 1, "expected_version": 7}, 409),
    ({"key": CELL, "value": None, "expected_version": 0}, 200),  # clearing a cell is a correction
]


def test_odd_inputs_get_a_4xx_json_error_never_a_500(client: TestClient, token: str) -> None:
    document_id = _stored(client, token, SAMPLE)
    url = f"/api/documents/{document_id}/corrections"
    for body, status in ODD_CORRECTIONS:
        content = body if isinstance(body, str) else json.dumps(body)
        answer = client.post(url, content=content, headers={**bearer(token), "Content-Type": "application/json"})
        assert answer.status_code == status, (body, answer.text)
        if status != 200:
            assert set(answer.json()) >= {"error", "reason"}, answer.text
    for path, status in [
        ("/api/documents/999999", 404), ("/api/documents/999999/flat", 404), ("/api/documents/0", 422),
        ("/api/documents/-1", 422), (f"/api/documents/{10**30}", 422), ("/api/documents/abc", 422),
        ("/api/documents?limit=0", 422), ("/api/documents?limit=100000", 422), ("/api/documents?year=abc", 422),
        ("/api/documents?status=bogus", 422), ("/api/documents?offset=-5", 422), ("/api/nothing", 404),
    ]:  # fmt: skip
        answer = client.get(path, headers=bearer(token))
        assert answer.status_code == status, (path, answer.text)
        assert set(answer.json()) >= {"error", "reason"}
    assert client.post("/api/documents/999999/corrections", headers=bearer(token),
                       json={"key": CELL, "value": 1, "expected_version": 0}).status_code == 404  # fmt: skip
    assert client.post("/api/documents", headers=bearer(token)).status_code == 422  # no files
    assert client.post("/api/documents", headers=bearer(token), content=b"junk",
                       ).status_code == 422  # fmt: skip
    assert client.delete("/api/documents", headers=bearer(token)).status_code == 405
    assert client.post("/login", data={"name": "n" * 500, "password": "x"}).status_code in (403, 422)


def test_openapi_and_docs_for_logged_in_callers(client: TestClient, token: str) -> None:
    schema = client.get("/openapi.json", headers=bearer(token)).json()
    assert {"/api/documents", "/api/documents/{document_id}/corrections", "/healthz"} <= set(schema["paths"])
    assert "swagger" in client.get("/docs", headers=bearer(token)).text.lower()


# ------------------------------------------------------------------------------------ gongkai serve


def test_serve_reads_an_upload_with_its_in_process_worker(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    gongkai = [str(Path(sys.executable).parent / "gongkai")]
    env = {**os.environ, "GONGKAI_DATABASE_URL": db}
    created = subprocess.run([*gongkai, "user", "create", "ann", "--role", "admin", "--password", PASSWORD],
                             capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    with running_serve(db, tmp_path / "serve.log") as base:
        headers = bearer(token)
        answer = httpx.post(f"{base}/api/documents", files=[("files", ("s.html", SAMPLE))], headers=headers)
        assert answer.status_code == 201, answer.text
        document_id = answer.json()["documents"][0]["id"]
        deadline = time.monotonic() + 60
        while (status := httpx.get(f"{base}/api/documents/{document_id}", headers=headers).json()["status"]) in (
            "queued", "processing",
        ):  # fmt: skip
            assert time.monotonic() < deadline, "the in-process worker did not read the upload"
            time.sleep(0.1)
        assert status == "done"
        assert httpx.get(f"{base}/api/documents/{document_id}/flat", headers=headers).json()["fields"][CELL] == 821


def test_mark_reviewed_raises_the_version_and_filters(client: TestClient, token: str) -> None:
    document_id = _stored(client, token, SAMPLE)
    url = f"/api/documents/{document_id}/review"
    answer = client.post(url, headers=bearer(token), json={"status": "reviewed", "expected_version": 0})
    assert answer.status_code == 200 and answer.json()["version"] == 1
    stale = client.post(url, headers=bearer(token), json={"status": "unreviewed", "expected_version": 0})
    assert stale.status_code == 409 and stale.json()["current_version"] == 1
    assert client.post(url, headers=bearer(token), json={"status": "done", "expected_version": 1}).status_code == 422
    listing = client.get("/api/documents?review=reviewed", headers=bearer(token)).json()
    assert [d["id"] for d in listing["documents"]] == [document_id]
    assert client.post(url, json={"status": "reviewed", "expected_version": 1}).status_code == 401


def test_control_characters_in_names_are_dropped(client: TestClient, token: str) -> None:
    assert clean_name("bad\x00na\x1bme.html") == "badname.html" and clean_name(None) == "upload"
    answer = upload(client, token, ("batch.zip", _zip({"a\x1bb\x07.html": SAMPLE})))
    assert answer.status_code == 201 and answer.json()["documents"][0]["name"] == "batch.zip/ab.html"


def test_exports_hold_the_corrected_value_and_refuse_anonymous(client: TestClient, token: str) -> None:
    document_id = _stored(client, token)
    answer = client.post(f"/api/documents/{document_id}/corrections", headers=bearer(token),
                         json={"key": CELL, "value": 821, "expected_version": 0})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert client.get("/api/export.csv").status_code == 401
    wide = client.get("/api/export.csv", headers=bearer(token))
    assert wide.status_code == 200 and wide.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(wide.content.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0][CELL] == "821"
    long = client.get("/api/export.csv", params={"kind": "long"}, headers=bearer(token)).content.decode("utf-8-sig")
    assert any(CELL in line and "corrected" in line and "ann" in line for line in long.splitlines())
    data = client.get("/api/export.json", headers=bearer(token)).json()
    assert data[0]["fields"][CELL] == 821
    xlsx = client.get("/api/export.xlsx", headers=bearer(token))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get("/api/export.json", params={"reviewed_only": True}, headers=bearer(token)).json() == []


def test_an_upload_says_which_page_it_has_read(client: TestClient, token: str) -> None:
    from evals.messy import generate

    report = generate("pdf", seed=3, count=1)[0]
    upload_id = "0f8e2a4c-upload-test"
    answer = client.post(
        "/api/documents",
        files=[("files", ("report.pdf", report.body))],
        headers={**bearer(token), "X-Upload-Id": upload_id},
    )
    assert answer.status_code == 201, answer.text
    progress = client.get(f"/api/uploads/{upload_id}/progress", headers=bearer(token))
    assert progress.status_code == 200, progress.text
    told = progress.json()
    assert told["file"] == "report.pdf" and told["pages"] >= 2 and told["page"] == told["pages"]
    nothing = client.get("/api/uploads/not-an-upload-yet/progress", headers=bearer(token))  # no page read yet
    assert nothing.status_code == 200 and nothing.json() == {"file": None, "page": 0, "pages": 0}
    assert client.get("/api/uploads/bad!id/progress", headers=bearer(token)).status_code in (404, 422)
    assert client.get(f"/api/uploads/{upload_id}/progress").status_code == 401
