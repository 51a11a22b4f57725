"""Where uploaded documents get read: a thread in this process, or the Celery workers.

The in-process worker is what makes `gongkai serve` need nothing else (SQLite, no Redis): one
background thread takes document ids from a queue and reads them with the configured reader.
It reads one document at a time, so SQLite sees one writer from here, and on start it queues
every stored document that has no run yet (an upload the last process did not get to). With
Celery, uploads are stored and queued by the workers' own `enqueue` (the same as `gongkai submit`).

Uploads are read with the reader the server was started with; an admin's re-extraction
(`reextract`) names its own reader, so one queue carries (document, reader) pairs.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import Protocol

from extractor.pipeline import Reader
from extractor.review import ReviewService

log = logging.getLogger("gongkai.api.worker")


class Dispatcher(Protocol):
    """Takes stored documents (id, sha256) that still need a run, or a reading with another reader."""

    def processing(self) -> frozenset[int]: ...
    def submit(self, documents: Sequence[tuple[int, str]]) -> None: ...
    def reextract(self, documents: Sequence[tuple[int, str]], reader: Reader) -> bool:
        """Queue the documents to be read with `reader`; False if this dispatcher reads nothing."""
        ...

    def start(self) -> None: ...
    def stop(self) -> None: ...


class NoWorker:
    """Store only (tests, or a server whose documents are read elsewhere)."""

    def processing(self) -> frozenset[int]:
        return frozenset()

    def submit(self, documents: Sequence[tuple[int, str]]) -> None:
        return None

    def reextract(self, documents: Sequence[tuple[int, str]], reader: Reader) -> bool:
        return False

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


class InProcessWorker:
    """One daemon thread reading queued documents; `stop()` lets the current one finish."""

    def __init__(self, service: ReviewService, reader: Reader = "rules") -> None:
        self.service = service
        self.reader: Reader = reader
        self._queue: queue.Queue[tuple[int, Reader] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting: set[tuple[int, Reader]] = set()
        self._current: tuple[int, Reader] | None = None
        self._thread: threading.Thread | None = None

    def processing(self) -> frozenset[int]:
        with self._lock:
            return frozenset() if self._current is None else frozenset({self._current[0]})

    def submit(self, documents: Sequence[tuple[int, str]]) -> None:
        self.reextract(documents, self.reader)

    def reextract(self, documents: Sequence[tuple[int, str]], reader: Reader) -> bool:
        with self._lock:
            for document_id, _sha in documents:
                item = (document_id, reader)
                if item not in self._waiting and item != self._current:
                    self._waiting.add(item)
                    self._queue.put(item)
        return True

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="gongkai-inprocess-worker", daemon=True)
        self._thread.start()
        try:
            self.submit([(document_id, "") for document_id in self.service.unread_documents()])
        except Exception:
            log.exception("could not list stored documents without a run")

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            document_id, reader = item
            with self._lock:
                self._waiting.discard(item)
                self._current = item
            try:
                self.service.extract_document(document_id, reader)
            except Exception:  # the thread must outlive any one document (e.g. a database hiccup)
                log.exception("reading document %s failed", document_id)
            finally:
                with self._lock:
                    self._current = None


class CeleryDispatcher:
    """Queue stored documents for `gongkai worker`s through the broker (GONGKAI_BROKER_URL)."""

    def __init__(self, reader: Reader = "rules", queue: str | None = None) -> None:
        self.reader: Reader = reader
        self.queue = queue

    def processing(self) -> frozenset[int]:
        return frozenset()

    def submit(self, documents: Sequence[tuple[int, str]]) -> None:
        self.reextract(documents, self.reader)

    def reextract(self, documents: Sequence[tuple[int, str]], reader: Reader) -> bool:
        from workers.sweep import enqueue
        from workers.tasks import reader_version

        hashes = [sha for _id, sha in documents if sha]
        if hashes:
            enqueue(hashes, reader, reader_version(reader), self.queue)
        return True

    def start(self) -> None:
        from extractor.settings import get_settings
        from workers.app import check_broker

        check_broker(get_settings().broker_url)

    def stop(self) -> None:
        return None
