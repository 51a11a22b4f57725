"""No input may produce a 500: schemathesis drives every operation of the API's own OpenAPI schema.

It generates requests from the schema (valid, boundary and broken ones) and sends them, with an
admin's bearer token, to the app in process; every answer must be a JSON 2xx/4xx. One document
is stored and read first, so operations on document 1 reach the review logic, not only a 404.
"""

from __future__ import annotations

import tempfile
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from extractor.api import ApiSettings, create_app
from extractor.review import ReviewService
from extractor.settings import SAMPLE_REPORT

_DIR = tempfile.mkdtemp(prefix="gongkai-fuzz-")
SERVICE = ReviewService(f"sqlite:///{_DIR}/fuzz.db")
TOKEN = SERVICE.create_user("fuzz", "admin", "fuzz password")
_stored = SERVICE.upload([(SAMPLE_REPORT.name, SAMPLE_REPORT.read_bytes())])[0]
assert _stored.id is not None
SERVICE.extract_document(_stored.id)
APP = create_app(ApiSettings(database_url=SERVICE.url, workers="none"), SERVICE)

schema = schemathesis.openapi.from_dict(APP.openapi())
schema.app = APP


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case: Any) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
    if response.status_code >= 400:
        body = response.json()
        assert body["error"] and body["reason"], body
