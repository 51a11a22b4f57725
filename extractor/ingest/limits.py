"""How much of a paged file we read: one place for the page and time limits every paged reader obeys.

A 500-page PDF (or scan) must not hold a worker for an hour. Readers take the first `max_pages()`
pages and say so in a note; `page_seconds()` bounds the work spent on one page (OCR, geometry).
Both are read from the environment each call, so a test or an operator can change them without a
restart.
"""

from __future__ import annotations

import os

DEFAULT_MAX_PAGES = 300
DEFAULT_PAGE_SECONDS = 20.0


def _positive(name: str, default: float) -> float:
    """The env value when it is a positive number; the default otherwise (a typo must not lift the limit)."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value > 0 else default


def max_pages() -> int:
    """Pages read from one file (env GONGKAI_MAX_PAGES, default 300); later pages are skipped with a note."""
    return max(1, int(_positive("GONGKAI_MAX_PAGES", DEFAULT_MAX_PAGES)))


def page_seconds() -> float:
    """Seconds of work allowed on one page (env GONGKAI_PAGE_SECONDS, default 20)."""
    return _positive("GONGKAI_PAGE_SECONDS", DEFAULT_PAGE_SECONDS)


def pages_cut_note(read: int, total: int) -> str:
    """The one-line note a reader adds when it stopped at the page limit."""
    return f"read the first {read} of {total} pages (page limit GONGKAI_MAX_PAGES={read}); later pages were skipped"
