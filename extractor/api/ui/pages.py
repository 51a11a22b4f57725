"""The UI's pages: login and logout here; the queue, document and dashboard pages join this router.

A page needs a logged-in session; without one the browser is sent to the login page (a page is
for people, so a redirect, not the API's 401).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from extractor.api.auth import check_csrf, csrf_token, service
from extractor.api.errors import ApiError
from extractor.api.ui.render import page
from extractor.review import User

router = APIRouter(prefix="/ui", include_in_schema=False)


class LoginRequired(Exception):
    """Raised by `viewer` when no one is logged in; the app answers with a redirect to the login page."""


def viewer(request: Request) -> User:
    """The logged-in user of a page, or a redirect to the login page."""
    user_id = request.session.get("user_id")
    user = service(request).get_user(user_id) if isinstance(user_id, int) and 0 < user_id < 2**31 else None
    if user is None:
        raise LoginRequired()
    return user


Viewer = Annotated[User, Depends(viewer)]


@router.get("/login")
def login_page(request: Request, error: str | None = None) -> Response:
    return page(request, "login.html", error=error)


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    try:
        await check_csrf(request)
    except ApiError:
        return page(request, "login.html", status_code=403, error="The form expired; please try again.")
    user = await run_in_threadpool(service(request).authenticate_password, name, password)
    if user is None:
        return page(request, "login.html", status_code=401, error="Wrong name or password.")
    request.session.clear()
    request.session["user_id"] = user.id
    csrf_token(request)
    return RedirectResponse("/ui/", status_code=303)


@router.post("/logout")
async def logout(request: Request, user: Viewer) -> Response:
    await check_csrf(request)
    request.session.clear()
    return RedirectResponse("/ui/login", status_code=303)
