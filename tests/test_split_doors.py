"""Every door reads a compilation file (a 汇编) as one document per report: the CLI prints the split and
stores each part, the API's upload answer lists the parts (and the file), the review queue shows
"part k of N · file" and filters by file, and `gongkai submit` stores the parts for the workers.

The API and queue tests run on SQLite and on PostgreSQL. The compilation is three generated reports
(evals/synth) joined in one text file; what each part must read (agency, year) is the generator's
gold for that report, not copied from the doors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from evals.compilation import Report, reports, text_file
from extractor.review import ReviewService
from extractor.storage import DocumentRow, make_engine, session_factory
from tests.api_support import SAMPLE, api_client, bearer, login, upload, wait_done
from tests.test_storage import db_url, pg_admin  # noqa: F401  (fixtures, found by name)

NAME = "汇编.txt"
COUNT = 3


@pytest.fixture(scope="module")
def items() -> list[Report]:
    return reports(seed=7, count=COUNT)


@pytest.fixture
def compilation(items: list[Report]) -> bytes:
    return text_file([r.text for r in items])


@pytest.fixture
def service(db_url: str) -> Iterator[ReviewService]:  # noqa: F811  (test_storage's fixture)
    """The review service on a new SQLite file, and on a new PostgreSQL schema."""
    svc = ReviewService(db_url)
    yield svc
    svc.close()


@pytest.fixture
def token(service: ReviewService) -> str:
    return service.create_user("ann", "reviewer", "correct horse battery")


@pytest.fixture
def client(service: ReviewService, token: str) -> Iterator[TestClient]:
    with api_client(service) as c:
        yield c


def _stored_parts(url: str) -> list[DocumentRow]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(DocumentRow).order_by(DocumentRow.id)))
    finally:
        engine.dispose()


def test_cli_prints_the_split_and_stores_each_report(tmp_path: Path, items: list[Report], compilation: bytes) -> None:
    from extractor.cli import app

    path = tmp_path / NAME
    path.write_bytes(compilation)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(app, ["extract", str(path), "--db", url, "--format", "flat"])
    assert result.exit_code == 0, result.output
    assert f"{NAME}: {COUNT} reports → {COUNT} documents" in result.output
    flats = [line for line in result.output.splitlines() if line.startswith("{")]
    assert len(flats) == COUNT  # one JSON object per report (JSON Lines)
    rows = _stored_parts(url)
    assert [(r.name, r.parent_name, r.part_index, r.part_count) for r in rows] == [
        (f"{NAME}#{k}", NAME, k, COUNT) for k in range(1, COUNT + 1)
    ]
    assert len({r.sha256 for r in rows} | {rows[0].parent_sha256}) == COUNT + 1
    ends = [(r.part_start, r.part_end) for r in rows]
    assert ends[0][0] == 0 and all(a[1] == b[0] for a, b in pairwise(ends))
    for flat, report in zip(flats, items, strict=True):
        assert f'"agency": "{report.gold["agency"]}"' in flat and f'"year": {report.gold["year"]}' in flat


def test_cli_out_writes_one_file_per_report(tmp_path: Path, compilation: bytes) -> None:
    from extractor.cli import app

    path = tmp_path / NAME
    path.write_bytes(compilation)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["extract", str(path), "--no-store", "--out", str(out), "-f", "flat"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.json") if not p.name.endswith(".detail.json")) == [
        f"汇编#{k}.json" for k in range(1, COUNT + 1)
    ]


def test_upload_stores_one_document_per_report_and_lists_them(
    client: TestClient, token: str, items: list[Report], compilation: bytes
) -> None:
    answer = upload(client, token, (NAME, compilation), ("sample.html", SAMPLE))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    parts = [d for d in body["documents"] if d["part"] is not None]
    assert [d["name"] for d in parts] == [f"{NAME}#{k}" for k in range(1, COUNT + 1)]
    assert [d["part"]["index"] for d in parts] == list(range(1, COUNT + 1))
    assert {d["part"]["count"] for d in parts} == {COUNT} and {d["part"]["file"] for d in parts} == {NAME}
    (whole,) = [d for d in body["documents"] if d["part"] is None]
    assert whole["name"] == "sample.html"
    (file,) = body["files"]
    assert file == {"name": NAME, "sha256": parts[0]["part"]["sha256"], "reports": COUNT,
                    "documents": [d["id"] for d in parts]}  # fmt: skip
    for document, report in zip(parts, items, strict=True):
        read = wait_done(client, token, document["id"])
        assert read["status"] == "done"
        assert read["part"] == document["part"]
        assert (read["run"]["agency"], read["run"]["year"]) == (report.gold["agency"], report.gold["year"])
    listed = client.get("/api/documents", params={"file": file["sha256"]}, headers=bearer(token)).json()
    assert listed["total"] == COUNT and sorted(d["id"] for d in listed["documents"]) == file["documents"]
    assert client.get("/api/documents", params={"file": "汇编"}, headers=bearer(token)).status_code == 422
    again = upload(client, token, (NAME, compilation)).json()
    assert [d["duplicate"] for d in again["documents"]] == [True] * COUNT  # the same file: the same documents
    assert [d["id"] for d in again["documents"]] == [d["id"] for d in parts]


_ROW = re.compile(r'<tr data-id="(\d+)"[^>]*>(.*?)</tr>', re.S)


def _queue_rows(client: TestClient, query: str = "") -> dict[int, str]:
    page = client.get(f"/ui/{query}")
    assert page.status_code == 200, page.text
    return {int(i): " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for i, row in _ROW.findall(page.text)}


def test_queue_shows_the_part_and_filters_by_file(client: TestClient, token: str, compilation: bytes) -> None:
    body = upload(client, token, (NAME, compilation), ("sample.html", SAMPLE)).json()
    for document in body["documents"]:
        wait_done(client, token, document["id"])
    login(client)
    parts = {d["id"]: d["part"] for d in body["documents"] if d["part"] is not None}
    (whole,) = [d["id"] for d in body["documents"] if d["part"] is None]
    rows = _queue_rows(client)
    assert set(rows) == {*parts, whole}
    for document_id, part in parts.items():
        assert f"part {part['index']} of {COUNT} · {NAME}" in rows[document_id]
    assert "part " not in rows[whole]
    sha = body["files"][0]["sha256"]
    page = client.get("/ui/").text
    assert f'href="/ui/?file={sha}"' in page  # the file links to its reports
    assert set(_queue_rows(client, f"?file={sha}")) == set(parts)
    assert set(_queue_rows(client, "?file=汇编")) == set(parts)  # or a part of its name
    assert _queue_rows(client, "?file=nothing-like-it") == {}


def test_submit_stores_the_parts_for_the_workers(tmp_path: Path, compilation: bytes) -> None:
    from workers.cli import Submission, _ingest

    path = tmp_path / NAME
    path.write_bytes(compilation)
    submission = Submission(url="sqlite://", reader="rules", version="v")
    said: list[str] = []
    docs = _ingest([path, path], 10**7, submission, report=said.append, announce=said.append)
    assert [d.name for d in docs] == [f"{NAME}#{k}" for k in range(1, COUNT + 1)]  # the same file twice: once
    assert said == [f"{path}: {COUNT} reports → {COUNT} documents"] * 2
    assert submission.compilations == said and submission.unreadable == []
    origins: list[Any] = [d.origin for d in docs]
    assert [(o.index, o.count) for o in origins] == [(k, COUNT) for k in range(1, COUNT + 1)]
