"""Settings of the LLM reader (GONGKAI_LLM_*): any OpenAI-compatible server, chosen by configuration."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIGURE_HINT = (
    "set GONGKAI_LLM_BASE_URL (e.g. https://api.openai.com/v1, https://api.deepseek.com, a vLLM/Ollama/"
    "llama.cpp server such as http://127.0.0.1:8080/v1) and GONGKAI_LLM_MODEL, plus GONGKAI_LLM_API_KEY if "
    "the server needs one; `make local-llm` starts a small local model and prints these lines"
)


class LLMNotConfigured(RuntimeError):
    """Raised when an LLM reading is asked for but no server is configured."""

    def __init__(self) -> None:
        super().__init__(f"no LLM is configured: {CONFIGURE_HINT}")


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

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.model)

    def require(self) -> None:
        if not self.configured:
            raise LLMNotConfigured()

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.price_input_per_million + tokens_out * self.price_output_per_million) / 1e6
