"""A session-wide real LLM for tests: llama.cpp's OpenAI-compatible server on the pinned small model.

Use it from a test module (there is no conftest, so import the fixture where it is used):

    from tests.llm_local_fixture import local_llm  # noqa: F401  (pytest finds fixtures by name)

    @pytest.mark.local_llm
    def test_something(local_llm: LocalLLM) -> None:
        base_url, model = local_llm
        ...  # e.g. monkeypatch GONGKAI_LLM_BASE_URL / GONGKAI_LLM_MODEL / GONGKAI_LLM_MODE=TOOLS

One server is started for the whole session (the model loads in about a second, but the server
process costs ~0.5 GB of memory) and stopped at its end. Tests skip, saying why, when
llama-cpp-python or the model packages are not installed; a model file whose sha256 is wrong is a
failure, never a skip. Use instructor's TOOLS, JSON or MD_JSON modes: llama.cpp's server has no
JSON_SCHEMA mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pytest

from extractor import llm_local


class LocalLLM(NamedTuple):
    """What a test needs to reach the server; unpacks as `base_url, model`."""

    base_url: str  # ends in /v1
    model: str


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


@pytest.fixture(scope="session")
def local_llm() -> Iterator[LocalLLM]:
    """Start the server once per session (skipping when it cannot run here) and yield where it is."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    server = llm_local.start_server()
    try:
        yield LocalLLM(server.base_url, server.model)
    finally:
        server.stop()
