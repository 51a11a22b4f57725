"""A box on a page, and the box around a character span: shared by ingest (which writes the boxes)
and storage (which keeps them and gives each stored field its box)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Box:
    """Text `text[start:end]` was printed on page `page` inside (x0, top)–(x1, bottom), origin top-left."""

    start: int
    end: int
    page: int
    x0: float
    top: float
    x1: float
    bottom: float


def box_for(boxes: Sequence[Box], span: tuple[int, int]) -> Box | None:
    """The box around `span`: the union of the boxes it overlaps on the first page it touches."""
    start, end = span
    i = bisect.bisect_right(boxes, Box(start, 10**12, 0, 0, 0, 0, 0)) - 1
    hits: list[Box] = []
    for box in boxes[max(i, 0) :]:
        if box.start >= end:
            break
        if box.end > start and (not hits or box.page == hits[0].page):
            hits.append(box)
    if not hits:
        return None
    return Box(
        min(b.start for b in hits),
        max(b.end for b in hits),
        hits[0].page,
        min(b.x0 for b in hits),
        min(b.top for b in hits),
        max(b.x1 for b in hits),
        max(b.bottom for b in hits),
    )
