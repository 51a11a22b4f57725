"""Where uploaded documents get read: a thread in this process, or the Celery workers.

The in-process worker is what makes `gongkai serve` need nothing else (SQLite, no Redis): one
background thread takes document ids from a queue and reads them with the configured reader.
It reads one document at a time, so SQLite sees one writer from here, and on start it queues
every stored document that has no run yet (an upload the last process did not get to). With
Celery, uploads are stored and queued by the workers' own `enqueue` (the same as `gongkai submit`).

Uploads are read with the reader the server was started with; an admin's re-extraction
(`reextract`) names its own reader, so one queue carries (document, reader) pairs.

A file an upload held for OCR (`extractor.pending`) is read here too (`read_files`): the thread
OCRs it, stores its documents and then reads them. Documents go first (a scan's OCR takes minutes,
a document's reading a fraction of a second), and on start the thread queues again every held file
still `queued` or `reading`, so a server stopped mid-OCR finishes the file when it comes back.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Sequence
from typing import Protocol

from extractor import pending
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

    def read_files(self, files: Sequence[int]) -> None:
        """Queue held files (`extractor.pending`) to be OCR'd, stored as documents, and read."""
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

    def read_files(self, files: Sequence[int]) -> None:
        return None  # they stay `queued` in the database for a server that reads

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


# Queue order: documents (quick) before held files (OCR, minutes); a stop after the documents already queued.
_DOCUMENT, _STOP, _FILE = 0, 1, 2
_Item = tuple[int, int, int, Reader]  # (order, sequence, document or file id, reader)


class InProcessWorker:
    """One daemon thread reading queued documents and OCR'ing held files; `stop()` lets the queued
    documents finish and stops a file's OCR at its next page (the file stays `reading` for the next start)."""

    def __init__(self, service: ReviewService, reader: Reader = "rules") -> None:
        self.service = service
        self.reader: Reader = reader
        self._queue: queue.PriorityQueue[_Item] = queue.PriorityQueue()
        self._sequence = itertools.count()
        self._lock = threading.Lock()
        self._waiting: set[tuple[int, int, Reader]] = set()  # (order, id, reader)
        self._current: tuple[int, int, Reader] | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def processing(self) -> frozenset[int]:
        with self._lock:
            current = self._current
            return frozenset() if current is None or current[0] != _DOCUMENT else frozenset({current[1]})

    def submit(self, documents: Sequence[tuple[int, str]]) -> None:
        self.reextract(documents, self.reader)

    def reextract(self, documents: Sequence[tuple[int, str]], reader: Reader) -> bool:
        self._put(_DOCUMENT, [document_id for document_id, _sha in documents], reader)
        return True

    def read_files(self, files: Sequence[int]) -> None:
        self._put(_FILE, files, self.reader)

    def _put(self, order: int, ids: Sequence[int], reader: Reader) -> None:
        with self._lock:
            for ident in ids:
                key = (order, ident, reader)
                if key not in self._waiting and key != self._current:
                    self._waiting.add(key)
                    self._queue.put((order, next(self._sequence), ident, reader))

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="gongkai-inprocess-worker", daemon=True)
        self._thread.start()
        try:
            self.submit([(document_id, "") for document_id in self.service.unread_documents()])
            self.read_files(pending.to_read(self.service))
        except Exception:
            log.exception("could not list stored documents without a run, or held files not read")

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._queue.put((_STOP, next(self._sequence), 0, self.reader))
        self._thread.join(timeout)
        self._thread = None

    def _loop(self) -> None:
        while True:
            order, _sequence, ident, reader = self._queue.get()
            if order == _STOP:
                return
            key = (order, ident, reader)
            with self._lock:
                self._waiting.discard(key)
                self._current = key
            try:
                if order == _FILE:
                    self._read_file(ident)
                else:
                    self.service.extract_document(ident, reader)
            except pending.Stopped:
                log.info("stopped while reading file %s; it is read again on the next start", ident)
                return
            except Exception:  # the thread must outlive any one document (e.g. a database hiccup)
                log.exception("reading %s %s failed", "file" if order == _FILE else "document", ident)
            finally:
                with self._lock:
                    self._current = None

    def _read_file(self, file_id: int) -> None:
        """OCR the held file, store its documents, and queue those not read yet (ahead of other files)."""
        state = pending.read_file(self.service, file_id, stopping=self._stopping.is_set)
        if state.documents:
            unread = self.service.unread_documents(state.documents)
            self._put(_DOCUMENT, unread, self.reader)


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

    def read_files(self, files: Sequence[int]) -> None:
        from workers.sweep import enqueue_files

        if files:
            enqueue_files(list(files), self.reader, self.queue)

    def start(self) -> None:
        from extractor.settings import get_settings
        from workers.app import check_broker

        check_broker(get_settings().broker_url)

    def stop(self) -> None:
        return None
