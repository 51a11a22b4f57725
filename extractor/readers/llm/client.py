"""The provider room: an instructor client over openai, and usage counted on every attempt.

Kept apart from the reader (as instructor keeps providers apart from its retry logic): the
reader asks for a block and gets an answer and its usage, whatever server is behind it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from extractor.readers.llm.config import LLMSettings


@dataclass
class Answer:
    data: dict[str, Any] | None
    tokens_in: int
    tokens_out: int
    attempts: int
    error: str = ""


class BlockClient:
    """One per document run; thread-safe for the reader's worker threads."""

    def __init__(self, settings: LLMSettings) -> None:
        import instructor
        from openai import OpenAI

        settings.require()
        raw = OpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key or "not-needed",
            timeout=settings.timeout,
            max_retries=settings.transport_retries,
        )
        self.settings = settings
        self.client = instructor.from_openai(raw, mode=instructor.Mode[settings.mode.upper()])
        self.lock = threading.Lock()

    def ask(self, system: str, user: str, model: type[BaseModel]) -> Answer:
        from instructor.core.hooks import Hooks

        usages: list[Any] = []
        hooks = Hooks()
        hooks.on("completion:response", lambda response: usages.append(getattr(response, "usage", None)))
        try:
            answer = self.client.chat.completions.create(
                model=self.settings.model or "",
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                response_model=model,
                max_retries=self.settings.max_retries,
                temperature=self.settings.temperature,
                hooks=hooks,
            )
            data: dict[str, Any] | None = answer.model_dump(mode="json")
            error = ""
        except Exception as exc:  # transport, rate limit after retries, unusable answers: all end the block
            data, error = None, f"{exc.__class__.__name__}: {str(exc)[:200]}"
        tokens_in = sum(getattr(u, "prompt_tokens", 0) or 0 for u in usages if u is not None)
        tokens_out = sum(getattr(u, "completion_tokens", 0) or 0 for u in usages if u is not None)
        return Answer(data, tokens_in, tokens_out, len(usages), error)
