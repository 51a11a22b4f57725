"""A session-wide real LLM for tests: llama.cpp's OpenAI-compatible server on the pinned small model.

tests/conftest.py loads this module as a plugin, so a test just asks for the fixture by name:

    from tests.llm_local_fixture import LocalLLM

    @pytest.mark.local_llm
    def test_something(local_llm: LocalLLM) -> None:
        base_url, model = local_llm
        ...  # e.g. monkeypatch GONGKAI_LLM_BASE_URL / GONGKAI_LLM_MODEL / GONGKAI_LLM_MODE=TOOLS

One server is started for the whole session (the model loads in about a second, but the server
process costs ~0.5 GB of memory) and stopped at its end; its stdout and stderr go to a log file in
pytest's temporary directory. When llama-cpp-python or the model packages are not installed the
tests skip, saying why, and fail instead under `CI=true` (tests/services.py). A model file whose
sha256 is wrong, or a server that will not start, is a failure, never a skip.

A server that dies during a test (a llama.cpp built for another CPU segfaults on the first
completion) would show the test only "Connection error": the `pytest_runtest_call` hook below asks
`death_note()` when a test using `local_llm` raises, and re-raises with how the server died and
the tail of its log (the original error stays attached as the cause).
A test that asks for `local_llm` after the server died fails at once with the same note.

Use instructor's TOOLS, JSON or MD_JSON modes: llama.cpp's server has no JSON_SCHEMA mode.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import NamedTuple

import pytest

from evals import local_llm as llm_local
from tests.services import require_service

# The session's server, for the conftest hook that explains failures (None when none was started).
_SERVER: llm_local.LocalLLMServer | None = None


class LocalLLM(NamedTuple):
    """What a test needs to reach the server; unpacks as `base_url, model`."""

    base_url: str  # ends in /v1
    model: str


class LocalServerDied(AssertionError):
    """The local llama.cpp server is not running any more; the message says how it ended and shows its log."""


def skip_reason() -> str | None:
    """Why the local LLM cannot run here, or None when it can."""
    if not llm_local.llama_cpp_available():
        return f"llama_cpp is not installed; {llm_local.SERVER_INSTALL_HINT}"
    if not llm_local.model_path().is_file():
        try:
            llm_local.find_parts()
        except llm_local.LocalLLMError as exc:
            return f"no local model: {exc}"
    return None


def death_note(wait: float = 2.0) -> str | None:
    """How the session's server died and its log's tail, or None when it runs (or was never started)."""
    return _SERVER.death_note(wait=wait) if _SERVER is not None else None


@pytest.fixture(scope="session")
def local_llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[llm_local.LocalLLMServer]:
    """Start the server once per session (skip, or fail under CI=true, when it cannot run here)."""
    global _SERVER
    reason = skip_reason()
    if reason:
        require_service(reason)
    server = llm_local.start_server(log_dir=tmp_path_factory.mktemp("llama-server"))
    _SERVER = server
    try:
        yield server
    finally:
        _SERVER = None
        server.stop()


def reach(server: llm_local.LocalLLMServer) -> LocalLLM:
    """Where `server` is; LocalServerDied (not a connection error later) if it has died."""
    __tracebackhide__ = True
    note = server.death_note()
    if note:
        raise LocalServerDied(f"the local model's server died before this test: {note}")
    return LocalLLM(server.base_url, server.model)


@pytest.fixture
def local_llm(local_llm_server: llm_local.LocalLLMServer) -> LocalLLM:
    """Where the session's server is, checked alive for each test."""
    return reach(local_llm_server)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Turn a test's error into "the server died: how, and its log" when the local server is gone."""
    __tracebackhide__ = True  # the failure points at the test, not at this hook
    try:
        return (yield)
    except Exception as exc:
        if "local_llm" in getattr(item, "fixturenames", ()):
            note = death_note()
            if note:
                raise LocalServerDied(f"the local model's server died during this test: {note}") from exc
        raise
