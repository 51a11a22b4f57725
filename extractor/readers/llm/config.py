"""Settings of the LLM reader (GONGKAI_LLM_*): any OpenAI-compatible server, chosen by configuration."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIGURE_HINT = (
    "set GONGKAI_LLM_BASE_URL (e.g. https://api.openai.com/v1, https://api.deepseek.com, a vLLM/Ollama/"
    "llama.cpp server such as http://127.0.0.1:8080/v1) and GONGKAI_LLM_MODEL, plus GONGKAI_LLM_API_KEY if "
    "the server needs one; `make local-llm` starts a small local model and prints these lines"
)


class LLMConfigError(RuntimeError):
    """A setting of the LLM is wrong: the run stops with one line that names the setting to fix.

    Raised for what no retry can mend (authentication, an unknown model or path, an address that
    does not answer, a request the server calls malformed), so that a wrong key does not turn into
    a quiet rules-only run with a note on every block. Doors catch it and print `str(error)`;
    `setting` is the variable the message names first.
    """

    def __init__(self, message: str, setting: str) -> None:
        super().__init__(one_line(message))
        self.setting = setting


class LLMNotConfigured(LLMConfigError):
    """Raised when an LLM reading is asked for but no server is configured."""

    def __init__(self) -> None:
        super().__init__(f"no LLM is configured: {CONFIGURE_HINT}", "GONGKAI_LLM_BASE_URL")


def one_line(text: str, limit: int = 400) -> str:
    """Collapse whitespace (servers answer with multi-line bodies) and cap the length: a door prints one line."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class LLMSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_LLM_", env_file=".env", extra="ignore")

    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None
    mode: str = "TOOLS"  # instructor mode: TOOLS, JSON or MD_JSON (llama.cpp's server has no JSON_SCHEMA)
    temperature: float = 0.0
    timeout: float = 60.0
    concurrency: int = 4
    max_retries: int = 2  # schema-validation retries, through instructor
    transport_retries: int = 3  # timeouts, 429 and 5xx, with backoff, through the openai client
    token_budget: int = 40_000  # per document, retries included: stops a runaway
    price_input_per_million: float = 0.0
    price_output_per_million: float = 0.0
    cache_dir: Path | None = Path.home() / ".cache" / "gongkai" / "llm"
    block_rows: int = 6  # rows per call: small enough for a small model, few enough calls to save tokens
    prompt_version: str = "v1"
    fallback_window: int = 4000  # characters of text around a table the rules reader could not place (`auto`)

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.model)

    def require(self) -> None:
        """Refuse to start without a server and model, or with a base URL no client could call."""
        if not self.configured:
            raise LLMNotConfigured()
        parts = urlsplit(self.base_url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LLMConfigError(
                f"GONGKAI_LLM_BASE_URL={self.base_url!r} is not an http(s) URL "
                "(e.g. http://127.0.0.1:8080/v1 or https://api.deepseek.com)",
                "GONGKAI_LLM_BASE_URL",
            )

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.price_input_per_million + tokens_out * self.price_output_per_million) / 1e6
