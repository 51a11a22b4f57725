"""Settings of the Celery door (GONGKAI_WORKER_*); broker and result backend URLs are in extractor.settings."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

Fanout = Literal["auto", "sections", "document"]


class WorkerSettings(BaseSettings):
    """How documents go through the queue.

    `fanout`: `sections` reads every table in its own task (a chord joins them); `document`
    reads a whole document in one task (sections in-process); `auto` (default) fans out for the
    LLM reader, whose sections are slow network calls, and reads in one task for the rules
    reader, whose sections take a millisecond each (a task per section would cost more in
    queue traffic than the reading itself). The `both` and `auto` readers always run in one task.

    `visibility_timeout`: how long a message taken by a worker that then dies stays invisible
    before the broker hands it to another worker; it must be longer than `time_limit` and the
    longest retry countdown, or a slow task is delivered twice (harmless, runs are idempotent,
    but wasted work).

    `broker_wait`: how long `submit` keeps retrying while the broker is unreachable mid-batch
    (a restart, a failover) before it gives up with one line; what it stored is queued later by
    the same `submit` or `submit --resume`.

    `sweep_interval`, `sweep_age`, `sweep_reader`: the workers' own sweep (workers/sweep.py). At
    start and then every `sweep_interval` seconds one worker looks for documents stored more than
    `sweep_age` seconds ago that have no run at all, and queues them for `sweep_reader`; it does
    so only when its queue is empty, so a backlog is never doubled. 0 turns the sweep off.
    """

    model_config = SettingsConfigDict(env_prefix="GONGKAI_WORKER_", env_file=".env", extra="ignore")

    queue: str = "gongkai"
    key_prefix: str = ""  # prefix of every broker key in Redis: several deployments (or test runs) on one server
    fanout: Fanout = "auto"
    soft_time_limit: float = 240.0  # the task gets SoftTimeLimitExceeded (recorded as a failed run)
    time_limit: float = 300.0  # the pool process is killed
    result_expires: float = 600.0  # section results pass through the backend; they are not kept
    visibility_timeout: float = 3600.0
    restore_interval: int = 10  # seconds between sweeps for messages of dead workers
    restore_throttle: int = 10  # scan Redis on every Nth sweep
    max_retries: int = 5  # transient errors (database or broker connection), exponential backoff
    retry_backoff_max: int = 60
    broker_wait: float = 120.0
    sweep_interval: float = 300.0
    sweep_age: float = 900.0
    sweep_reader: str = "rules"
    sweep_limit: int = 20000  # documents queued per sweep at most


def get_worker_settings() -> WorkerSettings:
    return WorkerSettings()
