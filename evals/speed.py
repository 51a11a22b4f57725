"""Throughput of the deterministic reader on one core: documents per second, files read from memory.

Measured here rather than in tests: a timed assertion would be flaky; a benchmark is repeatable.
"""

from __future__ import annotations

import statistics
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
    pass_seconds: list[float]

    @property
    def seconds(self) -> float:
        return sum(self.pass_seconds)

    @property
    def docs_per_second(self) -> float:
        """Median pass: the machine here is a shared VM, so single passes vary by a third."""
        return self.documents / statistics.median(self.pass_seconds) if self.pass_seconds else 0.0

    @property
    def best_docs_per_second(self) -> float:
        return self.documents / min(self.pass_seconds) if self.pass_seconds else 0.0


def measure(paths: list[Path], repeat: int = 5) -> SpeedResult:
    """Ingest + read + reconcile every file, `repeat` timed passes after one warm-up pass.

    CPU time of this process: what one core spends, whatever else the machine is doing.
    """
    blobs: list[tuple[str, bytes]] = []
    for path in paths:
        data = path.read_bytes()
        try:
            extract(load_bytes(data, path.name))
        except IngestError:
            continue
        blobs.append((path.name, data))
    passes = []
    for _ in range(repeat):
        started = time.process_time()
        for name, data in blobs:
            extract(load_bytes(data, name))
        passes.append(time.process_time() - started)
    mean = sum(len(d) for _, d in blobs) / len(blobs) if blobs else 0.0
    return SpeedResult(len(blobs), mean, passes)


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
