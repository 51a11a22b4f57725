"""Throughput of the deterministic reader on one core: documents per second, files read from memory.

Measured here rather than in tests: a timed assertion would be flaky; a benchmark is repeatable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from extractor.ingest import IngestError, load_bytes
from extractor.pipeline import extract

TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm")


@dataclass
class SpeedResult:
    documents: int
    mean_bytes: float
    seconds: float

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0


def measure(paths: list[Path], repeat: int = 3) -> SpeedResult:
    """Ingest + read + reconcile each file `repeat` times (after one warm-up pass)."""
    blobs: list[tuple[str, bytes]] = []
    for path in paths:
        data = path.read_bytes()
        try:
            extract(load_bytes(data, path.name))
        except IngestError:
            continue
        blobs.append((path.name, data))
    started = time.perf_counter()
    for _ in range(repeat):
        for name, data in blobs:
            extract(load_bytes(data, name))
    seconds = time.perf_counter() - started
    mean = sum(len(d) for _, d in blobs) / len(blobs) if blobs else 0.0
    return SpeedResult(len(blobs) * repeat, mean, seconds)


def text_documents(*folders: Path, max_bytes: int = 20_000) -> list[Path]:
    """Report documents (not gold, not READMEs) of text formats up to `max_bytes`."""
    out = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if (
                path.suffix.lower() in TEXT_SUFFIXES
                and not path.name.endswith(".gold.json")
                and path.name.lower() != "readme.md"
                and path.stat().st_size <= max_bytes
            ):
                out.append(path)
    return out
