"""The Celery app: Redis broker and result backend from the settings, at-least-once delivery.

Delivery is at least once (`task_acks_late`: a message is acknowledged after its task ends, so a
worker killed mid-task leaves it to another); the tasks are idempotent (one run per document
hash + reader version), so a second delivery costs at most a repeated reading, never a second run.
"""

from __future__ import annotations

from typing import Any

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
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "task_soft_time_limit": worker.soft_time_limit,
        "task_time_limit": worker.time_limit,
        "result_expires": worker.result_expires,
        "task_default_queue": worker.queue,
        "worker_disable_rate_limits": True,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
    }


def make_app(settings: Settings | None = None, worker: WorkerSettings | None = None) -> Celery:
    celery = Celery("gongkai", include=["workers.tasks"])
    celery.conf.update(celery_config(settings or get_settings(), worker or get_worker_settings()))
    return celery


app = make_app()
