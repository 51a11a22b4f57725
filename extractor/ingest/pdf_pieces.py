"""A table line's text cut into cell pieces, for a table printed without ruling lines.

Pieces are cut at word gaps, narrower than the gaps that part cells in running text: the cells of
a table's narrow columns stand close (`（三）不予 1.属于国家秘密`, a group label beside its row's
label; `12 3`, two numbers). A label printed vertically is first taken out whole (one character
a line, stacked in a narrow column); the other pieces of a line are joined back into cells except
where a label opens with an ordinal or a number stands.
"""

from __future__ import annotations

from extractor.ingest.pdf_grid import is_value, starts_with_ordinal
from extractor.ingest.pdf_text import CELL_GAP_EMS, WORD_GAP_EMS, Segment, TextLine, is_cjk

# A vertical label: at least this many one-character pieces stacked in one narrow column.
_MIN_STACK = 3


def cell_pieces(lines: list[TextLine]) -> tuple[list[list[Segment]], dict[int, list[Segment]]]:
    """Vertical labels (one-character pieces stacked in a narrow column) and each line's other pieces
    (by the line's index), cells cut as the module says."""
    fine = {i: line.segments(WORD_GAP_EMS) for i, line in enumerate(lines)}
    pieces = [(i, s) for i, segments in fine.items() for s in segments]
    small = [
        (i, s)
        for i, s in pieces
        if len(s.text.replace(" ", "")) <= 2 and s.x1 - s.x0 <= 2.2 * s.size and any(is_cjk(c) for c in s.text)
    ]
    used: set[int] = set()
    stacks: list[list[Segment]] = []
    for a, (line_a, seg_a) in enumerate(small):
        if id(seg_a) in used:
            continue
        column = [(line_a, seg_a)]
        for line_b, seg_b in small[a + 1 :]:
            last = column[-1][1]
            if id(seg_b) in used or line_b == column[-1][0]:
                continue
            same_x = abs((seg_b.x0 + seg_b.x1) / 2 - (last.x0 + last.x1) / 2) <= 0.6 * last.size
            if same_x and seg_b.top - last.bottom <= 3 * last.size:
                column.append((line_b, seg_b))
        if len(column) >= _MIN_STACK:
            stacks.append([s for _, s in column])
            used.update(id(s) for _, s in column)
    rest = {i: value_pieces(_rejoined([s for s in fine[i] if id(s) not in used])) for i in fine}
    return stacks, rest


def _rejoined(pieces: list[Segment]) -> list[Segment]:
    """Word-gap pieces joined back into cells, except where a label opens with an ordinal (a group
    label printed close to its row's label: `（三）不予 1.属于国家秘密`) or a number stands."""
    out: list[Segment] = []
    for piece in pieces:
        if out:
            left = out[-1]
            near = piece.x0 - left.x1 <= CELL_GAP_EMS * max(left.size, piece.size)
            if near and not starts_with_ordinal(piece.text) and not is_value(piece.text) and not is_value(left.text):
                out[-1] = Segment(
                    f"{left.text} {piece.text}",
                    left.x0,
                    min(left.top, piece.top),
                    piece.x1,
                    max(left.bottom, piece.bottom),
                    max(left.size, piece.size),
                )
                continue
        out.append(piece)
    return out


def value_pieces(segments: list[Segment]) -> list[Segment]:
    """Segments, with a run of numbers printed closer than a cell gap (`12 3`) cut into its numbers."""
    out: list[Segment] = []
    for segment in segments:
        words = segment.text.split()
        if len(words) >= 2 and all(is_value(w) for w in words):
            out.extend(_cut(segment, len(words)))
        else:
            out.append(segment)
    return out


def _cut(segment: Segment, count: int) -> list[Segment]:
    """A segment of `count` numbers as one segment each, placed by their share of the characters."""
    words = segment.text.split()
    width = (segment.x1 - segment.x0) / max(1, len(segment.text))
    pieces: list[Segment] = []
    at = 0
    for word in words[:count]:
        at = segment.text.index(word, at)
        x0 = segment.x0 + at * width
        pieces.append(Segment(word, x0, segment.top, x0 + len(word) * width, segment.bottom, segment.size))
        at += len(word)
    return pieces
