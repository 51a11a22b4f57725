"""A document's token budget shared by the workers that read its sections apart.

The LLM reader stops asking once a document has spent its budget (`GONGKAI_LLM_TOKEN_BUDGET`).
In one process that is a counter; when a chord spreads one document's tables over several
workers, the counter lives in Redis (the result backend), so the budget stays per document.
"""

from __future__ import annotations

import functools

import redis

from extractor.settings import get_settings
from workers.config import get_worker_settings

_TTL_SECONDS = 24 * 3600  # long after any chord has joined


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


class SharedBudget:
    """Tokens spent on one (document, reader version), counted in Redis."""

    def __init__(self, sha256: str, version: str, limit: int, url: str | None = None) -> None:
        self.limit = limit
        self.key = f"{get_worker_settings().key_prefix}gongkai:budget:{sha256}:{version}"
        self.client = _client(url or get_settings().result_backend)

    def allows(self) -> bool:
        spent = self.client.get(self.key)
        return int(spent or 0) < self.limit

    def spend(self, tokens: int) -> None:
        with self.client.pipeline() as pipe:
            pipe.incrby(self.key, tokens)
            pipe.expire(self.key, _TTL_SECONDS)
            pipe.execute()
