"""`/api/users`: accounts, for admins only. A new account's API token is in the answer once and
never again (only its hash is stored); the password is for the browser login."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from extractor.api.auth import Admin, service
from extractor.api.errors import ApiError, SafeJSONResponse

router = APIRouter(prefix="/api", tags=["accounts"])


class UserIn(BaseModel):
    """A new reviewer or admin: a name, a role and a password of at least 8 characters."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    role: Literal["reviewer", "admin"] = "reviewer"
    password: str = Field(min_length=8, max_length=1024)


@router.post("/users", status_code=201)
async def create_user(request: Request, principal: Admin, body: UserIn) -> Response:
    """Make an account; the answer holds its API token, shown this once. 409 if the name is taken."""
    try:
        # argon2 hashing is deliberately slow: off the event loop.
        token = await run_in_threadpool(service(request).create_user, body.name, body.role, body.password)
    except ValueError as exc:
        taken = "already exists" in str(exc)
        raise ApiError(409 if taken else 422, "user exists" if taken else "invalid user", str(exc)) from None
    return SafeJSONResponse({"name": body.name.strip(), "role": body.role, "token": token}, status_code=201)


@router.get("/users")
def list_users(request: Request, principal: Admin) -> Response:
    """Every account's name and role."""
    users = [{"name": u.name, "role": u.role} for u in service(request).list_users()]
    return SafeJSONResponse({"users": users})
