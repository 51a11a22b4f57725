"""The provider room: an instructor client over openai, and usage counted on every attempt.

Kept apart from the reader (as instructor keeps providers apart from its retry logic): the
reader asks for a block and gets an answer and its usage, whatever server is behind it.

Errors fall in three kinds, and only the last one is a block's own business:

- a setting to fix (authentication, an unknown model or path, an address that does not answer,
  a request the server calls malformed): `LLMConfigError`, which stops the run with one line.
  No retry mends these, and going on would turn a wrong key into a quiet rules-only run;
- a busy or failing server (timeouts, 408, 429, 5xx): retried by the openai client with
  backoff (`transport_retries`); still failing after that, the block gets no answer and a note,
  and its cells are flagged like any other lost cell;
- an answer that fails the schema (broken or truncated JSON, a refusal, wrong shapes): re-asked
  by instructor (`max_retries`); still failing, the block gets no answer and a note.

Anything else is a bug (ours or a library's) and propagates.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import httpx2
import openai
import pydantic
from instructor.core.exceptions import (
    IncompleteOutputException,
    InstructorRetryException,
    ResponseParsingError,
    TokenBudgetError,
)
from instructor.core.exceptions import ValidationError as InstructorValidationError
from pydantic import BaseModel

from extractor.readers.llm.config import LLMConfigError, LLMSettings, one_line

# instructor logs every failed attempt at ERROR. With no logging configured Python prints those to
# stderr, around the one line a door prints; the outcome is ours to report (a note on the block,
# or an LLMConfigError). An application that configures logging still gets them.
logging.getLogger("instructor").addHandler(logging.NullHandler())

#: Answers a retry may mend: a request timeout, rate limiting, the server's own failures.
RETRIED_STATUS = frozenset({408, 429})

#: What a block's answer may fail with and still be the model's fault, not ours or a setting's.
_SCHEMA_FAILURES = (
    pydantic.ValidationError,
    json.JSONDecodeError,
    InstructorValidationError,
    ResponseParsingError,
    IncompleteOutputException,
    openai.LengthFinishReasonError,
    openai.ContentFilterFinishReasonError,
    openai.APIResponseValidationError,
)


@dataclass
class Answer:
    data: dict[str, Any] | None
    tokens_in: int
    tokens_out: int
    attempts: int
    error: str = ""


def transient(status: int) -> bool:
    """Whether an HTTP status is worth a retry: a timeout, 429 or 5xx."""
    return status in RETRIED_STATUS or status >= 500


class _TransientOnlyOpenAI(openai.OpenAI):
    """The openai client, retrying only timeouts, 429 and 5xx (it also retries 409 by default)."""

    def _should_retry(self, response: httpx2.Response) -> bool:
        return transient(response.status_code) and super()._should_retry(response)


class _FailFastTransport(httpx2.BaseTransport):
    """Connection errors other than timeouts end the request at once, as openai errors.

    The openai client retries any connection error; a refused connection, an unknown host or a
    TLS mismatch does not mend on a retry, it only delays the one-line error by seconds per block.
    openai passes its own errors through without retrying them.
    """

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self.inner.handle_request(request)
        except httpx2.TimeoutException:
            raise
        except httpx2.TransportError as exc:
            raise openai.APIConnectionError(message=f"{exc.__class__.__name__}: {exc}", request=request) from exc

    def close(self) -> None:
        self.inner.close()


def _fail_fast(http: httpx2.Client) -> httpx2.Client:
    """Wrap the client's transports (the default one and any proxy mounts) in `_FailFastTransport`.

    httpx has no public way to wrap the transports it builds from the environment (proxies), so
    this reaches into `_transport` and `_mounts`; both exist in every httpx2 release we install.
    """
    http._transport = _FailFastTransport(http._transport)
    http._mounts = {pattern: None if t is None else _FailFastTransport(t) for pattern, t in http._mounts.items()}
    return http


def _server_message(exc: openai.APIStatusError) -> str:
    """The server's own words: `error.message` of an OpenAI-style body, else the body, else the text."""
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if message is None and isinstance(error, dict):
            message = error.get("detail")
        return one_line(str(message if message is not None else body), 200)
    return one_line(str(body or exc.message), 200)


def config_error(exc: openai.APIStatusError | openai.APIConnectionError, settings: LLMSettings) -> LLMConfigError:
    """The one-line error for an answer no retry mends, naming the setting most likely wrong."""
    where = f"the LLM server at GONGKAI_LLM_BASE_URL={settings.base_url}"
    if not isinstance(exc, openai.APIStatusError):
        cause = exc.__cause__ or exc
        reason = one_line(str(cause) or cause.__class__.__name__, 200)
        return LLMConfigError(f"cannot reach {where} ({reason}): check GONGKAI_LLM_BASE_URL", "GONGKAI_LLM_BASE_URL")
    status, said = exc.status_code, _server_message(exc)
    if status == 401:
        key = "is not set" if not settings.api_key else "was refused"
        return LLMConfigError(
            f"{where} answered 401 ({said}): GONGKAI_LLM_API_KEY {key}; check GONGKAI_LLM_API_KEY",
            "GONGKAI_LLM_API_KEY",
        )
    if status in (402, 403):
        return LLMConfigError(
            f"{where} answered {status} ({said}): the key has no access to model {settings.model!r}; "
            "check GONGKAI_LLM_API_KEY (and the account) or GONGKAI_LLM_MODEL",
            "GONGKAI_LLM_API_KEY",
        )
    if status == 404:
        if "model" in said.lower():
            return LLMConfigError(
                f"{where} does not know model {settings.model!r} (404: {said}): check GONGKAI_LLM_MODEL",
                "GONGKAI_LLM_MODEL",
            )
        return LLMConfigError(
            f"{where} has no chat completions endpoint (404: {said}): check GONGKAI_LLM_BASE_URL "
            "(OpenAI-compatible servers usually end in /v1)",
            "GONGKAI_LLM_BASE_URL",
        )
    if status in (400, 413, 422):
        return LLMConfigError(
            f"{where} rejected the request ({status}: {said}): check GONGKAI_LLM_MODE (now {settings.mode}; "
            "TOOLS, JSON or MD_JSON) and GONGKAI_LLM_MODEL",
            "GONGKAI_LLM_MODE",
        )
    return LLMConfigError(f"{where} answered {status} ({said}): check GONGKAI_LLM_BASE_URL", "GONGKAI_LLM_BASE_URL")


def block_failure(exc: Exception, settings: LLMSettings) -> str:
    """The note for a block that gets no usable answer; raises what is not the block's own business.

    instructor wraps whatever ends its attempts in InstructorRetryException; the cause says
    what it was. A setting to fix raises `LLMConfigError`; anything that is neither a busy server
    nor a bad answer is re-raised as it came (a bug must be seen, not noted).
    """
    cause: BaseException = exc
    if isinstance(exc, InstructorRetryException) and not isinstance(exc, TokenBudgetError) and exc.__cause__:
        cause = exc.__cause__
    retries = settings.transport_retries
    if isinstance(cause, openai.APITimeoutError):
        return f"timed out after {retries} retries (GONGKAI_LLM_TIMEOUT={settings.timeout:g} s)"
    if isinstance(cause, openai.APIConnectionError):
        raise config_error(cause, settings) from exc
    if isinstance(cause, openai.APIStatusError):
        if transient(cause.status_code):
            return f"HTTP {cause.status_code} after {retries} retries ({_server_message(cause)})"
        raise config_error(cause, settings) from exc
    if isinstance(cause, _SCHEMA_FAILURES) or isinstance(exc, TokenBudgetError):
        name = cause.__class__.__name__
        return one_line(f"answer failed the schema after {settings.max_retries} retries ({name}: {cause})", 240)
    raise exc


class BlockClient:
    """One per document run; thread-safe for the reader's worker threads."""

    def __init__(self, settings: LLMSettings, http_client: httpx2.Client | None = None) -> None:
        """`http_client` lets a benchmark watch the requests (event hooks); its transport is wrapped
        so that connection errors other than timeouts are not retried."""
        import instructor

        settings.require()
        http = _fail_fast(http_client or openai.DefaultHttpx2Client())
        raw = _TransientOnlyOpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key or "not-needed",
            timeout=settings.timeout,
            max_retries=settings.transport_retries,
            http_client=http,
        )
        self.settings = settings
        self.client = instructor.from_openai(raw, mode=instructor.Mode[settings.mode.upper()])
        self.lock = threading.Lock()

    def ask(self, system: str, user: str, model: type[BaseModel]) -> Answer:
        """One block: the validated answer, or no data and a note; every attempt's usage counted."""
        from instructor.core.hooks import Hooks

        usages: list[Any] = []
        hooks = Hooks()
        hooks.on("completion:response", lambda response: usages.append(getattr(response, "usage", None)))
        data: dict[str, Any] | None = None
        error = ""
        try:
            answer = self.client.chat.completions.create(
                model=self.settings.model or "",
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_model=model,
                max_retries=self.settings.max_retries,
                temperature=self.settings.temperature,
                hooks=hooks,
            )
            data = answer.model_dump(mode="json")
        except Exception as exc:  # sorted by block_failure: a note, an LLMConfigError, or re-raised
            error = block_failure(exc, self.settings)
        tokens_in = sum(getattr(u, "prompt_tokens", 0) or 0 for u in usages if u is not None)
        tokens_out = sum(getattr(u, "completion_tokens", 0) or 0 for u in usages if u is not None)
        return Answer(data, tokens_in, tokens_out, len(usages), error)
