"""The document page (`GET /ui/documents/{id}`) through TestClient: markup, states, escaping, review trail.

Nothing is mocked: uploads are read by the in-process worker with the rules reader, corrections
go through the JSON API with the session's CSRF token, as the page's script sends them.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from typing import Any

from fastapi.testclient import TestClient
from lxml import html

from extractor.api.ui.document import STATES
from extractor.review import ReviewService
from extractor.storage import repository
from schemas import DISCLOSURE_REPORT
from tests.api_support import CELL, PASSWORD, PLANTED, api_client, bearer, wait_done

ROW_RULE = "t3.row.new_received"
HOSTILE = "<script>alert(1)</script> <b>html</b>"


def parse(text: str) -> Any:
    """An HTML tree (typed Any: lxml's xpath answers are a union no test needs narrowed)."""
    return html.fromstring(text)


def ui_login(client: TestClient) -> str:
    """Log in through the form; the session's CSRF token, as the page's meta tag carries it."""
    form = parse(client.get("/ui/login").text)
    csrf = form.xpath('//input[@name="csrf_token"]/@value')[0]
    answer = client.post("/ui/login", data={"name": "ann", "password": PASSWORD, "csrf_token": csrf},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    return str(parse(client.get("/ui/").text).xpath('//meta[@name="csrf-token"]/@content')[0])


def stored(client: TestClient, token: str, name: str, data: bytes) -> int:
    answer = client.post("/api/documents", files=[("files", (name, data))], headers=bearer(token))
    assert answer.status_code == 201, answer.text
    document_id = int(answer.json()["documents"][0]["id"])
    assert wait_done(client, token, document_id)["status"] == "done"
    return document_id


def page_of(client: TestClient, document_id: int) -> tuple[Any, str]:
    answer = client.get(f"/ui/documents/{document_id}")
    assert answer.status_code == 200, answer.text
    return parse(answer.text), answer.text


def cell(tree: Any, key: str) -> Any:
    (td,) = tree.xpath(f'//td[@class="cell"][@data-key="{key}"]')
    return td


def test_anonymous_is_sent_to_the_login_page(client: TestClient) -> None:
    answer = client.get("/ui/documents/1", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/login"


def test_the_page_draws_every_cell_with_the_planted_one_flagged_and_its_span(client: TestClient, token: str) -> None:
    document_id = stored(client, token, "planted.html", PLANTED)
    ui_login(client)
    answer = client.get(f"/ui/documents/{document_id}")
    assert answer.status_code == 200
    assert "unsafe-inline" not in answer.headers["content-security-policy"]
    tree = parse(answer.text)
    (main,) = tree.xpath('//*[@id="review"]')
    assert main.get("data-version") == "0" and main.get("data-document-id") == str(document_id)

    template = DISCLOSURE_REPORT.template("2019")
    keys = tree.xpath('//td[@class="cell"]/@data-key')
    assert keys == list(template.keys)  # every field once, in the form's order
    assert set(tree.xpath('//td[@class="cell"]/@data-state')) <= set(STATES)
    inputs = tree.xpath('//td[@class="cell"]/input[@class="value"]')
    assert [i.get("title") for i in inputs] == keys and {i.get("inputmode") for i in inputs} == {"decimal"}

    td = cell(tree, CELL)
    assert td.get("data-state") == "flagged" and float(td.get("data-confidence")) < 0.9
    assert td.xpath("input/@value") == ["822"]
    text = tree.xpath('//pre[@id="source"]')[0].text_content()
    assert text[int(td.get("data-start")) : int(td.get("data-end"))] == "822"
    # a cell read cleanly is verified
    assert cell(tree, "t3.new_received.commercial").get("data-state") == "verified"

    # flags by cause name the planted cell; the broken row sum is listed
    assert CELL in tree.xpath('//*[@id="flag-groups"]//button[@class="goto"]/@data-key')
    assert tree.xpath(f'//*[@id="sums-broken"]/li[@data-rule="{ROW_RULE}"]/@data-ok') == ["false"]
    assert tree.xpath('//button[@id="mark-reviewed"]') and tree.xpath('//*[@id="history"]')
    # the table heads come from the schema's labels
    assert "自然人" in tree.xpath('//*[@id="section-t3"]//thead')[0].text_content()


def test_report_text_is_shown_escaped(client: TestClient, token: str) -> None:
    # escaped in the report's HTML, so its text (what the page shows) holds the markup itself
    hostile = PLANTED + f"<p>{escape(HOSTILE)}</p>".encode()
    document_id = stored(client, token, "hostile <b>name</b>.html", hostile)
    ui_login(client)
    tree, raw = page_of(client, document_id)
    assert "<script>alert(1)</script>" not in raw and "<b>html</b>" not in raw and "<b>name</b>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert raw.count("<script") == 2  # review.js and the JSON data block, nothing from the report
    assert HOSTILE in tree.xpath('//pre[@id="source"]')[0].text_content()
    assert tree.xpath("//b[text()='html']") == []


def test_a_correction_then_an_accept_show_in_the_states_and_the_history(client: TestClient, token: str) -> None:
    document_id = stored(client, token, "planted.html", PLANTED)
    csrf = ui_login(client)
    tree, _ = page_of(client, document_id)
    version = int(tree.xpath('//*[@id="review"]/@data-version')[0])
    url = f"/api/documents/{document_id}/corrections"
    answer = client.post(
        url, headers={"X-CSRF-Token": csrf}, json={"key": CELL, "value": 821, "expected_version": version}
    )
    assert answer.status_code == 200, answer.text
    assert ROW_RULE in {r["rule"] for r in answer.json()["sums"]["holding"]}
    other = next(k for k in tree.xpath('//td[@data-state="flagged"]/@data-key') if k != CELL)
    answer = client.post(
        url, headers={"X-CSRF-Token": csrf}, json={"key": other, "accept": True, "expected_version": 1}
    )
    assert answer.status_code == 200, answer.text

    tree, _ = page_of(client, document_id)
    assert tree.xpath('//*[@id="review"]/@data-version') == ["2"]
    assert cell(tree, CELL).get("data-state") == "corrected" and cell(tree, CELL).xpath("input/@value") == ["821"]
    assert cell(tree, other).get("data-state") == "accepted"
    rows = tree.xpath('//tbody[@id="history-rows"]/tr')
    assert [r.get("data-action") for r in rows] == ["accept", "correct"]  # newest first
    texts = [td.text_content().strip() for td in rows[1].xpath("td")]
    assert texts[1:] == ["ann", "correct", CELL, "822", "821"]
    assert tree.xpath(f'//*[@id="sums-holding"]/li[@data-rule="{ROW_RULE}"]')
    # a settled cell leaves the flag groups
    assert CELL not in tree.xpath('//*[@id="flag-groups"]//button[@class="goto"]/@data-key')


def test_a_missing_document_is_a_404_page(client: TestClient) -> None:
    ui_login(client)
    answer = client.get("/ui/documents/424242")
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    assert "No such document" in answer.text


def test_a_queued_document_shows_its_status_and_refreshes(service: ReviewService, token: str) -> None:
    with api_client(service, workers="none") as client:
        answer = client.post("/api/documents", files=[("files", ("q.html", PLANTED))], headers=bearer(token))
        document_id = answer.json()["documents"][0]["id"]
        ui_login(client)
        tree, _ = page_of(client, document_id)
        assert tree.xpath('//meta[@http-equiv="refresh"]/@content') == ["3"]
        assert tree.xpath('//*[@id="review"]/@data-status') == ["queued"]
        assert tree.xpath('//td[@class="cell"]') == [] and tree.xpath("//script[@src]") == []


def test_a_reextraction_shows_carried_reviews_and_lists_its_conflicts(
    client: TestClient, service: ReviewService, token: str
) -> None:
    """(Speed is measured by `python -m evals.serve_bench`, not asserted here.)"""
    document_id = stored(client, token, "planted.html", PLANTED)
    ui_login(client)
    version = int(service.flat(document_id)["version"])
    service.review(document_id, "t3.new_received.natural", version, "ann", value=821)
    service.review(document_id, "t3.new_received.legal", version + 1, "ann", value=3)
    with service.session() as session:
        run_id = max(run.id for run in repository.list_runs(session))
        first = repository.load_extraction(session, run_id, apply_corrections=False)
    fields = dict(first.fields)
    fields["t3.new_received.legal"] = replace(fields["t3.new_received.legal"], value=4, raw="4")
    doc = service.source(document_id)
    service.store_run(doc, replace(first, fields=fields, reader_version="rules-next"))

    tree, _text = page_of(client, document_id)
    assert cell(tree, "t3.new_received.natural").get("data-state") == "corrected"  # carried: same reading
    assert cell(tree, "t3.new_received.legal").get("data-state") == "flagged"  # not applied
    assert cell(tree, "t3.new_received.legal").xpath(".//input/@value") == ["4"]
    (item,) = tree.xpath('//section[@id="conflicts"]//li')
    assert item.get("data-key") == "t3.new_received.legal"
    words = " ".join(item.text_content().split())
    assert "corrected it to 3" in words and "now reads 4" in words
    carried = tree.xpath('//tbody[@id="history-rows"]//span[@class="carried"]/text()')
    assert carried and all("carried from run" in text for text in carried)


def test_a_failed_read_shows_its_error(service: ReviewService, token: str) -> None:
    with api_client(service, workers="none") as client:
        answer = client.post("/api/documents", files=[("files", ("f.html", PLANTED))], headers=bearer(token))
        document_id = answer.json()["documents"][0]["id"]
        with service.session() as session:  # a reader's crash, as extract_document stores it
            row = repository.save_source(session, service.source(document_id))
            repository.save_failed_run(session, row, reader="rules", reader_version="x", error="E: <b>boom</b>")
        ui_login(client)
        tree, _ = page_of(client, document_id)
        assert tree.xpath('//*[@id="review"]/@data-status') == ["failed"]
        assert tree.xpath('//pre[@class="run-error"]')[0].text_content() == "E: <b>boom</b>"
        assert tree.xpath('//td[@class="cell"]') == [] and tree.xpath('//meta[@http-equiv="refresh"]') == []
