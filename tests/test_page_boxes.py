"""Positions: a paged document's pages and boxes are stored, each field gets the box of its span,
the API serves the page pictures and the review page crops them beside the flagged value.

The paged document is made here, not read from a PDF (the PDF and scan readers are tested on their
own): the text of a real report (`seed-dongtonghua-2020`, one cell per line) written line by line
with `TextBuilder`, each line given a box of its own on pages of `LINES_PER_PAGE` lines, and a small
PNG per page. One cell (natural persons' new requests) is printed 3 where its row's sums need 0, so
the reader flags it. Every test runs on SQLite and on the real PostgreSQL server.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from lxml import html
from PIL import Image, ImageDraw, ImageFont

from evals.shared import shared_real
from extractor import exports
from extractor.ingest import SourceDocument
from extractor.ingest.normalize import normalize
from extractor.ingest.pages import Page, TextBuilder, box_for
from extractor.review import ReviewService
from extractor.storage import repository
from extractor.storage.geometry import box_around, parse_boxes, stored_boxes
from extractor.storage.models import DocumentRow, PageRow
from tests.api_support import PASSWORD, PLANTED, api_client, bearer, wait_done
from tests.test_storage import _pg_schema_url, pg_admin  # noqa: F401  (pg_admin: a fixture, used by name)

REPORT = shared_real() / "seed-dongtonghua-2020.txt"
PLANT = ("一、本年新收政府信息公开申请数量 |\n0 |", "一、本年新收政府信息公开申请数量 |\n3 |")
FLAGGED = "t3.new_received.natural"
LINES_PER_PAGE = 60
PAGE_W, PAGE_H = 595.0, 842.0  # PDF points (A4)
LINE_H, LINE_GAP, MARGIN, CHAR_W = 11.0, 13.0, 36.0, 10.0
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def line_box(index: int, line: str) -> tuple[int, float, float, float, float]:
    """Line `index` on its page: a row of its own; cells of a table step across in columns."""
    page, row = divmod(index, LINES_PER_PAGE)
    x0 = MARGIN + (index % 5) * 90.0
    x1 = min(PAGE_W - MARGIN, x0 + CHAR_W * max(len(line), 1))
    top = MARGIN + row * LINE_GAP
    return page + 1, x0, top, x1, top + LINE_H


def page_png(number: int, lines: list[tuple[str, tuple[int, float, float, float, float]]], scale: float) -> bytes:
    """A page picture `scale` pixels per point: each line's text drawn in its box (a CJK font when the
    machine has one), else a grey rule where the line stands."""
    image = Image.new("RGB", (round(PAGE_W * scale), round(PAGE_H * scale)), "white")
    draw = ImageDraw.Draw(image)
    font = _font(LINE_H * scale * 0.9) if scale >= 1 else None
    for text, (page, x0, top, x1, bottom) in lines:
        if page != number or not text.strip():
            continue
        if font is None:
            draw.line((x0 * scale, bottom * scale, x1 * scale, bottom * scale), fill=(190, 190, 190))
        else:
            draw.text((x0 * scale, top * scale), text, fill="black", font=font)
    draw.text((4, 4), f"p{number}", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _font(size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(CJK_FONT), round(size)) if CJK_FONT.exists() else ImageFont.load_default()


def paged_report(scale: float = 0.25, copies: int = 1) -> SourceDocument:
    """The report as a paged document; `scale`: page picture pixels per point (≥ 1 draws the text);
    `copies` > 1: a compilation (汇编) printing the report that many times, one after the other."""
    if not REPORT.exists():
        pytest.skip(f"the shared benchmark is not beside the checkout ({REPORT})")
    text = REPORT.read_text(encoding="utf-8")
    assert text.count(PLANT[0]) == 1
    lines = "\n".join([text.replace(*PLANT)] * copies).split("\n")
    boxed = [(line, line_box(index, line)) for index, line in enumerate(lines)]
    builder = TextBuilder()
    for line, box in boxed:
        builder.line(line, box)
    count = (len(lines) + LINES_PER_PAGE - 1) // LINES_PER_PAGE
    flat = builder.build(Page(n, PAGE_W, PAGE_H, page_png(n, boxed, scale)) for n in range(1, count + 1))
    data = flat.text.encode("utf-8")
    return SourceDocument(name="dongtonghua-2020.pdf", sha256=hashlib.sha256(data).hexdigest(), kind="pdf",
                          encoding="test-boxes", size=len(data), text=flat.text, normalized=normalize(flat.text),
                          pages=flat.pages, boxes=flat.boxes)  # fmt: skip


@pytest.fixture(scope="module")
def doc() -> SourceDocument:
    return paged_report()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new schema on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pages.db'}"
    else:
        yield from _pg_schema_url(request.getfixturevalue("pg_admin"))


@pytest.fixture
def service(db_url: str) -> Iterator[ReviewService]:
    svc = ReviewService(db_url)
    yield svc
    svc.close()


def store_like_a_worker(service: ReviewService, doc: SourceDocument) -> tuple[int, int]:
    """The document stored as an upload stores it, then read and saved from the stored row alone (the
    Celery worker's way: it rebuilds the document from its row). (document id, run id)."""
    document_id = service.store_document(doc)
    extraction = service.extract(doc)
    with service.session() as session:
        row = session.get(DocumentRow, document_id)
        assert row is not None
        run_id = int(repository.save_run(session, row, extraction).id)
    return document_id, run_id


def expected_box(doc: SourceDocument, span: tuple[int, int] | None) -> tuple[int, float, float, float, float] | None:
    box = box_for(doc.boxes, span) if span else None
    return None if box is None else (box.page, box.x0, box.top, box.x1, box.bottom)


# -- geometry --------------------------------------------------------------------------------


def test_storage_finds_the_same_box_as_ingest(doc: SourceDocument) -> None:
    """Storage may not import ingest, so it keeps its own copy of `box_for`: the two must agree."""
    stored = parse_boxes(json.loads(json.dumps(stored_boxes(doc.boxes))))  # as the JSON column returns them
    chances = random.Random(20201231)
    length = len(doc.text)
    spans = [(0, 1), (0, length), (length - 1, length), (length, length + 5)]
    for _ in range(400):
        start = chances.randrange(length)
        spans.append((start, min(length, start + chances.choice((1, 2, 5, 40, 400)))))
    found = 0
    for span in spans:
        assert box_around(stored, span) == expected_box(doc, span), span
        found += box_around(stored, span) is not None
    assert found > 300  # most spans land on text (only line breaks have no box)


def test_a_span_over_two_pages_keeps_the_first_page(doc: SourceDocument) -> None:
    last_on_1 = max(b for b in doc.boxes if b.page == 1)
    first_on_2 = min(b for b in doc.boxes if b.page == 2)
    span = (last_on_1.start, first_on_2.end)
    box = box_around(parse_boxes(stored_boxes(doc.boxes)), span)
    assert box is not None and box[0] == 1 and box == expected_box(doc, span)


# -- storage -----------------------------------------------------------------------------------


def test_fields_are_stored_with_the_page_and_box_of_their_span(service: ReviewService, doc: SourceDocument) -> None:
    document_id, run_id = store_like_a_worker(service, doc)
    with service.session() as session:
        fields = repository.run_fields(session, run_id)
        assert len(fields) > 150
        for key, row in fields.items():
            assert row.box == expected_box(doc, row.span), key
        boxed = [row for row in fields.values() if row.box is not None]
        assert len(boxed) == sum(1 for row in fields.values() if row.span is not None) > 150
        assert {row.box[0] for row in boxed if row.box} >= {3, 4}  # the tables run over pages 3 and 4
        flagged = fields[FLAGGED]
        assert flagged.confidence < 0.9 and flagged.box is not None
        assert doc.text[slice(*flagged.span or (0, 0))] == "3"
        pages = repository.document_pages(session, document_id)
        assert [(p.number, p.width, p.height) for p in pages] == [(p.number, p.width, p.height) for p in doc.pages]
        assert repository.page_image(session, document_id, 2) == doc.pages[1].image
        assert repository.page_image(session, document_id, len(doc.pages) + 1) is None


def test_a_document_saves_its_pages_once(service: ReviewService, doc: SourceDocument) -> None:
    first = service.store_document(doc)
    assert service.store_document(doc) == first
    service.store_run(doc, service.extract(doc))
    with service.session() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(PageRow))
        assert count == len(doc.pages) >= 3


def test_a_text_document_has_no_pages_and_no_boxes(service: ReviewService) -> None:
    from extractor.ingest import load_bytes

    text = load_bytes(PLANTED, "planted.html")
    run_id = service.store_run(text, service.extract(text))
    with service.session() as session:
        assert all(row.box is None for row in repository.run_fields(session, run_id).values())
        assert session.scalar(sa.select(sa.func.count()).select_from(PageRow)) == 0


def test_a_stored_document_is_rebuilt_with_its_pages_and_boxes(service: ReviewService, doc: SourceDocument) -> None:
    """What re-extraction reads: the same text, boxes and page sizes (not the pictures: no reader needs them)."""
    again = service.source(service.store_document(doc))
    assert again.text == doc.text and again.boxes == doc.boxes
    assert [(p.number, p.width, p.height) for p in again.pages] == [(p.number, p.width, p.height) for p in doc.pages]
    assert service.extract(again).fields[FLAGGED].span == service.extract(doc).fields[FLAGGED].span


def test_a_stored_upload_read_by_the_server_gets_its_boxes(service: ReviewService, doc: SourceDocument) -> None:
    """The API's own worker path: the upload is stored, then read from storage (`extract_document`)."""
    run_id = service.extract_document(service.store_document(doc))
    with service.session() as session:
        fields = repository.run_fields(session, run_id)
    assert fields[FLAGGED].box is not None
    assert all(row.box == expected_box(doc, row.span) for row in fields.values())


def test_each_part_of_a_compilation_keeps_its_own_boxes_and_pages(service: ReviewService) -> None:
    """A paged file of several reports is cut into one document per report: each part's boxes point
    into its own text and it stores only the pages it stands on (numbered as in the file)."""
    whole = paged_report(copies=2)
    parts = service.parts(whole)
    assert len(parts) == 2
    for part in parts:
        assert part.origin is not None and part.pages
        assert {box.page for box in part.boxes} == {page.number for page in part.pages}
        assert all(0 <= box.start < box.end <= len(part.text) for box in part.boxes)
        run_id = service.store_run(part, service.extract(part))
        with service.session() as session:
            fields = repository.run_fields(session, run_id)
            span = fields[FLAGGED].span
            assert span is not None and part.text[span[0] : span[1]] == "3"
            for key, row in fields.items():
                shifted = (
                    None if row.span is None else (row.span[0] + part.origin.start, row.span[1] + part.origin.start)
                )
                assert row.box == expected_box(whole, shifted), key
    first, second = ([page.number for page in part.pages] for part in parts)
    assert first[0] == 1 and second[-1] == len(whole.pages) and len(set(first) & set(second)) <= 1
    with service.session() as session:
        stored = session.scalar(sa.select(sa.func.count()).select_from(PageRow))
    assert stored == len(first) + len(second) < 2 * len(whole.pages)


# -- API and review page -----------------------------------------------------------------------


@pytest.fixture
def client(service: ReviewService) -> Iterator[TestClient]:
    with api_client(service) as c:
        yield c


@pytest.fixture
def token(service: ReviewService) -> str:
    return service.create_user("ann", "reviewer", PASSWORD)


def test_the_api_serves_page_pictures_to_signed_in_callers(
    client: TestClient, token: str, service: ReviewService, doc: SourceDocument
) -> None:
    document_id, _run = store_like_a_worker(service, doc)
    answer = client.get(f"/api/documents/{document_id}/pages/1.png", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png" and answer.content == doc.pages[0].image
    assert Image.open(io.BytesIO(answer.content)).size == (round(PAGE_W / 4), round(PAGE_H / 4))
    missing = client.get(f"/api/documents/{document_id}/pages/{len(doc.pages) + 1}.png", headers=bearer(token))
    assert missing.status_code == 404
    assert client.get(f"/api/documents/{document_id + 1}/pages/1.png", headers=bearer(token)).status_code == 404
    assert client.get(f"/api/documents/{document_id}/pages/0.png", headers=bearer(token)).status_code == 422
    assert client.get(f"/api/documents/{document_id}/pages/1.png").status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert client.get(f"/api/documents/{document_id}/pages/1.png", headers=wrong).status_code == 401

    body = client.get(f"/api/documents/{document_id}", headers=bearer(token)).json()
    assert [p["number"] for p in body["pages"]] == [p.number for p in doc.pages]
    assert all(p["image"] for p in body["pages"])
    cell = body["result"]["cells"][FLAGGED]
    page, x0, top, x1, bottom = expected_box(doc, tuple(cell["span"])) or (0, 0, 0, 0, 0)
    assert cell["box"] == {"page": page, "x0": x0, "top": top, "x1": x1, "bottom": bottom}


def ui_login(client: TestClient) -> None:
    form: Any = html.fromstring(client.get("/ui/login").text)
    csrf = form.xpath('//input[@name="csrf_token"]/@value')[0]
    answer = client.post("/ui/login", data={"name": "ann", "password": PASSWORD, "csrf_token": csrf},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text


def test_the_review_page_crops_the_page_beside_a_flagged_value(
    client: TestClient, token: str, service: ReviewService, doc: SourceDocument
) -> None:
    document_id, _run = store_like_a_worker(service, doc)
    ui_login(client)
    answer = client.get(f"/ui/documents/{document_id}")
    assert answer.status_code == 200, answer.text
    tree: Any = html.fromstring(answer.text)
    assert len(tree.xpath('//section[@id="page-crop"]//div[@id="crop-view"]/div[@id="crop-mark"]')) == 1
    (td,) = tree.xpath(f'//td[@class="cell"][@data-key="{FLAGGED}"]')
    assert td.get("data-state") == "flagged"
    page, x0, top, x1, bottom = expected_box(doc, (int(td.get("data-start")), int(td.get("data-end")))) or (0,) * 5
    assert td.get("data-page") == str(page)
    assert [float(v) for v in td.get("data-box").split()] == pytest.approx([x0, top, x1, bottom])
    data = json.loads(tree.xpath('//script[@id="review-data"]')[0].text)
    picture = data["pages"][str(page)]
    assert picture["width"] == PAGE_W and picture["height"] == PAGE_H
    assert client.get(picture["url"]).headers["content-type"] == "image/png"  # the session cookie is enough
    # the source text stays beside it
    assert tree.xpath('//pre[@id="source"]')[0].text_content() == doc.text


def test_a_text_document_keeps_the_source_view_alone(client: TestClient, token: str) -> None:
    answer = client.post("/api/documents", files=[("files", ("planted.html", PLANTED))], headers=bearer(token))
    document_id = int(answer.json()["documents"][0]["id"])
    assert wait_done(client, token, document_id)["status"] == "done"
    ui_login(client)
    tree: Any = html.fromstring(client.get(f"/ui/documents/{document_id}").text)
    assert tree.xpath('//*[@id="page-crop"]') == [] and tree.xpath("//td[@data-page]") == []
    assert len(tree.xpath('//pre[@id="source"]')) == 1
    assert client.get(f"/api/documents/{document_id}/pages/1.png", headers=bearer(token)).status_code == 404


# -- exports -----------------------------------------------------------------------------------


def test_exports_say_where_each_value_was_printed(service: ReviewService, doc: SourceDocument) -> None:
    _document, run_id = store_like_a_worker(service, doc)
    with service.session() as session:
        fields = repository.run_fields(session, run_id)
        (report,) = json.loads(exports.export_bytes(session, "json"))
        long = exports.export_bytes(session, "csv", kind="long").decode("utf-8-sig")
    boxes = report["boxes"]
    assert set(boxes) == {key for key, row in fields.items() if row.box is not None}
    page, x0, top, x1, bottom = fields[FLAGGED].box or (0,) * 5
    assert boxes[FLAGGED] == {"page": page, "x0": x0, "top": top, "x1": x1, "bottom": bottom}
    assert FLAGGED in report["flags"]
    rows = list(csv.DictReader(io.StringIO(long)))
    pages = {row["field"]: row["page"] for row in rows}
    assert pages[FLAGGED] == str(page)
    assert {pages[key] for key, row in fields.items() if row.box is None} <= {""}
