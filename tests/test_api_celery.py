"""`gongkai serve --workers celery`: the API stores uploads in PostgreSQL and real `gongkai worker`s
(Redis broker) read them. Reuses the workers' fixtures; skipped without Redis/PostgreSQL, failed in CI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from extractor.api import ApiSettings, create_app
from extractor.review import ReviewService
from tests.api_support import CELL, PASSWORD, SAMPLE, upload, wait_done
from tests.test_workers import Workers, celery_app, pg_url, queue, workers  # noqa: F401 - fixtures by name


@pytest.mark.postgres
def test_uploads_go_to_the_celery_workers(workers: Workers, pg_url: str, queue: str) -> None:  # noqa: F811
    workers(count=1)
    svc = ReviewService(pg_url)
    token = svc.create_user("ann", "reviewer", PASSWORD)
    settings = ApiSettings(database_url=pg_url, workers="celery", queue=queue)
    try:
        with TestClient(create_app(settings, svc)) as client:
            [doc] = upload(client, token, ("s.html", SAMPLE)).json()["documents"]
            body = wait_done(client, token, doc["id"], timeout=60)
            assert body["status"] == "done" and body["run"]["reader"] == "rules"
            assert body["result"]["cells"][CELL]["value"] == 821
    finally:
        svc.close()
