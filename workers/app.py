"""The Celery app: Redis broker and result backend from the settings, at-least-once delivery.

Delivery is at least once (`task_acks_late`: a message is acknowledged after its task ends, so a
worker killed mid-task leaves it to another); the tasks are idempotent (one run per document
hash + reader version), so a second delivery costs at most a repeated reading, never a second run.

`check_broker` is how the doors find out, before any work, that the broker cannot be reached:
`BrokerUnavailable` reads as one line naming the setting and the address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import kombu.exceptions
import redis.exceptions
from celery import Celery

from extractor.settings import Settings, get_settings
from workers.config import WorkerSettings, get_worker_settings


def celery_config(settings: Settings, worker: WorkerSettings) -> dict[str, Any]:
    transport: dict[str, Any] = {
        "visibility_timeout": worker.visibility_timeout,
        "unacked_restore_interval": worker.restore_interval,
        "unacked_restore_throttle": worker.restore_throttle,
    }
    backend_transport: dict[str, Any] = {}
    if worker.key_prefix:
        transport["global_keyprefix"] = worker.key_prefix
        backend_transport["global_keyprefix"] = worker.key_prefix
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend,
        "broker_transport_options": transport,
        "result_backend_transport_options": backend_transport,
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # Not True: on a broker restart Celery would SIGTERM the running task wherever it is, e.g.
        # half-way through the COPY of a run's fields, leaving that connection in COPY state with
        # its transaction (and the run's unique key) locked for good, so every later delivery of
        # that document waits on it. A task that keeps running finishes and stores its one run;
        # its acknowledgement is lost with the connection, and a redelivery finds the run done.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_soft_time_limit": worker.soft_time_limit,
        "task_time_limit": worker.time_limit,
        "result_expires": worker.result_expires,
        "task_default_queue": worker.queue,
        "worker_disable_rate_limits": True,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
    }


BROKER_SETTING = "GONGKAI_BROKER_URL"
# What a broker that is down, restarting or unreachable raises while we connect or publish.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)


class BrokerUnavailable(Exception):  # named for what the user is told
    """The broker at the configured URL cannot be reached; `str()` is one line for the user."""

    def __init__(self, address: str, reason: str, setting: str = BROKER_SETTING, hint: str = "") -> None:
        self.address = address
        self.reason = reason
        self.setting = setting
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        line = f"cannot reach the broker at {self.address} (set by {self.setting}): {self.reason}"
        return f"{line}; {self.hint}" if self.hint else line

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.address, self.reason, self.setting, self.hint))


def broker_address(url: str) -> str:
    """scheme://host:port/db of a broker URL, without user or password (fit to print)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def broker_reason(exc: BaseException) -> str:
    """The first line of what the broker client said (e.g. 'Error 111 connecting to …')."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def check_broker(url: str | None = None, timeout: float = 5.0, setting: str = BROKER_SETTING) -> None:
    """Connect to the broker once; `BrokerUnavailable` if that fails within `timeout` seconds.

    One attempt, no waiting: at start a wrong URL or a stopped Redis should cost the user one
    line, not minutes of silent retries. (Outages later on are waited out; see `workers.sweep`.)
    """
    from kombu.connection import Connection

    url = url or get_settings().broker_url
    connection = Connection(url, connect_timeout=timeout)  # type: ignore[no-untyped-call]
    try:
        connection.ensure_connection(  # type: ignore[no-untyped-call]
            max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=timeout
        )
    except (kombu.exceptions.KombuError, redis.exceptions.RedisError, OSError) as exc:
        raise BrokerUnavailable(broker_address(url), broker_reason(exc), setting) from exc
    finally:
        connection.release()  # type: ignore[no-untyped-call]


def make_app(settings: Settings | None = None, worker: WorkerSettings | None = None) -> Celery:
    celery = Celery("gongkai", include=["workers.tasks"])
    celery.conf.update(celery_config(settings or get_settings(), worker or get_worker_settings()))
    return celery


app = make_app()
