"""The review UI in a real browser (Playwright driving Debian's chromium) against a real `gongkai serve`.

One reviewer's path, end to end: log in through the form, upload the planted report (its
`t3.new_received.natural` printed 822 where the sums need 821), open its page, see the cell
flagged with its span highlighted in the source, type 821 and Enter, see the cell corrected and
the row's sum hold, and find 821 in the CSV the nav links to. Screenshots of the queue and the
document page go to `out/` for a person to look at.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from extractor.review import ReviewService
from tests.api_support import CELL, PASSWORD, PLANTED, running_serve
from tests.services import require_service

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
ROW_RULE = "t3.row.new_received"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`gongkai serve` on a free port with a fresh SQLite file and one reviewer account."""
    db = f"sqlite:///{tmp_path / 'browser.db'}"
    svc = ReviewService(db)
    try:
        svc.create_user("ann", "reviewer", PASSWORD)
    finally:
        svc.close()
    with running_serve(db, tmp_path / "serve.log") as base:
        yield base


def _playwright() -> Any:
    if not CHROMIUM.exists():
        require_service("chromium is not installed at /usr/bin/chromium (apt-get install chromium; .ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service("playwright is not installed (pip install -e '.[dev]' installs it)")
    return sync_playwright


def _upload_through_ui(page: Any, base: str, data: bytes) -> int:
    """Upload on /ui/upload as a reviewer would; the new document's id from the page's link to it."""
    answer = page.goto(f"{base}/ui/upload")
    assert answer is not None and answer.status == 200
    page.set_input_files("#files", files=[{"name": "planted.html", "mimeType": "text/html", "buffer": data}])
    page.click("#upload-button")
    link = page.locator("#documents a").first
    link.wait_for(timeout=30_000)
    found = re.search(r"/ui/documents/(\d+)", link.get_attribute("href") or "")
    assert found, link.get_attribute("href")
    return int(found.group(1))


def _upload_through_api(page: Any, base: str, data: bytes) -> int:
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    answer = page.context.request.post(
        f"{base}/api/documents", headers={"X-CSRF-Token": csrf},
        multipart={"files": {"name": "planted.html", "mimeType": "text/html", "buffer": data}},
    )  # fmt: skip
    assert answer.status == 201, answer.text()
    return int(answer.json()["documents"][0]["id"])


def _wait_read(page: Any, base: str, document_id: int) -> None:
    deadline = time.monotonic() + 60
    while (status := page.context.request.get(f"{base}/api/documents/{document_id}").json()["status"]) in (
        "queued", "processing",
    ):  # fmt: skip
        assert time.monotonic() < deadline, "the upload was not read within 60 s"
        time.sleep(0.2)
    assert status == "done"


def _record_console(errors: list[str], message: Any) -> None:
    if message.type == "error" and "Failed to load resource" not in message.text:  # those: _record_failure
        errors.append(message.text)


def _record_failure(errors: list[str], response: Any) -> None:
    if response.status >= 400 and not response.url.endswith("/favicon.ico"):
        errors.append(f"{response.status} {response.url}")


def test_review_a_planted_error_with_the_keyboard(server: str) -> None:
    sync_playwright = _playwright()
    OUT.mkdir(exist_ok=True)
    data = PLANTED
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # JS exceptions, CSP violations and failed requests (but a browser's own favicon.ico probe)
            page.on("console", lambda m: _record_console(errors, m))
            page.on("response", lambda r: _record_failure(errors, r))

            # an anonymous visit is sent to the login form; log in through it
            page.goto(f"{server}/ui/documents/1")
            assert page.url.endswith("/ui/login")
            _login(page, server)

            document_id = _upload_through_ui(page, server, data)
            _wait_read(page, server, document_id)

            page.goto(f"{server}/ui/")
            page.screenshot(path=str(OUT / "review-queue.png"), full_page=True)

            page.goto(f"{server}/ui/documents/{document_id}")
            td = page.locator(f'td.cell[data-key="{CELL}"]')
            assert td.get_attribute("data-state") == "flagged"
            cell = td.locator("input.value")
            assert cell.input_value() == "822"
            # the first flagged cell in reading order has the focus on load, its text selected
            focused = page.evaluate("document.activeElement && document.activeElement.dataset.key")
            first_open = page.locator('td.cell[data-state="flagged"], td.cell[data-state="inferred"]').first
            assert focused == first_open.get_attribute("data-key")

            cell.focus()
            mark = page.locator("#source mark#span-highlight")
            assert mark.count() == 1 and mark.text_content() == "822"
            assert mark.is_visible()
            assert CELL in (page.locator("#reasons").text_content() or "")
            assert "breaks" in (page.locator("#reasons").text_content() or "")

            page.keyboard.type("821")
            page.keyboard.press("Enter")
            page.locator(f'td.cell[data-key="{CELL}"][data-state="corrected"]').wait_for()  # CSP: no eval
            holding = page.locator(f'#sums-fixed li[data-rule="{ROW_RULE}"]')  # shown on top: "now holds"
            holding.wait_for()
            assert holding.is_visible() and page.locator(f'#sums-holding li[data-rule="{ROW_RULE}"]').count() == 1
            assert holding.get_attribute("data-ok") == "true", (page.locator("#sums").inner_text()[:1500], errors)
            assert page.locator(f'#sums-broken li[data-rule="{ROW_RULE}"]').count() == 0
            # the focus moved on to another open cell, and the history shows the correction
            assert page.evaluate("document.activeElement.dataset.key") != CELL
            history = page.locator(f'#history-rows tr[data-key="{CELL}"]').first
            assert "821" in (history.text_content() or "") and "ann" in (history.text_content() or "")
            page.locator(f'td.cell[data-key="{CELL}"] input.value').focus()  # its span shown in the source
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(OUT / "review-document.png"))

            # the page survives a reload with the correction in place
            page.reload()
            assert page.locator(f'td.cell[data-key="{CELL}"]').get_attribute("data-state") == "corrected"
            assert page.locator(f'td.cell[data-key="{CELL}"] input.value').input_value() == "821"

            with page.expect_download() as download_info:
                page.click('header.top nav a[href="/api/export.csv"]')
            exported = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
            rows = list(csv.DictReader(io.StringIO(exported)))
            mine = [r for r in rows if any(v == str(document_id) for v in r.values())] or rows
            assert any(r.get(CELL) == "821" for r in mine), exported[:2000]
            assert not errors, errors
        finally:
            browser.close()


def _login(page: Any, base: str) -> None:
    page.goto(f"{base}/ui/login")
    page.fill('input[name="name"]', "ann")
    page.fill('input[name="password"]', PASSWORD)
    page.click('form.login button[type="submit"]')
    page.wait_for_load_state()
    # "The form expired" here from a real browser: the form post carried "Origin: null" (see auth.check_csrf)
    assert page.url == f"{base}/ui/", (page.url, page.locator("p.error").all_text_contents())


def _state(page: Any, key: str) -> str | None:
    state: str | None = page.locator(f'td.cell[data-key="{key}"]').get_attribute("data-state")
    return state


def _focused(page: Any) -> str | None:
    key: str | None = page.evaluate("document.activeElement && document.activeElement.dataset.key")
    return key


def test_keyboard_accept_skip_escape_clear_conflict_and_mark_reviewed(server: str) -> None:
    sync_playwright = _playwright()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
            _login(page, server)
            document_id = _upload_through_api(page, server, PLANTED)
            _wait_read(page, server, document_id)
            page.goto(f"{server}/ui/documents/{document_id}")
            review = page.locator("#review")
            opened = page.locator('td.cell[data-state="flagged"], td.cell[data-state="inferred"]')
            order = [opened.nth(i).get_attribute("data-key") for i in range(opened.count())]
            first, second, third, fourth = order[:4]
            assert second == CELL and _focused(page) == first

            # Enter on an unchanged value accepts it; the focus moves to the next flagged cell
            page.keyboard.press("Enter")
            page.locator(f'td.cell[data-key="{first}"][data-state="accepted"]').wait_for()
            assert _focused(page) == second and review.get_attribute("data-version") == "1"

            # Escape restores what was typed over; Shift+Enter skips without writing
            page.keyboard.type("9")
            page.keyboard.press("Escape")
            assert page.locator(f'td.cell[data-key="{CELL}"] input').input_value() == "822"
            page.keyboard.press("Shift+Enter")
            assert _focused(page) == third and _state(page, CELL) == "flagged"

            # Backspace, Enter: the cell has no value (null), recorded as a correction
            page.keyboard.press("Backspace")
            page.keyboard.press("Enter")
            page.locator(f'td.cell[data-key="{third}"][data-state="corrected"]').wait_for()
            assert page.locator(f'td.cell[data-key="{third}"] input').input_value() == ""
            assert review.get_attribute("data-version") == "2" and _focused(page) == fourth
            assert page.locator(f'#history-rows tr[data-key="{third}"] td').nth(5).text_content() == "—"

            # someone else changes the document: the next write gets a 409, shown, nothing lost silently
            csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
            behind = page.context.request.post(
                f"{server}/api/documents/{document_id}/corrections", headers={"X-CSRF-Token": csrf},
                data={"key": CELL, "value": 821, "expected_version": 2},
            )  # fmt: skip
            assert behind.status == 200, behind.text()
            page.keyboard.type("7")
            page.keyboard.press("Enter")
            notice = page.locator("#notice")
            notice.wait_for()
            page.locator(f'td.cell[data-key="{fourth}"].unsaved').wait_for()
            message = notice.text_content() or ""
            assert "version 3" in message and "Reload" in message and fourth in message
            assert _state(page, fourth) == "flagged"
            assert page.locator(f'td.cell[data-key="{fourth}"] input').input_value() == "7"  # kept, not saved

            # after a reload the other reviewer's value shows; mark the document reviewed
            page.reload()
            assert _state(page, CELL) == "corrected" and review.get_attribute("data-version") == "3"
            page.click("#mark-reviewed")
            page.locator('#mark-reviewed[data-status="reviewed"]').wait_for()
            assert page.locator("#review-status").text_content() == "reviewed"
            assert review.get_attribute("data-version") == "4"
        finally:
            browser.close()


@pytest.fixture
def paged_server(tmp_path: Path) -> Iterator[tuple[str, int, str]]:
    """`gongkai serve` over a database holding one read paged document (page pictures with its text
    drawn on them: tests/test_page_boxes.py). (base URL, document id, the flagged cell's key)."""
    from tests.test_page_boxes import FLAGGED, paged_report

    db = f"sqlite:///{tmp_path / 'paged.db'}"
    doc = paged_report(scale=2.0)
    svc = ReviewService(db)
    try:
        svc.create_user("ann", "reviewer", PASSWORD)
        svc.store_run(doc, svc.extract(doc))
        document_id = svc.store_document(doc)
    finally:
        svc.close()
    with running_serve(db, tmp_path / "serve.log") as base:
        yield base, document_id, FLAGGED


def _watched_page(browser: Any) -> tuple[Any, list[str]]:
    """A new page and the list that collects its script errors, console errors and failed requests."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: _record_console(errors, m))
    page.on("response", lambda r: _record_failure(errors, r))
    return page, errors


def _open_paged_review(browser: Any, server: str, document_id: int) -> tuple[Any, list[str]]:
    """Log in and open a paged document's review page; its first page picture must load as a PNG.
    Returns the page and the list that collects its console errors and failed requests."""
    page, errors = _watched_page(browser)
    _login(page, server)
    with page.expect_response(re.compile(r"/api/documents/\d+/pages/\d+\.png$")) as picture:
        page.goto(f"{server}/ui/documents/{document_id}")
    assert picture.value.status == 200 and picture.value.headers["content-type"] == "image/png"
    return page, errors


def test_a_flagged_value_shows_the_crop_of_its_page(paged_server: tuple[str, int, str]) -> None:
    server, document_id, key = paged_server
    sync_playwright = _playwright()
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page, errors = _open_paged_review(browser, server, document_id)
            td = page.locator(f'td.cell[data-key="{key}"]')
            assert td.get_attribute("data-state") == "flagged"
            assert _focused(page) == key  # the one flagged cell has the focus on load
            crop, view, mark = page.locator("#page-crop"), page.locator("#crop-view"), page.locator("#crop-mark")
            assert crop.is_visible() and view.is_visible()
            assert page.locator("#crop-page").text_content() == td.get_attribute("data-page")
            assert f"/pages/{td.get_attribute('data-page')}.png" in view.evaluate("v => v.style.backgroundImage")
            # the mark (the value's box) lies inside the crop, which is wider than the box (context around it)
            outer, inner = view.bounding_box(), mark.bounding_box()
            assert outer is not None and inner is not None
            assert outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
            assert outer["y"] <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
            assert inner["width"] < outer["width"] / 2
            # hovering another cell shows where that one was printed; leaving the tables goes back
            other = page.locator('td.cell[data-page][data-state="verified"]').first
            other.hover()
            assert view.evaluate("v => v.dataset.key") == other.get_attribute("data-key")
            page.mouse.move(1430, 990)
            page.locator("header.top").hover()
            assert view.evaluate("v => v.dataset.key") == key
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(OUT / "review-crop.png"))
            assert not errors, errors
        finally:
            browser.close()


@pytest.fixture
def scanned_server(tmp_path: Path) -> Iterator[tuple[str, bytes, str]]:
    """`gongkai serve` (its in-process worker OCRs held scans) on a fresh database, and a scanned report
    to upload to it: a generated image-only PDF at 200 dpi with skew, blur, JPEG artefacts and a red
    seal. (base URL, the scan's bytes, its file name)."""
    from evals.messy import generate

    scan = generate("scan", seed=5, count=1, dpi=200)[0]
    db = f"sqlite:///{tmp_path / 'scanned.db'}"
    svc = ReviewService(db)
    try:
        svc.create_user("ann", "reviewer", PASSWORD)
    finally:
        svc.close()
    with running_serve(db, tmp_path / "serve.log") as base:
        yield base, scan.body, f"{scan.name}.{scan.ext}"


def _upload_scan_through_ui(page: Any, base: str, data: bytes, name: str) -> int:
    """Upload a scan on /ui/upload: the request answers at once, the page follows the worker's OCR page by
    page ("Reading NAME: page k of N"), then links the document it became; that document's id."""
    page.goto(f"{base}/ui/upload")
    page.set_input_files("#files", files=[{"name": name, "mimeType": "application/pdf", "buffer": data}])
    page.click("#upload-button")
    page.wait_for_function(
        "() => /^Reading .+: page \\d+ of \\d+/.test(document.querySelector('#pending li .state')?.textContent || '')",
        timeout=60_000,
    )
    link = page.locator("#documents a").first
    link.wait_for(timeout=180_000)
    found = re.search(r"/ui/documents/(\d+)", link.get_attribute("href") or "")
    assert found, link.get_attribute("href")
    assert page.locator("#pending li .state").first.text_content() == "read: 1 document"
    return int(found.group(1))


def test_a_scanned_reports_flagged_value_shows_the_crop_of_the_scan(scanned_server: tuple[str, bytes, str]) -> None:
    server, scan, name = scanned_server
    sync_playwright = _playwright()
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            uploader, upload_errors = _watched_page(browser)
            _login(uploader, server)
            document_id = _upload_scan_through_ui(uploader, server, scan, name)
            _wait_read(uploader, server, document_id)
            uploader.screenshot(path=str(OUT / "upload-scan.png"), full_page=True)
            assert not upload_errors, upload_errors
            uploader.close()

            page, errors = _open_paged_review(browser, server, document_id)
            key = _focused(page)  # the first flagged cell has the focus on load
            assert key is not None
            td = page.locator(f'td.cell[data-key="{key}"]')
            assert td.get_attribute("data-state") == "flagged" and td.get_attribute("data-page")
            view, mark = page.locator("#crop-view"), page.locator("#crop-mark")
            assert page.locator("#page-crop").is_visible() and view.is_visible()
            assert view.evaluate("v => v.dataset.key") == key
            outer, inner = view.bounding_box(), mark.bounding_box()
            assert outer is not None and inner is not None
            assert outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(OUT / "review-scan-crop.png"))
            assert not errors, errors
        finally:
            browser.close()
