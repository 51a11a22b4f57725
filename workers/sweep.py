"""Nothing lost when the broker is: enqueueing through an outage, and the workers' sweep.

The database, not Redis, is the record of what still needs a run. A Redis that restarts without
persistence drops every queued and unacknowledged message; the documents those messages named
are still in the database with no run. Two things bring them back:

- `gongkai submit --resume` queues every stored document without a done run for the reader
  version (`repository.documents_without_done_run`), and the same `submit` run again queues the
  stored files of the batch that are not done.
- The workers' own sweep: in each worker's main process a timer thread runs at start and then
  every `GONGKAI_WORKER_SWEEP_INTERVAL` seconds. It acts only when its queue is empty (so it
  never doubles a backlog that is still being worked through: anything not done while nothing
  is queued was lost), takes a short lock in Redis (so of N workers one sweeps per interval),
  and queues the documents stored more than `GONGKAI_WORKER_SWEEP_AGE` seconds ago that have no
  run at all, for `GONGKAI_WORKER_SWEEP_READER`, and the held files (scans an upload left to OCR,
  `extractor.pending`) still `queued` after that long, or `reading` with no page told for that long
  (`enqueue_files`). No Celery beat, no extra process.

Queuing a document twice is harmless: `process_document` skips a document that already has a
done run for the reader version, and the run's idempotency key makes a second concurrent reading
end as the same single run. So the sweep may err on the side of queuing.

`enqueue` publishes one message per document and, when the broker goes away mid-batch, waits
and retries from the first message not sent, for at most `GONGKAI_WORKER_BROKER_WAIT` seconds,
saying so while it waits; then `BrokerUnavailable`. Before each batch it declares the queue
again: a Redis that restarted has also lost the exchange's binding, and a message published to
an exchange with no binding is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from extractor.settings import get_settings
from workers.app import BROKER_ERRORS, BrokerUnavailable, broker_address, broker_reason
from workers.config import WorkerSettings, get_worker_settings

if TYPE_CHECKING:
    from celery import Celery
    from sqlalchemy import Engine

log = logging.getLogger("gongkai.sweep")

# (error, messages sent so far, seconds until the next try, seconds left before giving up)
OnWait = Callable[[BaseException, int, float, float], None]


def _log_wait(exc: BaseException, sent: int, pause: float, left: float) -> None:
    log.warning("broker unreachable (%s); %d sent, retrying in %.1f s (%.0f s left)", broker_reason(exc), sent,
                pause, left)  # fmt: skip


def enqueue(
    hashes: Sequence[str],
    reader: str,
    version: str,
    queue: str | None = None,
    *,
    wait: float | None = None,
    on_wait: OnWait | None = None,
    on_back: Callable[[], None] | None = None,
    app: Celery | None = None,
) -> int:
    """Queue `process_document` for each hash (failures recorded by `record_failure`); return how
    many were sent. Through a broker outage: retry, with growing pauses, from the first message
    not sent, for at most `wait` seconds (default GONGKAI_WORKER_BROKER_WAIT), calling `on_wait`
    before each pause and `on_back` once the broker answers again; then `BrokerUnavailable`.
    """
    from workers.tasks import process_document, record_failure

    def publish(sha256: str, producer: Any, name: str) -> None:
        failure = record_failure.s(sha256=sha256, reader=reader, reader_version=version)
        process_document.apply_async((sha256, reader), link_error=failure, producer=producer, queue=name)

    return _publish(list(hashes), publish, queue, wait=wait, on_wait=on_wait, on_back=on_back, app=app)


def enqueue_files(
    file_ids: Sequence[int], reader: str, queue: str | None = None, *, wait: float | None = None,
    app: Celery | None = None,
) -> int:  # fmt: skip
    """Queue `ingest_file` for each held file (`extractor.pending`: a scan to OCR), whose documents are
    then queued for `reader`; a task that fails for good marks its file failed (`record_file_failure`).
    The same waiting through a broker outage as `enqueue`; how many were sent."""
    from workers.tasks import ingest_file, record_file_failure

    def publish(file_id: int, producer: Any, name: str) -> None:
        failure = record_file_failure.s(file_id=file_id)
        ingest_file.apply_async((file_id, reader), link_error=failure, producer=producer, queue=name)

    return _publish(list(file_ids), publish, queue, wait=wait, app=app)


_T = TypeVar("_T")


def _publish(
    items: list[_T],
    publish: Callable[[_T, Any, str], None],
    queue: str | None,
    *,
    wait: float | None = None,
    on_wait: OnWait | None = None,
    on_back: Callable[[], None] | None = None,
    app: Celery | None = None,
) -> int:
    """One message per item through one producer, retried from the first one not sent (see `enqueue`)."""
    from workers.app import app as default_app

    app = app or default_app
    wait = get_worker_settings().broker_wait if wait is None else wait
    name = queue or str(app.conf.task_default_queue)
    sent = attempt = 0
    deadline: float | None = None
    while sent < len(items):
        try:
            with app.producer_or_acquire() as producer:
                app.amqp.queues[name](producer.channel).declare()
                for item in items[sent:]:
                    publish(item, producer, name)
                    sent += 1
        except BROKER_ERRORS as exc:
            now = time.monotonic()
            deadline = deadline if deadline is not None else now + wait
            if now >= deadline:
                raise BrokerUnavailable(broker_address(str(app.conf.broker_url)), broker_reason(exc)) from exc
            pause = min(5.0, 0.5 * 2**attempt, deadline - now)
            attempt += 1
            (on_wait or _log_wait)(exc, sent, pause, deadline - now)
            time.sleep(pause)
            continue
        if deadline is not None and on_back is not None:
            on_back()
    return sent


def queue_depth(app: Celery, queue: str) -> int:
    """Messages waiting in `queue` (0 when the broker has no such queue: an empty Redis list is no key)."""
    from kombu.exceptions import ChannelError

    with app.connection_for_write() as connection:
        try:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)
        except ChannelError:
            return 0
        return int(declared.message_count)


class Sweeper:
    """Re-queues documents whose messages were lost (see the module docstring for when)."""

    def __init__(self, app: Celery, queue: str, database_url: str, settings: WorkerSettings | None = None) -> None:
        self.app = app
        self.queue = queue
        self.database_url = database_url
        self.settings = settings or get_worker_settings()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None

    # ---------------------------------------------------------------- one sweep

    def stale(self, now: datetime | None = None) -> list[str]:
        """Documents stored more than `sweep_age` seconds ago with no run at all."""
        from extractor.storage.database import make_engine, session_factory
        from extractor.storage.repository import documents_without_any_run

        if self._engine is None:
            self._engine = make_engine(self.database_url, **_small_pool(self.database_url))
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=self.settings.sweep_age)
        with session_factory(self._engine)() as session:
            return documents_without_any_run(session, cutoff, limit=self.settings.sweep_limit)

    def stale_files(self, now: datetime | None = None) -> list[int]:
        """Held files (scans) `queued` more than `sweep_age` seconds ago, or `reading` with no page told
        for that long: their messages were lost."""
        from extractor.storage.database import make_engine, session_factory
        from extractor.storage.repository import stale_files

        if self._engine is None:
            self._engine = make_engine(self.database_url, **_small_pool(self.database_url))
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=self.settings.sweep_age)
        with session_factory(self._engine)() as session:
            return stale_files(session, cutoff, limit=self.settings.sweep_limit)

    def _lock(self) -> bool:
        """One sweep per interval across every worker on this queue (a Redis key with a TTL).

        Not Redis (another broker): no lock; each worker sweeps and duplicates are harmless.
        """
        url = str(self.app.conf.broker_url)
        if not url.startswith(("redis://", "rediss://", "unix://")):
            return True
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        key = f"{self.settings.key_prefix}gongkai:sweep:{self.queue}"
        try:
            ttl_ms = max(500, int(self.settings.sweep_interval * 800))
            return bool(client.set(key, "1", nx=True, px=ttl_ms))
        finally:
            client.close()

    def sweep_once(self) -> int:
        """Queue the stale documents if the queue is empty and no other worker just swept; how many."""
        if queue_depth(self.app, self.queue) > 0:
            return 0
        stale, files = self.stale(), self.stale_files()
        if not (stale or files) or not self._lock():
            return 0
        from workers.tasks import reader_version

        reader = self.settings.sweep_reader
        wait = min(30.0, self.settings.broker_wait)
        sent = enqueue(stale, reader, reader_version(reader), self.queue, wait=wait, app=self.app) if stale else 0
        if stale:
            log.warning("sweep: %d stored documents had no run after %.0f s (messages lost); queued again for %s",
                        sent, self.settings.sweep_age, reader)  # fmt: skip
        if files:
            held = enqueue_files(files, reader, self.queue, wait=wait, app=self.app)
            log.warning("sweep: %d held files were not read after %.0f s (messages lost); queued again",
                        held, self.settings.sweep_age)  # fmt: skip
            sent += held
        return sent

    # ---------------------------------------------------------------- the timer

    def _loop(self) -> None:
        while True:
            try:
                self.sweep_once()
            except Exception as exc:  # a sweep must never take the worker down; the next one tries again
                log.warning("sweep skipped: %s: %s", type(exc).__name__, broker_reason(exc))
            if self._stop.wait(self.settings.sweep_interval):
                return

    def start(self) -> None:
        """Sweep now and then every `sweep_interval` seconds in a daemon thread (0: never)."""
        if self.settings.sweep_interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="gongkai-sweep", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _small_pool(url: str) -> dict[str, Any]:
    from sqlalchemy import make_url

    if make_url(url).get_backend_name() == "postgresql":
        return {"pool_size": 1, "max_overflow": 0}
    return {}


def install_sweep(app: Celery, queue: str, database_url: str | None = None) -> Sweeper:
    """Run a `Sweeper` in this worker's main process from the moment the worker is ready until it
    shuts down (Celery signals; the pool's child processes never sweep)."""
    from celery import signals

    sweeper = Sweeper(app, queue, database_url or get_settings().database_url)
    signals.worker_ready.connect(lambda **_: sweeper.start(), weak=False)
    signals.worker_shutdown.connect(lambda **_: sweeper.stop(), weak=False)
    return sweeper
