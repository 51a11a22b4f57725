"""`/api/export.csv|xlsx|json`: the analysts' download, values with reviewers' corrections applied."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from extractor import exports
from extractor.api.auth import Caller, service

router = APIRouter(prefix="/api", tags=["exports"])


def _export(
    request: Request, fmt: exports.Format, kind: exports.Kind, reviewed_only: bool, reader: str | None
) -> bytes:
    with service(request).session() as session:
        return exports.export_bytes(session, fmt, kind=kind, reviewed_only=reviewed_only, reader=reader)


async def _answer(
    request: Request, fmt: exports.Format, kind: exports.Kind, reviewed_only: bool, reader: str | None
) -> Response:
    body = await run_in_threadpool(_export, request, fmt, kind, reviewed_only, reader)  # a big export is slow
    name = f"gongkai-{kind}.{fmt}" if fmt == "csv" else f"gongkai.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=exports.MEDIA_TYPES[fmt], headers=headers)


Reviewed = Annotated[bool, Query(description="only documents marked reviewed")]
Reader = Annotated[str | None, Query(max_length=64, description="one reader's runs (default: the newest run)")]


@router.get("/export.csv")
async def export_csv(
    request: Request, principal: Caller, kind: Literal["wide", "long"] = "wide", reviewed_only: Reviewed = False,
    reader: Reader = None,
) -> Response:  # fmt: skip
    """One row per report (wide) or per cell (long), UTF-8 with a BOM so Excel reads the Chinese."""
    return await _answer(request, "csv", kind, reviewed_only, reader)


@router.get("/export.xlsx")
async def export_xlsx(
    request: Request, principal: Caller, reviewed_only: Reviewed = False, reader: Reader = None
) -> Response:
    """Both tables, as the sheets "wide" and "long"."""
    return await _answer(request, "xlsx", "wide", reviewed_only, reader)


@router.get("/export.json")
async def export_json(
    request: Request, principal: Caller, reviewed_only: Reviewed = False, reader: Reader = None
) -> Response:
    """FIELDS.md objects with the reviewers' values."""
    return await _answer(request, "json", "wide", reviewed_only, reader)
