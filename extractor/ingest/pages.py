"""Where text stood on a page: the link between a character span and the picture a reviewer checks.

Every format still ends as one text that spans point into (readers never see geometry). Formats
that have pages — PDFs, scans, images — also hand over their `Page`s and, for runs of that text,
the `Box` they were printed in. `TextBuilder` is how a format writes such a text: tables as the
same ` | ` rows the HTML reader writes, each cell's span remembered with its box, so that a
value's span finds its crop with `box_for`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from extractor.geometry import Box, box_for

__all__ = ["Box", "Cell", "Flattened", "Page", "PageProgress", "TextBuilder", "box_for"]

# Told after each page of a long document: (pages done, page count), for a progress bar.
PageProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Page:
    """One page: `number` is 1-based; sizes in the page's own units (PDF points, image pixels).

    `image` is a PNG of the page as the reviewer should see it (a scan, or a PDF page rendered at
    ingest), or None where the format has no picture (never for scans).
    """

    number: int
    width: float
    height: float
    image: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Flattened:
    """What a paged format hands to `SourceDocument`: the text plus its pages and boxes (sorted)."""

    text: str
    pages: tuple[Page, ...] = ()
    boxes: tuple[Box, ...] = ()
    notes: tuple[str, ...] = ()  # one line each for the run's notes: pages cut, OCR quality, …


@dataclass(frozen=True)
class Cell:
    """One table cell as a format found it; `box` is None where the format has no geometry (DOCX)."""

    text: str
    box: tuple[int, float, float, float, float] | None = None  # page, x0, top, x1, bottom


class TextBuilder:
    """Writes a text piece by piece and keeps each boxed piece's span."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._boxes: list[Box] = []

    def write(self, text: str, box: tuple[int, float, float, float, float] | None = None) -> None:
        if box is not None and text.strip():
            page, x0, top, x1, bottom = box
            self._boxes.append(Box(self._length, self._length + len(text), page, x0, top, x1, bottom))
        self._parts.append(text)
        self._length += len(text)

    def line(self, text: str = "", box: tuple[int, float, float, float, float] | None = None) -> None:
        """One line of running text (a heading, a paragraph line)."""
        self.write(text, box)
        self.write("\n")

    def row(self, cells: Sequence[Cell]) -> None:
        """One table row as `| a | b |`: the layout the table readers take from HTML, empty cells kept."""
        self.write("| ")
        for i, cell in enumerate(cells):
            if i:
                self.write(" | ")
            self.write(_cell_text(cell.text), cell.box)
        self.write(" |\n")

    def build(self, pages: Iterable[Page] = (), notes: Iterable[str] = ()) -> Flattened:
        return Flattened("".join(self._parts), tuple(pages), tuple(sorted(self._boxes)), tuple(notes))


def _cell_text(text: str) -> str:
    """A cell on one line with no pipe in it (a pipe would split it into two cells)."""
    return " ".join(text.replace("|", " ").split())
