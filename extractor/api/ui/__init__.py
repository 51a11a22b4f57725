"""The review UI: server-rendered pages (Jinja2, autoescaped) with a little plain JavaScript.

No Node build step: the pages are templates in `templates/`, the script and styles are static
files in `static/`. Every page works on the same service calls as the JSON API; the script only
posts corrections (with the session's CSRF token) and moves the focus. Report text is untrusted:
templates autoescape everything, the script sets `textContent`, never `innerHTML`, and the
pages' CSP allows scripts from this origin only.
"""

from fastapi import APIRouter

from extractor.api.ui import dashboard, document, pages, queue, upload

router = APIRouter()
for _module in (pages, queue, document, upload, dashboard):
    router.include_router(_module.router)

__all__ = ["router"]
