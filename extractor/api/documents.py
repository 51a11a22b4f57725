"""`/api/documents`: upload, list, one document, its FIELDS.md object, corrections, and (admins) re-extraction."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from extractor.api.auth import Admin, Caller, Writer, service
from extractor.api.errors import ApiError, SafeJSONResponse
from extractor.api.upload_progress import UPLOAD_ID, board
from extractor.api.worker import Dispatcher
from extractor.pipeline import Reader
from extractor.readers.llm import LLMConfigError
from extractor.review import NotReady, Reviewed, Uploaded, VersionConflict
from extractor.storage.repository import NotFound
from extractor.uploads import UploadRefused, clean_name

router = APIRouter(prefix="/api", tags=["documents"])

# Table cells are counts and amounts: anything past this is a typo or an attack, not a value.
LIMIT = 10**15
MAX_ID = 2**31 - 1
DocumentId = Annotated[int, Path(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Path(ge=1, le=100_000)]
CellNumber = (
    Annotated[StrictInt, Field(ge=-LIMIT, le=LIMIT)]
    | Annotated[StrictFloat, Field(ge=-LIMIT, le=LIMIT, allow_inf_nan=False)]
    | None
)
# An ingest or upload refusal → its HTTP status.
STATUS_FOR_CODE = {"too_large": 413, "unsupported": 415, "binary": 415, "unsafe_zip": 400, "bad_zip": 400}


def dispatcher(request: Request) -> Dispatcher:
    found: Dispatcher = request.app.state.dispatcher
    return found


@router.post("/documents", status_code=201)
async def upload(
    request: Request, principal: Writer, files: Annotated[list[UploadFile], File(description="reports or zips")]
) -> Response:
    """Store one or many files (or zips of them) once per content hash, and queue them to be read.

    A file holding several reports (a 汇编) is stored as one document per report: each listed with
    its `part` (file, file hash, index, count), and the file under `files` with its documents. A scan
    or an image is not read in the request: it is stored raw and listed under `pending` (`id`, `name`,
    `sha256`, `status`, `duplicate`) for the worker to OCR; `GET /api/files/{id}` follows it."""
    svc = service(request)
    settings = request.app.state.settings
    if len(files) > settings.max_files_per_request:
        raise ApiError(413, "too many files", f"at most {settings.max_files_per_request} files per request")
    items: list[tuple[str, bytes]] = []
    for upload in files:
        name = clean_name(upload.filename)
        data = await upload.read(svc.max_bytes + 1)
        if len(data) > svc.max_bytes:
            raise ApiError(413, "too large", f"{name} is over the {svc.max_bytes / 1024 / 1024:g} MB limit "
                           "(GONGKAI_MAX_FILE_MB)")  # fmt: skip
        items.append((name, data))
    upload_id = request.headers.get("X-Upload-Id", "")
    told = None
    if UPLOAD_ID.match(upload_id):  # the upload page polls which page OCR has reached
        told = functools.partial(board(request).tell, upload_id)
    try:
        answers = await run_in_threadpool(svc.upload, items, None, told)  # ingest and store off the event loop
    except UploadRefused as exc:
        raise ApiError(STATUS_FOR_CODE.get(exc.code, 400), "upload refused", str(exc), code=exc.code) from None
    stored = [a for a in answers if a.id is not None]
    held = [a.held for a in answers if a.held is not None]
    refused = [{"name": a.name, "code": a.code, "reason": a.error} for a in answers if a.id is None and a.held is None]
    if not stored and not held:
        first = refused[0] if refused else {"code": None, "reason": "no file in the upload"}
        status = STATUS_FOR_CODE.get(str(first["code"]), 422)
        raise ApiError(status, "upload refused", str(first["reason"]), files=refused)
    unread = set(await run_in_threadpool(svc.unread_documents, [a.id for a in stored if a.id is not None]))
    dispatcher(request).submit([(a.id, a.sha256 or "") for a in stored if a.id in unread])
    dispatcher(request).read_files([h.id for h in held if h.fresh])  # one already queued has its message
    documents = [
        {"id": a.id, "name": a.name, "sha256": a.sha256, "duplicate": a.duplicate,
         "part": None if a.part is None else a.part.as_dict()}
        for a in stored
    ]  # fmt: skip
    pending = [h.as_dict() for h in held]
    answer = {"documents": documents, "refused": refused, "files": _files(stored), "pending": pending}
    return SafeJSONResponse(answer, status_code=201)


def _files(stored: list[Uploaded]) -> list[dict[str, Any]]:
    """Each compilation file of the upload and the documents it was cut into (one per report)."""
    files: dict[str, dict[str, Any]] = {}
    for a in stored:
        if a.part is not None:
            entry = files.setdefault(a.part.sha256, {"name": a.part.file, "sha256": a.part.sha256,
                                                     "reports": a.part.count, "documents": []})  # fmt: skip
            entry["documents"].append(a.id)
    return list(files.values())


def _with_processing(request: Request, item: dict[str, Any]) -> dict[str, Any]:
    if item["status"] == "queued" and item["id"] in dispatcher(request).processing():
        item["status"] = "processing"
    return item


@router.get("/documents")
def list_documents(
    request: Request,
    principal: Caller,
    agency: Annotated[str | None, Query(max_length=200)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    template: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["queued", "processing", "done", "failed"] | None = None,
    review: Literal["unreviewed", "reviewed"] | None = None,
    reader: Annotated[str | None, Query(max_length=64)] = None,
    file: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{64}$", description="a compilation file's sha256")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    """Documents newest first with their status and newest run; `total` counts every match. `file`: the
    reports cut out of one compilation file (its sha256, as the upload answer's `files` gives it)."""
    total, items = service(request).list_documents(
        agency=agency, year=year, template=template, status=status, review=review, reader=reader, file=file,
        limit=limit, offset=offset,
    )  # fmt: skip
    items = [_with_processing(request, item) for item in items]
    return SafeJSONResponse({"total": total, "limit": limit, "offset": offset, "documents": items})


@router.get("/documents/{document_id}")
def get_document(request: Request, principal: Caller, document_id: DocumentId) -> Response:
    """Status while queued or processing; then every cell (value, status, confidence, reasons, span)."""
    try:
        return SafeJSONResponse(_with_processing(request, service(request).document(document_id)))
    except NotFound as exc:
        raise ApiError(404, "not found", str(exc)) from None


@router.get("/documents/{document_id}/flat")
def get_flat(request: Request, principal: Caller, document_id: DocumentId) -> Response:
    """The FIELDS.md object with reviewers' values applied, plus the review `version`."""
    try:
        return SafeJSONResponse(service(request).flat(document_id))
    except NotFound as exc:
        raise ApiError(404, "not found", str(exc)) from None
    except NotReady as exc:
        raise ApiError(409, "not ready", str(exc)) from None


@router.get("/documents/{document_id}/pages/{number}.png", response_class=Response)
def get_page_image(request: Request, principal: Caller, document_id: DocumentId, number: PageNumber) -> Response:
    """The picture of one page of a paged document (PDF rendered at ingest, or the scan), as PNG; the
    review page crops it to each cell's box. 404 when the document has no such page or no picture."""
    try:
        image = service(request).page_image(document_id, number)
    except NotFound as exc:
        raise ApiError(404, "not found", str(exc)) from None
    # A document is stored once per content hash and never changes: its pages can be cached.
    return Response(image, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


class CorrectionIn(BaseModel):
    """`{key, value, expected_version}` corrects a cell (value null: the cell has none);
    `{key, accept: true, expected_version}` confirms its value as read."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=128)
    value: CellNumber = None
    accept: StrictBool = False
    expected_version: StrictInt = Field(ge=0, le=MAX_ID)
    comment: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _one_action(self) -> CorrectionIn:
        if self.accept and "value" in self.model_fields_set:
            raise ValueError("send either value or accept: true, not both")
        if not self.accept and "value" not in self.model_fields_set:
            raise ValueError("send value (a number or null) or accept: true")
        return self


def _answer(reviewed: Reviewed) -> dict[str, Any]:
    check = reviewed.recheck

    def rules(items: Any) -> list[dict[str, Any]]:
        return [{"rule": c.rule, "description": c.description, "message": c.message} for c in items]

    return {
        "document_id": reviewed.document_id, "version": reviewed.version, "action": reviewed.action,
        "key": check.key, "value": check.value,
        "sums": {"holding": rules(check.holding), "broken": rules(check.broken), "unchecked": list(check.unchecked)},
    }  # fmt: skip


@router.post("/documents/{document_id}/corrections")
def correct(request: Request, principal: Writer, document_id: DocumentId, body: CorrectionIn) -> Response:
    """Correct or accept one cell if the document is still at `expected_version`; 409 with the
    current value and version if not. Answers with the re-checked sums."""
    try:
        reviewed = service(request).review(
            document_id, body.key, body.expected_version, principal.user.name, value=body.value,
            accept=body.accept, comment=body.comment,
        )  # fmt: skip
    except NotFound as exc:
        raise ApiError(404, "not found", str(exc)) from None
    except NotReady as exc:
        raise ApiError(409, "not ready", str(exc)) from None
    except KeyError as exc:
        raise ApiError(422, "unknown field", str(exc.args[0]) if exc.args else "unknown field") from None
    except VersionConflict as exc:
        raise ApiError(409, "conflict", str(exc), key=exc.key, current_value=exc.value,
                       current_version=exc.version) from None  # fmt: skip
    return SafeJSONResponse(_answer(reviewed))


class ReviewStatusIn(BaseModel):
    """Mark a document reviewed (or back to unreviewed) at the version the reviewer saw."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["reviewed", "unreviewed"]
    expected_version: StrictInt = Field(ge=0, le=MAX_ID)


@router.post("/documents/{document_id}/review")
def set_review_status(request: Request, principal: Writer, document_id: DocumentId, body: ReviewStatusIn) -> Response:
    """Set the document's review status; raises its version like a correction (409 if stale)."""
    try:
        version = service(request).set_review_status(document_id, body.status, body.expected_version)
    except NotFound as exc:
        raise ApiError(404, "not found", str(exc)) from None
    except VersionConflict as exc:
        raise ApiError(409, "conflict", str(exc), current_version=exc.version) from None
    return SafeJSONResponse({"document_id": document_id, "status": body.status, "version": version})


class ExtractIn(BaseModel):
    """Read the document again with `reader` (`rules`, `llm`, `both` or `auto`)."""

    model_config = ConfigDict(extra="forbid")

    reader: Reader


@router.post("/documents/{document_id}/extract")
async def reextract(request: Request, principal: Admin, document_id: DocumentId, body: ExtractIn) -> Response:
    """Queue the document to be read again (admins only). The new run takes over the review work of
    cells it reads unchanged; cells it reads otherwise are listed as conflicts on the document.

    202 when queued; 200 with `queued: false` when a done run of this reader version exists (the
    same reader version reads the same, so there is nothing to do); 503 when the server reads
    nothing itself (`--workers none`).
    """
    svc = service(request)
    try:
        plan = await run_in_threadpool(svc.reextraction, document_id, body.reader)
    except NotFound as exc:
        raise ApiError(404, "not found", str(exc)) from None
    except LLMConfigError as exc:
        raise ApiError(422, "reader not available", str(exc), reader=body.reader) from None
    answer: dict[str, Any] = {"document_id": document_id, "reader": plan.reader, "reader_version": plan.reader_version}
    if plan.existing_run is not None:
        reason = "a done run of this reader version exists; the same version reads the same"
        return SafeJSONResponse({**answer, "queued": False, "run": plan.existing_run, "reason": reason})
    if not dispatcher(request).reextract([(document_id, plan.sha256)], plan.reader):
        raise ApiError(503, "no worker", "this server reads no documents (--workers none)")
    return SafeJSONResponse({**answer, "queued": True}, status_code=202)
