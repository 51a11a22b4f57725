"""Where a stored field was printed: a span's box from the document's stored boxes.

Storage may not import `extractor.ingest` (import-linter: storage knows no ingest), yet every door
stores runs through `save_run` with only the stored document in hand (the Celery worker rebuilds the
document from its row). So the document's boxes are stored with it (as plain lists), and each field's box is
`extractor.geometry.box_for` over them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from extractor.geometry import Box, box_for

# One stored box: (start, end, page, x0, top, x1, bottom), sorted by (start, end, …) like `Box`.
StoredBox = tuple[int, int, int, float, float, float, float]
# What a field stores: (page, x0, top, x1, bottom).
FieldBox = tuple[int, float, float, float, float]


class BoxLike(Protocol):
    """A box as ingest hands it over (an `extractor.ingest.pages.Box` fits)."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def page(self) -> int: ...
    @property
    def x0(self) -> float: ...
    @property
    def top(self) -> float: ...
    @property
    def x1(self) -> float: ...
    @property
    def bottom(self) -> float: ...


def stored_boxes(boxes: Sequence[BoxLike]) -> list[list[float]]:
    """Boxes as the JSON the documents table keeps: one short list each, sorted."""
    rows = sorted((b.start, b.end, b.page, b.x0, b.top, b.x1, b.bottom) for b in boxes)
    return [[int(s), int(e), int(p), float(x0), float(t), float(x1), float(bt)] for s, e, p, x0, t, x1, bt in rows]


def parse_boxes(stored: Sequence[Sequence[float]] | None) -> list[StoredBox]:
    """The stored JSON back as tuples (JSON has no tuples; numbers may come back as either kind)."""
    return [(int(b[0]), int(b[1]), int(b[2]), float(b[3]), float(b[4]), float(b[5]), float(b[6])) for b in stored or ()]


def box_around(boxes: Sequence[StoredBox], span: tuple[int, int]) -> FieldBox | None:
    """The box around `span` (None when no stored box overlaps it); `boxes` sorted."""
    found = box_for([Box(*box) for box in boxes], span)
    return None if found is None else (found.page, found.x0, found.top, found.x1, found.bottom)
