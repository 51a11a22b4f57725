"""LLM errors say what they are: a setting to fix stops the run in one line, a busy server is
retried, a bad answer is re-asked and then flagged, and a bug in our code is not swallowed.

Each case runs against the scripted server over real HTTP (a wrong key, an unknown model, a wrong
path, a forced status), or against an address nothing listens on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import create_model, model_validator

from evals.llm_server.failures import FailureConfig
from extractor.ingest import load_path
from extractor.pipeline import extract
from extractor.readers.llm.cache import ResponseCache
from extractor.readers.llm.client import BlockClient
from extractor.readers.llm.config import LLMConfigError, LLMNotConfigured, LLMSettings
from tests.helpers import DEV_DATA
from tests.test_llm_server import MODEL, NAME, PINGTAN, RunningServer, _free_port, _t3_slice

KEY = "sesame"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """A server that, like a hosted API, wants a key and knows one model."""
    running = RunningServer([DEV_DATA / "real"], api_key=KEY, models=["scripted"])
    yield running
    running.stop()


@pytest.fixture
def clean(server: RunningServer) -> RunningServer:
    server.configure()
    return server


def _settings(url: str, **overrides: Any) -> LLMSettings:
    values: dict[str, Any] = {
        "base_url": url, "model": "scripted", "api_key": KEY, "cache_dir": None, "timeout": 5.0,
        "transport_retries": 2, "max_retries": 1, "concurrency": 2,
    }  # fmt: skip
    values.update(overrides)
    return LLMSettings(**values)


def _fatal(settings: LLMSettings) -> LLMConfigError:
    """Read a report with the LLM and return the error that stopped it (failing if none did)."""
    with pytest.raises(LLMConfigError) as caught:
        extract(load_path(PINGTAN), reader="llm", llm=settings)
    error = caught.value
    assert "\n" not in str(error), "a door prints the error as one line"
    return error


def _requests(server: RunningServer) -> int:
    return int(server.get("/_stats")["completions"])


def _ask_one_block(settings: LLMSettings) -> Any:
    """One block through the client, as the reader asks it."""
    return BlockClient(settings).ask("system", f"<text>\n{_t3_slice()}\n</text>", MODEL)


# ---- a setting to fix: one line, naming it, no retries -------------------------------------------


def test_a_wrong_key_names_the_key(clean: RunningServer) -> None:
    error = _fatal(_settings(f"{clean.url}/v1", api_key="wrong"))
    assert error.setting == "GONGKAI_LLM_API_KEY"
    assert "401" in str(error) and "GONGKAI_LLM_API_KEY was refused" in str(error)


def test_a_missing_key_says_it_is_not_set(clean: RunningServer) -> None:
    error = _fatal(_settings(f"{clean.url}/v1", api_key=None))
    assert error.setting == "GONGKAI_LLM_API_KEY" and "is not set" in str(error)


def test_an_unknown_model_names_the_model(clean: RunningServer) -> None:
    error = _fatal(_settings(f"{clean.url}/v1", model="gpt-nonexistent"))
    assert error.setting == "GONGKAI_LLM_MODEL"
    assert "'gpt-nonexistent'" in str(error) and "404" in str(error)


def test_a_wrong_path_names_the_base_url(clean: RunningServer) -> None:
    error = _fatal(_settings(f"{clean.url}/api/v9"))
    assert error.setting == "GONGKAI_LLM_BASE_URL" and "/v1" in str(error)


def test_a_forbidden_model_names_the_key(server: RunningServer) -> None:
    server.configure(force_status=403)
    error = _fatal(_settings(f"{server.url}/v1"))
    assert error.setting == "GONGKAI_LLM_API_KEY" and "403" in str(error)


def test_a_bad_request_names_the_mode_and_is_not_retried(server: RunningServer) -> None:
    server.configure(force_status=400)
    error = _fatal(_settings(f"{server.url}/v1"))
    assert error.setting == "GONGKAI_LLM_MODE" and "400" in str(error)
    server.configure(force_status=400)
    with pytest.raises(LLMConfigError):
        _ask_one_block(_settings(f"{server.url}/v1", transport_retries=3))
    assert _requests(server) == 1


def test_a_conflict_is_not_retried_either(server: RunningServer) -> None:
    """openai retries 409 by default; only timeouts, 429 and 5xx are worth a retry here."""
    server.configure(force_status=409)
    with pytest.raises(LLMConfigError, match="409"):
        _ask_one_block(_settings(f"{server.url}/v1", transport_retries=3))
    assert _requests(server) == 1


def test_nothing_listening_names_the_base_url_at_once() -> None:
    started = time.perf_counter()
    error = _fatal(_settings(f"http://127.0.0.1:{_free_port()}/v1", transport_retries=3))
    assert error.setting == "GONGKAI_LLM_BASE_URL" and "cannot reach" in str(error)
    assert time.perf_counter() - started < 2.0  # a refused connection is not retried with backoff


def test_an_unknown_host_names_the_base_url() -> None:
    error = _fatal(_settings("http://no-such-host.invalid/v1", transport_retries=3))
    assert error.setting == "GONGKAI_LLM_BASE_URL" and "no-such-host.invalid" in str(error)


@pytest.mark.parametrize("url", ["127.0.0.1:8011/v1", "localhost", "ftp://127.0.0.1/v1", "http:///v1"])
def test_a_base_url_that_is_no_url_is_refused_before_any_request(url: str) -> None:
    with pytest.raises(LLMConfigError, match="GONGKAI_LLM_BASE_URL") as caught:
        _settings(url).require()
    assert caught.value.setting == "GONGKAI_LLM_BASE_URL"


def test_not_configured_is_a_config_error() -> None:
    """One `except LLMConfigError` in a door covers the unconfigured case too."""
    with pytest.raises(LLMConfigError) as caught:
        LLMSettings(base_url=None, model=None, _env_file=None).require()
    assert isinstance(caught.value, LLMNotConfigured) and caught.value.setting == "GONGKAI_LLM_BASE_URL"


# ---- a busy server: retried, then the block is lost loudly -----------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried_then_flagged(server: RunningServer, status: int) -> None:
    server.configure(force_status=status)
    answer = _ask_one_block(_settings(f"{server.url}/v1", transport_retries=2))
    assert answer.data is None and answer.error.startswith(f"HTTP {status} after 2 retries")
    assert _requests(server) == 3  # the request and two retries
    server.configure(force_status=status)
    result = extract(load_path(PINGTAN), reader="llm", llm=_settings(f"{server.url}/v1", transport_retries=0))
    notes = [n for n in result.notes if "no usable answer" in n]
    assert notes and len(notes) == int(result.usage["calls"]) == _requests(server)
    flat = result.flat()
    assert set(flat["fields"]) <= set(flat["flags"])  # nothing read, nothing silent


def test_timeouts_are_retried_then_flagged(server: RunningServer) -> None:
    server.configure(FailureConfig(rates={"timeout": 1.0}, timeout_seconds=1.5))
    settings = _settings(f"{server.url}/v1", timeout=0.5, transport_retries=1, concurrency=8)
    result = extract(load_path(PINGTAN), reader="llm", llm=settings)
    notes = [n for n in result.notes if "no usable answer" in n]
    assert notes and all("timed out after 1 retries" in n for n in notes)
    assert len(server.get("/_injected")["injections"]) == 2 * len(notes)


# ---- a bad answer: re-asked, then flagged ----------------------------------------------------------


@pytest.mark.parametrize("mode", ["broken_json", "truncated_json", "refusal"])
def test_answers_that_fail_the_schema_become_flags(server: RunningServer, mode: str) -> None:
    server.configure(FailureConfig(rates={mode: 1.0}))
    result = extract(load_path(PINGTAN), reader="llm", llm=_settings(f"{server.url}/v1"))
    notes = [n for n in result.notes if "no usable answer" in n]
    assert notes and all("answer failed the schema" in n for n in notes)
    flat = result.flat()
    assert set(flat["fields"]) <= set(flat["flags"])


# ---- a bug: seen, not noted -------------------------------------------------------------------------


def _explode(self: Any) -> Any:
    raise TypeError("a bug in a validator of ours")


#: The reader's own block model (same name, same rows), with a validator that has a bug: a
#: TypeError is no schema failure, so it must not become a "no usable answer" note.
_VALIDATORS: dict[str, Any] = {"explode": model_validator(mode="after")(_explode)}
_BUGGY = create_model(NAME, __base__=MODEL, __validators__=_VALIDATORS)


def test_a_bug_in_our_code_propagates(clean: RunningServer) -> None:
    with pytest.raises(Exception) as caught:
        BlockClient(_settings(f"{clean.url}/v1")).ask("system", f"<text>\n{_t3_slice()}\n</text>", _BUGGY)
    assert isinstance(caught.value, TypeError) or isinstance(caught.value.__cause__, TypeError)
    assert _requests(clean) == 1  # not re-asked either


# ---- the cache knows which server answered -------------------------------------------------------


def test_the_cache_key_includes_the_server() -> None:
    args = ("scripted", "v1", "TOOLS", "t3_a_to_b", "text")
    here, there = ResponseCache(None, "http://127.0.0.1:8011/v1"), ResponseCache(None, "http://127.0.0.1:8090/v1")
    assert here.key(*args) != there.key(*args)
    assert here.key(*args) == ResponseCache(None, "http://127.0.0.1:8011/v1/").key(*args)


def test_cached_answers_are_not_replayed_against_another_server(clean: RunningServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = extract(load_path(PINGTAN), reader="llm", llm=_settings(f"{clean.url}/v1", cache_dir=cache))
    assert first.usage["calls"] > 0
    again = extract(load_path(PINGTAN), reader="llm", llm=_settings(f"{clean.url}/v1", cache_dir=cache))
    assert again.usage["calls"] == 0 and again.usage["cached"] == first.usage["calls"]
    _fatal(_settings(f"http://127.0.0.1:{_free_port()}/v1", cache_dir=cache))  # not served from the cache
