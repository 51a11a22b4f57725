"""Who is asking: a bearer token (scripts) or a signed session cookie (browsers), and CSRF for the latter.

Anonymous users may only log in. A request authenticated by cookie that changes something must
carry the session's CSRF token (header `X-CSRF-Token`, or form field `csrf_token`): a cross-site
form can make the browser send the cookie but cannot read the token. A bearer token is never sent
by a browser on its own, so those requests need none. A cookie-authenticated write whose `Origin`
is another site is refused too. Login itself is protected the same way (`GET /login` hands out a
pre-session token), and a successful login starts a fresh session with a fresh token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool

from extractor.api.errors import ApiError
from extractor.review import ReviewService, User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"

router = APIRouter(tags=["accounts"])


@dataclass(frozen=True)
class Principal:
    user: User
    via: Literal["token", "session"]


def service(request: Request) -> ReviewService:
    svc: ReviewService = request.app.state.service
    return svc


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parsed = urlsplit(origin)
    return parsed.netloc == request.headers.get("host", request.url.netloc)


async def check_csrf(request: Request) -> None:
    """403 unless the request carries the session's CSRF token and, if it says, comes from this site."""
    if not _same_origin(request):
        raise ApiError(403, "forbidden", "cross-site request refused")
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # Starlette caches it: the endpoint reads the same form
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not isinstance(expected, str) or sent is None or not secrets.compare_digest(expected, sent):
        raise ApiError(403, "forbidden", "missing or wrong CSRF token (send X-CSRF-Token from GET /login)")


def authenticated(request: Request) -> Principal:
    """The caller, or 401."""
    svc = service(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        user = svc.authenticate_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise ApiError(401, "unauthorized", "unknown or malformed bearer token")
        return Principal(user, "token")
    user_id = request.session.get("user_id")
    user = svc.get_user(user_id) if isinstance(user_id, int) and 0 < user_id < 2**31 else None
    if user is None:
        raise ApiError(401, "unauthorized", "log in (POST /login) or send Authorization: Bearer TOKEN")
    return Principal(user, "session")


async def writer(request: Request, principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
    """The caller of a state-changing request: a cookie session must also pass the CSRF check."""
    if principal.via == "session" and request.method not in SAFE_METHODS:
        await check_csrf(request)
    return principal


async def administrator(principal: Annotated[Principal, Depends(writer)]) -> Principal:
    """A writer who is an admin (accounts, re-extraction); a reviewer gets 403."""
    if principal.user.role != "admin":
        raise ApiError(403, "forbidden", "this needs the admin role")
    return principal


Caller = Annotated[Principal, Depends(authenticated)]
Writer = Annotated[Principal, Depends(writer)]
Admin = Annotated[Principal, Depends(administrator)]


@router.get("/login")
def login_form(request: Request) -> dict[str, str]:
    """The CSRF token to send with `POST /login` (and, once logged in, with every write)."""
    return {"csrf_token": csrf_token(request)}


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
) -> dict[str, object]:
    """Log in with name and password (form fields, plus `csrf_token` from `GET /login`)."""
    await check_csrf(request)
    # argon2 is deliberately slow: verify off the event loop.
    user = await run_in_threadpool(service(request).authenticate_password, name, password)
    if user is None:
        raise ApiError(401, "unauthorized", "wrong name or password")
    request.session.clear()  # a fresh session: no fixation of a token planted before login
    request.session["user_id"] = user.id
    token = csrf_token(request)
    return {"user": {"name": user.name, "role": user.role}, "csrf_token": token}


@router.post("/logout")
def logout(request: Request, principal: Writer) -> dict[str, str]:
    request.session.clear()
    return {"status": "logged out"}


@router.get("/api/me")
def me(request: Request, principal: Caller) -> dict[str, object]:
    """Who the caller is, and (for a session) the CSRF token to send with writes."""
    out: dict[str, object] = {"name": principal.user.name, "role": principal.user.role, "via": principal.via}
    if principal.via == "session":
        out["csrf_token"] = csrf_token(request)
    return out
