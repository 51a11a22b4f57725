"""A scripted OpenAI-compatible chat server that answers table blocks from gold files.

The LLM reader sends one request per *block* (a few consecutive rows of one section); the block's
JSON schema (from `schemas.block_model`) says which cells are asked for, and the user message
carries the section's text between a `<text>` line and a `</text>` line. This server finds the
gold document whose normalised text contains that slice (a fallback window's slice, whose
narrative lines the reader left out, is its pieces between `[…]` marks, printed in that order)
and answers every cell from its gold file (null where gold has no value), in whichever of
instructor's modes the request uses:

- TOOLS: `tools[0].function` is the block model → `message.tool_calls[0].function.arguments`;
- JSON: `response_format: {"type": "json_object"}` → the JSON as `message.content`;
- MD_JSON: neither → `message.content` with a ```json fenced block.

Several gold documents can print the same slice (the huaian excerpt and the huaian PDF, pingtan's
2019 and 2020 table 4). A benchmark that reads one document at a time says which with
`POST /_focus {"doc": NAME}`: the slice is then looked up in that document only, so every request
(and every injection) is attributed to exactly one document without the reader sending anything
extra. Without a focus the document with most of the asked keys in gold is taken, and the request is
counted as ambiguous in `GET /_stats`.

Errors a real server gives for a wrong setting can be asked for: `create_app(api_key=...)` answers
401 to any other key, `models=[...]` answers 404 to any other model (OpenAI's wording), and
`POST /_config {"force_status": 400}` answers every completion request with that status until it is
set back to null.

Injected failures (evals.llm_server.failures) are drawn per request from a `random.Random` seeded
with (seed, a hash of the request body, how often that same body was seen since the last reset),
so a run is reproducible even when requests arrive concurrently in a different order, and a
retried request gets a fresh draw. Every injection is logged at `GET /_injected`.

Token counts are an estimate with a fixed rule, so benchmarks can compare prompt sizes without a
tokenizer: a CJK character (or full-width form) is 1/1.5 token, any other character 1/4 token,
rounded up per text (`count_tokens`). prompt_tokens = Σ over messages (count_tokens(text) + 4)
+ count_tokens(JSON of `tools`) + count_tokens(JSON of `response_format`); completion_tokens =
count_tokens(content) + count_tokens(tool-call arguments).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from evals.gold import load_cases
from evals.llm_server.failures import (
    MODES,
    REFUSAL_TEXT,
    VALUE_MODES,
    Block,
    Change,
    FailureConfig,
    Mode,
    break_json,
    choose_mode,
    corrupt_block,
    fence,
    truncate_json,
)
from extractor.ingest import IngestError, load_path
from extractor.ingest.normalize import normalize
from extractor.readers.llm.windows import OMITTED
from schemas import DISCLOSURE_REPORT

log = logging.getLogger("evals.llm_server")

ApiMode = Literal["tools", "json", "md_json"]
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_WHITESPACE = re.compile(r"\s+")


# ---- tokens --------------------------------------------------------------------------------------


def count_tokens(text: str) -> int:
    """Estimated tokens of one text: CJK characters at 1.5 per token, everything else at 4."""
    cjk = len(_CJK.findall(text))
    return math.ceil(cjk / 1.5 + (len(text) - cjk) / 4)


def message_text(message: Mapping[str, Any]) -> str:
    """All the text of one chat message: string content, text parts, and tool-call arguments."""
    content = message.get("content")
    parts: list[str] = []
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        parts.extend(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    for call in message.get("tool_calls") or []:
        function = call.get("function", {}) if isinstance(call, Mapping) else {}
        parts.append(str(function.get("arguments", "")))
    return "\n".join(parts)


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """Estimated prompt tokens of a request (rule in the module docstring)."""
    total = sum(count_tokens(message_text(m)) + 4 for m in body.get("messages", []) if isinstance(m, Mapping))
    for extra in ("tools", "response_format"):
        if body.get(extra):
            total += count_tokens(json.dumps(body[extra], ensure_ascii=False))
    return total


# ---- gold documents ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldDocument:
    """One document's normalised text (and a whitespace-free copy for lenient matching) and gold."""

    name: str
    normalized: str
    squashed: str
    fields: dict[str, Any]


def load_gold_documents(gold_dirs: Sequence[str | Path]) -> list[GoldDocument]:
    """Every document with a gold file under the folders; one that does not ingest is skipped, logged."""
    docs = []
    for case in load_cases(*(Path(d) for d in gold_dirs)):
        try:
            normalized = load_path(case.document).normalized
        except IngestError as exc:
            log.warning("skipping %s: %s", case.document, exc)
            continue
        docs.append(GoldDocument(case.name, normalized, _WHITESPACE.sub("", normalized), case.fields))
    return docs


def _in_order(pieces: Sequence[str], text: str) -> bool:
    """Whether the pieces are printed in `text` one after another (a fallback window's text with its
    narrative lines left out, `OMITTED` between the pieces, is one slice of the document)."""
    position = 0
    for piece in pieces:
        found = text.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return True


class Library:
    """The gold documents, searched by the text slice a request quotes."""

    def __init__(self, docs: Sequence[GoldDocument]) -> None:
        self.docs = list(docs)
        self.by_name = {d.name: d for d in self.docs}

    def matches(self, slice_text: str, within: Sequence[GoldDocument] | None = None) -> list[GoldDocument]:
        """Every document (of `within`, default all) whose text contains the slice.

        An exact match on the normalised text is tried first, then one that ignores whitespace, so
        a reader that re-flows or trims lines still finds its document.
        """
        docs = self.docs if within is None else list(within)
        pieces = [normalize(piece).strip() for piece in slice_text.split(OMITTED)]
        pieces = [piece for piece in pieces if piece]
        if not pieces:
            return []
        found = [d for d in docs if _in_order(pieces, d.normalized)]
        if not found:
            squashed = [_WHITESPACE.sub("", piece) for piece in pieces]
            found = [d for d in docs if _in_order(squashed, d.squashed)]
        return found

    def find(self, slice_text: str, keys: Sequence[str]) -> GoldDocument | None:
        """The document whose text contains the slice; among several, the one with most of `keys` in gold."""
        found = self.matches(slice_text)
        return max(found, key=lambda d: sum(k in d.fields for k in keys)) if found else None


# ---- the request ---------------------------------------------------------------------------------


class ProtocolError(ValueError):
    """A request this server cannot read as a block request (answered with HTTP 400)."""


@dataclass(frozen=True)
class BlockRequest:
    """What one request asks for: the block's name and section, its rows and columns, and the slice."""

    name: str
    section: str
    columns: dict[str, list[str]]
    api_mode: ApiMode
    text: str | None
    forced_tool: bool = False
    arrays: bool = False  # rows asked as lists of cells in column order (the reader's compact form)
    choices: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = ()  # column sets a list row may mean

    def resolved(self, fields: Mapping[str, Any]) -> BlockRequest:
        """Pick, for list rows whose columns differ between templates, the set the gold document uses."""
        if not self.choices:
            return self
        columns = dict(self.columns)
        for row, options in self.choices:
            columns[row] = list(max(options, key=lambda cols: sum(f"{self.section}.{row}.{c}" in fields for c in cols)))
        return replace(self, columns=columns)

    def payload(self, block: Block) -> str:
        """The answer as the schema asks for it: objects per row, or lists in column order."""
        if not self.arrays:
            return json.dumps(block, ensure_ascii=False)
        rows = {row: [block.get(row, {}).get(col) for col in cols] for row, cols in self.columns.items()}
        return json.dumps(rows, ensure_ascii=False)

    @property
    def keys(self) -> list[str]:
        return [f"{self.section}.{row}.{col}" for row, cols in self.columns.items() for col in cols]

    def answer(self, fields: Mapping[str, Any]) -> Block:
        """Each requested cell from gold, null where gold has no value."""
        return {
            row: {col: fields.get(f"{self.section}.{row}.{col}") for col in cols} for row, cols in self.columns.items()
        }


def parse_block_request(body: Mapping[str, Any]) -> BlockRequest:
    """Read the schema, the instructor mode and the `<text>` slice out of a chat-completion body."""
    messages = [m for m in body.get("messages", []) if isinstance(m, Mapping)]
    tools = body.get("tools") or []
    response_format = body.get("response_format") or {}
    schema: dict[str, Any] | None = None
    name = ""
    api_mode: ApiMode = "md_json"
    forced = False
    if tools:
        function = tools[0].get("function", {})
        schema, name, api_mode = function.get("parameters"), function.get("name", ""), "tools"
        forced = isinstance(body.get("tool_choice"), Mapping)
    elif response_format.get("type") in ("json_object", "json_schema"):
        api_mode = "json"
        wrapped = response_format.get("json_schema") or {}
        schema, name = wrapped.get("schema"), wrapped.get("name", "")
    if not schema:
        schema = _schema_in_messages(messages)
    if not schema:
        raise ProtocolError("no JSON schema found in tools, response_format or the messages")
    name = name or str(schema.get("title", ""))
    if not name:
        raise ProtocolError("the block schema has no name (tool name or schema title)")
    section = name.split("_")[0]
    columns: dict[str, list[str]] = {}
    choices: list[tuple[str, tuple[tuple[str, ...], ...]]] = []
    arrays = False
    for row, node in schema["properties"].items():
        resolved = _resolve(schema, node)
        if "properties" in resolved:
            columns[row] = list(resolved["properties"])
            continue
        arrays = True
        options = _array_columns(section, row, int(resolved.get("maxItems") or resolved.get("minItems") or 0))
        if not options:
            raise ProtocolError(f"row '{row}' of {name} is no row of the report templates")
        columns[row] = list(options[0])
        if len(options) > 1:
            choices.append((row, tuple(options)))
    return BlockRequest(name, section, columns, api_mode, _text_slice(messages), forced, arrays, tuple(choices))


def _array_columns(section: str, row: str, width: int) -> list[tuple[str, ...]]:
    """The column keys a list row of this width may stand for, from the report templates."""
    options: list[tuple[str, ...]] = []
    for template in DISCLOSURE_REPORT.templates:
        try:
            spec = template.section(section).row(row)
        except KeyError:
            continue
        keys = tuple(col.key for col in spec.columns)
        if len(keys) == width and keys not in options:
            options.append(keys)
    return options


def _schema_in_messages(messages: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The first JSON object with "properties" embedded in any message (instructor's JSON modes)."""
    decoder = json.JSONDecoder()
    for message in messages:
        text = message_text(message)
        for match in re.finditer(r"\{", text):
            try:
                value, _ = decoder.raw_decode(text, match.start())
            except ValueError:
                continue
            if isinstance(value, dict) and isinstance(value.get("properties"), dict):
                return value
    return None


def _resolve(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow `$ref`, a one-item `allOf` and the non-null branch of `anyOf` to the row's object schema."""
    for _ in range(16):
        if "$ref" in node:
            target: Any = root
            for part in str(node["$ref"]).lstrip("#/").split("/"):
                target = target[part]
            node = target
        elif node.get("allOf"):
            node = node["allOf"][0]
        elif node.get("anyOf"):
            node = next((n for n in node["anyOf"] if n.get("type") != "null"), node["anyOf"][0])
        else:
            break
    return node


def _text_slice(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """The text between the first `<text>` line and the next `</text>` line, in user messages first."""
    ordered = [m for m in messages if m.get("role") == "user"] + [m for m in messages if m.get("role") != "user"]
    for message in ordered:
        text = message_text(message)
        start = text.find("<text>")
        if start < 0:
            continue
        end = text.find("</text>", start)
        return text[start + len("<text>") : end if end >= 0 else len(text)].strip()
    return None


# ---- state and log -------------------------------------------------------------------------------


@dataclass
class Injection:
    """One injected failure: where, what, and for value failures each wrong value next to gold."""

    n: int
    request_id: str
    mode: str
    api_mode: str
    doc: str | None
    block: str
    keys: list[str]
    changes: list[Change]
    detail: str


@dataclass
class ServerState:
    """Everything a run changes: the config, the per-body attempt counters, the log and the counters."""

    library: Library
    config: FailureConfig
    seed: int
    attempts: Counter[str] = field(default_factory=Counter)
    injections: list[Injection] = field(default_factory=list)
    requests: int = 0
    unmatched: list[str] = field(default_factory=list)
    not_applicable: Counter[str] = field(default_factory=Counter)
    focus: str | None = None  # the one document requests are looked up in (POST /_focus)
    ambiguous: int = 0  # requests whose slice more than one document prints
    force_status: int | None = None  # answer every completion with this HTTP status (POST /_config)
    completions: int = 0  # completion requests received, refused and forced ones included

    def reset(self) -> None:
        """Forget the log and the attempt counters, so the same requests draw the same failures again."""
        self.attempts.clear()
        self.injections.clear()
        self.requests = 0
        self.unmatched.clear()
        self.not_applicable.clear()
        self.ambiguous = 0
        self.completions = 0

    def find(self, request: BlockRequest) -> GoldDocument | None:
        """The gold document a request is about: the focused one if set, else the best match."""
        if not request.text:
            return None
        everywhere = self.library.matches(request.text)
        if len(everywhere) > 1:
            self.ambiguous += 1
        if self.focus is None:
            return self.library.find(request.text, request.keys)
        focused = self.library.by_name.get(self.focus)
        if focused is None or not self.library.matches(request.text, [focused]):
            return None
        return focused

    def draw(self, body: Mapping[str, Any]) -> tuple[random.Random, str]:
        """The request's own RNG and a stable id, from (seed, body hash, attempt number of that body)."""
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        attempt = self.attempts[digest]
        self.attempts[digest] += 1
        request_id = hashlib.sha256(f"{self.seed}:{digest}:{attempt}".encode()).hexdigest()[:24]
        return random.Random(f"{self.seed}:{digest}:{attempt}"), f"chatcmpl-{request_id}"

    def record(self, injection: Injection) -> None:
        self.injections.append(injection)
        log.info("injected %s into %s (%s): %s", injection.mode, injection.block, injection.doc, injection.detail)

    def injected_report(self) -> dict[str, Any]:
        """The log as JSON, with totals the benchmark needs (wrong values sent per mode)."""
        by_mode = Counter(i.mode for i in self.injections)
        return {
            "seed": self.seed,
            "count": len(self.injections),
            "wrong_values": sum(len(i.changes) for i in self.injections),
            "by_mode": dict(by_mode),
            "injections": [asdict(i) for i in self.injections],
        }


# ---- responses -----------------------------------------------------------------------------------


def _error(status: int, message: str, kind: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    content = {"error": {"message": message, "type": kind, "code": None}}
    return JSONResponse(content, status, headers=dict(headers or {}))


def _completion(
    body: Mapping[str, Any],
    request: BlockRequest,
    request_id: str,
    payload: str | None,
    *,
    finish_reason: str | None = None,
    content: str | None = None,
) -> dict[str, Any]:
    """A chat.completion object carrying `payload` (JSON text) the way the request's mode expects it."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    arguments = ""
    if payload is not None and request.api_mode == "tools":
        arguments = payload
        message["tool_calls"] = [
            {
                "id": f"call_{request_id[-12:]}",
                "type": "function",
                "function": {"name": request.name, "arguments": payload},
            }
        ]
        finish_reason = finish_reason or ("stop" if request.forced_tool else "tool_calls")
    elif payload is not None:
        message["content"] = payload if request.api_mode == "json" else fence(payload)
        if finish_reason == "length" and request.api_mode == "md_json":
            message["content"] = f"```json\n{payload}"
    completion = count_tokens(message["content"] or "") + count_tokens(arguments)
    prompt = prompt_tokens(body)
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model") or "gongkai-scripted"),
        "system_fingerprint": "gongkai-scripted",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason or "stop", "logprobs": None}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


# ---- the app -------------------------------------------------------------------------------------


_STATUS_ERRORS = {
    400: ("the request is malformed (scripted)", "invalid_request_error"),
    401: ("Incorrect API key provided (scripted)", "invalid_request_error"),
    403: ("You do not have access to this model (scripted)", "permission_error"),
    404: ("The requested resource does not exist (scripted)", "invalid_request_error"),
    429: ("Rate limit reached (scripted)", "rate_limit_error"),
}


def _forced(status: int) -> JSONResponse:
    message, kind = _STATUS_ERRORS.get(status, (f"scripted HTTP {status}", "server_error"))
    return _error(status, message, kind)


def _refuse(
    http_request: Request, body: Mapping[str, Any], api_key: str | None, models: Sequence[str] | None
) -> JSONResponse | None:
    """The 401 or 404 a real server gives for a wrong key or an unknown model, in OpenAI's wording."""
    if api_key is not None and http_request.headers.get("authorization", "") != f"Bearer {api_key}":
        return _error(401, "Incorrect API key provided (scripted).", "invalid_request_error")
    if models is not None and body.get("model") not in models:
        message = f"The model `{body.get('model')}` does not exist or you do not have access to it."
        return _error(404, message, "invalid_request_error")
    return None


def create_app(
    gold_dirs: Sequence[str | Path],
    failures: FailureConfig | Mapping[str, Any] | None = None,
    seed: int = 0,
    api_key: str | None = None,
    models: Sequence[str] | None = None,
) -> FastAPI:
    """The server over the gold documents under `gold_dirs`, with `failures` injected at their rates.

    `api_key`: only that bearer key is accepted (else 401); `models`: only those model names (else 404).
    """
    config = failures if isinstance(failures, FailureConfig) else FailureConfig.model_validate(failures or {})
    docs = load_gold_documents(gold_dirs)
    log.info("loaded %d gold documents from %s", len(docs), ", ".join(map(str, gold_dirs)))
    state = ServerState(Library(docs), config, seed)
    app = FastAPI(title="gongkai scripted LLM", version="1")
    app.state.server = state

    async def chat_completions(http_request: Request) -> Any:
        state.completions += 1
        try:
            body = await http_request.json()
        except ValueError:
            return _error(400, "the body is not JSON", "invalid_request_error")
        if not isinstance(body, dict):
            return _error(400, "the body is not a JSON object", "invalid_request_error")
        refused = _refuse(http_request, body, api_key, models)
        if refused is not None:
            return refused
        if state.force_status is not None:
            return _forced(state.force_status)
        if body.get("stream"):
            return _error(400, "streaming is not supported by the scripted server", "invalid_request_error")
        try:
            request = parse_block_request(body)
        except (ProtocolError, KeyError, TypeError, AttributeError) as exc:
            return _error(400, f"not a block request: {exc}", "invalid_request_error")
        return await _answer(state, body, request)

    app.add_api_route("/v1/chat/completions", chat_completions, methods=["POST"])
    app.add_api_route("/chat/completions", chat_completions, methods=["POST"])

    @app.get("/v1/models")
    @app.get("/models")
    async def list_models() -> dict[str, Any]:
        names = list(models) if models is not None else ["gongkai-scripted"]
        return {"object": "list", "data": [{"id": n, "object": "model", "owned_by": "gongkai"} for n in names]}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "documents": len(state.library.docs)}

    @app.get("/_injected")
    async def injected() -> dict[str, Any]:
        return state.injected_report()

    @app.post("/_reset")
    async def reset() -> dict[str, Any]:
        state.reset()
        return {"ok": True}

    @app.get("/_config")
    async def get_config() -> dict[str, Any]:
        return _config_report(state)

    @app.post("/_config")
    async def set_config(http_request: Request) -> Any:
        """Change the failure config and/or seed of a running server: `{"failures": {...}, "seed": 1}`."""
        update = await http_request.json()
        try:
            if "failures" in update:
                state.config = FailureConfig.model_validate(update["failures"])
            if "seed" in update:
                state.seed = int(update["seed"])
            if "force_status" in update:
                forced = update["force_status"]
                state.force_status = None if forced is None else int(forced)
        except ValueError as exc:
            return _error(400, str(exc), "invalid_request_error")
        return _config_report(state)

    @app.post("/_focus")
    async def focus(http_request: Request) -> Any:
        """Look slices up in this document only (`{"doc": NAME}`), or everywhere again (`{"doc": null}`)."""
        update = await http_request.json()
        name = update.get("doc") if isinstance(update, dict) else None
        if name is not None and name not in state.library.by_name:
            return _error(404, f"no gold document named {name!r}", "invalid_request_error")
        state.focus = name
        return {"focus": name}

    @app.get("/_stats")
    async def stats() -> dict[str, Any]:
        return {
            "requests": state.requests,
            "completions": state.completions,
            "injected": len(state.injections),
            "unmatched": state.unmatched,
            "ambiguous": state.ambiguous,
            "focus": state.focus,
            "not_applicable": dict(state.not_applicable),
        }

    return app


def _config_report(state: ServerState) -> dict[str, Any]:
    return {
        "seed": state.seed,
        "force_status": state.force_status,
        "failures": state.config.model_dump(),
        "effective_rates": state.config.effective_rates(),
    }


async def _answer(state: ServerState, body: Mapping[str, Any], request: BlockRequest) -> Any:
    """Answer one block from gold, with at most one failure drawn for this request."""
    rng, request_id = state.draw(body)
    state.requests += 1
    mode: Mode | None = choose_mode(state.config.effective_rates(), rng.random())
    doc = state.find(request)
    if doc is None:
        state.unmatched.append(request.name)
        where = f"gold document {state.focus}" if state.focus else "gold document"
        log.warning("no %s contains the text of %s; answering nulls", where, request.name)
    if doc is not None:
        request = request.resolved(doc.fields)
    clean = request.answer(doc.fields if doc else {})
    doc_name = doc.name if doc else None

    def record(mode: Mode, detail: str, changes: list[Change] | None = None) -> None:
        keys = [c.key for c in changes] if changes else request.keys
        state.record(
            Injection(
                len(state.injections) + 1,
                request_id,
                mode,
                request.api_mode,
                doc_name,
                request.name,
                keys,
                changes or [],
                detail,
            )
        )

    if mode == "http_429":
        retry = state.config.retry_after
        record(mode, f"HTTP 429, Retry-After {retry:g} s")
        headers = {"Retry-After": str(math.ceil(retry)), "retry-after-ms": str(int(retry * 1000))}
        return _error(429, "Rate limit reached (scripted)", "rate_limit_error", headers)
    if mode == "http_500":
        record(mode, "HTTP 500")
        return _error(500, "The server had an error while processing your request (scripted)", "server_error")
    if mode == "refusal":
        record(mode, "refused")
        return _completion(body, request, request_id, None, content=REFUSAL_TEXT)
    if mode == "timeout":
        record(mode, f"slept {state.config.timeout_seconds:g} s before answering")
        await asyncio.sleep(state.config.timeout_seconds)

    block = clean
    if mode in VALUE_MODES:
        corruption = corrupt_block(
            mode, request.section, clean, rng, normalize(request.text or ""), state.config.merge_fill
        )
        if corruption is None:
            state.not_applicable[mode] += 1
        else:
            block = corruption.block
            record(mode, corruption.detail, corruption.changes)
    payload = request.payload(block)
    if mode == "broken_json":
        payload, detail = break_json(payload, rng)
        record(mode, detail)
    elif mode == "truncated_json":
        payload, detail = truncate_json(payload, rng)
        record(mode, detail)
        return _completion(body, request, request_id, payload, finish_reason="length")
    return _completion(body, request, request_id, payload)


__all__ = ["MODES", "create_app"]
