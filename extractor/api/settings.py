"""What one API process is configured with (the door's own settings; the engine's stay in extractor.settings)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal

Workers = Literal["thread", "celery", "none"]


@dataclass(frozen=True)
class ApiSettings:
    """`workers`: `thread` extracts uploads in this process (one background thread, no Redis);
    `celery` stores and queues them for `gongkai worker`s; `none` only stores them.

    `secret_key` signs session cookies; by default a new one per process, so a restart logs
    everyone out (set GONGKAI_SECRET_KEY to keep sessions across restarts or processes).
    """

    database_url: str | None = None
    workers: Workers = "thread"
    reader: Literal["rules", "llm", "both", "auto"] = "rules"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    https_only: bool = False  # the session cookie's Secure flag; set it behind TLS
    session_hours: float = 12.0
    max_files_per_request: int = 1000
    queue: str | None = None  # the Celery queue (default GONGKAI_WORKER_QUEUE)
