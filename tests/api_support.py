"""What the API, UI and browser tests share: the planted report, an account, clients and a real server.

The planted report is the bundled sample with natural persons' new requests printed 822 where
its sums need 821 (`CELL`). Fixtures are imported by name where they are used
(`from tests.api_support import client, service, token  # noqa: F401`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from extractor.api import ApiSettings, create_app
from extractor.review import ReviewService
from extractor.settings import SAMPLE_REPORT

SAMPLE = SAMPLE_REPORT.read_bytes()
PASSWORD = "correct horse battery"
# The sample's table 3: natural persons 821 + companies 35 + legal 2 + other 1 = total 859.
PLANTED = SAMPLE.replace(b">821<", b">822<", 1)
CELL = "t3.new_received.natural"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'api.db'}"


@pytest.fixture
def service(db_url: str) -> Iterator[ReviewService]:
    svc = ReviewService(db_url)
    yield svc
    svc.close()


@pytest.fixture
def token(service: ReviewService) -> str:
    """A reviewer's API token (the account is "ann" with `PASSWORD`)."""
    return service.create_user("ann", "reviewer", PASSWORD)


def api_client(service: ReviewService, workers: str = "thread") -> TestClient:
    settings = ApiSettings(database_url=service.url, workers=workers)  # type: ignore[arg-type]
    return TestClient(create_app(settings, service), base_url="http://testserver")


@pytest.fixture
def client(service: ReviewService, token: str) -> Iterator[TestClient]:
    with api_client(service) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client: TestClient, token: str, *files: tuple[str, bytes]) -> httpx.Response:
    return client.post("/api/documents", files=[("files", (n, d)) for n, d in files], headers=bearer(token))


def wait_done(client: TestClient, token: str, document_id: int, timeout: float = 30.0) -> dict[str, Any]:
    """The document once read (done or failed), as `GET /api/documents/{id}` answers it."""
    return _wait_read(client, token, f"/api/documents/{document_id}", timeout, 0.05)


def wait_file(client: TestClient, token: str, file_id: int, timeout: float = 120.0) -> dict[str, Any]:
    """A held file (a scan left to the worker) once read (done or failed), as `GET /api/files/{id}` answers it."""
    return _wait_read(client, token, f"/api/files/{file_id}", timeout, 0.1)


def _wait_read(client: TestClient, token: str, path: str, timeout: float, pause: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(path, headers=bearer(token)).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(pause)
    raise AssertionError(f"{path} not read within {timeout} s")


def login(client: TestClient, name: str = "ann", password: str = PASSWORD) -> str:
    """Log in like a browser: fetch the CSRF token, post the form; returns the session's CSRF token."""
    csrf = client.get("/login").json()["csrf_token"]
    answer = client.post("/login", data={"name": name, "password": password, "csrf_token": csrf})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["csrf_token"]
    assert token != csrf  # a fresh session at login
    return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_serve(db_url: str, log_path: Path, timeout: float = 60.0) -> Iterator[str]:
    """A real `gongkai serve --workers thread` process on a free port; yields its base URL once
    `/healthz` answers, and stops it afterwards. Its output goes to `log_path`."""
    port = free_port()
    env = {**os.environ, "GONGKAI_DATABASE_URL": db_url}
    gongkai = str(Path(sys.executable).parent / "gongkai")
    command = [gongkai, "serve", "--workers", "thread", "--port", str(port), "--log-level", "warning"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).json() == {"status": "ok"}:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, "gongkai serve did not answer /healthz"
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)
