"""Who may do what: anonymous callers nothing but log in, reviewers review, admins also make
accounts and re-extract. Every route of the app is walked, so a route added later without a
login check fails here. Through FastAPI's TestClient on a fresh SQLite file; nothing is mocked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from extractor.review import ReviewService
from extractor.storage.models import RunRow
from tests.api_support import CELL, PASSWORD, PLANTED, api_client, bearer, login, wait_done

# What an anonymous caller may reach: the health check, the login (form and page) and the redirect home.
PUBLIC = {("GET", "/healthz"), ("GET", "/login"), ("POST", "/login"), ("GET", "/ui/login"), ("POST", "/ui/login"),
          ("GET", "/")}  # fmt: skip
BODY = {"ids": [1]}  # what POST /ui/upload/progress reads; the other writes refuse before reading a body
ADMIN_ONLY = [("POST", "/api/documents/1/extract", {"reader": "rules"}),
              ("POST", "/api/users", {"name": "eve", "role": "admin", "password": PASSWORD}),
              ("GET", "/api/users", None)]  # fmt: skip


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route, path parameters filled with 1."""
    found: list[tuple[str, str]] = []

    def walk(items: list[Any]) -> None:
        for route in items:
            inner = getattr(route, "original_router", None)  # an included router
            if inner is not None:
                walk(inner.routes)
            elif isinstance(route, APIRoute) or hasattr(route, "methods"):
                path = re.sub(r"\{[^}]+\}", "1", route.path)
                found.extend((method, path) for method in sorted(route.methods or ()) if method != "HEAD")

    walk(list(app.routes))
    return sorted(set(found))


@pytest.fixture
def tokens(service: ReviewService) -> dict[str, str]:
    return {"reviewer": service.create_user("ann", "reviewer", PASSWORD),
            "admin": service.create_user("root", "admin", PASSWORD)}  # fmt: skip


@pytest.fixture
def client(service: ReviewService, tokens: dict[str, str]) -> Iterator[TestClient]:
    with api_client(service) as c:
        yield c


def upload_read(client: TestClient, token: str) -> int:
    answer = client.post("/api/documents", files=[("files", ("s.html", PLANTED))], headers=bearer(token))
    assert answer.status_code == 201, answer.text
    document_id: int = answer.json()["documents"][0]["id"]
    assert wait_done(client, token, document_id, timeout=60)["status"] == "done"
    return document_id


# ------------------------------------------------------------------------------------ anonymous


def test_every_route_but_login_and_health_needs_a_login(client: TestClient) -> None:
    found = routes(client.app)  # type: ignore[arg-type]
    for method, path, _body in ADMIN_ONLY:
        assert (method, path) in found  # the walk sees the routes this file is about
    checked = 0
    for method, path in found:
        if (method, path) in PUBLIC:
            continue
        answer = client.request(method, path, follow_redirects=False)
        if path.startswith("/ui/") and answer.status_code == 303:
            assert answer.headers["location"] == "/ui/login", (method, path)  # a page: to the login form
        else:
            assert answer.status_code == 401, (method, path, answer.status_code, answer.text[:200])
        checked += 1
    assert checked >= 20
    assert client.get("/healthz").status_code == 200 and client.get("/login").status_code == 200
    assert client.get("/ui/login").status_code == 200


# ------------------------------------------------------------------------------------ reviewers


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
def test_reviewer_is_refused_admin_routes(
    client: TestClient, tokens: dict[str, str], method: str, path: str, body: dict[str, Any] | None
) -> None:
    answer = client.request(method, path, json=body, headers=bearer(tokens["reviewer"]))
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden", answer.text
    csrf = login(client, "ann")  # the same by session, with a valid CSRF token
    assert client.request(method, path, json=body, headers={"X-CSRF-Token": csrf}).status_code == 403


def test_reviewer_corrects_accepts_uploads_and_marks_reviewed(client: TestClient, tokens: dict[str, str]) -> None:
    auth = bearer(tokens["reviewer"])
    document_id = upload_read(client, tokens["reviewer"])
    url = f"/api/documents/{document_id}"
    fixed = client.post(f"{url}/corrections", json={"key": CELL, "value": 821, "expected_version": 0}, headers=auth)
    assert fixed.status_code == 200, fixed.text
    accepted = client.post(f"{url}/corrections", headers=auth,
                           json={"key": "t3.new_received.legal", "accept": True, "expected_version": 1})  # fmt: skip
    assert accepted.status_code == 200 and accepted.json()["action"] == "accept"
    marked = client.post(f"{url}/review", json={"status": "reviewed", "expected_version": 2}, headers=auth)
    assert marked.status_code == 200 and marked.json()["version"] == 3
    assert client.get("/api/me", headers=auth).json()["role"] == "reviewer"


# ------------------------------------------------------------------------------------ CSRF


def test_every_cookie_write_needs_the_csrf_token(client: TestClient) -> None:
    """An admin's session, so a refusal can only be the missing token, not the role."""
    csrf = login(client, "root")
    # (The login forms check their pre-session token too: tests/test_api.py.)
    writes = [(m, p) for m, p in routes(client.app) if m != "GET" and (m, p) not in PUBLIC]  # type: ignore[arg-type]
    assert ("POST", "/api/users") in writes and ("POST", "/api/documents/1/extract") in writes
    for method, path in writes:
        # A body that validates, so a route that checks the token after its body is tested too.
        answer = client.request(method, path, json=BODY, follow_redirects=False)
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text[:200])
        other_site = client.request(method, path, json=BODY, follow_redirects=False,
                                    headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"})  # fmt: skip
        assert other_site.status_code == 403, (method, path)
    assert client.get("/api/me").json()["name"] == "root"  # still logged in: nothing was done


# ------------------------------------------------------------------------------------ admins


def test_admin_creates_users_and_the_token_is_shown_once(client: TestClient, tokens: dict[str, str]) -> None:
    csrf = login(client, "root")
    made = client.post("/api/users", json={"name": " bea ", "role": "reviewer", "password": PASSWORD},
                       headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["name"] == "bea" and body["role"] == "reviewer" and len(body["token"]) >= 40
    me = client.get("/api/me", headers=bearer(body["token"])).json()
    assert me == {"name": "bea", "role": "reviewer", "via": "token"}
    listed = client.get("/api/users").json()
    assert {"name": "bea", "role": "reviewer"} in listed["users"]
    assert body["token"] not in made.request.url.query.decode() and body["token"] not in str(listed)
    # The new account logs in with its password too.
    client.post("/logout", headers={"X-CSRF-Token": csrf})
    assert login(client, "bea")


@pytest.mark.parametrize(("body", "status"), [
    ({"name": "ann", "role": "reviewer", "password": PASSWORD}, 409),
    ({"name": "zed", "role": "owner", "password": PASSWORD}, 422),
    ({"name": "zed", "role": "reviewer", "password": "short"}, 422),
    ({"name": "   ", "role": "reviewer", "password": PASSWORD}, 422),
    ({"name": "zed", "role": "reviewer", "password": PASSWORD, "is_admin": True}, 422),
])  # fmt: skip
def test_user_creation_refusals(client: TestClient, tokens: dict[str, str], body: dict[str, Any], status: int) -> None:
    answer = client.post("/api/users", json=body, headers=bearer(tokens["admin"]))
    assert answer.status_code == status, answer.text


def test_admin_reextracts_and_review_work_stays(
    client: TestClient, service: ReviewService, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    admin = bearer(tokens["admin"])
    document_id = upload_read(client, tokens["reviewer"])
    url = f"/api/documents/{document_id}"
    client.post(f"{url}/corrections", json={"key": CELL, "value": 821, "expected_version": 0},
                headers=bearer(tokens["reviewer"]))  # fmt: skip

    # The same reader version would read the same: nothing is queued.
    same = client.post(f"{url}/extract", json={"reader": "rules"}, headers=admin)
    assert same.status_code == 200 and same.json()["queued"] is False and same.json()["run"]
    assert client.post("/api/documents/999/extract", json={"reader": "rules"}, headers=admin).status_code == 404
    assert client.post(f"{url}/extract", json={"reader": "gpt"}, headers=admin).status_code == 422

    # An LLM reader with no LLM configured is refused before anything is queued.
    for name in ("BASE_URL", "MODEL", "API_KEY"):
        monkeypatch.setenv(f"GONGKAI_LLM_{name}", "")
    refused = client.post(f"{url}/extract", json={"reader": "llm"}, headers=admin)
    assert refused.status_code == 422 and refused.json()["reader"] == "llm"

    # Configured but unreachable: queued, the worker's LLM run fails, and the failed run hides nothing.
    monkeypatch.setenv("GONGKAI_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("GONGKAI_LLM_MODEL", "nobody")
    monkeypatch.setenv("GONGKAI_LLM_TRANSPORT_RETRIES", "0")
    monkeypatch.setenv("GONGKAI_LLM_CACHE_DIR", str(tmp_path / "llm-cache"))
    queued = client.post(f"{url}/extract", json={"reader": "llm"}, headers=admin)
    assert queued.status_code == 202 and queued.json()["queued"] is True, queued.text
    deadline = time.monotonic() + 120
    while True:
        with service.session() as session:
            llm_runs = list(session.scalars(select(RunRow).where(RunRow.reader == "llm")))
        if llm_runs or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert llm_runs, "the re-extraction never stored a run"
    view = client.get(url, headers=admin).json()
    assert view["status"] == "done"
    flat = client.get(f"{url}/flat", headers=admin).json()
    assert flat["fields"][CELL] == 821  # the reviewer's value, whatever the LLM run did
    assert [h["key"] for h in view["history"]] == [CELL]
